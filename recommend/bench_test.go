package recommend_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/qianmian/qianmian"
	"github.com/qianmian/qianmian/recommend"
)

// demoScale is the size of the demo world of issue 2.
type demoScale struct{ items, leaves, stores, regions, users, eventsPerUser int }

var demo = demoScale{items: 5000, leaves: 100, stores: 100, regions: 10, users: 20_000, eventsPerUser: 20}

// newScaledWorld generates a world of the given size: items spread over leaf categories
// under ten roots, each store stocking about 30% of the catalogue, each user shopping mostly
// at one store in three favourite categories, with views, carts and purchases.
func newScaledWorld(tb testing.TB, sc demoScale) *fakeDB {
	tb.Helper()
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(42, 1))
	db := newFakeDB()
	perLeaf := sc.items / sc.leaves
	items := make([]*qianmian.Item, sc.items)
	for i := range items {
		leaf := i / perLeaf
		items[i] = &qianmian.Item{ID: fmt.Sprintf("item-%05d", i), SupplierID: "sup", Title: fmt.Sprintf("Item %d", i),
			Category: []string{fmt.Sprintf("root-%d", leaf%10), fmt.Sprintf("leaf-%03d", leaf)},
			Brand:    fmt.Sprintf("brand-%d", rng.IntN(200)), Price: float64(5 + rng.IntN(500)), Status: qianmian.ItemActive}
	}
	must(tb, db.UpsertItems(ctx, items))
	stores := make([]*qianmian.Store, sc.stores)
	var entries []*qianmian.Assortment
	for s := range stores {
		stores[s] = &qianmian.Store{ID: fmt.Sprintf("store-%03d", s), Name: "Store", Region: fmt.Sprintf("region-%d", s%sc.regions)}
		for _, it := range items {
			if rng.IntN(10) < 3 {
				entries = append(entries, &qianmian.Assortment{StoreID: stores[s].ID, ItemID: it.ID, InStock: rng.IntN(20) > 0})
			}
		}
	}
	must(tb, db.UpsertStores(ctx, stores))
	must(tb, db.UpsertAssortments(ctx, entries))
	users := make([]*qianmian.User, sc.users)
	var events []*qianmian.Event
	m := &eventMaker{}
	types := []qianmian.EventType{qianmian.EventView, qianmian.EventView, qianmian.EventView, qianmian.EventView,
		qianmian.EventClick, qianmian.EventFavorite, qianmian.EventCart, qianmian.EventPurchase}
	for u := range users {
		users[u] = &qianmian.User{ID: fmt.Sprintf("user-%05d", u), Consent: qianmian.DefaultConsent()}
		store := stores[rng.IntN(len(stores))].ID
		favs := []int{rng.IntN(sc.leaves), rng.IntN(sc.leaves), rng.IntN(sc.leaves)}
		for range sc.eventsPerUser {
			leaf := favs[rng.IntN(3)]
			item := items[leaf*perLeaf+int(float64(perLeaf)*rng.Float64()*rng.Float64())].ID
			at := testNow.Add(-time.Duration(rng.IntN(28*24*60)) * time.Minute)
			events = append(events, m.make(types[rng.IntN(len(types))], users[u].ID, item, store, at))
		}
	}
	must(tb, db.UpsertUsers(ctx, users))
	if _, err := db.CreateEvents(ctx, events); err != nil {
		tb.Fatal(err)
	}
	return db
}

func BenchmarkTrainer_TrainOnce(b *testing.B) {
	db := newScaledWorld(b, demo)
	tr := newTrainer(b, db)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := tr.TrainOnce(context.Background()); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEngine_Recommend measures a request with the fast artefact (no learned model,
// as before the model source), with a learned iALS model scoring the live history, and with
// the hybrid over seq, iALS and content.
func BenchmarkEngine_Recommend(b *testing.B) {
	db := newScaledWorld(b, demo)
	for _, artefact := range []string{"fast", "ials", "hybrid"} {
		tr := newTrainer(b, db)
		tr.Config.Learn.Off = artefact == "fast"
		tr.Config.Learn.Models = []string{"ials"}
		if artefact == "hybrid" {
			tr.Config.Learn.Models = []string{"seq", "ials", "content", "hybrid"}
			tr.Config.Learn.Hybrid = recommend.DefaultLearnHybridConfig()
		}
		blob, err := tr.TrainOnce(context.Background())
		if err != nil {
			b.Fatal(err)
		}
		if m := parseMetrics(b, blob); artefact != "fast" && m.Learned != artefact {
			b.Fatalf("learned %q, want %s: %s", m.Learned, artefact, blob.Metrics)
		}
		// Rankings computed on every request: the response cache is off.
		benchRecommend(b, artefact, openEngineWith(b, db, newClock(testNow), func(c *recommend.EngineConfig) { c.CacheSize = -1 }))
	}
}

// BenchmarkEngine_RecommendCached repeats 2,000 warm requests with the response cache off
// (ials-nocache: every ranking computed) and on (ials-cached, the default: every timed
// request a hit), the same trained model behind both: the response cache's before and after.
func BenchmarkEngine_RecommendCached(b *testing.B) {
	db := newScaledWorld(b, demo)
	tr := newTrainer(b, db)
	tr.Config.Learn.Models = []string{"ials"}
	if _, err := tr.TrainOnce(context.Background()); err != nil {
		b.Fatal(err)
	}
	benchRecommend(b, "ials-nocache", openEngineWith(b, db, newClock(testNow), func(c *recommend.EngineConfig) { c.CacheSize = -1 }))
	e := openEngine(b, db, newClock(testNow))
	benchRecommend(b, "ials-cached", e)
	if st := e.CacheStats(); st.Hits == 0 {
		b.Fatalf("no cache hits: %+v", st)
	}
}

func benchRecommend(b *testing.B, artefact string, e *recommend.Engine) {
	ctx := context.Background()
	const warm = 2000 // users whose live state is built before timing
	reqs := make([]qianmian.RecommendRequest, warm)
	for k := range reqs {
		reqs[k] = qianmian.RecommendRequest{StoreID: fmt.Sprintf("store-%03d", k%demo.stores),
			UserID: fmt.Sprintf("user-%05d", k*(demo.users/warm)), N: 10}
		if rec := mustRecommend(b, e, reqs[k]); !rec.Personalized {
			b.Fatalf("%s not personalised", reqs[k].UserID)
		}
	}
	st := e.LiveStats()
	for _, bc := range []struct {
		name string
		req  func(k int) qianmian.RecommendRequest
	}{
		{"personalized", func(k int) qianmian.RecommendRequest { return reqs[k%warm] }},
		{"anonymous", func(k int) qianmian.RecommendRequest {
			return qianmian.RecommendRequest{StoreID: reqs[k%warm].StoreID, N: 10}
		}},
	} {
		b.Run(artefact+"/"+bc.name, func(b *testing.B) {
			b.ReportAllocs()
			k := 0
			for b.Loop() {
				if _, err := e.Recommend(ctx, bc.req(k)); err != nil {
					b.Fatal(err)
				}
				k++
			}
			b.ReportMetric(float64(st.Bytes)/float64(st.Users), "live-B/user")
		})
	}
}

func BenchmarkEngine_Similar(b *testing.B) {
	db := newScaledWorld(b, demo)
	tr := newTrainer(b, db)
	tr.Config.Learn.Off = true // Similar does not use the learned model
	if _, err := tr.TrainOnce(context.Background()); err != nil {
		b.Fatal(err)
	}
	e := openEngine(b, db, newClock(testNow))
	ctx := context.Background()
	b.ReportAllocs()
	k := 0
	for b.Loop() {
		if _, err := e.Similar(ctx, fmt.Sprintf("store-%03d", k%demo.stores), fmt.Sprintf("item-%05d", (k*37)%demo.items), 10); err != nil {
			b.Fatal(err)
		}
		k++
	}
}
