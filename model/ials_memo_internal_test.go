package model

import (
	"math"
	"math/rand/v2"
	"testing"
)

// memoIALS fits a small iALS whose histories fold in by both solves (short ones by
// Woodbury, long ones directly).
func memoIALS(t *testing.T) (*IALS, int) {
	t.Helper()
	rng := rand.New(rand.NewPCG(7, 7))
	const items = 300
	c := DefaultIALSConfig()
	c.Factors, c.Epochs = 16, 3
	m := fitRandomIALS(t, c, items, 400, 10, func() int32 { return int32(rng.IntN(items)) }, rng)
	if m.memo == nil {
		t.Fatal("Fit left no fold memo")
	}
	return m, items
}

// Scoring a history twice gives the same floats as a model without a memo, and the second
// time the vector comes from the memo: an entry changed behind its back shows in the scores.
func TestIALS_FoldMemoAnswersARepeatedHistory(t *testing.T) {
	t.Parallel()
	m, items := memoIALS(t)
	bare := *m
	bare.memo = nil
	rng := rand.New(rand.NewPCG(8, 8))
	subset := []int32{0, 3, 17, 42, 99, 150, 299}
	for trial := range 40 {
		h := 1 + trial%25 // both solves: Woodbury up to k/2 = 8 items
		hi, hw, ht := make([]int32, h), make([]float32, h), make([]int64, h)
		for q := range h {
			hi[q], hw[q], ht[q] = int32(rng.IntN(items)), float32(1+rng.IntN(4)), int64(1_000_000+rng.IntN(50)*600)
		}
		want := make([]float32, items)
		bare.ScoreHistorySubset(hi, hw, ht, subset, want)
		for round := range 2 {
			got := make([]float32, items)
			m.ScoreHistorySubset(hi, hw, ht, subset, got)
			for _, i := range subset {
				if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
					t.Fatalf("trial %d round %d: item %d scored %v, without the memo %v", trial, round, i, got[i], want[i])
				}
			}
		}
		// Same items, another weight: another history, with its own vector.
		hw2 := append([]float32(nil), hw...)
		hw2[0] += 1
		want2, got2 := make([]float32, items), make([]float32, items)
		bare.ScoreHistorySubset(hi, hw2, ht, subset, want2)
		m.ScoreHistorySubset(hi, hw2, ht, subset, got2)
		for _, i := range subset {
			if math.Float32bits(got2[i]) != math.Float32bits(want2[i]) {
				t.Fatalf("trial %d: a changed weight scored item %d %v, without the memo %v", trial, i, got2[i], want2[i])
			}
		}
	}

	// The memo answers: scale a remembered vector and the scores follow it.
	hi, hw, ht := []int32{5, 6, 7}, []float32{1, 2, 3}, []int64{1, 2, 3}
	before := make([]float32, items)
	m.ScoreHistorySubset(hi, hw, ht, subset, before)
	e := &m.memo.entries[m.memo.index[historyHash(hi, hw, ht)]]
	for j := range e.x {
		e.x[j] *= 2
	}
	after := make([]float32, items)
	m.ScoreHistorySubset(hi, hw, ht, subset, after)
	for _, i := range subset {
		if before[i] != 0 && after[i] != 2*before[i] {
			t.Fatalf("item %d: %v after doubling the remembered vector, %v before: the memo was not read", i, after[i], before[i])
		}
	}
}

// Two histories with one hash do not share a vector, and a full memo replaces its oldest.
func TestFoldMemo_CollisionsAndReplacement(t *testing.T) {
	t.Parallel()
	f := newFoldMemo()
	a, b := []int32{1, 2}, []int32{1, 3}
	w, ts := []float32{1, 1}, []int64{10, 20}
	x := make([]float32, 2)
	f.put(7, a, w, ts, []float32{1, 1})
	if f.get(7, b, w, ts, x) {
		t.Fatalf("history %v answered with the vector of %v (same hash)", b, a)
	}
	f.put(7, b, w, ts, []float32{2, 2})
	if !f.get(7, a, w, ts, x) || x[0] != 1 {
		t.Fatalf("the first history of a hash lost its vector to a colliding one: %v", x)
	}
	if f.get(7, a, []float32{1, float32(math.Copysign(0, -1))}, ts, x) || f.get(7, a, w, []int64{10, 21}, x) {
		t.Fatal("a history with other weights or times answered from the memo")
	}

	f = newFoldMemo()
	hist := func(n int) []int32 { return []int32{int32(n)} }
	for n := range foldMemoSize + 10 {
		one := []float32{float32(n)}
		f.put(uint64(n)*0x9e3779b97f4a7c15, hist(n), []float32{1}, []int64{1}, one)
	}
	if len(f.index) != foldMemoSize || len(f.entries) != foldMemoSize {
		t.Fatalf("memo holds %d keys and %d entries, want %d", len(f.index), len(f.entries), foldMemoSize)
	}
	for n := range foldMemoSize + 10 {
		got := f.get(uint64(n)*0x9e3779b97f4a7c15, hist(n), []float32{1}, []int64{1}, x[:1])
		if want := n >= 10; got != want || got && x[0] != float32(n) {
			t.Fatalf("history %d: found %v (vector %v), want found %v", n, got, x[0], want)
		}
	}
	for h, k := range f.index {
		if f.entries[k].hash != h {
			t.Fatalf("index says %x is entry %d, which holds %x", h, k, f.entries[k].hash)
		}
	}
}
