package model_test

import (
	"cmp"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"

	"github.com/qianmian/qianmian/model"
)

func randomScores(n int, seed uint64) []float32 {
	rng := rand.New(rand.NewPCG(seed, 0))
	s := make([]float32, n)
	for i := range s {
		s[i] = float32(rng.IntN(1000)) / 10 // many ties
	}
	return s
}

// referenceTopK sorts every index: the obviously-correct answer TopK must match.
func referenceTopK(scores []float32, k int) []int32 {
	var idx []int32
	for i, s := range scores {
		if !math.IsNaN(float64(s)) {
			idx = append(idx, int32(i))
		}
	}
	slices.SortStableFunc(idx, func(a, b int32) int { return cmp.Compare(scores[b], scores[a]) })
	return idx[:min(k, len(idx))]
}

var negZero = float32(math.Copysign(0, -1))

func inf(sign int) float32 { return float32(math.Inf(sign)) }

func TestTopK(t *testing.T) {
	t.Parallel()
	nan := float32(math.NaN())
	for _, tt := range []struct {
		name   string
		scores []float32
		k      int
		want   []int32
	}{
		{"Empty", nil, 3, []int32{}},
		{"ZeroK", []float32{1, 2}, 0, []int32{}},
		{"KLargerThanN", []float32{1, 3, 2}, 5, []int32{1, 2, 0}},
		{"TiesLowerIndexFirst", []float32{2, 5, 5, 1, 5}, 2, []int32{1, 2}},
		{"NaNSkipped", []float32{nan, 1, nan, 0.5}, 3, []int32{1, 3}},
		{"Negative", []float32{-3, -1, -2}, 2, []int32{1, 2}},
		{"SignedZerosTie", []float32{negZero, 0, negZero, -1}, 3, []int32{0, 1, 2}},
		{"Infinities", []float32{inf(-1), 1, inf(1), nan, inf(-1)}, 4, []int32{2, 1, 0, 4}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := model.TopK(nil, tt.scores, tt.k)
			if !slices.Equal(got, tt.want) && !(len(got) == 0 && len(tt.want) == 0) {
				t.Fatalf("TopK()=%v, want %v", got, tt.want)
			}
		})
	}
}

func TestTopK_MatchesSort(t *testing.T) {
	t.Parallel()
	for _, n := range []int{1, 7, 100, 5000} {
		for _, k := range []int{1, 3, 20, 100} {
			scores := randomScores(n, uint64(n*31+k))
			got := model.TopK(nil, scores, k)
			if want := referenceTopK(scores, k); !slices.Equal(got, want) {
				t.Fatalf("n=%d k=%d: TopK()=%v, want %v", n, k, got, want)
			}
			// And with NaNs and infinities among the ties (the hybrid floors scores at −Inf).
			for i := range scores {
				switch i % 7 {
				case 2:
					scores[i] = float32(math.NaN())
				case 4:
					scores[i] = float32(math.Inf(-1))
				case 5:
					if i%3 == 0 {
						scores[i] = float32(math.Inf(1))
					}
				}
			}
			got = model.TopK(nil, scores, k)
			if want := referenceTopK(scores, k); !slices.Equal(got, want) {
				t.Fatalf("n=%d k=%d with NaN and ±Inf: TopK()=%v, want %v", n, k, got, want)
			}
		}
	}
}

func TestTopK_AppendsWithoutAllocating(t *testing.T) {
	scores := randomScores(1000, 1)
	dst := make([]int32, 2, 32)
	dst[0], dst[1] = -7, -8
	got := model.TopK(dst, scores, 10)
	if len(got) != 12 || got[0] != -7 || got[1] != -8 {
		t.Fatalf("prefix not kept: %v", got[:3])
	}
	if want := referenceTopK(scores, 10); !slices.Equal(got[2:], want) {
		t.Fatalf("TopK()=%v, want %v", got[2:], want)
	}
	if a := testing.AllocsPerRun(100, func() { dst = model.TopK(dst[:0], scores, 20) }); a != 0 {
		t.Fatalf("TopK allocates %v times per call, want 0", a)
	}
}

// trickyScores draws n scores from one of several patterns built to stress TopK's ranking:
// heavy ties, both zeros, both infinities, NaNs with either sign, subnormals, and runs that
// rise or fall (a rising list makes every entry replace the heap's root).
func trickyScores(rng *rand.Rand, n int) []float32 {
	special := []float32{
		float32(math.NaN()), -float32(math.NaN()), math.Float32frombits(0x7fc00001),
		inf(1), inf(-1), 0, negZero, math.SmallestNonzeroFloat32, -math.SmallestNonzeroFloat32,
		math.MaxFloat32, -math.MaxFloat32, 1, -1, 0.5, 2,
	}
	s := make([]float32, n)
	pattern := rng.IntN(6)
	for i := range s {
		switch pattern {
		case 0: // a few distinct values, mostly the special ones
			s[i] = special[rng.IntN(len(special))]
		case 1: // many ties among small integers, with a sprinkling of specials
			if rng.IntN(8) == 0 {
				s[i] = special[rng.IntN(len(special))]
			} else {
				s[i] = float32(rng.IntN(7) - 3)
			}
		case 2: // distinct-ish values
			s[i] = float32(rng.NormFloat64())
		case 3: // rising, with ties and zeros of both signs
			s[i] = float32(i / 3)
			if s[i] == 0 && rng.IntN(2) == 0 {
				s[i] = negZero
			}
		case 4: // falling
			s[i] = float32(n - i/2)
		case 5: // mostly NaN (of three kinds), the rest zeros of either sign
			s[i] = special[rng.IntN(3)]
			if rng.IntN(4) == 0 {
				s[i] = []float32{0, negZero}[rng.IntN(2)]
			}
		}
	}
	return s
}

// TestTopK_Randomized compares TopK with the sort-based reference over many shapes,
// including k above the keyed heap's limit, k beyond n, and a dst with a prefix to keep.
func TestTopK_Randomized(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(7, 11))
	for iter := range 3000 {
		var n int
		switch iter % 3 {
		case 0:
			n = rng.IntN(20)
		case 1:
			n = rng.IntN(400)
		default:
			n = rng.IntN(2001)
		}
		k := rng.IntN(n+6) - rng.IntN(2) // from -1 to n+5
		if iter%5 == 0 {
			k = []int{1, 30, 50, 100, 127, 128, 129, 130}[rng.IntN(8)]
		}
		scores := trickyScores(rng, n)
		prefix := []int32{-1, -2, -3}[:rng.IntN(4)]
		dst := make([]int32, len(prefix), len(prefix)+rng.IntN(max(k, 0)+3))
		copy(dst, prefix)
		got := model.TopK(dst, scores, k)
		want := referenceTopK(scores, max(k, 0))
		if !slices.Equal(got[:len(prefix)], prefix) {
			t.Fatalf("iter %d n=%d k=%d: prefix %v became %v", iter, n, k, prefix, got[:len(prefix)])
		}
		if !slices.Equal(got[len(prefix):], want) {
			t.Fatalf("iter %d n=%d k=%d: TopK()=%v\nwant %v\nscores %v", iter, n, k,
				got[len(prefix):], want, scores)
		}
	}
}

// TestTopK_NoAllocsAnyK checks the allocation-free promise on both sides of the keyed heap's
// limit, for the serving shapes and beyond.
func TestTopK_NoAllocsAnyK(t *testing.T) {
	scores := randomScores(800, 3)
	for _, k := range []int{1, 30, 50, 100, 128, 129, 300, 800, 1000} {
		dst := make([]int32, 5, 5+k)
		if a := testing.AllocsPerRun(20, func() { dst = model.TopK(dst[:5], scores, k) }); a != 0 {
			t.Errorf("k=%d: TopK allocates %v times per call, want 0", k, a)
		}
	}
}

func BenchmarkTopK(b *testing.B) {
	for _, n := range []int{1_000, 100_000} {
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			scores := randomScores(n, 42)
			dst := make([]int32, 0, 20)
			b.ReportAllocs()
			for b.Loop() {
				dst = model.TopK(dst[:0], scores, 20)
			}
		})
	}
	// The serving shapes: each base's top 100 of a store's stock (800x100), the ranked
	// candidates of a request (800x30) and a smaller store's stock (300x50).
	for _, c := range []struct{ n, k int }{{800, 100}, {800, 30}, {300, 50}} {
		b.Run(strconv.Itoa(c.n)+"x"+strconv.Itoa(c.k), func(b *testing.B) {
			scores := randomScores(c.n, 42)
			dst := make([]int32, 0, c.k)
			b.ReportAllocs()
			for b.Loop() {
				dst = model.TopK(dst[:0], scores, c.k)
			}
		})
	}
}

// BenchmarkTopK_SortAll is the obvious way TopK replaces, for its before and after: order
// every index by score and keep the first k.
func BenchmarkTopK_SortAll(b *testing.B) {
	for _, n := range []int{1_000, 100_000} {
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			scores := randomScores(n, 42)
			b.ReportAllocs()
			for b.Loop() {
				idx := make([]int32, 0, n)
				for i, s := range scores {
					if s == s {
						idx = append(idx, int32(i))
					}
				}
				slices.SortFunc(idx, func(x, y int32) int {
					if c := cmp.Compare(scores[y], scores[x]); c != 0 {
						return c
					}
					return cmp.Compare(x, y)
				})
				_ = idx[:min(20, len(idx))]
			}
		})
	}
}
