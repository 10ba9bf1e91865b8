package model

import (
	"math"
	"math/rand/v2"
	"strconv"
	"testing"
)

// randomRanker returns a ranker over nf features with trees random regression trees of up
// to depth levels (some branches end early), bound to the identity layout.
func randomRanker(rng *rand.Rand, nf, trees, depth int) *hybridRanker {
	r := &hybridRanker{kind: rankTrees, scale: 0.7}
	for f := range nf {
		r.names = append(r.names, "f"+strconv.Itoa(f))
		r.mean = append(r.mean, float32(rng.NormFloat64()))
		r.std = append(r.std, 0.5+rng.Float32())
		r.w = append(r.w, float32(rng.NormFloat64()))
		r.remap = append(r.remap, int32(f))
	}
	for range trees {
		var t regTree
		var grow func(level int) int32
		grow = func(level int) int32 {
			n := int32(len(t.feat))
			t.feat, t.thr, t.left, t.right, t.value = append(t.feat, -1), append(t.thr, 0),
				append(t.left, -1), append(t.right, -1), append(t.value, float32(rng.NormFloat64()))
			if level == depth || rng.IntN(5) == 0 {
				return n
			}
			t.feat[n], t.thr[n] = int32(rng.IntN(nf)), float32(rng.NormFloat64())
			l := grow(level + 1)
			rt := grow(level + 1)
			t.left[n], t.right[n] = l, rt
			return n
		}
		grow(0)
		r.trees = append(r.trees, t)
	}
	return r
}

// randomRows returns n rows of nf features, a few of them NaN, ±Inf or on a threshold.
func randomRows(rng *rand.Rand, n, nf int) []float32 {
	x := make([]float32, n*nf)
	for k := range x {
		x[k] = float32(rng.NormFloat64() * 2)
		switch rng.IntN(50) {
		case 0:
			x[k] = float32(math.NaN())
		case 1:
			x[k] = float32(math.Inf(1 - 2*rng.IntN(2)))
		}
	}
	return x
}

// BenchmarkHybridRanker_Score scores 300 candidate rows (a request's candidates) with
// 150 depth-3 trees over 19 features: the hybrid's shape with three bases.
func BenchmarkHybridRanker_Score(b *testing.B) {
	const nf, rows = 19, 300
	rng := rand.New(rand.NewPCG(7, 7))
	r := randomRanker(rng, nf, 150, 3)
	r.flatten()
	x := randomRows(rng, rows, nf)
	z, dst := make([]float32, rows*nf), make([]float32, rows)
	for b.Loop() {
		r.scoreRows(x, nf, dst, z)
	}
}

// scoreOne returns r's score of one row x of the bound layout; z has len(r.names).
func scoreOne(r *hybridRanker, x, z []float32) float32 {
	var s [1]float32
	r.scoreRows(x, len(x), s[:], z)
	return s[0]
}

// The serving layout scores every row as the learned trees do, to the bit, whatever the
// trees' shapes and the rows' ±Inf or threshold values (a NaN feature makes the linear
// part, and so the score, NaN either way).
func TestHybridRanker_FlatTreesScoreTheSame(t *testing.T) {
	t.Parallel()
	const nf = 7
	rng := rand.New(rand.NewPCG(3, 9))
	for trial := range 40 {
		r := randomRanker(rng, nf, 1+rng.IntN(60), 1+rng.IntN(5))
		rows := 1 + rng.IntN(200) // blocks of forestBlock and a partial one
		x := randomRows(rng, rows, nf)
		// Put some values exactly on thresholds, where <= decides.
		for k := 0; k < len(x); k += 11 {
			tr := r.trees[rng.IntN(len(r.trees))]
			if n := rng.IntN(len(tr.feat)); tr.feat[n] >= 0 {
				x[k-k%nf+int(tr.feat[n])] = tr.thr[n]*r.std[tr.feat[n]] + r.mean[tr.feat[n]]
			}
		}
		z := make([]float32, nf)
		want := make([]float32, 0, rows)
		for k := range rows {
			want = append(want, scoreOne(r, x[k*nf:(k+1)*nf], z)) // not flattened: the trees
		}
		r.flatten()
		if len(r.roots) != len(r.trees) {
			t.Fatalf("trial %d: %d roots for %d trees", trial, len(r.roots), len(r.trees))
		}
		same := func(how string, k int, got float32) {
			t.Helper()
			if math.Float32bits(got) != math.Float32bits(want[k]) && !(got != got && want[k] != want[k]) {
				t.Fatalf("trial %d row %d of %d, %s: flat %g, trees %g", trial, k, rows, how, got, want[k])
			}
		}
		for k := range rows {
			same("one row", k, scoreOne(r, x[k*nf:(k+1)*nf], z))
		}
		all, zs := make([]float32, rows), make([]float32, rows*nf)
		r.scoreRows(x, nf, all, zs)
		for k := range rows {
			same("all rows", k, all[k])
		}
	}
}
