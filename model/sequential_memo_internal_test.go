package model

import (
	"context"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// A Sequential with its memo scores every history as one without: the first time (no
// entry), the second (the entry is made) and later (the memo answers), on a subset and on
// the whole catalogue. And the memo does answer: an entry changed behind its back shows in
// the scores.
func TestSequential_MemoAnswersARepeatedHistory(t *testing.T) {
	t.Parallel()
	const items, cats = 3000, 30
	m := &Sequential{Config: DefaultSequentialConfig()}
	if err := m.Fit(context.Background(), seqSpeedDataset(items, cats, 2000, 20, 3)); err != nil {
		t.Fatal(err)
	}
	if m.memo == nil {
		t.Fatal("Fit left no memo")
	}
	bare := &Sequential{Config: m.Config, n: m.n, trans: m.trans, two: m.two, scale: m.scale,
		sim: m.sim, pop: m.pop, users: m.users, lambda: m.lambda}
	rng := rand.New(rand.NewPCG(9, 9))
	stock := make([]int32, 0, 300)
	for _, i := range rng.Perm(items)[:300] {
		stock = append(stock, int32(i))
	}
	slices.Sort(stock)
	touched := 0
	for trial := range 30 {
		hist := seqSpeedHistory(rng, items, cats, 1+trial*2)
		weights, times := make([]float32, len(hist)), make([]int64, len(hist))
		for k := range hist {
			weights[k], times[k] = 1, int64(k)
		}
		list := append(slices.Clone(stock), hist...) // as the hybrid asks: stock, then history
		want, wantAll := make([]float32, items), make([]float32, items)
		bare.ScoreHistorySubset(hist, weights, times, list, want)
		bare.ScoreHistory(hist, weights, times, wantAll)
		for round := range 2 {
			got, gotAll := make([]float32, items), make([]float32, items)
			m.ScoreHistorySubset(hist, weights, times, list, got)
			m.ScoreHistory(hist, weights, times, gotAll)
			for _, i := range list {
				if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
					t.Fatalf("trial %d round %d: item %d scored %v, without the memo %v", trial, round, i, got[i], want[i])
				}
			}
			for i := range gotAll {
				if math.Float32bits(gotAll[i]) != math.Float32bits(wantAll[i]) {
					t.Fatalf("trial %d round %d: catalogue item %d scored %v, without the memo %v", trial, round, i, gotAll[i], wantAll[i])
				}
			}
		}
		steps := memoSteps(m, hist, weights, times)
		e, _ := m.memo.get(stepsHash(steps), steps)
		if e == nil {
			t.Fatalf("trial %d: the history is not in the memo after scoring it", trial)
		}
		touched += len(e.idx)
	}
	if touched == 0 {
		t.Fatal("no history touched an item: the comparison proves nothing")
	}

	// Double a remembered entry's sums: the scores of the items it lists move.
	hist := seqSpeedHistory(rng, items, cats, 20)
	weights, times := make([]float32, len(hist)), make([]int64, len(hist))
	for k := range hist {
		weights[k], times[k] = 1, int64(k)
	}
	before, after := make([]float32, items), make([]float32, items)
	m.ScoreHistory(hist, weights, times, before) // first sighting: no entry yet
	m.ScoreHistory(hist, weights, times, before) // second: the entry is made
	steps := memoSteps(m, hist, weights, times)
	e, _ := m.memo.get(stepsHash(steps), steps)
	if e == nil || len(e.idx) == 0 {
		t.Fatal("no memo entry with items for the last history")
	}
	for k := range e.val {
		e.val[k] *= 2
	}
	m.ScoreHistory(hist, weights, times, after)
	moved := 0
	for k, j := range e.idx {
		if e.val[k] != 0 && after[j] != before[j] {
			moved++
		}
	}
	if moved == 0 {
		t.Fatal("doubling the remembered sums changed no score: the memo was not read")
	}
}

// memoSteps returns the steps of a history that key its memo entry.
func memoSteps(m *Sequential, items []int32, weights []float32, times []int64) []int32 {
	steps := m.history(items, weights, times)
	return steps[max(0, len(steps)-max(m.Config.History, m.Config.SimilarityHistory)):]
}

// The memo keeps to its budget, dropping the oldest entries, and never shares an entry
// between two histories with one hash.
func TestSeqMemo_BudgetAndCollisions(t *testing.T) {
	t.Parallel()
	entry := func(h uint64, steps ...int32) *seqEntry {
		return &seqEntry{hash: h, steps: steps, idx: []int32{1, 2, 3}, val: []float32{1, 2, 3}}
	}
	size := entry(0, 7).size()
	f := newSeqMemo(10 * size)
	for n := range 25 {
		f.put(entry(uint64(n), int32(n)))
		if f.bytes > f.maxSize {
			t.Fatalf("after %d entries the memo holds %d bytes, over its %d", n+1, f.bytes, f.maxSize)
		}
	}
	for n := range 25 {
		e, _ := f.get(uint64(n), []int32{int32(n)})
		got := e != nil
		if want := n >= 15; got != want {
			t.Fatalf("entry %d found %v, want %v (the newest 10 kept)", n, got, want)
		}
	}
	if len(f.index) != 10 || len(f.order) != 10 {
		t.Fatalf("%d indexed, %d in order, want 10", len(f.index), len(f.order))
	}
	if e, _ := f.get(24, []int32{99}); e != nil {
		t.Fatal("another history with the same hash was answered")
	}
	f.put(entry(24, 99))
	if e, _ := f.get(24, []int32{24}); e == nil {
		t.Fatal("a colliding history replaced the first of its hash")
	}
	big := &seqEntry{hash: 100, idx: make([]int32, 20*size), val: make([]float32, 20*size)}
	f.put(big)
	if e, _ := f.get(100, nil); e != nil || len(f.index) != 10 {
		t.Fatal("an entry larger than the budget was kept")
	}

	// A hash is "again" on its second ask without an entry, and only then.
	g := newSeqMemo(10 * size)
	for ask, want := range []bool{false, true, false, true} {
		if _, again := g.get(7, []int32{7}); again != want {
			t.Fatalf("ask %d of an unremembered history: again %v, want %v", ask+1, again, want)
		}
	}
}
