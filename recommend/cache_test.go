package recommend_test

import (
	"context"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/qianmian/qianmian"
	"github.com/qianmian/qianmian/recommend"
)

// The response cache serves a repeated request without ranking again, and stops serving
// it exactly when the visitor's own state, the snapshot (model, assortment) or its TTL says
// so; other visitors' events do not retire it.
func TestEngine_ResponseCache(t *testing.T) {
	t.Parallel()
	db := newTestWorld(t)
	mustTrain(t, db)
	clk := newClock(testNow)
	e := openEngine(t, db, clk)
	ctx := context.Background()
	req := qianmian.RecommendRequest{StoreID: "s1", UserID: "fresh", N: 10}
	type delta struct{ hits, misses int64 }
	step := func(name string, want delta, r qianmian.RecommendRequest) *qianmian.Recommendation {
		t.Helper()
		before := e.CacheStats()
		rec := mustRecommend(t, e, r)
		after := e.CacheStats()
		if got := (delta{after.Hits - before.Hits, after.Misses - before.Misses}); got != want {
			t.Fatalf("%s: cache hits %+d misses %+d, want %+d %+d", name, got.hits, got.misses, want.hits, want.misses)
		}
		return rec
	}

	first := step("first request", delta{0, 1}, req)
	again := step("same request", delta{1, 0}, req)
	if !slices.Equal(ids(first), ids(again)) || again.RecID == first.RecID || !again.Personalized {
		t.Fatalf("cached: %v (rec %s, personalized %v), first %v (rec %s)", ids(again), again.RecID, again.Personalized, ids(first), first.RecID)
	}
	// Scores, reasons and sources too: the cache keeps rankings packed.
	if !reflect.DeepEqual(again.Items, first.Items) {
		t.Fatalf("cached items differ:\n got %+v\nwant %+v", again.Items, first.Items)
	}
	step("another N", delta{0, 1}, qianmian.RecommendRequest{StoreID: "s1", UserID: "fresh", N: 5})
	step("another store", delta{0, 1}, qianmian.RecommendRequest{StoreID: "s3", UserID: "fresh", N: 10})
	step("offline context", delta{0, 1}, qianmian.RecommendRequest{StoreID: "s1", UserID: "fresh", N: 10,
		Context: qianmian.RequestContext{Channel: qianmian.ChannelOffline}})
	step("a moment named", delta{0, 0}, qianmian.RecommendRequest{StoreID: "s1", UserID: "fresh", N: 10,
		Context: qianmian.RequestContext{At: testNow.Add(-time.Hour)}})

	// Someone else's view changes trending, not this visitor's entry.
	view := func(id, user, item string) {
		t.Helper()
		if _, err := db.CreateEvents(ctx, []*qianmian.Event{{ID: id, Type: qianmian.EventView, UserID: user,
			ItemID: item, StoreID: "s1", Channel: qianmian.ChannelApp, OccurredAt: clk.Now()}}); err != nil {
			t.Fatal(err)
		}
	}
	trending := e.LiveStats().Trending
	view("other-view", "b03", "tents-02")
	eventually(t, "the other visitor's view applied", func() bool { return e.LiveStats().Trending > trending })
	step("after another visitor's event", delta{1, 0}, req)

	// The visitor's own event retires the entry: the next ranking is computed again.
	misses := e.CacheStats().Misses
	view("own-view", "fresh", "tents-04")
	eventually(t, "the visitor's view reflected", func() bool {
		mustRecommend(t, e, req)
		return e.CacheStats().Misses > misses
	})
	step("after the new ranking", delta{1, 0}, req)

	// Age retires it too.
	clk.Advance(recommend.DefaultEngineConfig().CacheTTL)
	step("after CacheTTL", delta{0, 1}, req)

	// A reload (here: an item out of stock) retires every entry.
	best := again.Items[0].ItemID
	must(t, db.UpsertAssortments(ctx, []*qianmian.Assortment{{StoreID: "s1", ItemID: best, InStock: false}}))
	must(t, e.Reload(ctx))
	rec := step("after reload", delta{0, 1}, req)
	if slices.Contains(ids(rec), best) {
		t.Fatalf("after reload %s is out of stock but ranked: %v", best, ids(rec))
	}

	// Opting out is honoured on the next request even with an entry cached.
	no := false
	if _, err := db.UpdateConsent(ctx, "fresh", qianmian.ConsentUpdate{Personalization: &no}); err != nil {
		t.Fatal(err)
	}
	if rec := mustRecommend(t, e, req); rec.Personalized {
		t.Fatal("opted out, yet served a personalised (cached) ranking")
	}
}

// A negative CacheSize disables the cache.
func TestEngine_ResponseCacheDisabled(t *testing.T) {
	t.Parallel()
	db := newTestWorld(t)
	mustTrain(t, db)
	e := openEngineWith(t, db, newClock(testNow), func(c *recommend.EngineConfig) { c.CacheSize = -1 })
	for range 3 {
		mustRecommend(t, e, qianmian.RecommendRequest{StoreID: "s1", UserID: "fresh", N: 10})
	}
	if st := e.CacheStats(); st != (recommend.CacheStats{}) {
		t.Fatalf("disabled cache: %+v", st)
	}
}
