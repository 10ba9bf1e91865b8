package shop_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/qianmian/qianmian"
	"github.com/qianmian/qianmian/inmem"
	"github.com/qianmian/qianmian/privacy"
	"github.com/qianmian/qianmian/shop"
	"github.com/qianmian/qianmian/sqlite"
)

// The tests run the Alerter and Dispatcher over a real SQLite file, the in-process bus and a
// real HTTP receiver. Only the Recommender is a fake: shop consumes it.

const secret = "whsec-0123456789abcdef"

// env is one running node: storage, bus, alerter and dispatcher.
type env struct {
	t        *testing.T
	path     string
	key      []byte
	db       *sqlite.DB
	bus      *inmem.Bus
	events   *sqlite.EventService
	users    *sqlite.UserService
	alerts   *sqlite.AlertService
	rec      *fakeRecommender
	alerter  *shop.Alerter
	dispatch *shop.Dispatcher
	reg      *prometheus.Registry
	cfg      shop.AlerterConfig // zero fields take the defaults
}

// newEnv opens storage in a new directory and seeds the world (see seed).
func newEnv(t *testing.T) *env {
	t.Helper()
	e := &env{t: t, path: filepath.Join(t.TempDir(), "qianmian.db"), key: privacy.GenerateKey()}
	e.openStorage()
	seed(t, e.db)
	return e
}

func (e *env) openStorage() {
	e.t.Helper()
	c, err := privacy.NewCipher(e.key)
	if err != nil {
		e.t.Fatal(err)
	}
	e.bus = inmem.NewBus()
	e.db = sqlite.NewDB(e.path)
	e.db.Bus, e.db.Cipher = e.bus, c
	if err := e.db.Open(); err != nil {
		e.t.Fatal(err)
	}
	e.events, e.users, e.alerts = sqlite.NewEventService(e.db), sqlite.NewUserService(e.db), sqlite.NewAlertService(e.db)
	e.rec = &fakeRecommender{assortments: sqlite.NewAssortmentService(e.db)}
	e.t.Cleanup(e.close)
}

// start opens the alerter and the dispatcher; backoff spaces the retries.
func (e *env) start(backoff shop.Backoff) {
	e.t.Helper()
	e.reg = prometheus.NewRegistry()
	m := shop.NewMetrics(e.reg)
	d := shop.NewDispatcher()
	d.Webhooks, d.Outbox, d.Backoff, d.Metrics = e.alerts, e.alerts, backoff, m
	d.Logger = testLogger(e.t)
	if err := d.Open(); err != nil {
		e.t.Fatal(err)
	}
	a := shop.NewAlerter()
	a.Bus, a.Events, a.Users, a.Items, a.Alerts, a.Outbox = e.bus, e.events, e.users, sqlite.NewItemService(e.db), e.alerts, e.alerts
	a.Identities, a.Assortments, a.Recommender = sqlite.NewIdentityService(e.db), sqlite.NewAssortmentService(e.db), e.rec
	a.Notify, a.Metrics, a.PseudonymKey, a.Config = d.Notify, m, e.key, e.cfg
	a.Logger = testLogger(e.t)
	if err := a.Open(e.t.Context()); err != nil {
		e.t.Fatal(err)
	}
	e.alerter, e.dispatch = a, d
}

// stop closes the alerter and dispatcher, as a server shutting down does.
func (e *env) stop() {
	if e.alerter != nil {
		_ = e.alerter.Close()
		e.alerter = nil
	}
	if e.dispatch != nil {
		_ = e.dispatch.Close()
		e.dispatch = nil
	}
}

func (e *env) close() {
	e.stop()
	if e.db != nil {
		if err := e.db.Close(); err != nil {
			e.t.Error(err)
		}
		e.db = nil
		_ = e.bus.Close()
	}
}

// restart stops everything, reopens the same database file and starts again.
func (e *env) restart(backoff shop.Backoff) {
	e.t.Helper()
	e.close()
	e.openStorage()
	e.start(backoff)
}

// visit stores a visit at store s1 now and returns it.
func (e *env) visit(id string, who func(*qianmian.Event)) *qianmian.Event {
	e.t.Helper()
	ev := &qianmian.Event{ID: id, Type: qianmian.EventVisit, StoreID: "s1", Channel: qianmian.ChannelOffline,
		OccurredAt: time.Now()}
	who(ev)
	if _, err := e.events.CreateEvents(e.t.Context(), []*qianmian.Event{ev}); err != nil {
		e.t.Fatal(err)
	}
	return ev
}

func user(id string) func(*qianmian.Event) { return func(e *qianmian.Event) { e.UserID = id } }

// seed stores two stores, six items (s1 carries i1–i4, i4 out of stock; s2 carries i5,
// i6), and consumers:
//
//	alice  consented to store alerts; viewed i4, i1, i5 and i4 again online
//	bob    default consent (no store alerts); viewed i2 online
//	carol  store alerts but no personalisation; viewed i3 online
//	dave   only offline behaviour: not known online
func seed(t *testing.T, db *sqlite.DB) {
	t.Helper()
	ctx := t.Context()
	must(t, sqlite.NewStoreService(db).UpsertStores(ctx, []*qianmian.Store{
		{ID: "s1", Name: "Hangzhou West", Region: "east", Channel: qianmian.StoreOffline},
		{ID: "s2", Name: "Beijing North", Region: "north", Channel: qianmian.StoreOffline},
	}))
	var items []*qianmian.Item
	for _, id := range []string{"i1", "i2", "i3", "i4", "i5", "i6"} {
		items = append(items, &qianmian.Item{ID: id, SupplierID: "sup", Title: "Title " + id,
			Category: []string{"beauty"}, Price: 10, Status: qianmian.ItemActive})
	}
	must(t, sqlite.NewItemService(db).UpsertItems(ctx, items))
	var entries []*qianmian.Assortment
	for _, id := range []string{"i1", "i2", "i3", "i4"} {
		entries = append(entries, &qianmian.Assortment{StoreID: "s1", ItemID: id, Price: 12, InStock: id != "i4", CommissionRate: 0.1})
	}
	for _, id := range []string{"i5", "i6"} {
		entries = append(entries, &qianmian.Assortment{StoreID: "s2", ItemID: id, Price: 12, InStock: true, CommissionRate: 0.1})
	}
	must(t, sqlite.NewAssortmentService(db).UpsertAssortments(ctx, entries))
	must(t, sqlite.NewUserService(db).UpsertUsers(ctx, []*qianmian.User{
		{ID: "alice", Name: "Alice Li", Phone: "13800000001", Consent: qianmian.Consent{Personalization: true, StoreAlerts: true}},
		{ID: "bob", Name: "Bob Wang", Consent: qianmian.DefaultConsent()},
		{ID: "carol", Name: "Carol Chen", Consent: qianmian.Consent{Personalization: false, StoreAlerts: true}},
		{ID: "dave", Name: "Dave Zhao", Consent: qianmian.Consent{Personalization: true, StoreAlerts: true}},
	}))
	now := time.Now()
	ev := func(id, user, item string, ch qianmian.Channel, ago time.Duration) *qianmian.Event {
		return &qianmian.Event{ID: id, Type: qianmian.EventView, UserID: user, ItemID: item, StoreID: "s1",
			Channel: ch, OccurredAt: now.Add(-ago)}
	}
	if _, err := sqlite.NewEventService(db).CreateEvents(ctx, []*qianmian.Event{
		ev("a1", "alice", "i4", qianmian.ChannelApp, 4*time.Hour),
		ev("a2", "alice", "i1", qianmian.ChannelWeb, 3*time.Hour),
		ev("a3", "alice", "i5", qianmian.ChannelMiniProgram, 2*time.Hour),
		ev("a4", "alice", "i4", qianmian.ChannelApp, time.Hour),
		ev("a5", "alice", "i6", qianmian.ChannelOffline, 30*time.Minute), // offline: not "online lately"
		ev("b1", "bob", "i2", qianmian.ChannelApp, time.Hour),
		ev("c1", "carol", "i3", qianmian.ChannelApp, time.Hour),
		ev("d1", "dave", "i1", qianmian.ChannelOffline, time.Hour),
	}); err != nil {
		t.Fatal(err)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// fakeRecommender ranks a store's in-stock assortment in item order, and records requests.
type fakeRecommender struct {
	assortments qianmian.AssortmentService
	mu          sync.Mutex
	reqs        []qianmian.RecommendRequest
}

func (f *fakeRecommender) Recommend(ctx context.Context, req qianmian.RecommendRequest) (*qianmian.Recommendation, error) {
	f.mu.Lock()
	f.reqs = append(f.reqs, req)
	f.mu.Unlock()
	yes := true
	entries, err := f.assortments.FindAssortments(ctx, qianmian.AssortmentFilter{StoreID: req.StoreID, InStock: &yes})
	if err != nil {
		return nil, err
	}
	rec := &qianmian.Recommendation{RecID: "r1", Personalized: req.UserID != ""}
	for _, a := range entries {
		if len(rec.Items) < req.N {
			reason := "popular in this store"
			if req.UserID != "" {
				reason = "viewed similar online"
			}
			rec.Items = append(rec.Items, qianmian.ScoredItem{ItemID: a.ItemID, Score: 1, Reasons: []string{reason}})
		}
	}
	return rec, nil
}

func (f *fakeRecommender) Similar(context.Context, string, string, int) (*qianmian.Recommendation, error) {
	return nil, qianmian.Errorf(qianmian.ENOTFOUND, "not used")
}

func (f *fakeRecommender) requests() []qianmian.RecommendRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.reqs)
}

// delivery is one request a receiver got.
type delivery struct {
	at                 time.Time
	alertID, ts, sig   string
	body               []byte
	status             int
	alert              qianmian.StoreAlert
	verifyErr, jsonErr error
}

// receiver is a store's webhook endpoint: it answers 500 to its first fail requests, then
// 200, and checks every signature with shop.Verify.
type receiver struct {
	srv  *httptest.Server
	fail int
	mu   sync.Mutex
	got  []delivery
	c    chan delivery
}

func newReceiver(t *testing.T, fail int) *receiver {
	r := &receiver{fail: fail, c: make(chan delivery, 100)}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		d := delivery{at: time.Now(), alertID: req.Header.Get(shop.HeaderAlertID),
			ts: req.Header.Get(shop.HeaderTimestamp), sig: req.Header.Get(shop.HeaderSignature), body: body}
		d.verifyErr = shop.Verify(secret, d.ts, body, d.sig)
		d.jsonErr = json.Unmarshal(body, &d.alert)
		r.mu.Lock()
		d.status = http.StatusOK
		if len(r.got) < r.fail {
			d.status = http.StatusInternalServerError
		}
		r.got = append(r.got, d)
		r.mu.Unlock()
		w.WriteHeader(d.status)
		r.c <- d
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) deliveries() []delivery {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.got)
}

// next waits for the receiver's next request, failing t after timeout.
func (r *receiver) next(t *testing.T, timeout time.Duration) delivery {
	t.Helper()
	select {
	case d := <-r.c:
		return d
	case <-time.After(timeout):
		t.Fatalf("no webhook request within %s", timeout)
	}
	return delivery{}
}

// quiet fails t if the receiver gets a request within d.
func (r *receiver) quiet(t *testing.T, d time.Duration) {
	t.Helper()
	select {
	case got := <-r.c:
		t.Fatalf("unexpected webhook request for alert %s (status %d)", got.alertID, got.status)
	case <-time.After(d):
	}
}

func (e *env) setWebhook(url string) {
	e.t.Helper()
	must(e.t, e.alerts.SetWebhook(e.t.Context(), &qianmian.Webhook{StoreID: "s1", URL: url, Secret: secret}))
}

// testLogger writes the component's log to the test's output.
func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), nil))
}
