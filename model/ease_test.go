package model_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"testing"

	"github.com/qianmian/qianmian/model"
)

func fitEASE(tb testing.TB, c model.EASEConfig, d *model.Dataset) *model.EASE {
	tb.Helper()
	m := &model.EASE{Config: c}
	if err := m.Fit(context.Background(), d); err != nil {
		tb.Fatal(err)
	}
	return m
}

func easeBytes(tb testing.TB, m *model.EASE) []byte {
	tb.Helper()
	var buf bytes.Buffer
	if _, err := m.WriteTo(&buf); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

// tinyDataset builds users × items from rows of item names.
func tinyDataset(rows ...[]string) *model.Dataset {
	b := model.NewDatasetBuilder()
	for _, i := range []string{"a", "b", "c"} {
		b.Items.Add(i)
	}
	for u, row := range rows {
		for _, i := range row {
			b.Add(fmt.Sprint("u", u), i, 1, int64(u))
		}
	}
	return b.Build()
}

func TestEASE_TwoItemsClosedForm(t *testing.T) {
	t.Parallel()
	// G = XᵀX + λI = [[n_a+λ, n_ab], [n_ab, n_b+λ]], P = G⁻¹ = [[n_b+λ, −n_ab], [−n_ab, n_a+λ]]/det,
	// so B_ab = −P_ab/P_bb = n_ab/(n_a+λ) and B_ba = n_ab/(n_b+λ).
	d := tinyDataset([]string{"a", "b"}, []string{"a", "b"}, []string{"a"}, []string{"b"}, []string{"a"})
	const lambda = 2.0 // n_a = 4, n_b = 3, n_ab = 2
	m := fitEASE(t, model.EASEConfig{Lambda: lambda}, d)
	want := [][]float32{{0, 2.0 / (4 + lambda), 0}, {2.0 / (3 + lambda), 0, 0}, {0, 0, 0}}
	for i, row := range want {
		for j, w := range row {
			if got := m.Weights(int32(i))[j]; math.Abs(float64(got-w)) > 1e-6 {
				t.Fatalf("B[%d][%d]=%v, want %v", i, j, got, w)
			}
		}
	}
}

func TestEASE_MatchesDirectInverse(t *testing.T) {
	t.Parallel()
	d := tinyDataset([]string{"a", "b", "c"}, []string{"a", "b"}, []string{"b", "c"}, []string{"a"}, []string{"c", "a"})
	const lambda = 0.5
	for _, workers := range []int{1, 2} {
		m := fitEASE(t, model.EASEConfig{Lambda: lambda, Workers: workers}, d)
		// G by counting, P by Gauss–Jordan, B_ij = −P_ij/P_jj.
		var g [3][3]float64
		for u := int32(0); u < int32(d.NumUsers()); u++ {
			items, _, _ := d.Row(u)
			for _, i := range items {
				for _, j := range items {
					g[i][j]++
				}
			}
		}
		p := invert3(g, lambda)
		for i := 0; i < 3; i++ {
			for j := 0; j < 3; j++ {
				want := 0.0
				if i != j {
					want = -p[i][j] / p[j][j]
				}
				if got := float64(m.Weights(int32(i))[j]); math.Abs(got-want) > 1e-6 {
					t.Fatalf("B[%d][%d]=%v, want %v", i, j, got, want)
				}
			}
		}
		// A user's scores are the sum of their items' rows.
		scores := make([]float32, 3)
		m.ScoreUser(1, scores) // a, b
		for j := range scores {
			want := m.Weights(0)[j] + m.Weights(1)[j]
			if scores[j] != want {
				t.Fatalf("score[%d]=%v, want %v", j, scores[j], want)
			}
		}
	}
}

// invert3 returns (g + λI)⁻¹ by Gauss–Jordan elimination.
func invert3(g [3][3]float64, lambda float64) [3][3]float64 {
	var a [3][6]float64
	for i := 0; i < 3; i++ {
		copy(a[i][:3], g[i][:])
		a[i][i] += lambda
		a[i][3+i] = 1
	}
	for c := 0; c < 3; c++ {
		piv := a[c][c]
		for k := range a[c] {
			a[c][k] /= piv
		}
		for r := 0; r < 3; r++ {
			if r != c {
				f := a[r][c]
				for k := range a[r] {
					a[r][k] -= f * a[c][k]
				}
			}
		}
	}
	var p [3][3]float64
	for i := range p {
		copy(p[i][:], a[i][3:])
	}
	return p
}

func TestEASE_RefusesLargeCatalogues(t *testing.T) {
	t.Parallel()
	d := syntheticWorld(20, 50, 100, 1)
	m := &model.EASE{Config: model.EASEConfig{Lambda: 1, MaxItems: 49}}
	err := m.Fit(context.Background(), d)
	if !errors.Is(err, model.ErrTooManyItems) {
		t.Fatalf("Fit()=%v, want ErrTooManyItems", err)
	}
	if m.NumItems() != 0 {
		t.Fatal("refused fit left a model behind")
	}
	if def := model.DefaultEASEConfig().MaxItems; def != 20_000 {
		t.Fatalf("default MaxItems %d, want 20000", def)
	}
	if err := (&model.EASE{Config: model.EASEConfig{Lambda: 0}}).Fit(context.Background(), d); err == nil {
		t.Fatal("Fit accepted lambda 0")
	}
}

func TestEASE_RecencyNegativesAndHistory(t *testing.T) {
	t.Parallel()
	d := syntheticWorld(200, 60, 2000, 2)
	c := model.DefaultEASEConfig()
	c.HistoryHalfLife, c.LogWeight = 3, true
	m := fitEASE(t, c, d)
	want, got := make([]float32, 60), make([]float32, 60)
	for u := int32(0); u < 50; u++ {
		items, weights, times := d.Row(u)
		m.ScoreUser(u, want)
		m.ScoreHistory(items, weights, times, got)
		if !slices.Equal(got, want) {
			t.Fatalf("user %d: ScoreHistory of their row differs from ScoreUser", u)
		}
	}
	// The latest item counts log(1+w), the one before it 2^(−1/3) as much; a negative
	// weight counts nothing.
	m.ScoreHistory([]int32{5, 7}, []float32{math.E - 1, math.E - 1}, []int64{10, 10}, got)
	for j := range got {
		w := float32(math.Exp2(-1.0/3))*m.Weights(5)[j] + m.Weights(7)[j] // 7 is later in (time, item) order
		if math.Abs(float64(got[j]-w)) > 1e-5 {
			t.Fatalf("score[%d]=%v, want %v", j, got[j], w)
		}
	}
	m.ScoreHistory([]int32{5, 7}, []float32{-2, 1}, []int64{10, 11}, got)
	for j := range got {
		if w := float32(math.Log(2)) * m.Weights(7)[j]; math.Abs(float64(got[j]-w)) > 1e-6 {
			t.Fatalf("with a returned item score[%d]=%v, want %v", j, got[j], w)
		}
	}
}

func TestHistoryDecay(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name  string
		items []int32
		times []int64
		half  float64
		want  []float32
	}{
		{"Off", []int32{1, 2}, []int64{5, 6}, 0, []float32{1, 1}},
		{"ByTime", []int32{1, 2, 3}, []int64{9, 5, 7}, 1, []float32{1, 0.25, 0.5}},
		{"TiesByItem", []int32{4, 2}, []int64{5, 5}, 2, []float32{1, float32(math.Sqrt2 / 2)}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := model.HistoryDecay([]float32{42}, tt.items, tt.times, tt.half)
			if !slices.Equal(got, append([]float32{42}, tt.want...)) {
				t.Fatalf("HistoryDecay()=%v, want 42 then %v", got, tt.want)
			}
		})
	}
}

func TestEASE_RoundTripWorkersAndContext(t *testing.T) {
	t.Parallel()
	d := syntheticWorld(150, 70, 1500, 3)
	c := model.DefaultEASEConfig()
	c.HistoryHalfLife = 5
	c.Workers = 1
	m := fitEASE(t, c, d)
	data := easeBytes(t, m)
	c.Workers = 3
	if !bytes.Equal(data, easeBytes(t, fitEASE(t, c, d))) {
		t.Fatal("fitted EASE depends on the number of workers")
	}
	var got model.EASE
	r := bytes.NewReader(append(slices.Clone(data), "tail"...))
	if n, err := got.ReadFrom(r); err != nil || n != int64(len(data)) || r.Len() != 4 {
		t.Fatalf("ReadFrom()=%d, %v; want %d bytes and the tail left", n, err, len(data))
	}
	if got.Describe() != m.Describe() || !bytes.Equal(easeBytes(t, &got), data) {
		t.Fatal("round trip changed the model")
	}
	a, b := make([]float32, 70), make([]float32, 70)
	for u := int32(0); u < 150; u++ {
		m.ScoreUser(u, a)
		got.ScoreUser(u, b)
		if !slices.Equal(a, b) {
			t.Fatalf("user %d scores differ after loading", u)
		}
	}
	for _, bad := range [][]byte{data[:len(data)-1], append([]byte("QMXXXX\x00\x00"), data[8:]...)} {
		if _, err := new(model.EASE).ReadFrom(bytes.NewReader(bad)); err == nil {
			t.Fatalf("ReadFrom accepted a corrupt artefact of %d bytes", len(bad))
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	fresh := &model.EASE{Config: c}
	if err := fresh.Fit(ctx, d); !errors.Is(err, context.Canceled) || fresh.NumItems() != 0 {
		t.Fatalf("Fit(cancelled)=%v, want context.Canceled and no model", err)
	}
}

func TestEASEFamily(t *testing.T) {
	t.Parallel()
	f := model.EASEFamily()
	ms := f.Configs(10, 1)
	if f.Name != "ease" || len(ms) == 0 || len(ms) > 10 {
		t.Fatalf("family %q gave %d configs", f.Name, len(ms))
	}
	if ms[0].Describe() != (&model.EASE{Config: model.DefaultEASEConfig()}).Describe() {
		t.Fatalf("first config %s is not the default", ms[0].Describe())
	}
	seen := map[string]bool{}
	for _, m := range ms {
		if seen[m.Describe()] {
			t.Fatalf("config %s repeats", m.Describe())
		}
		seen[m.Describe()] = true
	}
}

func BenchmarkEASE_Fit(b *testing.B) {
	for _, s := range []struct {
		name         string
		users, items int
		nnz          int
	}{
		{"ml100k", 943, 1682, 100_000},
		{"items4k", 6040, 4000, 500_000},
	} {
		b.Run(s.name, func(b *testing.B) {
			d := syntheticWorld(s.users, s.items, s.nnz, 1)
			b.ReportAllocs()
			for b.Loop() {
				m := &model.EASE{Config: model.DefaultEASEConfig()}
				if err := m.Fit(context.Background(), d); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkEASE_ScoreUser(b *testing.B) {
	d := ml100kShaped(1)
	m := fitEASE(b, model.DefaultEASEConfig(), d)
	dst := make([]float32, d.NumItems())
	b.ReportAllocs()
	u := int32(0)
	for b.Loop() {
		m.ScoreUser(u, dst)
		u = (u + 1) % int32(d.NumUsers())
	}
}

func TestEASEAndIALS_EmptyDataset(t *testing.T) {
	t.Parallel()
	for _, d := range []*model.Dataset{model.NewDatasetBuilder().Build(), tinyDataset()} {
		for _, m := range []model.Model{&model.EASE{Config: model.DefaultEASEConfig()}, &model.IALS{Config: model.DefaultIALSConfig()}} {
			if err := m.Fit(context.Background(), d); err != nil {
				t.Fatalf("%s: Fit(empty)=%v", m.Name(), err)
			}
			dst := []float32{1, 2, 3}[:d.NumItems()]
			m.ScoreUser(0, dst)
			if slices.ContainsFunc(dst, func(v float32) bool { return v != 0 }) {
				t.Fatalf("%s: scores %v on an empty dataset", m.Name(), dst)
			}
		}
	}
}
