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
	// The hybrid's shape: each base's top 100 of a store's stock.
	b.Run("800x100", func(b *testing.B) {
		scores := randomScores(800, 42)
		dst := make([]int32, 0, 100)
		b.ReportAllocs()
		for b.Loop() {
			dst = model.TopK(dst[:0], scores, 100)
		}
	})
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
