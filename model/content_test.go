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

func TestTitleTokens(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		in   string
		want []string
	}{
		{"Rose Face-Serum, 50ml (2024)", []string{"rose", "face", "serum", "50ml", "2024"}},
		{"玫瑰精华液", []string{"玫瑰", "瑰精", "精华", "华液"}},
		{"iPhone 15 手机壳 a", []string{"iphone", "15", "手机", "机壳"}},
		{"茶 tea", []string{"茶", "tea"}},
		{"", nil},
	} {
		if got := model.TitleTokens(tt.in); !slices.Equal(got, tt.want) {
			t.Errorf("TitleTokens(%q)=%q, want %q", tt.in, got, tt.want)
		}
	}
}

// catalogue adds a small catalogue to items: id, category path, brand, price, title.
func catalogue(b *model.ItemFeaturesBuilder) {
	for _, it := range []struct {
		id, cat, sub, brand string
		price               float64
		title               string
	}{
		{"serum-a", "beauty", "skin", "lumi", 30, "Lumi rose face serum"},
		{"serum-b", "beauty", "skin", "lumi", 32, "Lumi vitamin face serum"},
		{"cream-c", "beauty", "skin", "dewy", 28, "Dewy night cream"},
		{"shampoo-d", "beauty", "hair", "lumi", 12, "Lumi shampoo"},
		{"milk-e", "food", "dairy", "moo", 2, "Moo whole milk 1l"},
		{"yogurt-f", "food", "dairy", "moo", 3, "Moo greek yogurt"},
		{"cheese-g", "food", "dairy", "alp", 9, "Alp mountain cheese"},
		{"bread-h", "food", "bakery", "oven", 4, "Oven sourdough bread"},
	} {
		b.Add(it.id, []string{it.cat, it.sub}, it.brand, it.price, map[string]string{"origin": "eu"}, it.title)
	}
}

func neighbourIDs(m *model.Content, items *model.IDMap, id string) []string {
	i, _ := items.Index(id)
	nbr, _ := m.Neighbors(i)
	var out []string
	for _, j := range nbr {
		out = append(out, items.ID(j))
	}
	return out
}

func TestContent_SameCategoryAndBrandNearest(t *testing.T) {
	t.Parallel()
	db := model.NewDatasetBuilder()
	fb := model.NewItemFeaturesBuilder(db.Items)
	catalogue(fb)
	f := fb.Build()
	d := db.Build() // no interactions: similarity comes from attributes alone
	m := &model.Content{Config: model.DefaultContentConfig(), Features: f}
	if err := m.Fit(context.Background(), d); err != nil {
		t.Fatal(err)
	}
	for id, want := range map[string]string{"serum-a": "serum-b", "milk-e": "yogurt-f", "yogurt-f": "milk-e"} {
		got := neighbourIDs(m, d.Items, id)
		if len(got) == 0 || got[0] != want {
			t.Errorf("neighbours of %s = %v, want %s first", id, got, want)
		}
		if slices.Contains(got, id) {
			t.Errorf("%s is its own neighbour", id)
		}
	}
	// Same category beats same brand in another category, which beats nothing shared.
	got := neighbourIDs(m, d.Items, "serum-a")
	if k := slices.Index(got, "bread-h"); k >= 0 && k < slices.Index(got, "cream-c") {
		t.Errorf("neighbours of serum-a = %v: bread before a same-category cream", got)
	}
	if f.Category(0) == model.NoFeature || f.Brand(0) == model.NoFeature || f.PriceBand(0) != model.PriceBand(30) {
		t.Errorf("item 0: category %d brand %d band %d", f.Category(0), f.Brand(0), f.PriceBand(0))
	}
}

// coldWorld returns a dataset in which users of two tastes (skin care, dairy) met every
// catalogue item of their taste except "serum-new", which nobody has met yet, and the
// features, built over the dataset's item map.
func coldWorld() (*model.Dataset, *model.ItemFeatures) {
	db := model.NewDatasetBuilder()
	fb := model.NewItemFeaturesBuilder(db.Items)
	catalogue(fb)
	fb.Add("serum-new", []string{"beauty", "skin"}, "lumi", 31, map[string]string{"origin": "eu"}, "Lumi peptide face serum")
	for u := 0; u < 60; u++ {
		user := fmt.Sprintf("u%d", u)
		items := []string{"serum-a", "serum-b", "cream-c"}
		if u%2 == 1 {
			items = []string{"milk-e", "yogurt-f", "cheese-g"}
		}
		for k := range items { // every order, so no item is always the last
			db.Add(user, items[(k+u/2)%3], 1, int64(100*u+k))
		}
	}
	f := fb.Build()
	return db.Build(), f
}

func TestContent_ColdItemGetsNeighboursAndIsRecommended(t *testing.T) {
	t.Parallel()
	d, f := coldWorld()
	m := &model.Content{Config: model.DefaultContentConfig(), Features: f}
	if err := m.Fit(context.Background(), d); err != nil {
		t.Fatal(err)
	}
	if got := neighbourIDs(m, d.Items, "serum-new"); len(got) == 0 || got[0] != "serum-a" && got[0] != "serum-b" {
		t.Fatalf("neighbours of the new serum = %v, want a Lumi serum first", got)
	}
	newItem, _ := d.Items.Index("serum-new")
	scores := make([]float32, d.NumItems())
	for _, tt := range []struct {
		user string
		want bool
	}{{"u0", true}, {"u1", false}} {
		u, _ := d.Users.Index(tt.user)
		m.ScoreUser(u, scores)
		seen, _, _ := d.Row(u)
		for _, i := range seen {
			scores[i] = float32(math.NaN())
		}
		top := model.TopK(nil, scores, 1)
		if got := top[0] == newItem; got != tt.want {
			t.Errorf("%s: top item %s; want the new serum: %t", tt.user, d.Items.ID(top[0]), tt.want)
		}
	}
}

func TestContent_AlignsFeaturesByID(t *testing.T) {
	t.Parallel()
	fb := model.NewItemFeaturesBuilder(model.NewIDMap(0)) // ids of its own, as eval builds them
	catalogue(fb)
	f := fb.Build()
	db := model.NewDatasetBuilder()
	for _, id := range []string{"milk-e", "unknown-z", "yogurt-f", "serum-b", "serum-a"} {
		db.Items.Add(id)
	}
	d := db.Build()
	m := &model.Content{Config: model.DefaultContentConfig(), Features: f}
	if err := m.Fit(context.Background(), d); err != nil {
		t.Fatal(err)
	}
	if got := neighbourIDs(m, d.Items, "serum-a"); len(got) == 0 || got[0] != "serum-b" {
		t.Errorf("neighbours of serum-a = %v, want serum-b first", got)
	}
	if got := neighbourIDs(m, d.Items, "unknown-z"); len(got) != 0 {
		t.Errorf("an item without features has neighbours %v", got)
	}
}

// randomCatalogue returns a dataset over n items with attributes drawn from small
// vocabularies, and a few users.
func randomCatalogue(n int, seed uint64) (*model.Dataset, *model.ItemFeatures) {
	db := model.NewDatasetBuilder()
	fb := model.NewItemFeaturesBuilder(db.Items)
	h := seed
	next := func(k int) int {
		h = h*6364136223846793005 + 1442695040888963407
		return int(h>>33) % k
	}
	for i := 0; i < n; i++ {
		id := fmt.Sprintf("i%d", i)
		fb.Add(id, []string{fmt.Sprintf("c%d", next(8)), fmt.Sprintf("s%d", next(40))}, fmt.Sprintf("b%d", next(n/10+1)),
			float64(1+next(500)), map[string]string{"colour": fmt.Sprintf("%d", next(12))},
			fmt.Sprintf("w%d w%d w%d", next(300), next(300), next(300)))
	}
	for u := 0; u < 50; u++ {
		for k := 0; k < 10; k++ {
			db.Add(fmt.Sprintf("u%d", u), fmt.Sprintf("i%d", next(n)), 1, int64(k))
		}
	}
	return db.Build(), fb.Build()
}

func TestContent_DeterministicAcrossWorkersAndRoundTrip(t *testing.T) {
	t.Parallel()
	d, f := randomCatalogue(600, 3)
	fit := func(workers int) *model.Content {
		c := model.DefaultContentConfig()
		c.Workers = workers
		m := &model.Content{Config: c, Features: f}
		if err := m.Fit(context.Background(), d); err != nil {
			t.Fatal(err)
		}
		return m
	}
	a, b := fit(1), fit(4)
	var buf bytes.Buffer
	if _, err := a.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	var r model.Content
	if n, err := r.ReadFrom(bytes.NewReader(buf.Bytes())); err != nil || n != int64(buf.Len()) {
		t.Fatalf("ReadFrom: %d bytes of %d, %v", n, buf.Len(), err)
	}
	r.Bind(d)
	sa, sb, sr := make([]float32, d.NumItems()), make([]float32, d.NumItems()), make([]float32, d.NumItems())
	for i := int32(0); i < int32(d.NumItems()); i++ {
		na, xa := a.Neighbors(i)
		nb, xb := b.Neighbors(i)
		if !slices.Equal(na, nb) || !slices.Equal(xa, xb) {
			t.Fatalf("item %d: neighbours differ between 1 and 4 workers", i)
		}
	}
	for u := int32(0); u < int32(d.NumUsers()); u++ {
		a.ScoreUser(u, sa)
		b.ScoreUser(u, sb)
		r.ScoreUser(u, sr)
		if !slices.Equal(sa, sb) || !slices.Equal(sa, sr) {
			t.Fatalf("user %d: scores differ across workers or after a round trip", u)
		}
	}
	if _, err := new(model.Content).ReadFrom(bytes.NewReader(buf.Bytes()[:buf.Len()/2])); err == nil {
		t.Fatal("ReadFrom of a truncated artefact succeeded")
	}
}

func TestContent_FitHonoursCancel(t *testing.T) {
	t.Parallel()
	d, f := randomCatalogue(300, 4)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	m := &model.Content{Config: model.DefaultContentConfig(), Features: f}
	if err := m.Fit(ctx, d); !errors.Is(err, context.Canceled) {
		t.Fatalf("Fit after cancel = %v, want context.Canceled", err)
	}
	if err := (&model.Content{}).Fit(context.Background(), d); err == nil {
		t.Fatal("Fit without features succeeded")
	}
}

func BenchmarkContent_Fit(b *testing.B) {
	for _, n := range []int{2_000, 20_000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			d, f := randomCatalogue(n, 5)
			b.ReportAllocs()
			for b.Loop() {
				m := &model.Content{Config: model.DefaultContentConfig(), Features: f}
				if err := m.Fit(context.Background(), d); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkContent_ScoreUser(b *testing.B) {
	d, f := randomCatalogue(20_000, 6)
	m := &model.Content{Config: model.DefaultContentConfig(), Features: f}
	if err := m.Fit(context.Background(), d); err != nil {
		b.Fatal(err)
	}
	dst := make([]float32, d.NumItems())
	b.ReportAllocs()
	for b.Loop() {
		m.ScoreUser(7, dst)
	}
}
