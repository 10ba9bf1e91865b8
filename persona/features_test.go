package persona

import (
	"context"
	"math"
	"slices"
	"testing"

	"gonum.org/v1/gonum/mat"
)

// monday10 is 2024-01-01T10:00:00Z, a Monday.
const monday10 = 1704103200

func smallWorld() ([]History, Catalog) {
	hs := []History{
		{{Item: "a", Weight: 5, Time: monday10}, {Item: "b", Weight: 1, Time: monday10}},
		{{Item: "a", Weight: 3}, {Item: "c", Weight: 4}},
		{{Item: "b", Weight: 2}, {Item: "c", Weight: 2}, {Item: "d", Weight: 2}},
	}
	cat := Catalog{"a": {"genre=x"}, "b": {"genre=x", "genre=y"}, "c": {"genre=y"}, "d": {"genre=z"}}
	return hs, cat
}

func fitted(t *testing.T, fc FeatureConfig) (*Featurizer, []History) {
	t.Helper()
	hs, cat := smallWorld()
	f := &Featurizer{Config: fc}
	if err := f.Fit(context.Background(), hs, cat); err != nil {
		t.Fatal(err)
	}
	return f, hs
}

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

func TestFeaturizer_ItemBlocks(t *testing.T) {
	t.Parallel()
	// d is met by one consumer only: left out. a, b, c share one IDF, so u0's row is even.
	f, hs := fitted(t, FeatureConfig{Items: 2})
	if !slices.Equal(f.items, []string{"a", "b", "c"}) || f.Dims() != 3 {
		t.Fatalf("vocabulary %v, dims %d", f.items, f.Dims())
	}
	if want := math.Log(4.0/3) + 1; !near(f.idf[0], want) {
		t.Errorf("IDF %v, want %v", f.idf[0], want)
	}
	v := f.Transform(hs[0])
	if !slices.Equal(v.Index, []int32{0, 1}) || !near(v.Value[0], math.Sqrt2) || !near(v.Value[1], math.Sqrt2) {
		t.Errorf("u0: %v, want √2 on a and b (norm 2, the block weight)", v)
	}
	if v := f.Transform(History{{Item: "unknown", Weight: 1}}); len(v.Index) != 0 {
		t.Errorf("unknown item gave %v", v)
	}
	// With the weights (ratings) as values: 5 and 1, normalised.
	f, hs = fitted(t, FeatureConfig{Items: 1, ItemWeights: true})
	if v := f.Transform(hs[0]); !near(v.Value[0], 5/math.Sqrt(26)) || !near(v.Value[1], 1/math.Sqrt(26)) {
		t.Errorf("u0 with weights: %v", v)
	}
	// Signed: u0's mean is 3, so a is liked (+2) and b disliked (−2).
	f, hs = fitted(t, FeatureConfig{Signed: 1})
	if v := f.Transform(hs[0]); !near(v.Value[0], 1/math.Sqrt2) || !near(v.Value[1], -1/math.Sqrt2) {
		t.Errorf("u0 signed: %v", v)
	}
}

func TestFeaturizer_AttributeShares(t *testing.T) {
	t.Parallel()
	f, hs := fitted(t, FeatureConfig{Attrs: 1})
	// genre=z is met by one consumer only.
	if !slices.Equal(f.attrs, []string{"genre=x", "genre=y"}) {
		t.Fatalf("tokens %v", f.attrs)
	}
	// Raw shares: u0 x 1, y ½; u1 x ½, y ½; u2 x ⅓, y ⅔ (d counts as an event).
	raw := f.denseRaw(hs[2], Vector{})
	if !near(raw[0], 1.0/3) || !near(raw[1], 2.0/3) {
		t.Fatalf("u2 shares %v", raw)
	}
	// Scaled, not centred: share / sd / √2 (the block's width).
	sd := stddev([]float64{1, 0.5, 1.0 / 3})
	if v := f.Transform(hs[2]); !near(v.Value[0], (1.0/3)/sd/math.Sqrt2) {
		t.Errorf("u2 genre=x feature %v, want %v", v.Value[0], (1.0/3)/sd/math.Sqrt2)
	}
	// An event's own tokens count as well.
	g := &Featurizer{Config: FeatureConfig{Attrs: 1}}
	tok := []History{{{Item: "a", Tokens: []string{"store=1"}}}, {{Item: "b", Tokens: []string{"store=1"}}}}
	if err := g.Fit(context.Background(), tok, Catalog{}); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(g.attrs, []string{"store=1"}) {
		t.Errorf("context tokens %v", g.attrs)
	}
}

func stddev(xs []float64) float64 {
	var s, q float64
	for _, x := range xs {
		s += x
		q += x * x
	}
	n := float64(len(xs))
	return math.Sqrt(q/n - (s/n)*(s/n))
}

func TestTimeShares(t *testing.T) {
	t.Parallel()
	h := History{{Item: "a", Time: monday10}, {Item: "b"}} // the untimed event is ignored
	for _, c := range []struct {
		offset      int
		slot, wkday int
	}{
		{0, 2, 0},          // Monday 10:00: slot 8–12, Monday
		{-5 * 3600, 1, 0},  // Monday 05:00
		{-11 * 3600, 5, 6}, // Sunday 23:00
		{+15 * 3600, 0, 1}, // Tuesday 01:00
		{-monday10, 0, 3},  // 1970-01-01 00:00, a Thursday
	} {
		got := timeShares(h, c.offset)
		want := make([]float64, timeDims)
		want[c.slot], want[6+c.wkday] = 1, 1
		if !slices.Equal(got, want) {
			t.Errorf("offset %d: %v, want %v", c.offset, got, want)
		}
	}
}

func TestTruncatedSVD_MatchesDense(t *testing.T) {
	t.Parallel()
	// A 30×12 matrix of rank 3 plus small noise.
	X := NewMatrix(12)
	dense := mat.NewDense(30, 12, nil)
	for i := 0; i < 30; i++ {
		v := Vector{}
		for j := 0; j < 12; j++ {
			x := float64((i%3+1)*(j%4+1)) + float64(i%5)*float64(j%2) + 0.01*float64((i*7+j*3)%5)
			v.Index = append(v.Index, int32(j))
			v.Value = append(v.Value, x)
			dense.Set(i, j, x)
		}
		X.AppendRow(v)
	}
	_, sigma := truncatedSVD(X, 3, 1)
	var svd mat.SVD
	if !svd.Factorize(dense, mat.SVDThin) {
		t.Fatal("dense SVD failed")
	}
	want := svd.Values(nil)
	for k := range sigma {
		if math.Abs(sigma[k]-want[k]) > 1e-6*want[0] {
			t.Errorf("σ%d = %v, want %v", k, sigma[k], want[k])
		}
	}
	if len(sigma) != 3 {
		t.Errorf("%d singular values, want 3", len(sigma))
	}
}
