package model_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/qianmian/qianmian/model"
)

// stubModel is a base model whose scores come from a function of (user, item): an oracle
// for one half of a planted signal, or noise. Fit remembers only the item count.
type stubModel struct {
	name  string
	score func(u, i int32) float32
}

func (m *stubModel) Name() string                                    { return m.name }
func (m *stubModel) Describe() string                                { return "stub" }
func (m *stubModel) Fit(ctx context.Context, _ *model.Dataset) error { return ctx.Err() }
func (m *stubModel) ScoreUser(u int32, dst []float32) {
	for i := range dst {
		dst[i] = m.score(u, int32(i))
	}
}

// noise returns a deterministic pseudo-random score in [0, 1).
func noise(seed uint64, u, i int32) float32 {
	z := seed ^ uint64(u)*0x9e3779b97f4a7c15 ^ uint64(i)*0xbf58476d1ce4e5b9
	z = (z ^ z>>31) * 0x94d049bb133111eb
	return float32(z>>40) / (1 << 24)
}

// plantedWorld has items with two attributes (a, b) in 0..g-1 and users with one preferred
// value of each; every user meets, over time, only items matching both. Returned are the
// dataset (all but each user's last two items), those held-out items, and two oracles each
// knowing one attribute of each user's taste.
func plantedWorld(users, g int, seed uint64) (*model.Dataset, [][]int32, []model.Model) {
	rng := rand.New(rand.NewPCG(seed, 1))
	items := g * g * 6
	attrA := func(i int32) int32 { return i % int32(g) }
	attrB := func(i int32) int32 { return (i / int32(g)) % int32(g) }
	prefA, prefB := make([]int32, users), make([]int32, users)
	b := model.NewDatasetBuilder()
	for i := 0; i < items; i++ {
		b.Items.Add(fmt.Sprintf("i%d", i))
	}
	test := make([][]int32, users)
	for u := 0; u < users; u++ {
		prefA[u], prefB[u] = int32(rng.IntN(g)), int32(rng.IntN(g))
		uid := b.Users.Add(fmt.Sprintf("u%d", u))
		var liked []int32
		for i := int32(0); i < int32(items); i++ {
			if attrA(i) == prefA[u] && attrB(i) == prefB[u] {
				liked = append(liked, i)
			}
		}
		rng.Shuffle(len(liked), func(x, y int) { liked[x], liked[y] = liked[y], liked[x] })
		liked = liked[:4]
		for k, i := range liked {
			if k >= 2 {
				test[u] = append(test[u], i)
				continue
			}
			b.AddIndex(uid, i, 1, int64(10*u+k))
		}
		// Background noise: a popular item or two that everyone meets.
		b.AddIndex(uid, int32(rng.IntN(3)), 1, int64(10*u-1))
	}
	oracle := func(name string, attr func(int32) int32, pref []int32, s uint64) model.Model {
		return &stubModel{name: name, score: func(u, i int32) float32 {
			v := noise(s, u, i) * 0.5
			if int(u) < len(pref) && attr(i) == pref[u] {
				v += 1
			}
			return v
		}}
	}
	return b.Build(), test, []model.Model{oracle("a", attrA, prefA, 1), oracle("b", attrB, prefB, 2)}
}

func fastHybrid(bases []model.Model) *model.Hybrid {
	c := model.DefaultHybridConfig()
	c.Candidates, c.Trees, c.MinLeaf = 50, 30, 20
	return &model.Hybrid{Config: c, Bases: bases}
}

// testNDCG is m's mean NDCG@10 over users with held-out items, seen items excluded.
func testNDCG(m model.Model, d *model.Dataset, test [][]int32) float64 {
	scores := make([]float32, d.NumItems())
	sum, n := 0.0, 0
	for u, rel := range test {
		if len(rel) == 0 {
			continue
		}
		m.ScoreUser(int32(u), scores)
		seen, _, _ := d.Row(int32(u))
		for _, i := range seen {
			scores[i] = float32(math.NaN())
		}
		sum += model.NDCG(model.TopK(nil, scores, 10), rel, 10)
		n++
	}
	return sum / float64(n)
}

func solution(t *testing.T, r model.HybridReport, name string) model.HybridSolution {
	t.Helper()
	for _, s := range r.Solutions {
		if s.Name == name {
			return s
		}
	}
	t.Fatalf("no solution %q in %+v", name, r.Solutions)
	return model.HybridSolution{}
}

func TestHybrid_BlendBeatsEachBase(t *testing.T) {
	t.Parallel()
	d, test, bases := plantedWorld(400, 6, 1)
	h := fastHybrid(bases)
	if err := h.Fit(context.Background(), d); err != nil {
		t.Fatal(err)
	}
	r := h.Report()
	t.Log(h.Describe())
	if r.Chosen != "linear" && r.Chosen != "lambdamart" {
		t.Fatalf("chose %s, want a learned blend: %s", r.Chosen, h.Describe())
	}
	chosen, a, b := solution(t, r, r.Chosen), solution(t, r, "a"), solution(t, r, "b")
	if chosen.Holdout < max(a.Holdout, b.Holdout)+0.2 {
		t.Fatalf("validation NDCG %v, not well above the bases' %v and %v", chosen.Holdout, a.Holdout, b.Holdout)
	}
	got, na, nb := testNDCG(h, d, test), testNDCG(bases[0], d, test), testNDCG(bases[1], d, test)
	if got < max(na, nb)+0.2 {
		t.Fatalf("test NDCG@10 %.3f, bases %.3f and %.3f: the blend should beat both", got, na, nb)
	}
	for _, f := range r.Features {
		if (f.Name == "a:score" || f.Name == "b:score") && f.Weight <= 0 && f.Gain == 0 {
			t.Errorf("feature %s unused: %+v", f.Name, r.Features)
		}
	}
}

// popularWorld has users who each pick items from one Zipf-like popularity distribution,
// so nothing personal is there to learn.
func popularWorld(users, items int, seed uint64) (*model.Dataset, [][]int32) {
	rng := rand.New(rand.NewPCG(seed, 2))
	b := model.NewDatasetBuilder()
	for i := 0; i < items; i++ {
		b.Items.Add(fmt.Sprintf("i%d", i))
	}
	test := make([][]int32, users)
	for u := 0; u < users; u++ {
		uid := b.Users.Add(fmt.Sprintf("u%d", u))
		picked := map[int32]bool{}
		for k := 0; k < 12; k++ {
			i := int32(float64(items) * math.Pow(rng.Float64(), 3))
			if picked[i] {
				continue
			}
			picked[i] = true
			if k >= 10 {
				test[u] = append(test[u], i)
				continue
			}
			b.AddIndex(uid, i, 1, int64(k))
		}
	}
	return b.Build(), test
}

func TestHybrid_NeverWorseThanPopularityOnValidation(t *testing.T) {
	t.Parallel()
	d, test := popularWorld(600, 300, 3)
	bases := []model.Model{
		&stubModel{name: "noise1", score: func(u, i int32) float32 { return noise(11, u, i) }},
		&stubModel{name: "noise2", score: func(u, i int32) float32 { return noise(12, u, i) }},
	}
	h := fastHybrid(bases)
	if err := h.Fit(context.Background(), d); err != nil {
		t.Fatal(err)
	}
	r := h.Report()
	t.Log(h.Describe())
	pop, chosen := solution(t, r, "popularity"), solution(t, r, r.Chosen)
	if chosen.Holdout < pop.Holdout || chosen.All < pop.All {
		t.Fatalf("chose %s with validation NDCG %v/%v (holdout/all), below popularity's %v/%v",
			r.Chosen, chosen.Holdout, chosen.All, pop.Holdout, pop.All)
	}
	popModel := &model.PopularityModel{}
	if err := popModel.Fit(context.Background(), d); err != nil {
		t.Fatal(err)
	}
	got, want := testNDCG(h, d, test), testNDCG(popModel, d, test)
	if got < want-0.02 {
		t.Fatalf("test NDCG@10 %.4f, popularity %.4f (%s)", got, want, h.Describe())
	}
}

func TestHybrid_DeterministicAcrossWorkers(t *testing.T) {
	t.Parallel()
	d, _, bases := plantedWorld(200, 5, 4)
	fit := func(workers int) *model.Hybrid {
		h := fastHybrid([]model.Model{bases[0], bases[1], &model.ItemKNNModel{Config: model.DefaultItemKNNConfig()}})
		h.Config.Workers = workers
		if err := h.Fit(context.Background(), d); err != nil {
			t.Fatal(err)
		}
		return h
	}
	a, b := fit(1), fit(3)
	if a.Describe() != b.Describe() {
		t.Fatalf("reports differ:\n%s\n%s", a.Describe(), b.Describe())
	}
	sa, sb := make([]float32, d.NumItems()), make([]float32, d.NumItems())
	for u := int32(0); u < int32(d.NumUsers()); u++ {
		a.ScoreUser(u, sa)
		b.ScoreUser(u, sb)
		if !slices.Equal(sa, sb) {
			t.Fatalf("user %d: scores differ between 1 and 3 workers", u)
		}
	}
}

func TestHybrid_SaveLoadRoundTrip(t *testing.T) {
	t.Parallel()
	d, f := coldWorld()
	for _, trees := range []int{0, 30} {
		dd, _, bases := plantedWorld(200, 5, 5)
		for _, tc := range []struct {
			d     *model.Dataset
			bases []model.Model
			f     *model.ItemFeatures
		}{{dd, bases, nil}, {d, []model.Model{&model.PopularityModel{}}, f}} {
			h := fastHybrid(tc.bases)
			h.Config.Trees, h.Features = trees, tc.f
			h.Config.MinHistory, h.Config.MinLeaf = 2, 5
			if err := h.Fit(context.Background(), tc.d); err != nil {
				t.Fatal(err)
			}
			var buf bytes.Buffer
			if _, err := h.WriteTo(&buf); err != nil {
				t.Fatal(err)
			}
			r := &model.Hybrid{Features: tc.f}
			if n, err := r.ReadFrom(bytes.NewReader(buf.Bytes())); err != nil || n != int64(buf.Len()) {
				t.Fatalf("ReadFrom: %d of %d bytes, %v", n, buf.Len(), err)
			}
			if err := r.Bind(tc.d, h.Bases); err != nil {
				t.Fatal(err)
			}
			if r.Describe() == "" || r.Report().Chosen != h.Report().Chosen {
				t.Fatalf("report after round trip: %+v, want %+v", r.Report(), h.Report())
			}
			sa, sb := make([]float32, tc.d.NumItems()), make([]float32, tc.d.NumItems())
			for u := int32(0); u < int32(tc.d.NumUsers()); u++ {
				h.ScoreUser(u, sa)
				r.ScoreUser(u, sb)
				if !slices.Equal(sa, sb) {
					t.Fatalf("trees=%d user %d: scores differ after a round trip (%s)", trees, u, h.Describe())
				}
			}
			if _, err := new(model.Hybrid).ReadFrom(bytes.NewReader(buf.Bytes()[:buf.Len()-3])); err == nil {
				t.Fatal("ReadFrom of a truncated artefact succeeded")
			}
			if err := r.Bind(tc.d, nil); err == nil {
				t.Fatal("Bind without the bases succeeded")
			}
		}
	}
}

func TestHybrid_FitHonoursCancel(t *testing.T) {
	t.Parallel()
	d, _, bases := plantedWorld(100, 4, 6)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := fastHybrid(bases).Fit(ctx, d); !errors.Is(err, context.Canceled) {
		t.Fatalf("Fit after cancel = %v, want context.Canceled", err)
	}
}

func TestHybrid_ContentBaseRecommendsColdItem(t *testing.T) {
	t.Parallel()
	d, f := coldWorld()
	h := &model.Hybrid{Config: model.DefaultHybridConfig(), Bases: []model.Model{&model.PopularityModel{}}, Features: f}
	h.Config.MinHistory = 2
	if err := h.Fit(context.Background(), d); err != nil {
		t.Fatal(err)
	}
	if names := fmt.Sprint(h.Bases); !slices.ContainsFunc(h.Bases, func(m model.Model) bool { return m.Name() == "content" }) {
		t.Fatalf("bases %s: the content model was not added", names)
	}
	u, _ := d.Users.Index("u0")
	newItem, _ := d.Items.Index("serum-new")
	scores := make([]float32, d.NumItems())
	h.ScoreUser(u, scores)
	seen, _, _ := d.Row(u)
	for _, i := range seen {
		scores[i] = float32(math.NaN())
	}
	if top := model.TopK(nil, scores, 1); top[0] != newItem {
		t.Fatalf("top item for a skin-care user: %s, want the new serum (%s)", d.Items.ID(top[0]), h.Describe())
	}
}

func BenchmarkHybrid_Fit(b *testing.B) {
	d, _, bases := plantedWorld(2000, 8, 7)
	bases = append(bases, &model.ItemKNNModel{Config: model.DefaultItemKNNConfig()})
	b.ReportAllocs()
	for b.Loop() {
		if err := fastHybrid(bases).Fit(context.Background(), d); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkHybrid_ScoreUser(b *testing.B) {
	d, _, bases := plantedWorld(2000, 8, 7)
	h := fastHybrid(append(bases, &model.ItemKNNModel{Config: model.DefaultItemKNNConfig()}))
	if err := h.Fit(context.Background(), d); err != nil {
		b.Fatal(err)
	}
	dst := make([]float32, d.NumItems())
	b.ReportAllocs()
	for b.Loop() {
		h.ScoreUser(11, dst)
	}
}

func TestHybrid_UsersWithoutHistory(t *testing.T) {
	t.Parallel()
	d, _, bases := plantedWorld(150, 4, 8)
	b := model.NewDatasetBuilder()
	b.Users, b.Items = d.Users.Clone(), d.Items.Clone()
	for u := int32(0); u < int32(d.NumUsers()); u++ {
		items, weights, times := d.Sequence(u)
		for k, i := range items {
			b.AddIndex(u, i, weights[k], times[k])
		}
	}
	b.Add("returner", "i0", -1, 5) // only a return: no positive history
	b.Users.Add("silent")          // no interactions at all
	d = b.Build()
	h := fastHybrid(bases)
	if err := h.Fit(context.Background(), d); err != nil {
		t.Fatal(err)
	}
	scores := make([]float32, d.NumItems())
	for _, id := range []string{"returner", "silent"} {
		u, _ := d.Users.Index(id)
		h.ScoreUser(u, scores)
		finite := 0
		for _, v := range scores {
			if v != v {
				t.Fatalf("%s: NaN score (%s)", id, h.Describe())
			}
			if !math.IsInf(float64(v), 0) {
				finite++
			}
		}
		if finite < 10 {
			t.Fatalf("%s: %d finite scores, want at least 10", id, finite)
		}
	}
	h.ScoreUser(int32(d.NumUsers()+5), scores) // unknown user: popularity, no panic
}
