package sqlite_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/qianmian/qianmian"
	"github.com/qianmian/qianmian/privacy"
	"github.com/qianmian/qianmian/sqlite"
	"github.com/qianmian/qianmian/storetest"
)

func testAlert(id, store string) *qianmian.StoreAlert {
	return &qianmian.StoreAlert{
		ID: id, StoreID: store, EventID: "ev-" + id, VisitedAt: storetest.Now().Add(-time.Minute),
		Visitor:        qianmian.Visitor{Ref: "v_1", Consented: true, UserID: "u1", Name: "李小梅"},
		RecentlyViewed: []qianmian.AlertItem{{ItemID: "i1", Title: "Rose EDP", ViewedAt: storetest.Now().Add(-time.Hour)}},
		Suggestions:    []qianmian.AlertItem{{ItemID: "i2", Title: "Lily EDT", Reasons: []string{"popular"}}},
		Personalized:   true,
	}
}

// TestAlertService_Outbox follows one alert through the outbox: made with a pending
// delivery, made again (a no-op), claimed and leased, failed, retried, delivered, pruned.
func TestAlertService_Outbox(t *testing.T) {
	t.Parallel()
	db := mustOpen(t, newDB(t, nil))
	s := sqlite.NewAlertService(db)
	ctx := t.Context()
	now := storetest.Now()

	if err := s.SetWebhook(ctx, &qianmian.Webhook{StoreID: "s1", URL: "https://shop.example/hook", Secret: "0123456789abcdef"}); err != nil {
		t.Fatal(err)
	}
	a := testAlert("al_1", "s1")
	created, err := s.CreateAlert(ctx, a, 41)
	if err != nil || !created {
		t.Fatalf("CreateAlert = %v, %v; want created", created, err)
	}
	if a.Seq == 0 || !a.CreatedAt.Equal(now) {
		t.Fatalf("alert got Seq %d, CreatedAt %v", a.Seq, a.CreatedAt)
	}
	again := testAlert("al_1", "s1")
	if created, err := s.CreateAlert(ctx, again, 42); err != nil || created || again.Seq != 0 {
		t.Fatalf("CreateAlert of a stored id = %v, %v (seq %d); want not created", created, err, again.Seq)
	}
	if cur, err := s.AlertCursor(ctx); err != nil || cur != 42 {
		t.Fatalf("cursor = %d, %v; want 42 (moved even by a repeated alert)", cur, err)
	}
	noHook := testAlert("al_2", "s2") // s2 has no webhook: no delivery
	if _, err := s.CreateAlert(ctx, noHook, 43); err != nil {
		t.Fatal(err)
	}

	list, err := s.FindAlerts(ctx, qianmian.AlertFilter{StoreID: "s1"})
	if err != nil || len(list) != 1 {
		t.Fatalf("FindAlerts(s1) = %d alerts, %v", len(list), err)
	}
	want := *a
	want.Delivery = &qianmian.AlertDelivery{State: qianmian.DeliveryPending, NextAttemptAt: now}
	alertEqualJSON(t, "stored alert", list[0], &want)
	if got, _ := s.FindAlerts(ctx, qianmian.AlertFilter{StoreID: "s2"}); len(got) != 1 || got[0].Delivery != nil {
		t.Fatalf("alert of a store without webhook: %+v", got)
	}

	// Claimed: leased, so not handed out again before the lease ends.
	claimed, err := s.ClaimDeliveries(ctx, now, time.Minute, 10)
	if err != nil || len(claimed) != 1 || claimed[0].ID != "al_1" || claimed[0].Delivery.Attempts != 0 {
		t.Fatalf("ClaimDeliveries = %+v, %v", claimed, err)
	}
	if again, _ := s.ClaimDeliveries(ctx, now.Add(59*time.Second), time.Minute, 10); len(again) != 0 {
		t.Fatalf("a leased delivery was claimed again: %+v", again)
	}
	if next, _ := s.NextDeliveryAt(ctx); !next.Equal(now.Add(time.Minute)) {
		t.Fatalf("NextDeliveryAt = %v, want the lease's end %v", next, now.Add(time.Minute))
	}

	// A failed attempt schedules the next; a release makes it due without counting.
	retry := now.Add(2 * time.Second)
	alertMust(t, s.RecordAttempt(ctx, a.Seq, qianmian.DeliveryAttempt{At: now, Error: "HTTP 500", NextAttemptAt: retry}))
	alertMust(t, s.ReleaseDelivery(ctx, a.Seq, now.Add(time.Second)))
	claimed, err = s.ClaimDeliveries(ctx, now.Add(time.Second), time.Minute, 10)
	if err != nil || len(claimed) != 1 {
		t.Fatalf("ClaimDeliveries after release = %+v, %v", claimed, err)
	}
	if d := claimed[0].Delivery; d.Attempts != 1 || d.LastError != "HTTP 500" || d.State != qianmian.DeliveryPending {
		t.Fatalf("delivery after one failure = %+v", d)
	}
	done := now.Add(3 * time.Second)
	alertMust(t, s.RecordAttempt(ctx, a.Seq, qianmian.DeliveryAttempt{At: done, Delivered: true}))
	list, _ = s.FindAlerts(ctx, qianmian.AlertFilter{StoreID: "s1"})
	if d := list[0].Delivery; d.State != qianmian.DeliveryDelivered || d.Attempts != 2 || !d.DeliveredAt.Equal(done) || !d.NextAttemptAt.IsZero() {
		t.Fatalf("delivery after success = %+v", d)
	}
	if next, _ := s.NextDeliveryAt(ctx); !next.IsZero() {
		t.Fatalf("NextDeliveryAt with nothing pending = %v", next)
	}

	// Given up: failed, kept until pruned.
	b := testAlert("al_3", "s1")
	alertCreate(t, s, b, 44)
	alertMust(t, s.RecordAttempt(ctx, b.Seq, qianmian.DeliveryAttempt{At: now, Error: "timeout"}))
	list, _ = s.FindAlerts(ctx, qianmian.AlertFilter{StoreID: "s1", AfterSeq: a.Seq})
	if len(list) != 1 || list[0].Delivery.State != qianmian.DeliveryFailed {
		t.Fatalf("given-up delivery: %+v", list)
	}
	pending := testAlert("al_4", "s1")
	alertCreate(t, s, pending, 45)

	desc, _ := s.FindAlerts(ctx, qianmian.AlertFilter{StoreID: "s1", Descending: true, Limit: 2})
	if len(desc) != 2 || desc[0].ID != "al_4" || desc[1].ID != "al_3" {
		t.Fatalf("newest first = %v", alertIDs(desc))
	}
	before, _ := s.FindAlerts(ctx, qianmian.AlertFilter{StoreID: "s1", Descending: true, BeforeSeq: b.Seq})
	if len(before) != 1 || before[0].ID != "al_1" {
		t.Fatalf("before %d = %v", b.Seq, alertIDs(before))
	}

	n, err := s.PruneAlerts(ctx, now.Add(time.Second))
	if err != nil || n != 3 {
		t.Fatalf("PruneAlerts = %d, %v; want 3 (delivered, given up, no webhook), the pending one kept", n, err)
	}
	left, _ := s.FindAlerts(ctx, qianmian.AlertFilter{StoreID: "s1"})
	if len(left) != 1 || left[0].ID != "al_4" {
		t.Fatalf("after pruning: %v", alertIDs(left))
	}
}

func alertIDs(list []*qianmian.StoreAlert) []string {
	var out []string
	for _, a := range list {
		out = append(out, a.ID)
	}
	return out
}

// alertEqualJSON fails t unless got and want have the same JSON encoding.
func alertEqualJSON(t *testing.T, what string, got, want any) {
	t.Helper()
	g, _ := json.Marshal(got)
	w, _ := json.Marshal(want)
	if !bytes.Equal(g, w) {
		t.Fatalf("%s:\ngot  %s\nwant %s", what, g, w)
	}
}

// alertCreate stores a new alert, failing t unless it is created.
func alertCreate(t *testing.T, s *sqlite.AlertService, a *qianmian.StoreAlert, cursor int64) {
	t.Helper()
	if created, err := s.CreateAlert(t.Context(), a, cursor); err != nil || !created {
		t.Fatalf("CreateAlert(%s) = %v, %v", a.ID, created, err)
	}
}

func alertMust(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestAlertService_Cursor checks the cursor starts at the end of the log and never moves
// back.
func TestAlertService_Cursor(t *testing.T) {
	t.Parallel()
	db := mustOpen(t, newDB(t, nil))
	ctx := t.Context()
	events := sqlite.NewEventService(db)
	var list []*qianmian.Event
	for i := range 3 {
		list = append(list, &qianmian.Event{ID: "e" + string(rune('0'+i)), Type: qianmian.EventVisit, UserID: "u",
			StoreID: "s", Channel: qianmian.ChannelOffline, OccurredAt: storetest.Now().Add(-time.Hour)})
	}
	if _, err := events.CreateEvents(ctx, list); err != nil {
		t.Fatal(err)
	}
	s := sqlite.NewAlertService(db)
	cur, err := s.AlertCursor(ctx)
	if err != nil || cur != list[2].Seq {
		t.Fatalf("first AlertCursor = %d, %v; want the newest event's seq %d", cur, err, list[2].Seq)
	}
	alertMust(t, s.SetAlertCursor(ctx, cur+10))
	alertMust(t, s.SetAlertCursor(ctx, cur+5))
	if got, _ := s.AlertCursor(ctx); got != cur+10 {
		t.Fatalf("cursor = %d after moving to %d then back to %d; want %d", got, cur+10, cur+5, cur+10)
	}
}

// TestAlertService_Webhook checks webhooks are validated, kept with their secret, replaced,
// deleted, and that secrets and visitors' names never reach the file in the clear.
func TestAlertService_Webhook(t *testing.T) {
	t.Parallel()
	db := mustOpen(t, newDB(t, nil))
	s := sqlite.NewAlertService(db)
	ctx := t.Context()
	const secret = "s3cr3t-webhook-key-0001"
	for _, tt := range []struct {
		w     qianmian.Webhook
		field string
	}{
		{qianmian.Webhook{StoreID: "s1", URL: "ftp://x/y", Secret: secret}, "url"},
		{qianmian.Webhook{StoreID: "s1", URL: "https:///nohost", Secret: secret}, "url"},
		{qianmian.Webhook{StoreID: "s1", URL: "https://u:p@x.example/", Secret: secret}, "url"},
		{qianmian.Webhook{StoreID: "s1", URL: "https://x.example/", Secret: "short"}, "secret"},
	} {
		w := tt.w
		if err := s.SetWebhook(ctx, &w); qianmian.ErrorField(err) != tt.field {
			t.Errorf("SetWebhook(%q, %q) = %v, want an error naming %s", w.URL, w.Secret, err, tt.field)
		}
	}
	if _, err := s.FindWebhook(ctx, "s1"); qianmian.ErrorCode(err) != qianmian.ENOTFOUND {
		t.Fatalf("FindWebhook before set = %v, want not_found", err)
	}
	w := &qianmian.Webhook{StoreID: "s1", URL: "https://shop.example/hook", Secret: secret}
	alertMust(t, s.SetWebhook(ctx, w))
	w2 := &qianmian.Webhook{StoreID: "s1", URL: "https://shop.example/v2", Secret: secret}
	alertMust(t, s.SetWebhook(ctx, w2))
	got, err := s.FindWebhook(ctx, "s1")
	if err != nil || got.URL != w2.URL || got.Secret != secret || !got.UpdatedAt.Equal(storetest.Now()) {
		t.Fatalf("FindWebhook = %+v, %v", got, err)
	}
	alertCreate(t, s, testAlert("al_x", "s1"), 1)

	raw := alertFileBytes(t, db.Path)
	for _, plain := range []string{secret, "李小梅", "Rose EDP"} {
		if bytes.Contains(raw, []byte(plain)) {
			t.Errorf("%q is stored in the clear", plain)
		}
	}

	alertMust(t, s.DeleteWebhook(ctx, "s1"))
	if err := s.DeleteWebhook(ctx, "s1"); qianmian.ErrorCode(err) != qianmian.ENOTFOUND {
		t.Fatalf("second DeleteWebhook = %v, want not_found", err)
	}

	// Without a cipher, nothing personal is stored.
	plainDB := newDB(t, nil)
	plainDB.Cipher = nil
	ps := sqlite.NewAlertService(mustOpen(t, plainDB))
	if err := ps.SetWebhook(ctx, &qianmian.Webhook{StoreID: "s1", URL: "https://x.example/", Secret: secret}); qianmian.ErrorCode(err) != qianmian.EINVALID {
		t.Fatalf("SetWebhook without cipher = %v, want invalid", err)
	}
	if _, err := ps.CreateAlert(ctx, testAlert("al_y", "s1"), 1); qianmian.ErrorField(err) != "visitor" {
		t.Fatalf("CreateAlert naming a visitor without cipher = %v, want invalid visitor", err)
	}
	anon := testAlert("al_z", "s1")
	anon.Visitor = qianmian.Visitor{Ref: "v_2"}
	if created, err := ps.CreateAlert(ctx, anon, 1); err != nil || !created {
		t.Fatalf("CreateAlert of an anonymous visitor without cipher = %v, %v", created, err)
	}
}

// alertFileBytes returns the database file and its WAL.
func alertFileBytes(t *testing.T, path string) []byte {
	t.Helper()
	var all []byte
	for _, p := range []string{path, path + "-wal"} {
		b, err := os.ReadFile(p)
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		all = append(all, b...)
	}
	return all
}

// TestAlertService_SurvivesReopen checks alerts, deliveries, the cursor and webhooks are
// on disk: a new DB over the same file sees them.
func TestAlertService_SurvivesReopen(t *testing.T) {
	t.Parallel()
	key := privacy.GenerateKey()
	path := filepath.Join(t.TempDir(), "qianmian.db")
	open := func() *sqlite.DB {
		db := sqlite.NewDB(path)
		db.Now = storetest.Now
		c, err := privacy.NewCipher(key)
		if err != nil {
			t.Fatal(err)
		}
		db.Cipher = c
		if err := db.Open(); err != nil {
			t.Fatal(err)
		}
		return db
	}
	db := open()
	s := sqlite.NewAlertService(db)
	ctx := t.Context()
	alertMust(t, s.SetWebhook(ctx, &qianmian.Webhook{StoreID: "s1", URL: "https://shop.example/hook", Secret: "0123456789abcdef"}))
	a := testAlert("al_1", "s1")
	alertCreate(t, s, a, 7)
	alertMust(t, s.RecordAttempt(ctx, a.Seq, qianmian.DeliveryAttempt{At: storetest.Now(), Error: "HTTP 503",
		NextAttemptAt: storetest.Now().Add(time.Second)}))
	alertMust(t, db.Close())

	db = open()
	defer db.Close()
	s = sqlite.NewAlertService(db)
	claimed, err := s.ClaimDeliveries(ctx, storetest.Now().Add(time.Second), time.Minute, 10)
	if err != nil || len(claimed) != 1 || claimed[0].Delivery.Attempts != 1 || claimed[0].Visitor.Name != "李小梅" {
		t.Fatalf("after reopening, ClaimDeliveries = %+v, %v", claimed, err)
	}
	if cur, _ := s.AlertCursor(ctx); cur != 7 {
		t.Fatalf("cursor after reopening = %d, want 7", cur)
	}
}

// TestUsers_StoreAlertsConsent checks the store_alerts purpose is stored, defaults to
// false, and is changed by UpdateConsent alone.
func TestUsers_StoreAlertsConsent(t *testing.T) {
	t.Parallel()
	db := mustOpen(t, newDB(t, nil))
	users := sqlite.NewUserService(db)
	ctx := t.Context()
	alertMust(t, users.UpsertUsers(ctx, []*qianmian.User{
		{ID: "yes", Consent: qianmian.Consent{Personalization: true, StoreAlerts: true}},
		{ID: "default", Consent: qianmian.DefaultConsent()},
	}))
	for id, want := range map[string]bool{"yes": true, "default": false} {
		u, err := users.FindUserByID(ctx, id)
		if err != nil || u.Consent.StoreAlerts != want {
			t.Fatalf("user %s: StoreAlerts = %v, %v; want %v", id, u.Consent.StoreAlerts, err, want)
		}
	}
	yes := true
	u, err := users.UpdateConsent(ctx, "default", qianmian.ConsentUpdate{StoreAlerts: &yes})
	if err != nil || !u.Consent.StoreAlerts || !u.Consent.Personalization || u.Consent.Marketing {
		t.Fatalf("UpdateConsent(store_alerts) = %+v, %v", u.Consent, err)
	}
	if u, _ := users.FindUserByID(ctx, "default"); !u.Consent.StoreAlerts {
		t.Fatal("store_alerts consent not stored")
	}
}
