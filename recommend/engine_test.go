package recommend_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/qianmian/qianmian"
)

func TestEngine_FiveViewsOfANewCategoryShowUpAtOnce(t *testing.T) {
	t.Parallel()
	db := newTestWorld(t)
	mustTrain(t, db)
	clk := newClock(testNow)
	e := openEngine(t, db, clk)
	ctx := context.Background()
	tents := []string{"tents-01", "tents-03", "tents-05", "tents-07", "tents-09"}

	for _, tc := range []struct {
		name, user string
		warm       bool // asked for a ranking before the views, so live state is cached
	}{
		{"CachedState", "fresh", true},
		{"RebuiltState", "a05", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := qianmian.RecommendRequest{StoreID: "s1", UserID: tc.user, N: 10}
			if tc.warm {
				before := mustRecommend(t, e, req)
				if !before.Personalized || countLeaf(before, "tents") != 0 {
					t.Fatalf("before: personalized=%v items %v", before.Personalized, ids(before))
				}
			}
			var evs []*qianmian.Event
			for k, id := range tents {
				evs = append(evs, &qianmian.Event{ID: fmt.Sprintf("%s-tent-%d", tc.user, k), Type: qianmian.EventView,
					UserID: tc.user, ItemID: id, StoreID: "s2", Channel: qianmian.ChannelApp,
					OccurredAt: clk.Now().Add(time.Duration(k) * time.Second)})
			}
			if _, err := db.CreateEvents(ctx, evs); err != nil {
				t.Fatal(err)
			}
			var rec *qianmian.Recommendation
			eventually(t, "tents in the ranking", func() bool {
				rec = mustRecommend(t, e, req)
				return countLeaf(rec, "tents") > 0
			})
			checkRanking(t, db, "s1", rec, 10)
			for _, it := range rec.Items {
				if leafOf(it.ItemID) != "tents" {
					continue
				}
				if !containsString(it.Reasons, "tents") {
					t.Fatalf("%s has reasons %q, want one naming tents or a viewed tent", it.ItemID, it.Reasons)
				}
			}
			if !rec.Personalized {
				t.Fatal("Personalized=false for a consenting user with history")
			}
		})
	}
}

func TestEngine_StoresRankTheirOwnStock(t *testing.T) {
	t.Parallel()
	db := newTestWorld(t)
	mustTrain(t, db)
	e := openEngine(t, db, newClock(testNow))
	for _, user := range []string{"fresh", "b03", "", "nobody"} {
		a := mustRecommend(t, e, qianmian.RecommendRequest{StoreID: "s1", UserID: user, N: 10})
		b := mustRecommend(t, e, qianmian.RecommendRequest{StoreID: "s3", UserID: user, N: 10})
		checkRanking(t, db, "s1", a, 10)
		checkRanking(t, db, "s3", b, 10)
		if slices.Equal(ids(a), ids(b)) {
			t.Fatalf("user %q: s1 and s3 rank the same: %v", user, ids(a))
		}
		if a.RecID == b.RecID {
			t.Fatal("two rankings share a rec id")
		}
	}
}

func TestEngine_OptOut(t *testing.T) {
	t.Parallel()
	db := newTestWorld(t)
	mustTrain(t, db)
	e := openEngine(t, db, newClock(testNow))
	ctx := context.Background()
	unknown := mustRecommend(t, e, qianmian.RecommendRequest{StoreID: "s1", N: 10})
	if unknown.Personalized {
		t.Fatal("unknown visitor got a personalised ranking")
	}
	same := func(name string, rec *qianmian.Recommendation) {
		t.Helper()
		if rec.Personalized {
			t.Fatalf("%s: Personalized=true", name)
		}
		if !slices.EqualFunc(rec.Items, unknown.Items, func(a, b qianmian.ScoredItem) bool {
			return a.ItemID == b.ItemID && a.Score == b.Score && slices.Equal(a.Reasons, b.Reasons)
		}) {
			t.Fatalf("%s: %v, want the unknown visitor's %v", name, ids(rec), ids(unknown))
		}
	}
	same("opted-out user", mustRecommend(t, e, qianmian.RecommendRequest{StoreID: "s1", UserID: "opt", N: 10}))
	same("unknown user id", mustRecommend(t, e, qianmian.RecommendRequest{StoreID: "s1", UserID: "nobody", N: 10}))
	same("anonymous newcomer", mustRecommend(t, e, qianmian.RecommendRequest{StoreID: "s1", N: 10,
		Identity: &qianmian.IdentityRef{Channel: qianmian.ChannelApp, Type: qianmian.IdentityDevice, Value: "dev-new"}}))

	// A consenting user is personalised until they opt out; the next request honours it
	// and their live state is dropped.
	if rec := mustRecommend(t, e, qianmian.RecommendRequest{StoreID: "s1", UserID: "fresh", N: 10}); !rec.Personalized {
		t.Fatal("fresh: Personalized=false before opting out")
	}
	users := e.LiveStats().Users
	no := false
	if _, err := db.UpdateConsent(ctx, "fresh", qianmian.ConsentUpdate{Personalization: &no}); err != nil {
		t.Fatal(err)
	}
	same("fresh after opting out", mustRecommend(t, e, qianmian.RecommendRequest{StoreID: "s1", UserID: "fresh", N: 10}))
	if got := e.LiveStats().Users; got != users-1 {
		t.Fatalf("live users %d after opt-out, want %d", got, users-1)
	}
	// Their new events still count as store trends, but build no personal state.
	if _, err := db.CreateEvents(ctx, []*qianmian.Event{{ID: "fresh-after", Type: qianmian.EventView, UserID: "fresh",
		ItemID: "tents-00", StoreID: "s1", Channel: qianmian.ChannelApp, OccurredAt: testNow}}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "trending counts the opted-out view", func() bool { return e.LiveStats().Trending > 0 })
	if got := e.LiveStats().Users; got != users-1 {
		t.Fatalf("live users %d after an opted-out event, want %d", got, users-1)
	}
}

func TestEngine_AnonymousEventsCountAfterLinking(t *testing.T) {
	t.Parallel()
	db := newTestWorld(t)
	mustTrain(t, db)
	clk := newClock(testNow)
	e := openEngine(t, db, clk)
	ctx := context.Background()

	for _, tc := range []struct {
		user, device string
		warm         bool // the user's (empty) state is cached before linking: merge path
	}{
		{"newbie", "dev-1", true},
		{"newbie2", "dev-2", false},
	} {
		t.Run(tc.user, func(t *testing.T) {
			dev := &qianmian.IdentityRef{Channel: qianmian.ChannelApp, Type: qianmian.IdentityDevice, Value: tc.device}
			if tc.warm {
				if rec := mustRecommend(t, e, qianmian.RecommendRequest{StoreID: "s1", UserID: tc.user}); rec.Personalized {
					t.Fatal("user without events got a personalised ranking")
				}
			}
			var evs []*qianmian.Event
			for k, id := range []string{"tents-00", "tents-02", "tents-03", "tents-06", "tents-08"} {
				evs = append(evs, &qianmian.Event{ID: fmt.Sprintf("%s-%d", tc.device, k), Type: qianmian.EventView,
					Identity: dev, ItemID: id, StoreID: "s1", Channel: qianmian.ChannelApp, OccurredAt: clk.Now()})
			}
			if _, err := db.CreateEvents(ctx, evs); err != nil {
				t.Fatal(err)
			}
			anon := qianmian.RecommendRequest{StoreID: "s1", Identity: &qianmian.IdentityRef{
				Channel: dev.Channel, Type: dev.Type, Value: dev.Value}, N: 10}
			eventually(t, "anonymous visitor's tents", func() bool {
				rec := mustRecommend(t, e, anon)
				return rec.Personalized && countLeaf(rec, "tents") > 0
			})
			// Logging in: one event carries both the device and the user.
			link := &qianmian.Event{ID: tc.device + "-login", Type: qianmian.EventView, UserID: tc.user, Identity: dev,
				ItemID: "lego-00", StoreID: "s1", Channel: qianmian.ChannelApp, OccurredAt: clk.Now()}
			if _, err := db.CreateEvents(ctx, []*qianmian.Event{link}); err != nil {
				t.Fatal(err)
			}
			eventually(t, "the user's ranking reflects the device's views", func() bool {
				rec := mustRecommend(t, e, qianmian.RecommendRequest{StoreID: "s1", UserID: tc.user, N: 10})
				return rec.Personalized && countLeaf(rec, "tents") > 0
			})
		})
	}
}

func TestEngine_BoughtItemsAndRestock(t *testing.T) {
	t.Parallel()
	db := newTestWorld(t)
	mustTrain(t, db)
	e := openEngine(t, db, newClock(testNow))
	rec := mustRecommend(t, e, qianmian.RecommendRequest{StoreID: "s3", UserID: "restock", N: 20})
	checkRanking(t, db, "s3", rec, 20)
	var milk *qianmian.ScoredItem
	for k, it := range rec.Items {
		switch it.ItemID {
		case "pans-00":
			t.Fatal("pans-00 was bought and pans are not rebought, yet it is recommended")
		case "milk-00":
			milk = &rec.Items[k]
		}
	}
	if milk == nil || !slices.Contains(milk.Reasons, "bought before — time to restock") {
		t.Fatalf("milk-00 (bought 5 days ago, a rebuy category) = %+v in %v", milk, ids(rec))
	}
	// Two days after buying, it is too early to restock.
	e2 := openEngine(t, db, newClock(testNow.Add(-3*24*time.Hour)))
	rec = mustRecommend(t, e2, qianmian.RecommendRequest{StoreID: "s3", UserID: "restock", N: 20,
		Context: qianmian.RequestContext{At: testNow.Add(-3 * 24 * time.Hour)}})
	if slices.Contains(ids(rec), "milk-00") {
		t.Fatal("milk-00 recommended two days after it was bought")
	}
}

func TestEngine_ReloadHotSwapsTheModel(t *testing.T) {
	t.Parallel()
	db := newTestWorld(t)
	e := openEngine(t, db, newClock(testNow))
	ctx := context.Background()
	if !e.Ready() || e.ModelVersion() != 0 {
		t.Fatalf("before training: Ready=%v version=%d, want the popularity fallback", e.Ready(), e.ModelVersion())
	}
	rec := mustRecommend(t, e, qianmian.RecommendRequest{StoreID: "s1", UserID: "fresh", N: 10})
	checkRanking(t, db, "s1", rec, 10)
	if rec.ModelVersion != 0 {
		t.Fatalf("fallback ranking has model version %d", rec.ModelVersion)
	}

	mustTrain(t, db)
	// Take s1's best item out of stock; the reload must respect it while requests go on.
	best := rec.Items[0].ItemID
	must(t, db.UpsertAssortments(ctx, []*qianmian.Assortment{{StoreID: "s1", ItemID: best, InStock: false}}))
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				if _, err := e.Recommend(ctx, qianmian.RecommendRequest{StoreID: "s1", UserID: "a01", N: 10}); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	must(t, e.Reload(ctx))
	close(stop)
	wg.Wait()
	if e.ModelVersion() != 1 {
		t.Fatalf("after reload: version %d, want 1", e.ModelVersion())
	}
	rec = mustRecommend(t, e, qianmian.RecommendRequest{StoreID: "s1", UserID: "fresh", N: 10})
	checkRanking(t, db, "s1", rec, 10)
	if rec.ModelVersion != 1 || slices.Contains(ids(rec), best) {
		t.Fatalf("after reload: version %d, items %v (out of stock: %s)", rec.ModelVersion, ids(rec), best)
	}
}

func TestEngine_FillsNFromTheAssortment(t *testing.T) {
	t.Parallel()
	db := newTestWorld(t)
	mustTrain(t, db)
	e := openEngine(t, db, newClock(testNow))
	stock := len(db.inStock("s2"))
	for _, n := range []int{1, 25, stock} {
		checkRanking(t, db, "s2", mustRecommend(t, e, qianmian.RecommendRequest{StoreID: "s2", UserID: "c02", N: n}), n)
	}
	rec := mustRecommend(t, e, qianmian.RecommendRequest{StoreID: "s2", UserID: "c02", N: stock + 20})
	checkRanking(t, db, "s2", rec, stock)
	// The leaf-category cap: a user who only looks at pans still gets a varied top 10.
	rec = mustRecommend(t, e, qianmian.RecommendRequest{StoreID: "s3", UserID: "c02", N: 10})
	for _, leaf := range []string{"pans", "lego", "milk"} {
		if c := countLeaf(rec, leaf); c > 4 {
			t.Fatalf("%d %s items in a top 10: %v", c, leaf, ids(rec))
		}
	}
}

func TestEngine_Errors(t *testing.T) {
	t.Parallel()
	db := newTestWorld(t)
	e := openEngine(t, db, newClock(testNow))
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		err  error
		code string
	}{
		{"UnknownStore", second(e.Recommend(ctx, qianmian.RecommendRequest{StoreID: "nope"})), qianmian.ENOTFOUND},
		{"TooMany", second(e.Recommend(ctx, qianmian.RecommendRequest{StoreID: "s1", N: 500})), qianmian.EINVALID},
		{"NoStore", second(e.Recommend(ctx, qianmian.RecommendRequest{})), qianmian.EINVALID},
		{"SimilarUnknownStore", second(e.Similar(ctx, "nope", "milk-00", 5)), qianmian.ENOTFOUND},
		{"SimilarUnknownItem", second(e.Similar(ctx, "s1", "nope", 5)), qianmian.ENOTFOUND},
		{"SimilarBadN", second(e.Similar(ctx, "s1", "milk-00", -1)), qianmian.EINVALID},
	} {
		if got := qianmian.ErrorCode(tc.err); got != tc.code {
			t.Errorf("%s: code %q (%v), want %q", tc.name, got, tc.err, tc.code)
		}
	}
}

func second[T any](_ T, err error) error { return err }

func TestEngine_SimilarTopsUpWithContent(t *testing.T) {
	t.Parallel()
	db := newTestWorld(t)
	mustTrain(t, db)
	e := openEngine(t, db, newClock(testNow))
	// Nobody touched tents: every neighbour is a content neighbour, same leaf first,
	// nearest price first, and only s1's in-stock items.
	rec, err := e.Similar(context.Background(), "s1", "tents-05", 6)
	if err != nil {
		t.Fatal(err)
	}
	checkRanking(t, db, "s1", rec, 6)
	// s1 stocks tents 00, 02, 03, 06, 08 (04 is out of stock); tents-05 costs 35.
	if got, want := ids(rec)[:5], []string{"tents-06", "tents-03", "tents-08", "tents-02", "tents-00"}; !slices.Equal(got, want) {
		t.Fatalf("similar to tents-05 = %v, want %v first", ids(rec), want)
	}
	if r := rec.Items[0].Reasons; !slices.Equal(r, []string{"same category: tents"}) {
		t.Fatalf("reasons %q", r)
	}
	if got := rec.Items[5].Reasons[0]; got == "same category: tents" {
		t.Fatalf("sixth item %s is a tent, but s1 stocks five", rec.Items[5].ItemID)
	}
}

func TestEngine_LiveStatsAndClose(t *testing.T) {
	t.Parallel()
	db := newTestWorld(t)
	mustTrain(t, db)
	e := openEngine(t, db, newClock(testNow))
	for _, u := range []string{"a01", "a02", "b01"} {
		mustRecommend(t, e, qianmian.RecommendRequest{StoreID: "s1", UserID: u})
	}
	st := e.LiveStats()
	if st.Users != 3 || st.Subjects != 3 || st.Bytes <= 0 {
		t.Fatalf("LiveStats()=%+v, want 3 users and some bytes", st)
	}
	must(t, e.Close())
	must(t, e.Close()) // idempotent
}

func TestEngine_UnreadableModelFallsBackToPopularity(t *testing.T) {
	t.Parallel()
	db := newTestWorld(t)
	must(t, db.SaveModel(context.Background(), &qianmian.ModelBlob{Name: "hybrid-v1", Data: []byte("QMHYBRID\x09\x00\x00\x00garbage")}))
	e := openEngine(t, db, newClock(testNow))
	if !e.Ready() || e.ModelVersion() != 0 {
		t.Fatalf("Ready=%v version=%d, want the popularity fallback", e.Ready(), e.ModelVersion())
	}
	checkRanking(t, db, "s3", mustRecommend(t, e, qianmian.RecommendRequest{StoreID: "s3", N: 10}), 10)
	// Once serving, a bad model does not replace a good snapshot.
	must(t, db.SaveModel(context.Background(), &qianmian.ModelBlob{Name: "hybrid-v1", Data: []byte("nope")}))
	if err := e.Reload(context.Background()); err == nil {
		t.Fatal("Reload accepted an unreadable model")
	}
	if !e.Ready() {
		t.Fatal("not ready after a failed reload")
	}
}
