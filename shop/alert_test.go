package shop_test

import (
	"bytes"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/qianmian/qianmian"
	"github.com/qianmian/qianmian/shop"
	"github.com/qianmian/qianmian/sqlite"
)

// generous bounds a wait for something that should take milliseconds: long enough that a
// loaded machine does not fail the test, which logs the time actually taken.
const generous = 5 * time.Second

// TestAlert_ReachesWebhook: a visit by a known consumer who consented reaches the store's
// webhook, signed, with their name, what they looked at online and the store's stock.
func TestAlert_ReachesWebhook(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	r := newReceiver(t, 0)
	e.setWebhook(r.srv.URL + "/hook")
	e.start(shop.DefaultBackoff())

	start := time.Now()
	e.visit("visit-1", user("alice"))
	d := r.next(t, generous)
	latency := d.at.Sub(start)
	t.Logf("visit committed → webhook received: %s", latency)
	if latency > time.Second {
		t.Logf("slower than the 1 s target (a loaded machine?)")
	}

	if d.verifyErr != nil || d.jsonErr != nil {
		t.Fatalf("delivery does not verify (%v) or parse (%v): %s", d.verifyErr, d.jsonErr, d.body)
	}
	if want := shop.AlertID("visit-1"); d.alertID != want || d.alert.ID != want {
		t.Fatalf("alert id header %q, body %q; want %q", d.alertID, d.alert.ID, want)
	}
	tampered := bytes.Replace(d.body, []byte("Alice Li"), []byte("Alice Lu"), 1)
	for _, tt := range []struct {
		name             string
		secret, ts, sig  string
		body             []byte
		wantErr, wantBad bool
	}{
		{"Genuine", secret, d.ts, d.sig, d.body, false, false},
		{"TamperedBody", secret, d.ts, d.sig, tampered, true, true},
		{"OtherTimestamp", secret, "1700000000", d.sig, d.body, true, true},
		{"OtherSecret", "another-secret-0000", d.ts, d.sig, d.body, true, true},
		{"NoPrefix", secret, d.ts, strings.TrimPrefix(d.sig, "sha256="), d.body, true, false},
	} {
		err := shop.Verify(tt.secret, tt.ts, tt.body, tt.sig)
		if (err != nil) != tt.wantErr || tt.wantBad && err != shop.ErrBadSignature {
			t.Errorf("Verify %s = %v", tt.name, err)
		}
	}

	a := d.alert
	if a.StoreID != "s1" || a.EventID != "visit-1" || a.Delivery != nil {
		t.Errorf("alert store %q, event %q, delivery %+v", a.StoreID, a.EventID, a.Delivery)
	}
	if v := a.Visitor; !v.Consented || v.UserID != "alice" || v.Name != "Alice Li" || !strings.HasPrefix(v.Ref, "v_") {
		t.Errorf("visitor = %+v", v)
	}
	if bytes.Contains(d.body, []byte("13800000001")) {
		t.Error("the alert carries the visitor's phone, which it never shares")
	}
	// Newest first, each item once, online only (i6 was seen offline); i1 is in stock here,
	// i4 is carried but out of stock, i5 is not carried.
	wantRecent := []qianmian.AlertItem{
		{ItemID: "i4", Title: "Title i4"}, {ItemID: "i5", Title: "Title i5"}, {ItemID: "i1", Title: "Title i1", InStockHere: true},
	}
	if len(a.RecentlyViewed) != len(wantRecent) {
		t.Fatalf("recently viewed = %+v", a.RecentlyViewed)
	}
	for i, w := range wantRecent {
		got := a.RecentlyViewed[i]
		if got.ItemID != w.ItemID || got.Title != w.Title || got.InStockHere != w.InStockHere || got.ViewedAt.IsZero() {
			t.Errorf("recently viewed[%d] = %+v, want %+v", i, got, w)
		}
	}
	if got := itemIDs(a.Suggestions); !slices.Equal(got, []string{"i1", "i2", "i3"}) || a.Suggestions[0].Title != "Title i1" ||
		len(a.Suggestions[0].Reasons) == 0 || !a.Personalized {
		t.Errorf("suggestions = %+v, personalized %v", a.Suggestions, a.Personalized)
	}
	reqs := e.rec.requests()
	if len(reqs) != 1 || reqs[0].UserID != "alice" || reqs[0].StoreID != "s1" ||
		reqs[0].Context.Channel != qianmian.ChannelOffline || reqs[0].Context.LocationType != qianmian.LocationStore {
		t.Errorf("recommend requests = %+v", reqs)
	}

	list := waitDelivered(t, e, a.ID, 1)
	if d := list.Delivery; d.Attempts != 1 {
		t.Errorf("delivery = %+v, want delivered at the first attempt", d)
	}
	for name, want := range map[string]float64{
		"qianmian_store_alerts_created_total":       1,
		"qianmian_store_alert_deliveries_total":     1,
		"qianmian_store_alert_retries_total":        0,
		"qianmian_store_alert_delivery_seconds":     1, // one observation
		"qianmian_store_alert_visits_skipped_total": 0,
	} {
		if got := metric(t, e.reg, name); got != want {
			t.Errorf("%s = %v, want %v", name, got, want)
		}
	}
}

func itemIDs(list []qianmian.AlertItem) []string {
	var out []string
	for _, it := range list {
		out = append(out, it.ItemID)
	}
	return out
}

// TestAlert_OnlyKnownConsumers: anonymous visitors, consumers with no online behaviour and
// repeated visits within the cooldown make no alert; an identity linked to a user does.
func TestAlert_OnlyKnownConsumers(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	r := newReceiver(t, 0)
	e.setWebhook(r.srv.URL)
	must(t, sqlite.NewIdentityService(e.db).LinkIdentity(t.Context(),
		qianmian.IdentityRef{Channel: qianmian.ChannelOffline, Type: qianmian.IdentityMembership, Value: "card-42"}, "bob"))
	e.start(shop.DefaultBackoff())

	card := func(v string) func(*qianmian.Event) {
		return func(ev *qianmian.Event) {
			ev.Identity = &qianmian.IdentityRef{Channel: qianmian.ChannelOffline, Type: qianmian.IdentityMembership, Value: v}
		}
	}
	e.visit("anon", card("card-999")) // an identity nobody linked
	e.visit("dave", user("dave"))     // known offline only
	e.visit("ghost", user("ghost"))   // no behaviour at all
	e.visit("alice-1", user("alice"))
	e.visit("alice-2", user("alice")) // within the cooldown
	e.visit("bob-card", card("card-42"))

	var got []string
	for range 2 {
		d := r.next(t, generous)
		got = append(got, d.alertID)
		if d.alertID == shop.AlertID("bob-card") && d.alert.Visitor.Ref == "" {
			t.Errorf("bob's alert has no visitor ref: %s", d.body)
		}
	}
	slices.Sort(got)
	want := []string{shop.AlertID("alice-1"), shop.AlertID("bob-card")}
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("alerts delivered %v, want %v (alice-1, bob-card)", got, want)
	}
	r.quiet(t, 300*time.Millisecond)
	list, err := e.alerts.FindAlerts(t.Context(), qianmian.AlertFilter{StoreID: "s1"})
	if err != nil || len(list) != 2 {
		t.Fatalf("stored alerts = %d, %v; want 2", len(list), err)
	}
	if got := metricLabel(t, e.reg, "qianmian_store_alert_visits_skipped_total", "reason"); got["anonymous"] != 1 ||
		got["unknown"] != 2 || got["cooldown"] != 1 {
		t.Errorf("skipped visits by reason = %v, want anonymous 1, unknown 2, cooldown 1", got)
	}
}

// TestAlert_ConsentDecidesWhatIsShared: without store-alert consent a store learns only an
// opaque reference and its own popular items; without personalisation, no recent views.
func TestAlert_ConsentDecidesWhatIsShared(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	r := newReceiver(t, 0)
	e.setWebhook(r.srv.URL)
	e.start(shop.DefaultBackoff())

	e.visit("visit-b", user("bob"))
	bob := r.next(t, generous)
	e.visit("carol-1", user("carol"))
	carol := r.next(t, generous)

	if v := bob.alert.Visitor; v.Consented || v.UserID != "" || v.Name != "" || !strings.HasPrefix(v.Ref, "v_") {
		t.Errorf("bob (no consent): visitor = %+v", v)
	}
	for _, s := range []string{"bob", "Bob Wang", "viewed similar"} {
		if bytes.Contains(bob.body, []byte(s)) {
			t.Errorf("bob's alert mentions %q: %s", s, bob.body)
		}
	}
	if len(bob.alert.RecentlyViewed) != 0 || bob.alert.Personalized || len(bob.alert.Suggestions) != 3 {
		t.Errorf("bob: recent %v, personalized %v, suggestions %v", bob.alert.RecentlyViewed, bob.alert.Personalized, bob.alert.Suggestions)
	}

	if v := carol.alert.Visitor; !v.Consented || v.UserID != "carol" || v.Name != "Carol Chen" {
		t.Errorf("carol (store alerts, no personalisation): visitor = %+v", v)
	}
	if len(carol.alert.RecentlyViewed) != 0 || carol.alert.Personalized {
		t.Errorf("carol: recent %v, personalized %v", carol.alert.RecentlyViewed, carol.alert.Personalized)
	}
	for _, req := range e.rec.requests() {
		if req.UserID != "" {
			t.Errorf("a ranking was personalised for %s without consent", req.UserID)
		}
	}
	if bob.alert.Visitor.Ref == carol.alert.Visitor.Ref {
		t.Error("two visitors share a reference")
	}
}

// TestDispatcher_RetriesWithBackoff: a receiver that fails three times gets the alert at
// the fourth attempt, the gaps growing, every attempt signed and with the same alert id.
func TestDispatcher_RetriesWithBackoff(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	r := newReceiver(t, 3)
	e.setWebhook(r.srv.URL)
	base := 200 * time.Millisecond
	e.start(shop.Backoff{Base: base, Max: time.Minute, Jitter: 0.1})

	e.visit("visit-r", user("alice"))
	var got []delivery
	for range 4 {
		got = append(got, r.next(t, generous))
	}
	r.quiet(t, 8*base)
	var statuses []int
	for _, d := range got {
		statuses = append(statuses, d.status)
		if d.alertID != shop.AlertID("visit-r") || d.verifyErr != nil {
			t.Errorf("attempt for %s: signature %v", d.alertID, d.verifyErr)
		}
	}
	if !slices.Equal(statuses, []int{500, 500, 500, 200}) {
		t.Fatalf("statuses = %v", statuses)
	}
	var gaps []time.Duration
	for i := 1; i < len(got); i++ {
		gaps = append(gaps, got[i].at.Sub(got[i-1].at))
	}
	t.Logf("gaps between attempts: %v (backoff %v doubling, ±10%%)", gaps, base)
	for i, g := range gaps {
		floor := time.Duration(float64(base<<i) * 0.9)
		if g < floor {
			t.Errorf("gap %d = %v, shorter than the backoff's %v", i+1, g, floor)
		}
		if i > 0 && g <= gaps[i-1] {
			t.Errorf("gap %d = %v does not grow from %v", i+1, g, gaps[i-1])
		}
	}
	waitDelivered(t, e, shop.AlertID("visit-r"), 4)
	if got := metric(t, e.reg, "qianmian_store_alert_retries_total"); got != 3 {
		t.Errorf("retries = %v, want 3", got)
	}
	if got := metricLabel(t, e.reg, "qianmian_store_alert_failed_attempts_total", "reason"); got["http_5xx"] != 3 {
		t.Errorf("failed attempts = %v, want http_5xx 3", got)
	}
}

// TestDispatcher_DeliversAcrossRestart: the server stops after two failed attempts; the
// next one, on the same database file, resumes the retries and the receiver acknowledges
// the alert exactly once.
func TestDispatcher_DeliversAcrossRestart(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	r := newReceiver(t, 3)
	e.setWebhook(r.srv.URL)
	backoff := shop.Backoff{Base: 300 * time.Millisecond, Max: time.Minute, Jitter: 0.1}
	e.start(backoff)

	e.visit("visit-x", user("alice"))
	id := shop.AlertID("visit-x")
	r.next(t, generous)
	r.next(t, generous)
	waitAttempts(t, e, id, 2) // recorded: the restart must not lose them
	e.restart(backoff)

	var acked int
	for acked == 0 {
		if d := r.next(t, generous); d.status == http.StatusOK {
			acked++
		}
	}
	r.quiet(t, time.Second)
	all := r.deliveries()
	var oks int
	for _, d := range all {
		if d.alertID != id || d.verifyErr != nil {
			t.Errorf("request for alert %q, signature %v", d.alertID, d.verifyErr)
		}
		if d.status == http.StatusOK {
			oks++
		}
	}
	// An attempt cut short by the shutdown after the receiver saw it is not counted, so the
	// receiver may see one request more than the attempts recorded.
	if oks != 1 || len(all) < 4 {
		t.Fatalf("receiver got %d requests, %d acknowledged; want at least 4 and exactly 1", len(all), oks)
	}
	a := waitAttempts(t, e, id, 3)
	if a.Delivery.State != qianmian.DeliveryDelivered || a.Delivery.Attempts > len(all) {
		t.Fatalf("delivery %+v after %d requests", a.Delivery, len(all))
	}
	t.Logf("%d requests, %d attempts recorded", len(all), a.Delivery.Attempts)
}

// TestAlerter_CatchesUpAfterRestart: a visit stored while no alerter runs (the server died
// between the event's commit and the alert's) makes its alert at the next start, and a
// delivered alert is not made or sent again by a later start.
func TestAlerter_CatchesUpAfterRestart(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	r := newReceiver(t, 0)
	e.setWebhook(r.srv.URL)
	e.start(shop.DefaultBackoff()) // sets the cursor at the end of the log
	e.stop()

	e.visit("while-down", user("alice"))
	e.restart(shop.DefaultBackoff())
	if d := r.next(t, generous); d.alertID != shop.AlertID("while-down") {
		t.Fatalf("got alert %s", d.alertID)
	}
	waitDelivered(t, e, shop.AlertID("while-down"), 1)

	e.restart(shop.DefaultBackoff())
	r.quiet(t, 500*time.Millisecond)
	if list, _ := e.alerts.FindAlerts(t.Context(), qianmian.AlertFilter{StoreID: "s1"}); len(list) != 1 {
		t.Fatalf("%d alerts after a second restart, want 1", len(list))
	}
}

// TestAlerter_IgnoresOldVisits: visits older than MaxVisitAge (an import, a late upload)
// make no alert.
func TestAlerter_IgnoresOldVisits(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.start(shop.DefaultBackoff())
	old := &qianmian.Event{ID: "old", Type: qianmian.EventVisit, UserID: "alice", StoreID: "s1",
		Channel: qianmian.ChannelOffline, OccurredAt: time.Now().Add(-time.Hour)}
	if _, err := e.events.CreateEvents(t.Context(), []*qianmian.Event{old}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(generous)
	for metricLabel(t, e.reg, "qianmian_store_alert_visits_skipped_total", "reason")["stale"] != 1 {
		if time.Now().After(deadline) {
			t.Fatal("the old visit was not skipped as stale")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if list, _ := e.alerts.FindAlerts(t.Context(), qianmian.AlertFilter{StoreID: "s1"}); len(list) != 0 {
		t.Fatalf("an old visit made %d alerts", len(list))
	}
}

func TestBackoff_Delay(t *testing.T) {
	t.Parallel()
	b := shop.DefaultBackoff()
	for _, tt := range []struct {
		n    int
		u    float64
		want time.Duration
	}{
		{1, 0.5, time.Second},
		{2, 0.5, 2 * time.Second},
		{3, 0.5, 4 * time.Second},
		{1, 0, 800 * time.Millisecond},
		{1, 1, 1200 * time.Millisecond},
		{9, 0.5, 256 * time.Second},
		{10, 0.5, 5 * time.Minute},
		{1000, 0.5, 5 * time.Minute},
	} {
		if got := b.Delay(tt.n, tt.u); got != tt.want {
			t.Errorf("Delay(%d, %v) = %v, want %v", tt.n, tt.u, got, tt.want)
		}
	}
}

// waitAttempts waits until the alert's delivery has recorded n attempts.
func waitAttempts(t *testing.T, e *env, id string, n int) *qianmian.StoreAlert {
	t.Helper()
	deadline := time.Now().Add(generous)
	for {
		list, err := e.alerts.FindAlerts(t.Context(), qianmian.AlertFilter{StoreID: "s1"})
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range list {
			if a.ID == id && a.Delivery != nil && a.Delivery.Attempts >= n {
				return a
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("alert %s has not recorded %d attempts", id, n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// waitDelivered waits until the alert is recorded delivered, after exactly n attempts.
func waitDelivered(t *testing.T, e *env, id string, n int) *qianmian.StoreAlert {
	t.Helper()
	deadline := time.Now().Add(generous)
	for {
		a := waitAttempts(t, e, id, n)
		if a.Delivery.State == qianmian.DeliveryDelivered {
			if a.Delivery.Attempts != n || a.Delivery.DeliveredAt.IsZero() {
				t.Fatalf("alert %s delivered after %d attempts, want %d", id, a.Delivery.Attempts, n)
			}
			return a
		}
		if time.Now().After(deadline) {
			t.Fatalf("alert %s not delivered: %+v", id, a.Delivery)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// metric returns the value of a counter, or the observation count of a histogram, summed
// over labels.
func metric(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	var sum float64
	for _, v := range metricLabel(t, reg, name, "") {
		sum += v
	}
	return sum
}

// metricLabel returns a metric's values by the value of one label.
func metricLabel(t *testing.T, reg *prometheus.Registry, name, label string) map[string]float64 {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			key := ""
			for _, l := range m.GetLabel() {
				if l.GetName() == label {
					key = l.GetValue()
				}
			}
			switch {
			case m.Counter != nil:
				out[key] += m.GetCounter().GetValue()
			case m.Histogram != nil:
				out[key] += float64(m.GetHistogram().GetSampleCount())
			}
		}
	}
	return out
}
