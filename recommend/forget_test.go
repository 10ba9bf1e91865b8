package recommend_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/qianmian/qianmian"
)

// TestEngine_ForgetAfterUnlink: a shared tablet browses tents, then its owner's partner
// logs in on it, which links the tablet to them, and their ranking shows tents. The
// operator unlinks the tablet: the log no longer counts the tents for the user, but live
// state still does until Forget drops it; the next ranking is rebuilt from the log.
func TestEngine_ForgetAfterUnlink(t *testing.T) {
	t.Parallel()
	db := newTestWorld(t)
	mustTrain(t, db)
	clk := newClock(testNow)
	e := openEngine(t, db, clk)
	ctx := context.Background()
	const user = "partner"
	dev := &qianmian.IdentityRef{Channel: qianmian.ChannelApp, Type: qianmian.IdentityDevice, Value: "shared-tablet"}
	var evs []*qianmian.Event
	for k, id := range []string{"tents-00", "tents-02", "tents-03", "tents-06", "tents-08"} {
		evs = append(evs, &qianmian.Event{ID: fmt.Sprintf("tablet-%d", k), Type: qianmian.EventView,
			Identity: dev, ItemID: id, StoreID: "s1", Channel: qianmian.ChannelApp, OccurredAt: clk.Now()})
	}
	evs = append(evs, &qianmian.Event{ID: "tablet-login", Type: qianmian.EventView, UserID: user, Identity: dev,
		ItemID: "lego-00", StoreID: "s1", Channel: qianmian.ChannelApp, OccurredAt: clk.Now()})
	if _, err := db.CreateEvents(ctx, evs); err != nil {
		t.Fatal(err)
	}
	req := qianmian.RecommendRequest{StoreID: "s1", UserID: user, N: 10}
	eventually(t, "the user's ranking shows the tablet's tents", func() bool {
		rec := mustRecommend(t, e, req)
		return rec.Personalized && countLeaf(rec, "tents") > 0
	})

	// What UnlinkIdentity does to the log: the link goes, so the tablet's anonymous events
	// no longer count for the user; the login, sent with the user's id, stays theirs.
	db.mu.Lock()
	delete(db.links, dev.Key())
	db.mu.Unlock()
	if rec := mustRecommend(t, e, req); countLeaf(rec, "tents") == 0 {
		t.Fatal("live state forgot the tents by itself: the test shows nothing")
	}
	e.Forget(user)
	if rec := mustRecommend(t, e, req); countLeaf(rec, "tents") != 0 {
		t.Fatalf("after Forget the ranking still shows the unlinked tablet's tents: %v", ids(rec))
	}
}
