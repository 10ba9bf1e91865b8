package model_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"

	"github.com/qianmian/qianmian/model"
)

var (
	_ model.Model         = (*model.Sequential)(nil)
	_ model.HistoryScorer = (*model.Sequential)(nil)
	_ io.WriterTo         = (*model.Sequential)(nil)
	_ io.ReaderFrom       = (*model.Sequential)(nil)
)

// seqSynthetic builds users with perUser random (Zipf-like) items in order, in which every
// time the planted item a occurs, b comes right after it. a and b are the last two items.
func seqSynthetic(users, items, perUser int, seed uint64) *model.Dataset {
	rng := rand.New(rand.NewPCG(seed, 11))
	b := model.NewDatasetBuilder()
	for i := 0; i < items; i++ {
		b.Items.Add("i" + strconv.Itoa(i))
	}
	a, next := int32(items-2), int32(items-1)
	for u := 0; u < users; u++ {
		uid := b.Users.Add("u" + strconv.Itoa(u))
		at := int64(1_000_000)
		for k := 0; k < perUser; k++ {
			i := int32(float64(items-2) * rng.Float64() * rng.Float64())
			if rng.IntN(8) == 0 {
				i = a
			}
			b.AddIndex(uid, i, 1, at)
			at++
			if i == a {
				b.AddIndex(uid, next, 1, at)
				at++
			}
		}
	}
	return b.Build()
}

func fitSequential(t testing.TB, c model.SequentialConfig, d *model.Dataset) *model.Sequential {
	t.Helper()
	m := &model.Sequential{Config: c}
	if err := m.Fit(context.Background(), d); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestSequential_PlantedTransitionRanksFirst(t *testing.T) {
	t.Parallel()
	const items = 200
	d := seqSynthetic(500, items, 6, 1)
	m := fitSequential(t, model.DefaultSequentialConfig(), d)
	a, b := int32(items-2), int32(items-1)
	if succ, _ := m.Successors(a); !slices.Contains(succ, b) {
		t.Fatalf("successors of %d = %v, want %d among them", a, succ, b)
	}
	// A history of popular items ending in a: b must come first among unseen items.
	hist := []int32{0, 1, 2, a}
	scores := make([]float32, d.NumItems())
	m.ScoreHistory(hist, []float32{1, 1, 1, 1}, []int64{1, 2, 3, 4}, scores)
	for _, i := range hist {
		scores[i] = float32(math.NaN())
	}
	if top := model.TopK(nil, scores, 3); top[0] != b {
		t.Fatalf("top after %d = %v, want %d first", a, top, b)
	}
	// Order matters: b's lead over the best other unseen item shrinks when a came first.
	lead := func(times []int64) float32 {
		m.ScoreHistory(hist, []float32{1, 1, 1, 1}, times, scores)
		for _, i := range hist {
			scores[i] = float32(math.NaN())
		}
		best := float32(math.Inf(-1))
		for j, s := range scores {
			if int32(j) != b && s == s {
				best = max(best, s)
			}
		}
		return scores[b] - best
	}
	if last, first := lead([]int64{1, 2, 3, 4}), lead([]int64{4, 5, 6, 1}); !(last > first) {
		t.Fatalf("lead of %d with %d last = %v, not above %v with %d first", b, a, last, first, a)
	}
}

func TestSequential_ScoreUserMatchesScoreHistory(t *testing.T) {
	t.Parallel()
	d := seqSynthetic(300, 100, 8, 2)
	m := fitSequential(t, model.DefaultSequentialConfig(), d)
	got := make([]float32, d.NumItems())
	want := make([]float32, d.NumItems())
	for u := int32(0); u < int32(d.NumUsers()); u++ {
		m.ScoreUser(u, got)
		items, weights, times := d.Sequence(u)
		m.ScoreHistory(items, weights, times, want)
		if !slices.Equal(got, want) {
			t.Fatalf("user %d: ScoreUser and ScoreHistory differ", u)
		}
	}
}

func TestSequential_DeterministicAcrossWorkers(t *testing.T) {
	t.Parallel()
	d := seqSynthetic(800, 150, 10, 3)
	c := model.DefaultSequentialConfig()
	c.Workers = 1
	one := fitSequential(t, c, d)
	c.Workers = 3
	three := fitSequential(t, c, d)
	seqSameScores(t, d, one, three)
}

func seqSameScores(t *testing.T, d *model.Dataset, x, y model.Model) {
	t.Helper()
	a := make([]float32, d.NumItems())
	b := make([]float32, d.NumItems())
	for u := int32(0); u < int32(d.NumUsers()); u++ {
		x.ScoreUser(u, a)
		y.ScoreUser(u, b)
		if !slices.Equal(a, b) {
			t.Fatalf("user %d: scores differ", u)
		}
	}
}

func TestSequential_RoundTrip(t *testing.T) {
	t.Parallel()
	d := seqSynthetic(400, 120, 8, 4)
	m := fitSequential(t, model.DefaultSequentialConfig(), d)
	var buf bytes.Buffer
	n, err := m.WriteTo(&buf)
	if err != nil || n != int64(buf.Len()) {
		t.Fatalf("WriteTo()=%d, %v; buffer has %d", n, err, buf.Len())
	}
	raw := slices.Clone(buf.Bytes())
	buf.WriteString("trailing") // ReadFrom must read exactly its own bytes
	var got model.Sequential
	if k, err := got.ReadFrom(&buf); err != nil || k != n {
		t.Fatalf("ReadFrom()=%d, %v; want %d", k, err, n)
	}
	if got.Config != m.Config || got.Describe() != m.Describe() || got.NumItems() != m.NumItems() {
		t.Fatalf("read %+v (%s), want %+v (%s)", got.Config, got.Describe(), m.Config, m.Describe())
	}
	seqSameScores(t, d, m, &got)

	for _, cut := range []int{0, 4, 12, len(raw) / 2, len(raw) - 1} {
		var bad model.Sequential
		if _, err := bad.ReadFrom(bytes.NewReader(raw[:cut])); err == nil {
			t.Fatalf("ReadFrom(first %d of %d bytes) succeeded", cut, len(raw))
		}
	}
	wrong := slices.Clone(raw)
	wrong[0] ^= 0xff
	var bad model.Sequential
	if _, err := bad.ReadFrom(bytes.NewReader(wrong)); err == nil {
		t.Fatal("ReadFrom(bad magic) succeeded")
	}
}

func TestSequential_FitCancelled(t *testing.T) {
	t.Parallel()
	d := seqSynthetic(200, 80, 6, 5)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	m := &model.Sequential{Config: model.DefaultSequentialConfig()}
	if err := m.Fit(ctx, d); !errors.Is(err, context.Canceled) {
		t.Fatalf("Fit(cancelled)=%v, want context.Canceled", err)
	}
	if m.NumItems() != 0 {
		t.Fatalf("a cancelled Fit changed the model: NumItems()=%d", m.NumItems())
	}
}

func TestSequential_NoHistoryGetsPopularity(t *testing.T) {
	t.Parallel()
	b := model.NewDatasetBuilder()
	for k, it := range []string{"a", "b", "b", "c", "c", "c"} {
		b.Add("u"+strconv.Itoa(k), it, 1, int64(k))
	}
	b.Add("returner", "a", -1, 10) // only a return: no usable history
	d := b.Build()
	m := fitSequential(t, model.DefaultSequentialConfig(), d)
	u, _ := d.Users.Index("returner")
	scores := make([]float32, d.NumItems())
	m.ScoreUser(u, scores)
	top := model.TopK(nil, scores, 3)
	var got []string
	for _, i := range top {
		got = append(got, d.Items.ID(i))
	}
	if want := []string{"c", "b", "a"}; !slices.Equal(got, want) {
		t.Fatalf("ranking for a user without history = %v, want %v", got, want)
	}
}

func TestSequential_RejectsBadConfig(t *testing.T) {
	t.Parallel()
	d := seqSynthetic(50, 30, 4, 6)
	for _, tt := range []struct {
		name string
		edit func(*model.SequentialConfig)
	}{
		{"ZeroWindow", func(c *model.SequentialConfig) { c.Window = 0 }},
		{"ZeroHistory", func(c *model.SequentialConfig) { c.History = 0 }},
		{"ZeroLambda", func(c *model.SequentialConfig) { c.Lambda = 0 }},
		{"NegativeWeight", func(c *model.SequentialConfig) { c.TwoStep = -1 }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := model.DefaultSequentialConfig()
			tt.edit(&c)
			if err := (&model.Sequential{Config: c}).Fit(context.Background(), d); err == nil {
				t.Fatal("Fit accepted an invalid config")
			}
		})
	}
}

func TestSequentialFamily(t *testing.T) {
	t.Parallel()
	f := model.SequentialFamily()
	if f.Name != "seq" {
		t.Fatalf("Name=%q, want seq", f.Name)
	}
	configs := f.Configs(30, 1)
	if len(configs) != 30 {
		t.Fatalf("Configs(30) returned %d", len(configs))
	}
	if c := configs[0].(*model.Sequential).Config; c != model.DefaultSequentialConfig() {
		t.Fatalf("first config %+v, want the default", c)
	}
	seen := map[string]bool{}
	for _, m := range configs {
		if m.Name() != "seq" || seen[m.Describe()] {
			t.Fatalf("config %q repeated or misnamed", m.Describe())
		}
		seen[m.Describe()] = true
	}
	again := f.Configs(30, 1)
	for k := range configs {
		if configs[k].Describe() != again[k].Describe() {
			t.Fatalf("Configs is not deterministic at %d", k)
		}
	}
	d := seqSynthetic(100, 40, 5, 7)
	for _, m := range configs[:8] {
		if err := m.Fit(context.Background(), d); err != nil {
			t.Fatalf("%s: %v", m.Describe(), err)
		}
	}
}

func BenchmarkSequential_Fit(b *testing.B) {
	for _, users := range []int{1_000, 10_000} {
		d := seqSynthetic(users, users/2, 10, 8)
		b.Run(fmt.Sprintf("%d", d.NumInteractions()), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				m := &model.Sequential{Config: model.DefaultSequentialConfig()}
				if err := m.Fit(context.Background(), d); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkSequential_ScoreUser(b *testing.B) {
	for _, users := range []int{1_000, 10_000} {
		d := seqSynthetic(users, users/2, 10, 9)
		m := fitSequential(b, model.DefaultSequentialConfig(), d)
		dst := make([]float32, d.NumItems())
		b.Run(fmt.Sprintf("%d", d.NumItems()), func(b *testing.B) {
			b.ReportAllocs()
			u := int32(0)
			for b.Loop() {
				m.ScoreUser(u, dst)
				u = (u + 1) % int32(d.NumUsers())
			}
		})
	}
}

func TestSequential_EmptyDataset(t *testing.T) {
	t.Parallel()
	m := fitSequential(t, model.DefaultSequentialConfig(), model.NewDatasetBuilder().Build())
	if m.NumItems() != 0 {
		t.Fatalf("NumItems()=%d, want 0", m.NumItems())
	}
	m.ScoreUser(0, nil)
	var buf bytes.Buffer
	if _, err := m.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	var got model.Sequential
	if _, err := got.ReadFrom(&buf); err != nil {
		t.Fatal(err)
	}
}
