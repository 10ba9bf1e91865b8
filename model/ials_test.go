package model_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"sync/atomic"
	"testing"

	"github.com/qianmian/qianmian/model"
)

// plantedBlocks returns users split into blocks, each block owning items/blocks items; every
// user interacts with a random share of their own block's items and, as noise, a few
// others. block(u) and block(i) give the owners.
func plantedBlocks(users, items, blocks int, share float64, noise int, seed uint64) (*model.Dataset, func(u int32) int, func(i int32) int) {
	rng := rand.New(rand.NewPCG(seed, 11))
	b := model.NewDatasetBuilder()
	for i := 0; i < items; i++ {
		b.Items.Add("i" + strconv.Itoa(i))
	}
	per := items / blocks
	userBlock := func(u int32) int { return int(u) % blocks }
	itemBlock := func(i int32) int { return min(int(i)/per, blocks-1) }
	for u := 0; u < users; u++ {
		uid := b.Users.Add("u" + strconv.Itoa(u))
		at := int64(1_000_000)
		lo := userBlock(uid) * per
		for i := lo; i < lo+per; i++ {
			if rng.Float64() < share {
				b.AddIndex(uid, int32(i), 1, at)
				at++
			}
		}
		for range noise {
			b.AddIndex(uid, int32(rng.IntN(items)), 1, at)
			at++
		}
	}
	return b.Build(), userBlock, itemBlock
}

// ml100kShaped returns a synthetic dataset the size of MovieLens 100K: 943 users, 1,682
// items, about 100,000 distinct interactions with heavy-tailed user activity and item
// popularity, and taste clusters.
func ml100kShaped(seed uint64) *model.Dataset {
	return syntheticWorld(943, 1682, 100_000, seed)
}

// syntheticWorld draws about nnz distinct interactions of users with items.
func syntheticWorld(users, items, nnz int, seed uint64) *model.Dataset {
	rng := rand.New(rand.NewPCG(seed, 13))
	b := model.NewDatasetBuilder()
	for i := 0; i < items; i++ {
		b.Items.Add("i" + strconv.Itoa(i))
	}
	clusters := min(20, items)
	mean := float64(nnz) / float64(users)
	for u := 0; u < users; u++ {
		uid := b.Users.Add("u" + strconv.Itoa(u))
		n := min(int(rng.ExpFloat64()*mean*0.8+mean*0.2), items/2)
		home := rng.IntN(clusters)
		seen := map[int32]bool{}
		for len(seen) < n {
			var i int32
			if rng.IntN(2) == 0 { // popular across the board
				i = int32(float64(items) * rng.Float64() * rng.Float64())
			} else { // from the user's cluster
				i = int32((home + clusters*rng.IntN(items/clusters)) % items)
			}
			if !seen[i] {
				seen[i] = true
				b.AddIndex(uid, i, float32(1+rng.IntN(5)), int64(1_000_000+len(seen)))
			}
		}
	}
	return b.Build()
}

func fitIALS(tb testing.TB, c model.IALSConfig, d *model.Dataset) *model.IALS {
	tb.Helper()
	m := &model.IALS{Config: c}
	if err := m.Fit(context.Background(), d); err != nil {
		tb.Fatal(err)
	}
	return m
}

func ialsBytes(tb testing.TB, m *model.IALS) []byte {
	tb.Helper()
	var buf bytes.Buffer
	if _, err := m.WriteTo(&buf); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

func TestIALS_DeterministicAcrossWorkersAndSeeds(t *testing.T) {
	t.Parallel()
	d := syntheticWorld(300, 200, 6000, 1)
	// 10 factors: rows and scratch vectors of a length that is no multiple of the SIMD width.
	for _, tt := range []struct{ steps, factors int }{{3, 16}, {3, 10}, {0, 16}} {
		steps := tt.steps
		c := model.DefaultIALSConfig()
		c.Factors, c.Epochs, c.CGSteps, c.Seed = tt.factors, 4, steps, 7
		c.HistoryHalfLife = 5
		var out [][]byte
		for _, workers := range []int{1, 2, 3, 1} {
			c.Workers = workers
			out = append(out, ialsBytes(t, fitIALS(t, c, d)))
		}
		for _, o := range out[1:] {
			if !bytes.Equal(out[0], o) {
				t.Fatalf("cg=%d: fitted factors depend on the number of workers or the run", steps)
			}
		}
		c.Seed = 8
		if bytes.Equal(out[0], ialsBytes(t, fitIALS(t, c, d))) {
			t.Fatalf("cg=%d: seeds 7 and 8 gave the same factors", steps)
		}
	}
}

func TestIALS_RecoversPlantedBlocks(t *testing.T) {
	t.Parallel()
	const items = 200
	d, userBlock, itemBlock := plantedBlocks(400, items, 5, 0.3, 2, 3)
	for _, steps := range []int{3, 0} {
		c := model.DefaultIALSConfig()
		c.Factors, c.Epochs, c.CGSteps = 8, 8, steps
		m := fitIALS(t, c, d)
		if m.NumFactors() != 8 || len(m.ItemFactors(items-1)) != 8 || m.ItemFactors(items) != nil || m.UserFactors(-1) != nil {
			t.Fatal("factor accessors disagree with the config")
		}
		scores := make([]float32, items)
		good := 0
		for u := int32(0); u < int32(d.NumUsers()); u++ {
			m.ScoreUser(u, scores)
			seen, _, _ := d.Row(u)
			for _, i := range seen {
				scores[i] = float32(math.NaN())
			}
			top := model.TopK(nil, scores, 10)
			if !slices.ContainsFunc(top, func(i int32) bool { return itemBlock(i) != userBlock(u) }) {
				good++
			}
		}
		// The block's unseen items must outrank every other item for nearly everyone.
		if share := float64(good) / float64(d.NumUsers()); share < 0.95 {
			t.Fatalf("cg=%d: top 10 unseen items all in the user's block for %.0f%% of users, want ≥ 95%%", steps, 100*share)
		}
	}
}

func TestIALS_CGApproachesExact(t *testing.T) {
	t.Parallel()
	d := syntheticWorld(200, 150, 3000, 4)
	c := model.DefaultIALSConfig()
	c.Factors, c.Epochs, c.CGSteps = 8, 6, 0
	exact := fitIALS(t, c, d)
	c.CGSteps = 8 // as many steps as dimensions: CG solves each row exactly, up to rounding
	cg := fitIALS(t, c, d)
	a, b := make([]float32, 150), make([]float32, 150)
	var worst float64
	for u := int32(0); u < 200; u++ {
		exact.ScoreUser(u, a)
		cg.ScoreUser(u, b)
		for i := range a {
			worst = max(worst, math.Abs(float64(a[i]-b[i])))
		}
	}
	if worst > 1e-3 {
		t.Fatalf("CG scores differ from exact ones by up to %g", worst)
	}
}

func TestIALS_HistoryAndNegativeWeights(t *testing.T) {
	t.Parallel()
	d, _, _ := plantedBlocks(300, 100, 4, 0.3, 1, 5)
	c := model.DefaultIALSConfig()
	c.Factors, c.Epochs, c.HistoryHalfLife, c.HistoryAlpha = 8, 6, 3, 8
	m := fitIALS(t, c, d)
	want, got := make([]float32, 100), make([]float32, 100)
	for u := int32(0); u < 20; u++ {
		items, weights, times := d.Row(u)
		m.ScoreUser(u, want)
		m.ScoreHistory(items, weights, times, got)
		if !slices.Equal(got, want) {
			t.Fatalf("user %d: ScoreHistory of their row differs from ScoreUser", u)
		}
	}
	// A returned item scores lower than one never touched, which scores lower than a kept one.
	items, weights, times := d.Row(0)
	target := items[0]
	score := func(it []int32, ws []float32, ts []int64) float32 {
		m.ScoreHistory(it, ws, ts, got)
		return got[target]
	}
	ws := slices.Clone(weights)
	ws[0] = 1
	pos := score(items, ws, times)
	none := score(items[1:], weights[1:], times[1:])
	ws[0] = -3
	neg := score(items, ws, times)
	if !(pos > none && none > neg) {
		t.Fatalf("score of the item with weight 1, absent, -3 = %v, %v, %v; want decreasing", pos, none, neg)
	}
	// Unknown items in a history are ignored.
	m.ScoreHistory([]int32{-1, 1000}, []float32{1, 1}, []int64{0, 0}, got)
}

func TestIALS_RoundTripAndCorruption(t *testing.T) {
	t.Parallel()
	d := syntheticWorld(100, 80, 1500, 6)
	c := model.DefaultIALSConfig()
	c.Factors, c.Epochs, c.HistoryHalfLife = 8, 3, 4
	m := fitIALS(t, c, d)
	data := ialsBytes(t, m)
	var got model.IALS
	r := bytes.NewReader(append(slices.Clone(data), "tail"...))
	n, err := got.ReadFrom(r)
	if err != nil || n != int64(len(data)) || r.Len() != 4 {
		t.Fatalf("ReadFrom()=%d, %v; want %d bytes and the tail left", n, err, len(data))
	}
	if got.Describe() != m.Describe() || !bytes.Equal(ialsBytes(t, &got), data) {
		t.Fatal("round trip changed the model")
	}
	a, b := make([]float32, 80), make([]float32, 80)
	items, weights, times := d.Row(3)
	for u := int32(0); u < 100; u++ {
		m.ScoreUser(u, a)
		got.ScoreUser(u, b)
		if !slices.Equal(a, b) {
			t.Fatalf("user %d scores differ after loading", u)
		}
	}
	m.ScoreHistory(items, weights, times, a)
	got.ScoreHistory(items, weights, times, b)
	if !slices.Equal(a, b) {
		t.Fatal("fold-in scores differ after loading")
	}
	for _, bad := range [][]byte{data[:len(data)-3], append([]byte("QMXXXX\x00\x00"), data[8:]...), nil} {
		if _, err := new(model.IALS).ReadFrom(bytes.NewReader(bad)); err == nil {
			t.Fatalf("ReadFrom accepted a corrupt artefact of %d bytes", len(bad))
		}
	}
}

// cancelAfter is a context whose Err reports Canceled from its n-th call on.
type cancelAfter struct {
	context.Context
	calls, n int64
}

func (c *cancelAfter) Err() error {
	if atomic.AddInt64(&c.calls, 1) >= c.n {
		return context.Canceled
	}
	return nil
}

func TestIALS_ContextStopsFit(t *testing.T) {
	t.Parallel()
	d := syntheticWorld(100, 80, 1500, 7)
	for _, n := range []int64{1, 4} {
		ctx := &cancelAfter{Context: context.Background(), n: n}
		m := &model.IALS{Config: model.DefaultIALSConfig()}
		if err := m.Fit(ctx, d); !errors.Is(err, context.Canceled) {
			t.Fatalf("Fit()=%v, want context.Canceled", err)
		}
		if ctx.calls != n || m.NumFactors() != 0 || m.UserFactors(0) != nil {
			t.Fatalf("Fit went on after cancellation (%d checks) or kept a partial model", ctx.calls)
		}
	}
}

func TestIALS_InvalidConfig(t *testing.T) {
	t.Parallel()
	d := syntheticWorld(10, 10, 30, 8)
	for _, c := range []model.IALSConfig{{}, {Factors: 4, Reg: -1}, {Factors: 4, CGSteps: -1}} {
		if err := (&model.IALS{Config: c}).Fit(context.Background(), d); err == nil {
			t.Fatalf("Fit accepted %+v", c)
		}
	}
}

func TestIALSFamily(t *testing.T) {
	t.Parallel()
	f := model.IALSFamily()
	ms := f.Configs(12, 1)
	if f.Name != "ials" || len(ms) != 12 {
		t.Fatalf("family %q gave %d configs, want ials and 12", f.Name, len(ms))
	}
	def := model.DefaultIALSConfig()
	def.Seed = 1
	if ms[0].Describe() != (&model.IALS{Config: def}).Describe() {
		t.Fatalf("first config %s is not the default", ms[0].Describe())
	}
	seen := map[string]bool{}
	for k, m := range ms {
		if seen[m.Describe()] {
			t.Fatalf("config %d (%s) repeats", k, m.Describe())
		}
		seen[m.Describe()] = true
		if got := f.Configs(12, 1)[k].Describe(); got != m.Describe() {
			t.Fatalf("config %d is not deterministic: %s vs %s", k, got, m.Describe())
		}
	}
	if n := len(f.Configs(200, 2)); n != 200 {
		t.Fatalf("Configs(200) gave %d", n)
	}
}

// TestIALS_FoldInScratchReused: fold-ins share pooled scratch; a fold-in after others (of
// longer and shorter histories, so the scratch holds their leftovers) gives the same floats
// as the first, and scoring a subset allocates no scratch per request.
func TestIALS_FoldInScratchReused(t *testing.T) {
	d := syntheticWorld(300, 120, 4000, 7)
	c := model.DefaultIALSConfig()
	c.Factors, c.HistoryHalfLife = 24, 30*86400
	m := fitIALS(t, c, d)
	items, weights, times := d.Row(5)
	first := m.FoldIn(items, weights, times)
	subset := []int32{0, 3, 17, 40, 119}
	dst := make([]float32, d.NumItems())
	for u := int32(0); u < 50; u++ {
		hi, hw, ht := d.Row(u)
		m.ScoreHistorySubset(hi, hw, ht, subset, dst)
		_ = m.FoldIn(hi, hw, ht)
	}
	if again := m.FoldIn(items, weights, times); !slices.Equal(again, first) {
		t.Fatalf("fold-in after reuse differs:\n%v\n%v", again, first)
	}
	m.ScoreHistorySubset(items, weights, times, subset, dst)
	full := make([]float32, d.NumItems())
	m.ScoreHistory(items, weights, times, full)
	for _, i := range subset {
		if dst[i] != full[i] {
			t.Errorf("item %d: subset score %v, full score %v", i, dst[i], full[i])
		}
	}
	// One allocation is HistoryDecay's ordering of the history; the k×k system and the
	// user vector come from the pool.
	if a := testing.AllocsPerRun(100, func() { m.ScoreHistorySubset(items, weights, times, subset, dst) }); a > 1 {
		t.Errorf("ScoreHistorySubset allocates %.1f times per call, want at most 1", a)
	}
}

func BenchmarkIALS_Fit(b *testing.B) {
	for _, s := range []struct {
		name  string
		users int
		items int
		nnz   int
	}{
		{"ml100k", 943, 1682, 100_000},
		{"1m", 6040, 3706, 1_000_000},
	} {
		b.Run(s.name, func(b *testing.B) {
			d := syntheticWorld(s.users, s.items, s.nnz, 1)
			c := model.DefaultIALSConfig()
			b.ReportAllocs()
			for b.Loop() {
				m := &model.IALS{Config: c}
				if err := m.Fit(context.Background(), d); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(d.NumInteractions()), "interactions")
		})
	}
}

func BenchmarkIALS_ScoreUser(b *testing.B) {
	d := ml100kShaped(1)
	m := fitIALS(b, model.DefaultIALSConfig(), d)
	dst := make([]float32, d.NumItems())
	b.ReportAllocs()
	u := int32(0)
	for b.Loop() {
		m.ScoreUser(u, dst)
		u = (u + 1) % int32(d.NumUsers())
	}
}

func BenchmarkIALS_ScoreHistory(b *testing.B) {
	d := ml100kShaped(1)
	m := fitIALS(b, model.DefaultIALSConfig(), d)
	dst := make([]float32, d.NumItems())
	items, weights, times := d.Row(0)
	b.ReportMetric(float64(len(items)), "history")
	b.ReportAllocs()
	for b.Loop() {
		m.ScoreHistory(items, weights, times, dst)
	}
}

func ExampleIALS() {
	b := model.NewDatasetBuilder()
	for u := range 8 {
		pair := [][]string{{"tea", "cups"}, {"kettle", "pan"}}[u%2]
		for _, i := range pair {
			b.Add(fmt.Sprint("u", u), i, 1, int64(u))
		}
	}
	b.Add("newcomer", "tea", 1, 9)
	d := b.Build()
	m := &model.IALS{Config: model.DefaultIALSConfig()}
	m.Config.Factors = 4
	if err := m.Fit(context.Background(), d); err != nil {
		panic(err)
	}
	scores := make([]float32, d.NumItems())
	u, _ := d.Users.Index("newcomer")
	m.ScoreUser(u, scores)
	tea, _ := d.Items.Index("tea")
	scores[tea] = float32(math.NaN()) // already had it
	fmt.Println(d.Items.ID(model.TopK(nil, scores, 1)[0]))
	// Output: cups
}

// BenchmarkIALS_FoldIn solves one served history's vector (the default 64 factors) for
// histories of a few lengths: the per-request cost of iALS before any item is scored.
func BenchmarkIALS_FoldIn(b *testing.B) {
	d := syntheticWorld(2000, 3000, 200_000, 1)
	m := fitIALS(b, model.DefaultIALSConfig(), d)
	for _, h := range []int{5, 20, 60} {
		b.Run(fmt.Sprint(h), func(b *testing.B) {
			items := make([]int32, h)
			weights := make([]float32, h)
			times := make([]int64, h)
			for q := range h {
				items[q], weights[q], times[q] = int32(q*37%d.NumItems()), float32(1+q%3), int64(1_000_000+q*3600)
			}
			b.ReportAllocs()
			for b.Loop() {
				m.FoldIn(items, weights, times)
			}
		})
	}
}

// BenchmarkIALS_ScoreSubset scores a store's 800 items out of a 100,000-item catalogue
// (the large demo world's proportions, 64 factors) for a served history: gathered from the
// catalogue's rows (ScoreHistorySubset) and from the stock's packed vectors (ScorePrepared),
// each request for one of 500 stores, as a server sees them: the same visitor (whose history
// the fold memo then holds), and a new visitor every request.
func BenchmarkIALS_ScoreSubset(b *testing.B) {
	const items, stock, stores = 100_000, 800, 500
	d := syntheticWorld(20_000, items, 400_000, 3)
	c := model.DefaultIALSConfig()
	c.Epochs = 1
	m := fitIALS(b, c, d)
	rng := rand.New(rand.NewPCG(5, 6))
	subsets := make([][]int32, stores)
	preps := make([]any, stores)
	for s := range subsets {
		for _, i := range rng.Perm(items)[:stock] {
			subsets[s] = append(subsets[s], int32(i))
		}
		slices.Sort(subsets[s])
		preps[s], _ = m.PrepareSubset(subsets[s])
	}
	hist, weights, times := d.Row(0)
	dst := make([]float32, items)
	b.Run("gather", func(b *testing.B) {
		s := 0
		for b.Loop() {
			m.ScoreHistorySubset(hist, weights, times, subsets[s], dst)
			s = (s + 7) % stores
		}
	})
	b.Run("prepared", func(b *testing.B) {
		s := 0
		for b.Loop() {
			m.ScorePrepared(hist, weights, times, subsets[s], preps[s], nil, dst)
			s = (s + 7) % stores
		}
	})
	// A new visitor every request, so each history is folded in (the runs above fold one
	// history once and then find it remembered).
	b.Run("prepared-new-visitors", func(b *testing.B) {
		s, u := 0, int32(0)
		for b.Loop() {
			hist, weights, times := d.Row(u)
			m.ScorePrepared(hist, weights, times, subsets[s], preps[s], nil, dst)
			s, u = (s+7)%stores, (u+1)%int32(d.NumUsers())
		}
	})
}
