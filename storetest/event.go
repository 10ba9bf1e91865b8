package storetest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/qianmian/qianmian"
)

func eventTests() []contractTest {
	return []contractTest{
		{"Events/RoundTrip", testEventsRoundTrip},
		{"Events/SeqIncreases", testEventsSeqIncreases},
		{"Events/DuplicatesWithinBatch", testEventsDuplicatesWithinBatch},
		{"Events/DuplicatesAcrossBatches", testEventsDuplicatesAcrossBatches},
		{"Events/InvalidBatchStoresNothing", testEventsInvalidBatch},
		{"Events/PublishAfterCommit", testEventsPublishAfterCommit},
		{"Events/IdentityLinksEarlierEvents", testEventsIdentityLinking},
		{"Events/IdentityLinkedInSameBatch", testEventsLinkInBatch},
		{"Events/ConflictingLinkIgnored", testEventsConflictingLink},
		{"Events/Filters", testEventsFilters},
		{"Events/Brief", testEventsBrief},
		{"Events/Newest", testEventsNewest},
		{"Events/ScanStopsEarly", testEventsScanStopsEarly},
		{"Events/HasStoreInteraction", testEventsHasStoreInteraction},
		{"Events/FindEventUsers", testEventsFindEventUsers},
	}
}

// t0 is the first moment of the contract's event history, three days before Now.
func t0() time.Time { return Now().Add(-72 * time.Hour) }

// view returns a minimal valid view event of user at store, minutes after t0.
func view(id, user, item, store string, minutes int) *qianmian.Event {
	return &qianmian.Event{ID: id, Type: qianmian.EventView, UserID: user, ItemID: item, StoreID: store,
		Channel: qianmian.ChannelApp, OccurredAt: t0().Add(time.Duration(minutes) * time.Minute)}
}

// anon returns view(id, "", item, store, minutes) from the given identity.
func anon(id string, ref qianmian.IdentityRef, item, store string, minutes int) *qianmian.Event {
	e := view(id, "", item, store, minutes)
	e.Identity = &ref
	return e
}

func create(t *testing.T, s Stores, events ...*qianmian.Event) qianmian.EventResult {
	t.Helper()
	res, err := s.Events.CreateEvents(t.Context(), events)
	must(t, err)
	return res
}

func eventIDs(list []*qianmian.Event) []string {
	ids := []string{}
	for _, e := range list {
		ids = append(ids, e.ID)
	}
	return ids
}

// find returns the ids FindEvents gives for f, after checking ScanEvents gives the same
// events.
func find(t *testing.T, s Stores, f qianmian.EventFilter) []string {
	t.Helper()
	found, err := s.Events.FindEvents(t.Context(), f)
	must(t, err)
	var scanned []*qianmian.Event
	for e, err := range s.Events.ScanEvents(t.Context(), f) {
		must(t, err)
		scanned = append(scanned, e)
	}
	equal(t, fmt.Sprintf("ScanEvents(%+v) against FindEvents", f), scanned, found)
	return eventIDs(found)
}

func testEventsRoundTrip(t *testing.T, s Stores) {
	ctx := t.Context()
	cst := time.FixedZone("CST", 8*3600)
	events := []*qianmian.Event{
		{ID: "e-purchase", Type: qianmian.EventPurchase, UserID: "u-1",
			Identity: &qianmian.IdentityRef{Channel: qianmian.ChannelApp, Type: qianmian.IdentityDevice, Value: "dev:1"},
			ItemID:   "i-1", StoreID: "s-a", Channel: qianmian.ChannelApp, Quantity: 2, Amount: 398.5,
			Context: qianmian.EventContext{LocationType: qianmian.LocationMall,
				Geo: &qianmian.GeoPoint{Lat: 31.2304, Lon: 121.4737}, Device: "iPhone15,2"},
			RecID: "rec-9", OccurredAt: time.Date(2024, 5, 30, 20, 15, 1, 250e6, cst)},
		{ID: "e-search", Type: qianmian.EventSearch,
			Identity: &qianmian.IdentityRef{Channel: qianmian.ChannelMiniProgram, Type: qianmian.IdentityAccount, Value: "wx_o1"},
			StoreID:  "s-a", Channel: qianmian.ChannelMiniProgram, Query: "桂花 香水",
			Context: qianmian.EventContext{LocationType: qianmian.LocationHome}, OccurredAt: t0()},
		{ID: "e-review", Type: qianmian.EventReview, UserID: "u-2", ItemID: "i-1", Channel: qianmian.ChannelWeb,
			Rating: 4, Text: "Lasts all day.\nWould buy again.", OccurredAt: t0().Add(time.Millisecond)},
		{ID: "e-visit", Type: qianmian.EventVisit, UserID: "u-1",
			Identity: &qianmian.IdentityRef{Channel: qianmian.ChannelOffline, Type: qianmian.IdentityMembership, Value: "M-1"},
			StoreID:  "s-b", Channel: qianmian.ChannelOffline,
			Context:    qianmian.EventContext{LocationType: qianmian.LocationStore, Geo: &qianmian.GeoPoint{Lat: -33.5, Lon: -70.25}},
			OccurredAt: t0().Add(time.Hour)},
		{ID: "e-return", Type: qianmian.EventReturn, UserID: "u-2", ItemID: "i-2", StoreID: "s-b",
			Channel: qianmian.ChannelOffline, Amount: 0.01, OccurredAt: t0().Add(2 * time.Hour)},
	}
	res := create(t, s, events...)
	equal(t, "CreateEvents result", res, qianmian.EventResult{Accepted: 5})
	if events[4].Quantity != 1 || events[2].Context.LocationType != qianmian.LocationUnknown ||
		events[0].OccurredAt.Location() != time.UTC {
		t.Fatalf("CreateEvents did not normalise: quantity %d, location type %q, time %v",
			events[4].Quantity, events[2].Context.LocationType, events[0].OccurredAt)
	}
	got, err := s.Events.FindEvents(ctx, qianmian.EventFilter{})
	must(t, err)
	equal(t, "FindEvents after CreateEvents", got, events)
	n, err := s.Events.CountEvents(ctx)
	must(t, err)
	if n != 5 {
		t.Fatalf("CountEvents=%d, want 5", n)
	}
}

func testEventsSeqIncreases(t *testing.T, s Stores) {
	var last int64
	for batch := range 3 {
		var events []*qianmian.Event
		for i := range 50 {
			events = append(events, view(fmt.Sprintf("e-%d-%d", batch, i), "u-1", "i-1", "s-a", i))
		}
		res := create(t, s, events...)
		if res.Accepted != 50 || res.Duplicates != 0 {
			t.Fatalf("batch %d: %+v, want 50 accepted", batch, res)
		}
		for _, e := range events {
			if e.Seq <= last {
				t.Fatalf("event %s got Seq %d after %d", e.ID, e.Seq, last)
			}
			last = e.Seq
		}
	}
	got, err := s.Events.FindEvents(t.Context(), qianmian.EventFilter{})
	must(t, err)
	if len(got) != 150 {
		t.Fatalf("FindEvents gave %d events, want 150", len(got))
	}
	for i := 1; i < len(got); i++ {
		if got[i].Seq <= got[i-1].Seq {
			t.Fatalf("FindEvents not in Seq order: %d after %d", got[i].Seq, got[i-1].Seq)
		}
	}
}

func testEventsDuplicatesWithinBatch(t *testing.T, s Stores) {
	first := view("e-1", "u-1", "i-1", "s-a", 0)
	again := view("e-1", "u-1", "i-other", "s-a", 5) // same id, other content
	res := create(t, s, first, view("e-2", "u-1", "i-2", "s-a", 1), again)
	equal(t, "batch with a repeated id", res, qianmian.EventResult{Accepted: 2, Duplicates: 1})
	if again.Seq != 0 {
		t.Fatalf("the duplicate got Seq %d, want 0", again.Seq)
	}
	got, err := s.Events.FindEvents(t.Context(), qianmian.EventFilter{})
	must(t, err)
	equal(t, "stored ids", eventIDs(got), []string{"e-1", "e-2"})
	if got[0].ItemID != "i-1" {
		t.Fatalf("the stored e-1 has item %q, want the first one's, i-1", got[0].ItemID)
	}
	equal(t, "published ids", eventIDs(s.Bus.Published()), []string{"e-1", "e-2"})
}

func testEventsDuplicatesAcrossBatches(t *testing.T, s Stores) {
	batch := func() []*qianmian.Event {
		return []*qianmian.Event{view("e-1", "u-1", "i-1", "s-a", 0), view("e-2", "u-1", "i-2", "s-a", 1),
			view("e-3", "u-2", "i-1", "s-b", 2)}
	}
	equal(t, "first batch", create(t, s, batch()...), qianmian.EventResult{Accepted: 3})
	equal(t, "same batch again", create(t, s, batch()...), qianmian.EventResult{Duplicates: 3})
	res := create(t, s, append(batch(), view("e-4", "u-2", "i-3", "s-b", 3))...)
	equal(t, "same batch plus one", res, qianmian.EventResult{Accepted: 1, Duplicates: 3})

	n, err := s.Events.CountEvents(t.Context())
	must(t, err)
	if n != 4 {
		t.Fatalf("CountEvents=%d, want 4", n)
	}
	var published [][]string
	for _, b := range s.Bus.Batches() {
		published = append(published, eventIDs(b))
	}
	equal(t, "published batches", published, [][]string{{"e-1", "e-2", "e-3"}, {"e-4"}})
}

func testEventsInvalidBatch(t *testing.T, s Stores) {
	ctx := t.Context()
	bad := view("e-2", "u-1", "i-1", "s-a", 1)
	bad.Type = "teleport"
	_, err := s.Events.CreateEvents(ctx, []*qianmian.Event{view("e-1", "u-1", "i-1", "s-a", 0), bad})
	wantField(t, "batch with an unknown type", err, "type")

	future := view("e-3", "u-1", "i-1", "s-a", 0)
	future.OccurredAt = Now().Add(qianmian.MaxFutureSkew + time.Hour)
	_, err = s.Events.CreateEvents(ctx, []*qianmian.Event{future})
	wantField(t, "event after the store's clock allows", err, "occurred_at")

	n, err := s.Events.CountEvents(ctx)
	must(t, err)
	if n != 0 || len(s.Bus.Batches()) != 0 {
		t.Fatalf("rejected batches stored %d events and published %d batches", n, len(s.Bus.Batches()))
	}
}

func testEventsPublishAfterCommit(t *testing.T, s Stores) {
	var mu sync.Mutex
	var problems []string
	s.Bus.OnPublish(func(ctx context.Context, events []*qianmian.Event) {
		// Another reader must already see every published event: it was committed first.
		for _, e := range events {
			got, err := s.Events.FindEvents(context.Background(), qianmian.EventFilter{AfterSeq: e.Seq - 1, Limit: 1})
			mu.Lock()
			if err != nil {
				problems = append(problems, err.Error())
			} else if len(got) != 1 || got[0].ID != e.ID {
				problems = append(problems, fmt.Sprintf("event %s (seq %d) published before it was visible", e.ID, e.Seq))
			}
			mu.Unlock()
		}
	})
	first := []*qianmian.Event{view("e-1", "u-1", "i-1", "s-a", 0), view("e-2", "u-1", "i-2", "s-a", 1)}
	create(t, s, first...)
	second := []*qianmian.Event{view("e-2", "u-1", "i-2", "s-a", 1), view("e-3", "u-1", "i-3", "s-a", 2)}
	create(t, s, second...)

	mu.Lock()
	defer mu.Unlock()
	if len(problems) > 0 {
		t.Fatalf("publishing: %v", problems)
	}
	batches := s.Bus.Batches()
	if len(batches) != 2 {
		t.Fatalf("%d batches published, want 2", len(batches))
	}
	equal(t, "first published batch", batches[0], first)
	equal(t, "second published batch (the new event only)", batches[1], second[1:])
}

func testEventsIdentityLinking(t *testing.T, s Stores) {
	ctx := t.Context()
	dev := qianmian.IdentityRef{Channel: qianmian.ChannelApp, Type: qianmian.IdentityDevice, Value: "dev-1"}

	browse := []*qianmian.Event{anon("e-1", dev, "i-1", "s-a", 0), anon("e-2", dev, "i-2", "s-b", 1)}
	create(t, s, browse...)
	for _, e := range browse {
		if e.UserID != "" {
			t.Fatalf("anonymous event %s of an unlinked identity got user %q", e.ID, e.UserID)
		}
	}
	equal(t, "u-1's events before the link", find(t, s, qianmian.EventFilter{UserID: "u-1"}), []string{})
	if ok, err := s.Events.HasStoreInteraction(ctx, "u-1", "s-a"); err != nil || ok {
		t.Fatalf("HasStoreInteraction(u-1, s-a) before the link=%v, %v; want false", ok, err)
	}

	login := anon("e-3", dev, "i-3", "s-c", 2)
	login.UserID = "u-1"
	create(t, s, login)
	equal(t, "u-1's events after the link", find(t, s, qianmian.EventFilter{UserID: "u-1"}), []string{"e-1", "e-2", "e-3"})
	equal(t, "u-1's events at s-b", find(t, s, qianmian.EventFilter{UserID: "u-1", StoreID: "s-b"}), []string{"e-2"})
	if ok, err := s.Events.HasStoreInteraction(ctx, "u-1", "s-a"); err != nil || !ok {
		t.Fatalf("HasStoreInteraction(u-1, s-a) via the linked identity=%v, %v; want true", ok, err)
	}
	if user, err := s.Identities.ResolveIdentity(ctx, dev); err != nil || user != "u-1" {
		t.Fatalf("ResolveIdentity after the login event=%q, %v; want u-1", user, err)
	}

	later := anon("e-4", dev, "i-4", "s-a", 3)
	create(t, s, later)
	if later.UserID != "u-1" {
		t.Fatalf("a new anonymous event of a linked identity got user %q, want u-1", later.UserID)
	}
	got, err := s.Events.FindEvents(ctx, qianmian.EventFilter{ItemID: "i-4"})
	must(t, err)
	if len(got) != 1 || got[0].UserID != "u-1" || got[0].Identity == nil || *got[0].Identity != dev {
		t.Fatalf("stored e-4 is %+v, want user u-1 and identity %v", got, dev)
	}
	equal(t, "u-1's events at the end", find(t, s, qianmian.EventFilter{UserID: "u-1"}), []string{"e-1", "e-2", "e-3", "e-4"})
	equal(t, "u-2's events", find(t, s, qianmian.EventFilter{UserID: "u-2"}), []string{})
	equal(t, "published e-4", s.Bus.Published()[3].UserID, "u-1")
}

func testEventsLinkInBatch(t *testing.T, s Stores) {
	dev := qianmian.IdentityRef{Channel: qianmian.ChannelWeb, Type: qianmian.IdentityDevice, Value: "cookie-9"}
	before := anon("e-1", dev, "i-1", "s-a", 0)
	login := anon("e-2", dev, "i-2", "s-a", 1)
	login.UserID = "u-2"
	after := anon("e-3", dev, "i-3", "s-a", 2)
	create(t, s, before, login, after)
	if before.UserID != "" || after.UserID != "u-2" {
		t.Fatalf("in one batch: the event before the link got user %q (want none), the one after %q (want u-2)",
			before.UserID, after.UserID)
	}
	equal(t, "u-2's events", find(t, s, qianmian.EventFilter{UserID: "u-2"}), []string{"e-1", "e-2", "e-3"})
}

func testEventsConflictingLink(t *testing.T, s Stores) {
	ctx := t.Context()
	card := qianmian.IdentityRef{Channel: qianmian.ChannelOffline, Type: qianmian.IdentityMembership, Value: "M-7"}
	must(t, s.Identities.LinkIdentity(ctx, card, "u-1"))
	other := anon("e-1", card, "i-1", "s-a", 0)
	other.UserID = "u-2"
	equal(t, "event conflicting with a link", create(t, s, other), qianmian.EventResult{Accepted: 1})
	if user, err := s.Identities.ResolveIdentity(ctx, card); err != nil || user != "u-1" {
		t.Fatalf("ResolveIdentity after a conflicting event=%q, %v; want u-1 (the first link)", user, err)
	}
	equal(t, "u-2's events", find(t, s, qianmian.EventFilter{UserID: "u-2"}), []string{"e-1"})
	equal(t, "u-1's events", find(t, s, qianmian.EventFilter{UserID: "u-1"}), []string{})
	next := anon("e-2", card, "i-2", "s-a", 1)
	create(t, s, next)
	if next.UserID != "u-1" {
		t.Fatalf("an anonymous event of the card got user %q, want u-1", next.UserID)
	}
}

func testEventsFilters(t *testing.T, s Stores) {
	cart := view("e1", "u-1", "i-1", "s-a", 60)
	cart.Type = qianmian.EventCart
	buy3 := view("e3", "u-1", "i-2", "s-b", 180)
	buy3.Type = qianmian.EventPurchase
	search := &qianmian.Event{ID: "e4", Type: qianmian.EventSearch, UserID: "u-2", StoreID: "s-a", Query: "tea",
		Channel: qianmian.ChannelWeb, OccurredAt: t0().Add(240 * time.Minute)}
	buy6 := view("e6", "u-2", "i-1", "s-a", 90) // stored last, happened earlier
	buy6.Type = qianmian.EventPurchase
	events := []*qianmian.Event{view("e0", "u-1", "i-1", "s-a", 0), cart, view("e2", "u-2", "i-2", "s-b", 120),
		buy3, search, view("e5", "u-1", "i-3", "", 300), buy6}
	create(t, s, events...)
	seq := func(i int) int64 { return events[i].Seq }
	at := func(minutes int) time.Time { return t0().Add(time.Duration(minutes) * time.Minute) }

	for _, tt := range []struct {
		name   string
		filter qianmian.EventFilter
		want   []string
	}{
		{"All", qianmian.EventFilter{}, []string{"e0", "e1", "e2", "e3", "e4", "e5", "e6"}},
		{"Type", qianmian.EventFilter{Types: []qianmian.EventType{qianmian.EventView}}, []string{"e0", "e2", "e5"}},
		{"Types", qianmian.EventFilter{Types: []qianmian.EventType{qianmian.EventCart, qianmian.EventPurchase}}, []string{"e1", "e3", "e6"}},
		{"Store", qianmian.EventFilter{StoreID: "s-a"}, []string{"e0", "e1", "e4", "e6"}},
		{"Item", qianmian.EventFilter{ItemID: "i-1"}, []string{"e0", "e1", "e6"}},
		{"Since", qianmian.EventFilter{Since: at(120)}, []string{"e2", "e3", "e4", "e5"}},
		{"Until", qianmian.EventFilter{Until: at(90)}, []string{"e0", "e1"}},
		{"SinceUntil", qianmian.EventFilter{Since: at(60), Until: at(180)}, []string{"e1", "e2", "e6"}},
		{"AfterSeq", qianmian.EventFilter{AfterSeq: seq(3)}, []string{"e4", "e5", "e6"}},
		{"Limit", qianmian.EventFilter{Limit: 2}, []string{"e0", "e1"}},
		{"AfterSeqLimit", qianmian.EventFilter{AfterSeq: seq(1), Limit: 2}, []string{"e2", "e3"}},
		{"User", qianmian.EventFilter{UserID: "u-2"}, []string{"e2", "e4", "e6"}},
		{"UserStore", qianmian.EventFilter{UserID: "u-1", StoreID: "s-b"}, []string{"e3"}},
		{"UserTypes", qianmian.EventFilter{UserID: "u-2", Types: []qianmian.EventType{qianmian.EventView}}, []string{"e2"}},
		{"StoreItemTypeSince", qianmian.EventFilter{StoreID: "s-a", ItemID: "i-1",
			Types: []qianmian.EventType{qianmian.EventPurchase, qianmian.EventView}, Since: at(1)}, []string{"e6"}},
		{"NoMatch", qianmian.EventFilter{UserID: "u-9"}, []string{}},
	} {
		equal(t, "events "+tt.name, find(t, s, tt.filter), tt.want)
	}
}

func testEventsScanStopsEarly(t *testing.T, s Stores) {
	var events []*qianmian.Event
	for i := range 100 {
		events = append(events, view(fmt.Sprintf("e-%03d", i), "u-1", "i-1", "s-a", i))
	}
	create(t, s, events...)
	// Stopping early must release what the scan holds; do it more often than any pool is big.
	for range 20 {
		var ids []string
		for e, err := range s.Events.ScanEvents(t.Context(), qianmian.EventFilter{UserID: "u-1"}) {
			must(t, err)
			ids = append(ids, e.ID)
			if len(ids) == 3 {
				break
			}
		}
		equal(t, "first three scanned", ids, []string{"e-000", "e-001", "e-002"})
	}
	n := 0
	for _, err := range s.Events.ScanEvents(t.Context(), qianmian.EventFilter{}) {
		must(t, err)
		n++
	}
	if n != 100 {
		t.Fatalf("ScanEvents gave %d events, want 100", n)
	}
}

func testEventsHasStoreInteraction(t *testing.T, s Stores) {
	ctx := t.Context()
	card := qianmian.IdentityRef{Channel: qianmian.ChannelOffline, Type: qianmian.IdentityMembership, Value: "M-3"}
	visit := &qianmian.Event{ID: "e-2", Type: qianmian.EventVisit, Identity: &card, StoreID: "s-c",
		Channel: qianmian.ChannelOffline, OccurredAt: t0()}
	create(t, s, view("e-1", "u-1", "i-1", "s-a", 0), visit)
	must(t, s.Identities.LinkIdentity(ctx, card, "u-1"))
	for _, tt := range []struct {
		user, store string
		want        bool
	}{
		{"u-1", "s-a", true},
		{"u-1", "s-c", true}, // through the card, linked after the visit
		{"u-1", "s-b", false},
		{"u-2", "s-a", false},
	} {
		got, err := s.Events.HasStoreInteraction(ctx, tt.user, tt.store)
		must(t, err)
		if got != tt.want {
			t.Errorf("HasStoreInteraction(%s, %s)=%v, want %v", tt.user, tt.store, got, tt.want)
		}
	}
}

// testEventsFindEventUsers: the users with behaviour in the log are those named by an event
// and those an identity is linked to, each once, in id order, paged by After and Limit; a
// user with no behaviour and an identity never linked are not among them.
func testEventsFindEventUsers(t *testing.T, s Stores) {
	ctx := t.Context()
	dev := qianmian.IdentityRef{Channel: qianmian.ChannelApp, Type: qianmian.IdentityDevice, Value: "dev-5"}
	lone := qianmian.IdentityRef{Channel: qianmian.ChannelWeb, Type: qianmian.IdentityDevice, Value: "cookie-1"}
	list := func(page qianmian.Page) []string {
		t.Helper()
		ids, err := s.Events.FindEventUsers(ctx, page)
		must(t, err)
		if ids == nil {
			ids = []string{}
		}
		return ids
	}
	equal(t, "event users of an empty log", list(qianmian.Page{}), []string{})

	must(t, s.Users.UpsertUsers(ctx, []*qianmian.User{{ID: "u-0", Consent: qianmian.DefaultConsent()}}))
	create(t, s, view("e-1", "u-3", "i-1", "s-a", 0), view("e-2", "u-1", "i-1", "s-a", 1),
		view("e-3", "u-3", "i-2", "s-a", 2), anon("e-4", dev, "i-1", "s-b", 3), anon("e-5", lone, "i-1", "s-b", 4),
		view("e-6", "u-1", "i-3", "s-b", 5))
	must(t, s.Identities.LinkIdentity(ctx, dev, "u-2"))

	equal(t, "event users", list(qianmian.Page{}), []string{"u-1", "u-2", "u-3"})
	equal(t, "first page", list(qianmian.Page{Limit: 2}), []string{"u-1", "u-2"})
	equal(t, "next page", list(qianmian.Page{After: "u-2", Limit: 2}), []string{"u-3"})
	equal(t, "after the last", list(qianmian.Page{After: "u-3"}), []string{})

	// A user both named by events and linked to an identity is listed once.
	must(t, s.Identities.LinkIdentity(ctx, lone, "u-1"))
	equal(t, "event users after a second link", list(qianmian.Page{}), []string{"u-1", "u-2", "u-3"})
}

// A brief listing has the same events, in the same order, as the full one, with the fields
// rankings learn from: for a user's own events, the events of an identity linked to the user
// (which arrived anonymously, stored without a user), and with every other filter.
func testEventsBrief(t *testing.T, s Stores) {
	dev := qianmian.IdentityRef{Channel: qianmian.ChannelApp, Type: qianmian.IdentityDevice, Value: "dev-b"}
	review := view("b-2", "u-1", "i-2", "s-a", 20)
	review.Type, review.Rating, review.Text = qianmian.EventReview, 4, "good"
	buy := view("b-4", "u-1", "i-1", "s-b", 40)
	buy.Type, buy.Quantity, buy.Amount = qianmian.EventPurchase, 2, 19.8
	login := anon("b-5", dev, "i-4", "s-a", 50)
	login.UserID = "u-1"
	events := []*qianmian.Event{view("b-0", "u-1", "i-1", "s-a", 0), anon("b-1", dev, "i-3", "s-b", 10),
		review, view("b-3", "u-2", "i-1", "s-a", 30), buy, login, anon("b-6", dev, "i-5", "s-b", 60),
		anon("b-7", qianmian.IdentityRef{Channel: qianmian.ChannelWeb, Type: qianmian.IdentityDevice, Value: "other"}, "i-1", "s-a", 70)}
	create(t, s, events...)
	at := func(minutes int) time.Time { return t0().Add(time.Duration(minutes) * time.Minute) }
	brief := func(list []*qianmian.Event) []*qianmian.Event {
		out := []*qianmian.Event{}
		for _, e := range list {
			out = append(out, &qianmian.Event{Seq: e.Seq, Type: e.Type, UserID: e.UserID, ItemID: e.ItemID,
				Rating: e.Rating, OccurredAt: e.OccurredAt})
		}
		return out
	}
	for _, tt := range []struct {
		name   string
		filter qianmian.EventFilter
		want   []string
	}{
		{"User", qianmian.EventFilter{UserID: "u-1"}, []string{"b-0", "b-1", "b-2", "b-4", "b-5", "b-6"}},
		{"UserSince", qianmian.EventFilter{UserID: "u-1", Since: at(15)}, []string{"b-2", "b-4", "b-5", "b-6"}},
		{"UserTypes", qianmian.EventFilter{UserID: "u-1",
			Types: []qianmian.EventType{qianmian.EventPurchase, qianmian.EventReview}}, []string{"b-2", "b-4"}},
		{"UserLimit", qianmian.EventFilter{UserID: "u-1", Limit: 3}, []string{"b-0", "b-1", "b-2"}},
		{"UserAfterSeq", qianmian.EventFilter{UserID: "u-1", AfterSeq: events[2].Seq}, []string{"b-4", "b-5", "b-6"}},
		{"UserStore", qianmian.EventFilter{UserID: "u-1", StoreID: "s-b"}, []string{"b-1", "b-4", "b-6"}},
		{"UserAndIdentity", qianmian.EventFilter{UserID: "u-1", Identity: &dev}, []string{"b-1"}},
		{"Identity", qianmian.EventFilter{Identity: &qianmian.IdentityRef{Channel: qianmian.ChannelWeb,
			Type: qianmian.IdentityDevice, Value: "other"}}, []string{"b-7"}},
		{"All", qianmian.EventFilter{Since: at(25), Until: at(65)}, []string{"b-3", "b-4", "b-5", "b-6"}},
	} {
		full, err := s.Events.FindEvents(t.Context(), tt.filter)
		must(t, err)
		equal(t, "events "+tt.name, eventIDs(full), tt.want)
		f := tt.filter
		f.Brief = true
		got, err := s.Events.FindEvents(t.Context(), f)
		must(t, err)
		for _, e := range got {
			e.ID = "" // a store may fill more than it must
			e.Identity, e.StoreID, e.Channel, e.Query, e.Text = nil, "", "", "", ""
			e.Quantity, e.Amount, e.Context, e.RecID = 0, 0, qianmian.EventContext{}, ""
		}
		equal(t, "brief events "+tt.name, got, brief(full))
		var scanned []*qianmian.Event
		for e, err := range s.Events.ScanEvents(t.Context(), f) {
			must(t, err)
			scanned = append(scanned, e)
		}
		equal(t, "brief ScanEvents "+tt.name, brief(scanned), brief(full))
	}
}

// With Newest, a limit keeps the newest matching events, still listed in Seq order: across a
// user's own events and those of an identity linked to them, with any other filter. Only
// listing takes it; a scan streams from the oldest and refuses it.
func testEventsNewest(t *testing.T, s Stores) {
	dev := qianmian.IdentityRef{Channel: qianmian.ChannelApp, Type: qianmian.IdentityDevice, Value: "dev-n"}
	buy := view("n-3", "u-1", "i-2", "s-a", 30)
	buy.Type = qianmian.EventPurchase
	login := anon("n-4", dev, "i-3", "s-a", 40)
	login.UserID = "u-1"
	create(t, s, view("n-0", "u-1", "i-1", "s-a", 0), anon("n-1", dev, "i-2", "s-b", 10),
		view("n-2", "u-2", "i-1", "s-a", 20), buy, login, view("n-5", "u-1", "i-4", "s-b", 50),
		view("n-6", "u-2", "i-4", "s-b", 5)) // stored last, happened early
	for _, tt := range []struct {
		name   string
		filter qianmian.EventFilter
		want   []string
	}{
		{"Log", qianmian.EventFilter{Limit: 3, Newest: true}, []string{"n-4", "n-5", "n-6"}},
		{"User", qianmian.EventFilter{UserID: "u-1", Limit: 2, Newest: true}, []string{"n-4", "n-5"}},
		// n-1 arrived anonymously, before its identity was linked: the second walk.
		{"UserLinked", qianmian.EventFilter{UserID: "u-1", Limit: 4, Newest: true}, []string{"n-1", "n-3", "n-4", "n-5"}},
		{"UserAll", qianmian.EventFilter{UserID: "u-1", Limit: 9, Newest: true}, []string{"n-0", "n-1", "n-3", "n-4", "n-5"}},
		{"UserNoLimit", qianmian.EventFilter{UserID: "u-2", Newest: true}, []string{"n-2", "n-6"}},
		{"UserTypes", qianmian.EventFilter{UserID: "u-1", Limit: 1, Newest: true,
			Types: []qianmian.EventType{qianmian.EventPurchase, qianmian.EventClick}}, []string{"n-3"}},
		{"UserSince", qianmian.EventFilter{UserID: "u-1", Limit: 2, Newest: true, Since: t0().Add(5 * time.Minute)}, []string{"n-4", "n-5"}},
		{"Identity", qianmian.EventFilter{UserID: "u-1", Identity: &dev, Limit: 1, Newest: true}, []string{"n-1"}},
		{"Store", qianmian.EventFilter{StoreID: "s-b", Limit: 2, Newest: true}, []string{"n-5", "n-6"}},
	} {
		found, err := s.Events.FindEvents(t.Context(), tt.filter)
		must(t, err)
		equal(t, "newest events "+tt.name, eventIDs(found), tt.want)
	}
	for _, err := range s.Events.ScanEvents(t.Context(), qianmian.EventFilter{UserID: "u-1", Limit: 2, Newest: true}) {
		if err == nil || qianmian.ErrorCode(err) != qianmian.EINVALID {
			t.Fatalf("ScanEvents with Newest: error %v, want one of code %s", err, qianmian.EINVALID)
		}
		break
	}
}
