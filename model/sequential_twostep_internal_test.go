package model

import (
	"bytes"
	"context"
	"encoding/binary"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// randomTransitions returns a random sparse transition matrix over n items (no self loops)
// and its scale, as Fit would hold them.
func randomTransitions(rng *rand.Rand, n, perRow int) (seqCSR, []float32) {
	idx := make([][]int32, n)
	val := make([][]float32, n)
	for i := range n {
		for _, j := range rng.Perm(n)[:perRow] {
			if j != i {
				idx[i] = append(idx[i], int32(j))
			}
		}
		slices.Sort(idx[i])
		for range idx[i] {
			val[i] = append(val[i], float32(1+rng.IntN(9))*0.5)
		}
	}
	scale := make([]float32, n)
	for i := range scale {
		scale[i] = 1 / float32(2+rng.IntN(30))
	}
	return seqRows(idx, val), scale
}

// denseTwoStep is the definition: scale[i] × Σ_j trans[i,j] × scale[j] × trans[j,l].
func denseTwoStep(trans *seqCSR, scale []float32, i int) []float64 {
	out := make([]float64, len(scale))
	idx, val := trans.row(int32(i))
	for k, j := range idx {
		sidx, sval := trans.row(j)
		for q, l := range sidx {
			out[l] += float64(scale[i]) * float64(val[k]) * float64(scale[j]) * float64(sval[q])
		}
	}
	return out
}

// The two-step rows are the definition's values, and a row cut to k keeps its k strongest
// entries (ties to the lower index), sorted by index.
func TestSeqTwoSteps_MatchDefinition(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(7, 1))
	const n = 60
	trans, scale := randomTransitions(rng, n, 12)
	for _, keep := range []int{n, 15} {
		c := DefaultSequentialConfig()
		c.MaxTransitions, c.Workers = keep, 3
		two, err := seqTwoSteps(context.Background(), c, &trans, scale)
		if err != nil {
			t.Fatal(err)
		}
		cut := 0
		for i := range n {
			want := denseTwoStep(&trans, scale, i)
			nonzero := 0
			for _, v := range want {
				if v != 0 {
					nonzero++
				}
			}
			idx, val := two.row(int32(i))
			if len(idx) != min(nonzero, keep) || !slices.IsSorted(idx) {
				t.Fatalf("keep %d, row %d: %d entries %v, want %d sorted", keep, i, len(idx), idx, min(nonzero, keep))
			}
			if nonzero > keep {
				cut++
			}
			// The kept are the strongest: none dropped is stronger than the weakest kept
			// (up to float32 rounding, which may order near-ties either way).
			weakest := math.Inf(1)
			for k, l := range idx {
				if d := math.Abs(float64(val[k]) - want[l]); d > 1e-6*want[l] {
					t.Fatalf("keep %d, row %d, entry %d: %g, want %g", keep, i, l, val[k], want[l])
				}
				weakest = min(weakest, want[l])
			}
			for l, v := range want {
				if !slices.Contains(idx, int32(l)) && v > weakest*(1+1e-5) {
					t.Fatalf("keep %d, row %d: dropped %d (%g), stronger than a kept one (%g)", keep, i, l, v, weakest)
				}
			}
		}
		if keep < n && cut == 0 {
			t.Fatalf("keep %d cut no row: the test proves nothing about the cut", keep)
		}
	}
}

// A history's two-step score is the decayed sum of its items' rows, scaled to a maximum of
// TwoStep: with every other score switched off, that is what Sequential gives.
func TestSequential_TwoStepScoreIsTheDecayedSumOfRows(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(8, 2))
	const n = 80
	trans, scale := randomTransitions(rng, n, 10)
	c := DefaultSequentialConfig()
	c.Similarity, c.Repeat, c.Popularity, c.TwoStep, c.Workers = 0, 0, 0, 0.7, 2
	two, err := seqTwoSteps(context.Background(), c, &trans, scale)
	if err != nil {
		t.Fatal(err)
	}
	// Transitions alone would add their own score: give the model empty transitions and
	// keep the two-step rows computed from the real ones.
	empty := seqCSR{ptr: make([]int32, n+1)}
	m := &Sequential{Config: c, n: n, trans: empty, two: two, scale: scale, pop: make([]float32, n)}
	hist := []int32{5, 17, 5, 33, 2}
	got := make([]float32, n)
	m.score(hist, got, nil)
	want := make([]float64, n)
	w := 1.0
	for k := len(hist) - 1; k >= max(0, len(hist)-c.History); k-- {
		row := denseTwoStep(&trans, scale, int(hist[k]))
		for l, v := range row {
			want[l] += w * v
		}
		w *= float64(c.HistoryDecay)
	}
	top := slices.Max(want)
	if top == 0 {
		t.Fatal("the history reaches nothing in two steps: the test proves nothing")
	}
	for l := range want {
		if d := math.Abs(float64(got[l]) - float64(c.TwoStep)*want[l]/top); d > 1e-5 {
			t.Fatalf("item %d: %g, want %g", l, got[l], float64(c.TwoStep)*want[l]/top)
		}
	}
}

// An artefact of version 1 (before the two-step rows were saved) reads with the rows
// computed, and scores as the model it was written from.
func TestSequential_ReadsVersion1(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(9, 3))
	b := NewDatasetBuilder()
	for i := range 90 {
		b.Items.Add(string(rune('A'+i%26)) + string(rune('A'+i/26)))
	}
	for u := range 300 {
		uid := b.Users.Add(string(rune('a'+u%26)) + string(rune('a'+u/26)))
		for k := range 10 {
			b.AddIndex(uid, int32(rng.IntN(90)), 1, int64(1000+k))
		}
	}
	d := b.Build()
	m := &Sequential{Config: DefaultSequentialConfig()}
	if err := m.Fit(context.Background(), d); err != nil {
		t.Fatal(err)
	}
	if len(m.two.idx) == 0 {
		t.Fatal("no two-step entries: the test proves nothing")
	}
	var buf bytes.Buffer
	if _, err := m.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	// Version 1 is version 2 without the three trailing arrays.
	raw := buf.Bytes()
	tail := 3*4 + 4*(len(m.two.ptr)+len(m.two.idx)+len(m.two.val))
	v1 := slices.Clone(raw[:len(raw)-tail])
	binary.LittleEndian.PutUint32(v1[len(seqMagic):], 1)
	var got Sequential
	if n, err := got.ReadFrom(bytes.NewReader(v1)); err != nil || n != int64(len(v1)) {
		t.Fatalf("ReadFrom(version 1) = %d, %v; want %d bytes", n, err, len(v1))
	}
	if !slices.Equal(got.two.ptr, m.two.ptr) || !slices.Equal(got.two.idx, m.two.idx) || !slices.Equal(got.two.val, m.two.val) {
		t.Fatal("version 1's computed two-step rows differ from the fitted ones")
	}
	binary.LittleEndian.PutUint32(v1[len(seqMagic):], 3)
	if _, err := new(Sequential).ReadFrom(bytes.NewReader(v1)); err == nil {
		t.Fatal("ReadFrom(version 3) succeeded")
	}
}
