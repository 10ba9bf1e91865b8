package model

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// refSeqAcc, refSeqScratch and refSeqScore are a frozen copy of Sequential's scoring as it was
// before its accumulator was tuned for speed: the tuned code must give the very same
// floats, so the copy is the specification, not an approximation of it.
type refSeqAcc struct {
	val     []float32
	touched []int32
}

type refSeqScratch struct {
	a, b refSeqAcc
	mark []uint32
	gen  uint32
}

func (a *refSeqAcc) add(idx []int32, val []float32, w float32) {
	for k, j := range idx {
		if a.val[j] == 0 {
			a.touched = append(a.touched, j)
		}
		a.val[j] += w * val[k]
		if a.val[j] == 0 {
			a.val[j] = math.SmallestNonzeroFloat32
		}
	}
}

func (a *refSeqAcc) flush(dst []float32, weight float32, only []int32) {
	if only == nil {
		only = a.touched
	}
	var top float32
	for _, j := range a.touched {
		top = max(top, a.val[j])
	}
	if top > 0 && weight != 0 {
		f := weight / top
		for _, j := range only {
			if j < 0 || int(j) >= len(a.val) {
				continue
			}
			if v := a.val[j]; v != 0 {
				dst[j] += f * v
				a.val[j] = 0
			}
		}
	}
	for _, j := range a.touched {
		a.val[j] = 0
	}
	a.touched = a.touched[:0]
}

func refSeqScore(m *Sequential, s *refSeqScratch, hist []int32, dst []float32, subset []int32) {
	if subset == nil {
		clear(dst)
	} else {
		for _, i := range subset {
			if i >= 0 && int(i) < len(dst) {
				dst[i] = 0
			}
		}
	}
	dst = dst[:m.n]
	c := m.Config
	if len(s.a.val) != m.n {
		*s = refSeqScratch{a: refSeqAcc{val: make([]float32, m.n)}, b: refSeqAcc{val: make([]float32, m.n)}}
	}
	a, b := &s.a, &s.b

	recent := hist[max(0, len(hist)-c.History):]
	w := float32(1)
	for k := len(recent) - 1; k >= 0; k-- {
		idx, val := m.trans.row(recent[k])
		a.add(idx, val, w)
		w *= c.HistoryDecay
	}
	scored := len(a.touched) > 0
	a.flush(dst, 1, subset)

	if c.TwoStep > 0 && len(m.two.ptr) == m.n+1 {
		w := float32(1)
		for k := len(recent) - 1; k >= 0; k-- {
			idx, val := m.two.row(recent[k])
			b.add(idx, val, w)
			w *= c.HistoryDecay
		}
		b.flush(dst, c.TwoStep, subset)
	}
	if c.Similarity > 0 {
		recent = hist[max(0, len(hist)-c.SimilarityHistory):]
		w = 1
		for k := len(recent) - 1; k >= 0; k-- {
			idx, val := m.sim.row(recent[k])
			a.add(idx, val, w)
			w *= c.SimilarityDecay
		}
		scored = scored || len(a.touched) > 0
		a.flush(dst, c.Similarity, subset)
	}
	if c.Repeat > 0 {
		recent = hist[max(0, len(hist)-c.History):]
		w = c.Repeat
		for k := len(recent) - 1; k >= 0; k-- {
			if i := recent[k]; int(i) < len(dst) {
				dst[i] += w
			}
			w *= c.HistoryDecay
		}
	}
	p := c.Popularity
	if !scored {
		p = 1
	}
	if p > 0 && len(m.pop) == m.n {
		if subset == nil {
			for j := range dst {
				dst[j] += p * m.pop[j]
			}
			return
		}
		s.gen++
		if s.gen == 0 || len(s.mark) != m.n {
			s.mark, s.gen = make([]uint32, m.n), 1
		}
		for _, j := range subset {
			if j >= 0 && int(j) < m.n && s.mark[j] != s.gen {
				s.mark[j] = s.gen
				dst[j] += p * m.pop[j]
			}
		}
	}
}

// seqSpeedDataset is the serving benchmark's world in miniature or in full: users keep to
// two of cats categories and browse popular items of them in order.
func seqSpeedDataset(items, cats, users, perUser int, seed uint64) *Dataset {
	rng := rand.New(rand.NewPCG(seed, 2))
	db := NewDatasetBuilder()
	for i := 0; i < items; i++ {
		db.Items.Add(fmt.Sprintf("i%d", i))
	}
	perCat := items / cats
	for u := 0; u < users; u++ {
		uid := db.Users.Add(fmt.Sprintf("u%d", u))
		a, c := rng.IntN(cats), rng.IntN(cats)
		for k := 0; k < perUser; k++ {
			cat := a
			if k%3 == 2 {
				cat = c
			}
			rank := int(float64(perCat) * rng.Float64() * rng.Float64() * rng.Float64())
			db.AddIndex(uid, int32(rank*cats+cat), 1, int64(1_000_000+100*u+k))
		}
	}
	return db.Build()
}

// seqSpeedHistory draws a history of length items the way seqSpeedDataset's users browse,
// with a repeat now and then.
func seqSpeedHistory(rng *rand.Rand, n, cats, length int) []int32 {
	perCat := n / cats
	a, c := rng.IntN(cats), rng.IntN(cats)
	h := make([]int32, 0, length)
	for k := 0; k < length; k++ {
		if k > 0 && rng.IntN(10) == 0 {
			h = append(h, h[rng.IntN(k)])
			continue
		}
		cat := a
		if k%3 == 2 {
			cat = c
		}
		rank := int(float64(perCat) * rng.Float64() * rng.Float64() * rng.Float64())
		h = append(h, int32(rank*cats+cat))
	}
	return h
}

// randomSubset draws a subset of [0, n) in random order with repeats, some of hist's items
// and, when extra > 0, entries outside the model: negative, or in [n, n+extra) where dst
// is longer than the model.
func randomSubset(rng *rand.Rand, n, size, extra int, hist []int32) []int32 {
	s := make([]int32, 0, size+len(hist)+4)
	for range size {
		s = append(s, int32(rng.IntN(n)))
	}
	for _, i := range hist {
		if rng.IntN(2) == 0 {
			s = append(s, i)
		}
	}
	for range rng.IntN(4) {
		s = append(s, s[rng.IntN(len(s))])
	}
	if extra > 0 {
		s = append(s, -1, int32(n+rng.IntN(extra)))
	}
	rng.Shuffle(len(s), func(a, b int) { s[a], s[b] = s[b], s[a] })
	if rng.IntN(3) == 0 {
		slices.Sort(s)
	}
	return s
}

// checkScoreMatchesReference scores hist with m.score and refSeqScore, over the whole
// catalogue and over random subsets, and fails unless every defined entry has the same bits.
func checkScoreMatchesReference(t *testing.T, rng *rand.Rand, m *Sequential, ref *refSeqScratch, hist []int32, extra int) {
	t.Helper()
	n := m.n
	for round := range 4 {
		var subset []int32
		if round > 0 {
			subset = randomSubset(rng, n, 1+rng.IntN(max(1, n/3)), extra, hist)
		}
		got := make([]float32, n+extra)
		want := make([]float32, n+extra)
		for j := range got { // the same garbage in both: a subset's outsiders are undefined
			got[j] = float32(rng.NormFloat64())
			want[j] = got[j]
		}
		m.score(hist, got, subset)
		refSeqScore(m, ref, hist, want, subset)
		defined := subset
		if subset == nil {
			defined = make([]int32, len(got))
			for j := range defined {
				defined[j] = int32(j)
			}
		}
		for _, j := range defined {
			if j < 0 || int(j) >= len(got) {
				continue
			}
			if math.Float32bits(got[j]) != math.Float32bits(want[j]) {
				t.Fatalf("history %v, subset of %d (nil: %t): item %d scores %g (%#x), want %g (%#x)",
					hist, len(subset), subset == nil, j, got[j], math.Float32bits(got[j]), want[j], math.Float32bits(want[j]))
			}
		}
	}
}

// The tuned scoring gives the reference's floats, bit for bit, on a fitted model: for the
// whole catalogue and for subsets in any order, with repeats, the history's items and
// entries outside the model. The fitted model's similarity rows hold negative weights, so
// both ways of finding an accumulator's maximum are exercised.
func TestSequential_ScoreMatchesReference_Fitted(t *testing.T) {
	t.Parallel()
	const n, cats = 3000, 30
	d := seqSpeedDataset(n, cats, 4000, 20, 5)
	m := &Sequential{Config: DefaultSequentialConfig()}
	m.Config.Workers = 2
	if err := m.Fit(context.Background(), d); err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(m.sim.val, func(v float32) bool { return v < 0 }) {
		t.Fatal("no negative similarity weight: the test proves less than it claims")
	}
	rng := rand.New(rand.NewPCG(3, 4))
	ref := new(refSeqScratch)
	for r := range 300 {
		hist := seqSpeedHistory(rng, n, cats, rng.IntN(60))
		if r%7 == 0 { // random items, not a browsing pattern
			for k := range hist {
				hist[k] = int32(rng.IntN(n))
			}
		}
		checkScoreMatchesReference(t, rng, m, ref, hist, 3*(r%2))
	}
}

// randomSignedRows returns n sparse rows of up to perRow entries with values drawn from
// vals: with dyadic values and decays, sums cancel to exactly 0 often.
func randomSignedRows(rng *rand.Rand, n, perRow int, vals []float32) seqCSR {
	idx := make([][]int32, n)
	val := make([][]float32, n)
	for i := range n {
		for _, j := range rng.Perm(n)[:rng.IntN(min(n, perRow)+1)] {
			idx[i] = append(idx[i], int32(j))
		}
		slices.Sort(idx[i])
		for range idx[i] {
			val[i] = append(val[i], vals[rng.IntN(len(vals))])
		}
	}
	return seqRows(idx, val)
}

// The tuned scoring gives the reference's floats on hand-built models whose rows hold
// negative values, zeros and (in some) infinities, with dyadic weights and decays so that
// accumulated sums cancel to exactly zero: the nudged entries, negative or all-negative
// accumulators, NaN maxima and zero decays must all come out the same.
func TestSequential_ScoreMatchesReference_Signed(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(11, 12))
	signed := []float32{1, -1, 0.5, -0.5, 0.25, -0.25, 2, -2, 0}
	positive := []float32{1, 0.5, 0.25, 2, 0.125}
	inf := float32(math.Inf(1))
	wild := []float32{1, -1, 0.5, 2, inf, -inf, 0, 1e30, -1e30}
	cancelled := 0
	ref := new(refSeqScratch)
	for r := range 400 {
		n := 5 + rng.IntN(40)
		c := DefaultSequentialConfig()
		decays := []float32{0.5, 0.25, 1, 0, 2}
		c.HistoryDecay = decays[rng.IntN(len(decays))]
		c.SimilarityDecay = decays[rng.IntN(len(decays))]
		c.History = 1 + rng.IntN(10)
		c.SimilarityHistory = 1 + rng.IntN(30)
		c.TwoStep = []float32{0, 0.5, 0.3}[rng.IntN(3)]
		c.Similarity = []float32{0, 1, 1.2}[rng.IntN(3)]
		c.Repeat = []float32{0, 1}[rng.IntN(2)]
		c.Popularity = []float32{0, 0.01}[rng.IntN(2)]
		transVals, twoVals, simVals := positive, positive, signed
		switch r % 4 {
		case 1:
			transVals, twoVals = signed, signed
		case 2:
			transVals, twoVals, simVals = wild, signed, wild
		}
		m := &Sequential{Config: c, n: n,
			trans: randomSignedRows(rng, n, 8, transVals),
			two:   randomSignedRows(rng, n, 8, twoVals),
			sim:   randomSignedRows(rng, n, 12, simVals),
			pop:   make([]float32, n),
		}
		for j := range m.pop {
			m.pop[j] = float32(rng.IntN(5)) / 4
		}
		if r%9 == 0 {
			m.two = seqCSR{} // no two-step rows, as a model read from version 1 before they were computed
		}
		for range 6 {
			hist := make([]int32, rng.IntN(2*c.SimilarityHistory+2))
			for k := range hist {
				hist[k] = int32(rng.IntN(n))
			}
			if refHasCancellation(m, hist) {
				cancelled++
			}
			checkScoreMatchesReference(t, rng, m, ref, hist, 2*(r%2))
		}
	}
	if cancelled < 100 {
		t.Fatalf("only %d histories cancelled a sum to zero: the test proves less than it claims", cancelled)
	}
}

// refHasCancellation reports whether the transition or similarity sums of hist cancel to
// exactly zero somewhere, the case the accumulator nudges.
func refHasCancellation(m *Sequential, hist []int32) bool {
	c := m.Config
	for _, part := range []struct {
		rows   *seqCSR
		length int
		decay  float32
	}{{&m.trans, c.History, c.HistoryDecay}, {&m.sim, c.SimilarityHistory, c.SimilarityDecay}} {
		acc := make([]float32, m.n)
		hit := make([]bool, m.n)
		recent := hist[max(0, len(hist)-part.length):]
		w := float32(1)
		for k := len(recent) - 1; k >= 0; k-- {
			idx, val := part.rows.row(recent[k])
			for q, j := range idx {
				acc[j] += w * val[q]
				if acc[j] == 0 && hit[j] {
					return true
				}
				hit[j] = true
			}
			w *= part.decay
		}
	}
	return false
}

// An accumulator is left all zero with nothing touched after every flush, whatever it held.
func TestSeqAcc_FlushLeavesItClean(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(21, 22))
	const n = 50
	a := seqAcc{val: make([]float32, n)}
	rows := randomSignedRows(rng, n, 10, []float32{1, -1, 0.5, -0.5, 0})
	for r := range 200 {
		for range rng.IntN(6) {
			idx, val := rows.row(int32(rng.IntN(n)))
			a.add(idx, val, []float32{1, 0.5, 0}[rng.IntN(3)])
		}
		var only []int32
		if r%2 == 0 {
			only = randomSubset(rng, n, rng.IntN(n), 0, nil)
		}
		a.flush(make([]float32, n), []float32{0, 1}[rng.IntN(2)], only)
		if len(a.touched) != 0 || slices.ContainsFunc(a.val, func(v float32) bool { return v != 0 }) {
			t.Fatalf("round %d: %d touched, values %v after flush", r, len(a.touched), a.val)
		}
	}
}

// While the accumulator does not call its running maximum stale, it is the maximum flush
// would otherwise fold over every touched entry (and 0 when none is positive), bit for bit;
// and it goes stale only where it has to: never while nothing shrinks or turns NaN.
func TestSeqAcc_RunningMaximumIsTheMaximum(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(31, 32))
	const n = 30
	inf := float32(math.Inf(1))
	sets := [][]float32{
		{1, 0.5, 0.25, 2, 0.125, 0},
		{1, -1, 0.5, -0.5, 0.25, -0.25, 0},
		{1, -1, 2, inf, -inf, 1e30, -1e30},
	}
	fresh, stale := 0, 0
	for r := range 3000 {
		vals := sets[r%len(sets)]
		rows := randomSignedRows(rng, n, 8, vals)
		a := seqAcc{val: make([]float32, n)}
		for range 1 + rng.IntN(8) {
			idx, val := rows.row(int32(rng.IntN(n)))
			a.add(idx, val, []float32{1, 0.5, 0.25, 0}[rng.IntN(4)])
			var want float32
			for _, j := range a.touched {
				want = max(want, a.val[j])
			}
			if got := a.max(); math.Float32bits(got) != math.Float32bits(want) && !(got != got && want != want) {
				t.Fatalf("round %d: max() = %g, want %g", r, got, want)
			}
			if a.stale {
				stale++
				if r%len(sets) == 0 {
					t.Fatalf("round %d: stale with nothing but non-negative values", r)
				}
				continue
			}
			fresh++
			if math.Float32bits(a.top) != math.Float32bits(want) {
				t.Fatalf("round %d: running maximum %g, want %g (values %v)", r, a.top, want, a.val)
			}
		}
		a.reset()
	}
	if fresh < 1000 || stale < 1000 {
		t.Fatalf("%d checks with a running maximum, %d stale: both must be exercised", fresh, stale)
	}
}

// BenchmarkSequential_ScoreHistorySubset scores histories of 50 items for a store's stock
// of 800 items (plus the history's items, as the hybrid asks) out of a 100,000-item
// catalogue, the serving path's shape: transition and two-step rows of up to 200 for the 8
// latest items, similarity rows of up to 100 for all 50.
func BenchmarkSequential_ScoreHistorySubset(b *testing.B) {
	const items, cats, stock = 100_000, 400, 800
	d := seqSpeedDataset(items, cats, 20_000, 20, 1)
	m := &Sequential{Config: DefaultSequentialConfig()}
	if err := m.Fit(context.Background(), d); err != nil {
		b.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(7, 8))
	stockItems := make([]int32, 0, stock)
	for _, i := range rng.Perm(items)[:stock] {
		stockItems = append(stockItems, int32(i))
	}
	type request struct {
		items   []int32
		weights []float32
		times   []int64
		subset  []int32
	}
	reqs := make([]request, 64)
	for q := range reqs {
		h := seqSpeedHistory(rng, items, cats, 50)
		r := request{items: h, weights: make([]float32, len(h)), times: make([]int64, len(h))}
		for k := range h {
			r.weights[k], r.times[k] = 1, int64(k)
		}
		r.subset = slices.Compact(slices.Sorted(slices.Values(append(slices.Clone(stockItems), h...))))
		reqs[q] = r
	}
	dst := make([]float32, items)
	b.ReportAllocs()
	q := 0
	for b.Loop() {
		r := &reqs[q%len(reqs)]
		m.ScoreHistorySubset(r.items, r.weights, r.times, r.subset, dst)
		q++
	}
}
