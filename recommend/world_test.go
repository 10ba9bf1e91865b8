package recommend_test

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/qianmian/qianmian"
	"github.com/qianmian/qianmian/recommend"
)

// testNow is the moment the test world's history ends.
var testNow = time.Date(2025, 6, 2, 12, 0, 0, 0, time.UTC)

// Leaf categories of the test world, each with 10 items "<leaf>-00" … "<leaf>-09".
var testCategories = map[string][]string{
	"milk":    {"food", "dairy", "milk"},
	"yogurt":  {"food", "dairy", "yogurt"},
	"chips":   {"food", "snacks", "chips"},
	"cream":   {"beauty", "skin", "cream"},
	"perfume": {"beauty", "fragrance", "perfume"},
	"lego":    {"toys", "bricks", "lego"},
	"pans":    {"home", "kitchen", "pans"},
	"tents":   {"sports", "outdoor", "tents"},
}

func itemID(leaf string, k int) string { return fmt.Sprintf("%s-%02d", leaf, k) }

func leafOf(id string) string { return id[:strings.LastIndex(id, "-")] }

// eventMaker numbers events and fills the required fields.
type eventMaker struct{ n int }

func (m *eventMaker) make(typ qianmian.EventType, user, item, store string, at time.Time) *qianmian.Event {
	m.n++
	return &qianmian.Event{ID: fmt.Sprintf("e%06d", m.n), Type: typ, UserID: user, ItemID: item,
		StoreID: store, Channel: qianmian.ChannelApp, OccurredAt: at,
		Context: qianmian.EventContext{LocationType: qianmian.LocationHome}}
}

// newTestWorld builds a small S2b2c world with planted structure:
//   - stores s1, s2 (region east) and s3 (west) stock different subsets; some entries are
//     out of stock and chips-09 is inactive;
//   - users a00–a29 buy food (milk every week: a rebuy category), b00–b29 beauty (every
//     third buys cream-00 and perfume-00 together), c00–c29 toys and pans (bought once);
//   - "fresh" has food history only; "opt" refused personalisation; "restock" bought
//     milk-00 and pans-00 five days ago; "newbie" and "newbie2" have no events;
//   - nobody has touched tents.
func newTestWorld(t testing.TB) *fakeDB {
	t.Helper()
	ctx := context.Background()
	db := newFakeDB()
	var items []*qianmian.Item
	for _, leaf := range sortedKeys(testCategories) {
		for k := range 10 {
			it := &qianmian.Item{ID: itemID(leaf, k), SupplierID: "sup", Title: fmt.Sprintf("%s no. %d", leaf, k),
				Category: testCategories[leaf], Brand: fmt.Sprintf("%s-brand-%d", leaf, k%2),
				Price: float64(10 + k*5), Status: qianmian.ItemActive}
			if it.ID == "chips-09" {
				it.Status = qianmian.ItemInactive
			}
			items = append(items, it)
		}
	}
	must(t, db.UpsertItems(ctx, items))
	must(t, db.UpsertStores(ctx, []*qianmian.Store{
		{ID: "s1", Name: "One", Region: "east"}, {ID: "s2", Name: "Two", Region: "east"},
		{ID: "s3", Name: "Three", Region: "west"},
	}))
	var entries []*qianmian.Assortment
	for _, it := range items {
		k := int(it.ID[len(it.ID)-1] - '0')
		if k%2 == 0 || k == 3 {
			entries = append(entries, &qianmian.Assortment{StoreID: "s1", ItemID: it.ID, InStock: k != 4})
		}
		if k%2 == 1 {
			entries = append(entries, &qianmian.Assortment{StoreID: "s2", ItemID: it.ID, InStock: true})
		}
		entries = append(entries, &qianmian.Assortment{StoreID: "s3", ItemID: it.ID, InStock: k != 9})
	}
	must(t, db.UpsertAssortments(ctx, entries))

	var users []*qianmian.User
	for _, id := range []string{"fresh", "opt", "restock", "newbie", "newbie2"} {
		users = append(users, &qianmian.User{ID: id, Consent: qianmian.DefaultConsent()})
	}
	users[1].Consent.Personalization = false
	rng := rand.New(rand.NewPCG(1, 2))
	var events []*qianmian.Event
	m := &eventMaker{}
	day := 24 * time.Hour
	for g, group := range []struct {
		prefix string
		leaves []string
		stores []string
	}{
		{"a", []string{"milk", "yogurt", "chips"}, []string{"s1", "s2"}},
		{"b", []string{"cream", "perfume"}, []string{"s3", "s1"}},
		{"c", []string{"lego", "pans"}, []string{"s2", "s3"}},
	} {
		for i := range 30 {
			u := fmt.Sprintf("%s%02d", group.prefix, i)
			users = append(users, &qianmian.User{ID: u, Consent: qianmian.DefaultConsent()})
			store := group.stores[i%2]
			for v := range 12 {
				leaf := group.leaves[rng.IntN(len(group.leaves))]
				at := testNow.Add(-time.Duration(rng.IntN(20*24)) * time.Hour)
				events = append(events, m.make(qianmian.EventView, u, itemID(leaf, rng.IntN(10)), store, at))
				_ = v
			}
			switch g {
			case 0:
				milk := itemID("milk", i%3)
				for _, d := range []int{19, 12, 5} {
					events = append(events, m.make(qianmian.EventPurchase, u, milk, store, testNow.Add(-time.Duration(d)*day)))
				}
			case 1:
				if i%3 == 0 {
					at := testNow.Add(-time.Duration(2+i%10) * day)
					events = append(events, m.make(qianmian.EventPurchase, u, "cream-00", store, at),
						m.make(qianmian.EventPurchase, u, "perfume-00", store, at))
				}
			case 2:
				events = append(events, m.make(qianmian.EventPurchase, u, itemID("pans", i%5), store, testNow.Add(-time.Duration(3+i%7)*day)))
			}
		}
	}
	for k, id := range []string{"fresh", "opt"} {
		for v := range 10 {
			events = append(events, m.make(qianmian.EventView, id, itemID([]string{"milk", "chips", "yogurt"}[v%3], (v+k)%10), "s1",
				testNow.Add(-time.Duration(2+v)*day)))
		}
		events = append(events, m.make(qianmian.EventPurchase, id, "milk-02", "s1", testNow.Add(-4*day)))
	}
	events = append(events,
		m.make(qianmian.EventPurchase, "restock", "milk-00", "s3", testNow.Add(-5*day)),
		m.make(qianmian.EventPurchase, "restock", "pans-00", "s3", testNow.Add(-5*day)),
		m.make(qianmian.EventView, "restock", "lego-01", "s3", testNow.Add(-2*day)))
	must(t, db.UpsertUsers(ctx, users))
	if _, err := db.CreateEvents(ctx, events); err != nil {
		t.Fatal(err)
	}
	return db
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func testLogger(t testing.TB) *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	return slog.New(slog.DiscardHandler)
}

// newTrainer returns a trainer over db, its clock pinned to the end of the world's history.
func newTrainer(t testing.TB, db *fakeDB) *recommend.Trainer {
	tr := recommend.NewTrainer()
	tr.Events, tr.Items, tr.Stores, tr.Users, tr.Models = db, db, db, db, db
	tr.Logger = testLogger(t)
	tr.Now = func() time.Time { return testNow }
	// A small, quick hybrid: tests check its wiring; its quality is TestTrainer_PublishesLearnedModel's.
	h := &tr.Config.Learn.Hybrid
	h.Candidates, h.Trees, h.MaxQueries = 20, 0, 300
	return tr
}

func mustTrain(t testing.TB, db *fakeDB) *qianmian.ModelBlob {
	t.Helper()
	blob, err := newTrainer(t, db).TrainOnce(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return blob
}

// openEngine opens an engine over db with clk as its clock, closed when the test ends.
func openEngine(t testing.TB, db *fakeDB, clk *clock) *recommend.Engine {
	t.Helper()
	return openEngineWith(t, db, clk, func(*recommend.EngineConfig) {})
}

// openEngineWith opens an engine whose configuration configure has changed.
func openEngineWith(t testing.TB, db *fakeDB, clk *clock, configure func(*recommend.EngineConfig)) *recommend.Engine {
	t.Helper()
	e := recommend.NewEngine()
	configure(&e.Config)
	e.Items, e.Stores, e.Assortments, e.Users, e.Events = db, db, db, db, db
	e.Models, e.Bus, e.Identities = db, db.bus, db
	e.Logger = testLogger(t)
	e.Now = clk.Now
	if err := e.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { must(t, e.Close()) })
	return e
}

func mustRecommend(t testing.TB, e *recommend.Engine, req qianmian.RecommendRequest) *qianmian.Recommendation {
	t.Helper()
	rec, err := e.Recommend(context.Background(), req)
	if err != nil {
		t.Fatalf("Recommend(%+v): %v", req, err)
	}
	return rec
}

func ids(rec *qianmian.Recommendation) []string {
	out := make([]string, len(rec.Items))
	for k, it := range rec.Items {
		out[k] = it.ItemID
	}
	return out
}

// checkRanking fails unless the ranking has n distinct items, all in the store's in-stock
// active assortment, with non-increasing scores and at least one reason each.
func checkRanking(t testing.TB, db *fakeDB, store string, rec *qianmian.Recommendation, n int) {
	t.Helper()
	stock := db.inStock(store)
	if len(rec.Items) != n {
		t.Fatalf("%s: %d items, want %d: %v", store, len(rec.Items), n, ids(rec))
	}
	seen := map[string]bool{}
	for k, it := range rec.Items {
		if !stock[it.ItemID] {
			t.Fatalf("%s: %s is not in the store's in-stock active assortment", store, it.ItemID)
		}
		if seen[it.ItemID] {
			t.Fatalf("%s: %s ranked twice", store, it.ItemID)
		}
		seen[it.ItemID] = true
		if len(it.Reasons) == 0 || it.Reasons[0] == "" {
			t.Fatalf("%s: %s has no reason", store, it.ItemID)
		}
		if k > 0 && it.Score > rec.Items[k-1].Score {
			t.Fatalf("%s: scores increase at %d: %v > %v", store, k, it.Score, rec.Items[k-1].Score)
		}
	}
	if rec.RecID == "" {
		t.Fatal("empty rec id")
	}
}

// eventually polls cond until it holds or a second has passed.
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("not within 1s: %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func countLeaf(rec *qianmian.Recommendation, leaf string) int {
	n := 0
	for _, id := range ids(rec) {
		if leafOf(id) == leaf {
			n++
		}
	}
	return n
}

func containsString(list []string, sub string) bool {
	return slices.ContainsFunc(list, func(s string) bool { return strings.Contains(s, sub) })
}
