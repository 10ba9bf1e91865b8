package model

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestTopKey checks the packed key against the ranking it stands for: higher score first,
// −0 tied with +0, then lower index first, and that score and index unpack unchanged.
func TestTopKey(t *testing.T) {
	t.Parallel()
	negZero := float32(math.Copysign(0, -1))
	ascending := []float32{
		float32(math.Inf(-1)), -math.MaxFloat32, -1e10, -1, -math.SmallestNonzeroFloat32,
		negZero, 0, math.SmallestNonzeroFloat32, 1e-30, 0.5, 1, 1e10, math.MaxFloat32,
		float32(math.Inf(1)),
	}
	indexes := []int{0, 1, 2, 1000, math.MaxInt32 - 1, math.MaxInt32}
	type entry struct {
		s float32
		i int
	}
	var all []entry
	for _, s := range ascending {
		for _, i := range indexes {
			all = append(all, entry{s, i})
		}
	}
	for _, a := range all {
		key := topKey(a.s, a.i)
		if got := keyIndex(key); got != int32(a.i) {
			t.Errorf("keyIndex(topKey(%v, %d)) = %d", a.s, a.i, got)
		}
		if got := keyScore(key); got != a.s || (got == 0 && math.Signbit(float64(got))) {
			t.Errorf("keyScore(topKey(%v, %d)) = %v, want %v (+0 for a zero)", a.s, a.i, got, a.s)
		}
		for _, b := range all {
			better := a.s > b.s || (a.s == b.s && a.i < b.i)
			if got := topKey(a.s, a.i) > topKey(b.s, b.i); got != better {
				t.Errorf("topKey(%v, %d) > topKey(%v, %d) is %v, want %v", a.s, a.i, b.s, b.i, got, better)
			}
		}
	}
}

// TestTopK_MatchesIndexHeap checks the keyed heap against topKByIndex, which is TopK's
// previous implementation for every k, on ties, NaNs, infinities and both zeros.
func TestTopK_MatchesIndexHeap(t *testing.T) {
	t.Parallel()
	negZero := float32(math.Copysign(0, -1))
	values := []float32{float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1)), 0, negZero,
		1, -1, 2.5, math.MaxFloat32, -math.SmallestNonzeroFloat32}
	rng := rand.New(rand.NewPCG(3, 5))
	for range 2000 {
		n := rng.IntN(1000)
		scores := make([]float32, n)
		for i := range scores {
			if rng.IntN(3) == 0 {
				scores[i] = values[rng.IntN(len(values))]
			} else {
				scores[i] = float32(rng.IntN(50))
			}
		}
		k := rng.IntN(min(n, maxKeyedK) + 3)
		got := TopK([]int32{-1}, scores, k)
		want := []int32{-1}
		if k > 0 {
			want = topKByIndex(slices.Grow(want, min(k, n)), 1, scores, min(k, n))
		}
		if !slices.Equal(got, want) {
			t.Fatalf("n=%d k=%d: TopK()=%v, want %v", n, k, got, want)
		}
	}
}
