package http_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/qianmian/qianmian"
	qmhttp "github.com/qianmian/qianmian/http"
	"github.com/qianmian/qianmian/mock"
)

// now is the pinned clock of every test server.
var now = time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)

// Keys of the test world: the token is the key, the principal its holder.
var testKeys = map[string]qianmian.Principal{
	"op":      {Role: qianmian.RoleOperator},
	"store-a": {Role: qianmian.RoleStore, ID: "A"},
	"store-b": {Role: qianmian.RoleStore, ID: "B"},
	"sup-1":   {Role: qianmian.RoleSupplier, ID: "S1"},
	"sup-2":   {Role: qianmian.RoleSupplier, ID: "S2"},
	"user-u1": {Role: qianmian.RoleConsumer, ID: "u1"},
}

// world is the in-memory state behind the mocks of one test server.
type world struct {
	mu          sync.Mutex
	stores      map[string]*qianmian.Store
	suppliers   map[string]*qianmian.Supplier
	items       map[string]*qianmian.Item
	assortment  []*qianmian.Assortment // sorted by (store, item)
	users       map[string]*qianmian.User
	interacted  map[[2]string]bool // (user, store)
	events      map[string]*qianmian.Event
	createCalls int
	upserted    []any
	recReqs     []qianmian.RecommendRequest
	ready       bool
}

// newWorld returns two stores (A, B; C does not exist), suppliers S1 and S2, items i1–i5 of
// S1 and j1–j3 of S2; A carries i1–i5 and j1, B carries j1–j3. Users u1 and u2 interacted
// with A, u3 with nobody; only u2 consented to marketing.
func newWorld() *world {
	w := &world{
		stores: map[string]*qianmian.Store{
			"A": {ID: "A", Name: "Store A", Region: "east", City: "Hangzhou", Channel: qianmian.StoreBoth},
			"B": {ID: "B", Name: "Store B", Region: "north", City: "Beijing", Channel: qianmian.StoreOnline},
		},
		suppliers: map[string]*qianmian.Supplier{
			"S1": {ID: "S1", Name: "Supplier One"},
			"S2": {ID: "S2", Name: "Supplier Two"},
		},
		items:      map[string]*qianmian.Item{},
		users:      map[string]*qianmian.User{},
		interacted: map[[2]string]bool{{"u1", "A"}: true, {"u2", "A"}: true},
		events:     map[string]*qianmian.Event{},
	}
	add := func(id, supplier string, cat ...string) {
		w.items[id] = &qianmian.Item{ID: id, SupplierID: supplier, Title: "Title " + id, Category: cat, Price: 10, Status: qianmian.ItemActive}
	}
	for _, id := range []string{"i1", "i2", "i3", "i4", "i5"} {
		add(id, "S1", "beauty", "fragrance", "perfume")
	}
	for _, id := range []string{"j1", "j2", "j3"} {
		add(id, "S2", "food", "snacks")
	}
	for _, id := range []string{"i1", "i2", "i3", "i4", "i5", "j1"} {
		w.assortment = append(w.assortment, &qianmian.Assortment{StoreID: "A", ItemID: id, Price: 12, InStock: id != "i3", CommissionRate: 0.1})
	}
	for _, id := range []string{"j1", "j2", "j3"} {
		w.assortment = append(w.assortment, &qianmian.Assortment{StoreID: "B", ItemID: id, Price: 9, InStock: true, CommissionRate: 0.2})
	}
	personal := func(id string, marketing bool) *qianmian.User {
		c := qianmian.DefaultConsent()
		c.Marketing = marketing
		return &qianmian.User{ID: id, City: "Hangzhou", Consent: c, Name: "Name " + id, Phone: "1380000" + id, Address: "Road " + id}
	}
	w.users["u1"] = personal("u1", false)
	w.users["u2"] = personal("u2", true)
	w.users["u3"] = personal("u3", true)
	return w
}

func notFound(what, id string) error {
	return qianmian.Errorf(qianmian.ENOTFOUND, "%s %q does not exist", what, id)
}

// server returns a Server over mocks backed by w.
func (w *world) server() *qmhttp.Server {
	s := qmhttp.NewServer()
	s.Now = func() time.Time { return now }
	s.Ready = func() bool { w.mu.Lock(); defer w.mu.Unlock(); return w.ready }
	s.LiveStats = func() (int, int64) { return 42, 4096 }
	s.Keys = &mock.KeyService{FindPrincipalByTokenFn: func(_ context.Context, token string) (qianmian.Principal, error) {
		if p, ok := testKeys[token]; ok {
			return p, nil
		}
		return qianmian.Principal{}, qianmian.Errorf(qianmian.EUNAUTHORIZED, "unknown API key")
	}}
	s.Suppliers = &mock.SupplierService{
		FindSupplierByIDFn: func(_ context.Context, id string) (*qianmian.Supplier, error) {
			if v, ok := w.suppliers[id]; ok {
				return v, nil
			}
			return nil, notFound("supplier", id)
		},
		FindSuppliersFn: func(_ context.Context, page qianmian.Page) ([]*qianmian.Supplier, error) {
			return []*qianmian.Supplier{w.suppliers["S1"], w.suppliers["S2"]}, nil
		},
		UpsertSuppliersFn: func(_ context.Context, list []*qianmian.Supplier) error { w.record(list); return nil },
	}
	s.Stores = &mock.StoreService{
		FindStoreByIDFn: func(_ context.Context, id string) (*qianmian.Store, error) {
			if v, ok := w.stores[id]; ok {
				return v, nil
			}
			return nil, notFound("store", id)
		},
		FindStoresFn: func(_ context.Context, f qianmian.StoreFilter) ([]*qianmian.Store, error) {
			var out []*qianmian.Store
			for _, id := range []string{"A", "B"} {
				if id > f.After && (f.Limit == 0 || len(out) < f.Limit) {
					out = append(out, w.stores[id])
				}
			}
			return out, nil
		},
		UpsertStoresFn: func(_ context.Context, list []*qianmian.Store) error { w.record(list); return nil },
	}
	s.Items = &mock.ItemService{
		FindItemByIDFn: func(_ context.Context, id string) (*qianmian.Item, error) {
			if v, ok := w.items[id]; ok {
				return v, nil
			}
			return nil, notFound("item", id)
		},
		FindItemsFn:   w.findItems,
		UpsertItemsFn: func(_ context.Context, list []*qianmian.Item) error { w.record(list); return nil },
	}
	s.Assortments = &mock.AssortmentService{
		FindAssortmentsFn: w.findAssortments,
		UpsertAssortmentsFn: func(_ context.Context, list []*qianmian.Assortment) error {
			for _, a := range list {
				if w.items[a.ItemID] == nil {
					return notFound("item", a.ItemID)
				}
			}
			w.record(list)
			return nil
		},
	}
	s.Users = &mock.UserService{
		FindUserByIDFn: func(_ context.Context, id string) (*qianmian.User, error) {
			if v, ok := w.users[id]; ok {
				return v, nil
			}
			return nil, notFound("user", id)
		},
		UpdateConsentFn: func(_ context.Context, id string, upd qianmian.ConsentUpdate) (*qianmian.User, error) {
			u, ok := w.users[id]
			if !ok {
				return nil, notFound("user", id)
			}
			u.Consent = upd.Apply(u.Consent)
			return u, nil
		},
		FindUsersFn: func(_ context.Context, page qianmian.Page) ([]*qianmian.User, error) {
			return []*qianmian.User{w.users["u1"], w.users["u2"], w.users["u3"]}, nil
		},
		UpsertUsersFn: func(_ context.Context, list []*qianmian.User) error { w.record(list); return nil },
	}
	s.Identities = &mock.IdentityService{FindIdentitiesFn: func(_ context.Context, id string) ([]*qianmian.Identity, error) {
		if id != "u1" {
			return nil, nil
		}
		return []*qianmian.Identity{{IdentityRef: qianmian.IdentityRef{Channel: qianmian.ChannelApp, Type: qianmian.IdentityDevice, Value: "dev-1"}, UserID: "u1"}}, nil
	}, IdentityGraphFn: func(_ context.Context, id string) (*qianmian.IdentityGraph, error) {
		return nil, notFound("user", id)
	}}
	s.Events = &mock.EventService{
		CreateEventsFn: w.createEvents,
		HasStoreInteractionFn: func(_ context.Context, userID, storeID string) (bool, error) {
			return w.interacted[[2]string{userID, storeID}], nil
		},
	}
	s.Recommender = &mock.Recommender{
		RecommendFn: func(_ context.Context, req qianmian.RecommendRequest) (*qianmian.Recommendation, error) {
			w.mu.Lock()
			w.recReqs = append(w.recReqs, req)
			w.mu.Unlock()
			return w.rank(req.StoreID, req.N)
		},
		SimilarFn: func(_ context.Context, storeID, itemID string, n int) (*qianmian.Recommendation, error) {
			if w.items[itemID] == nil {
				return nil, notFound("item", itemID)
			}
			return w.rank(storeID, n)
		},
	}
	return s
}

func (w *world) record(v any) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.upserted = append(w.upserted, v)
}

// rank answers the store's in-stock items in assortment order.
func (w *world) rank(storeID string, n int) (*qianmian.Recommendation, error) {
	if w.stores[storeID] == nil {
		return nil, notFound("store", storeID)
	}
	rec := &qianmian.Recommendation{RecID: "rec-1", Personalized: true, ModelVersion: 3}
	for _, a := range w.assortment {
		if a.StoreID == storeID && a.InStock && len(rec.Items) < n {
			rec.Items = append(rec.Items, qianmian.ScoredItem{ItemID: a.ItemID, Score: 1, Reasons: []string{"popular in this store this week"}})
		}
	}
	return rec, nil
}

func (w *world) findItems(_ context.Context, f qianmian.ItemFilter) ([]*qianmian.Item, error) {
	ids := make([]string, 0, len(w.items))
	for id := range w.items {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	var out []*qianmian.Item
	for _, id := range ids {
		it := w.items[id]
		switch {
		case f.SupplierID != "" && it.SupplierID != f.SupplierID,
			len(f.IDs) > 0 && !slices.Contains(f.IDs, id),
			id <= f.After:
			continue
		}
		if f.Limit > 0 && len(out) == f.Limit {
			break
		}
		out = append(out, it)
	}
	return out, nil
}

func (w *world) findAssortments(_ context.Context, f qianmian.AssortmentFilter) ([]*qianmian.Assortment, error) {
	var out []*qianmian.Assortment
	for _, a := range w.assortment {
		switch {
		case f.StoreID != "" && a.StoreID != f.StoreID,
			f.ItemID != "" && a.ItemID != f.ItemID,
			f.SupplierID != "" && w.items[a.ItemID].SupplierID != f.SupplierID,
			f.InStock != nil && a.InStock != *f.InStock,
			a.ItemID <= f.After:
			continue
		}
		if f.Limit > 0 && len(out) == f.Limit {
			break
		}
		out = append(out, a)
	}
	return out, nil
}

// createEvents stores events once by id, like the real store: a repeated id is a duplicate.
func (w *world) createEvents(_ context.Context, events []*qianmian.Event) (qianmian.EventResult, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.createCalls++
	var res qianmian.EventResult
	for _, e := range events {
		if _, ok := w.events[e.ID]; ok {
			res.Duplicates++
			continue
		}
		w.events[e.ID] = e
		res.Accepted++
	}
	return res, nil
}

// response is a recorded answer.
type response struct {
	status int
	header http.Header
	body   []byte
}

// do sends a request to h with the API key (none when empty) and returns the answer.
func do(t testing.TB, h http.Handler, method, target, key, body string) response {
	t.Helper()
	return serve(h, newRequest(method, target, key, body))
}

// newRequest returns a request with the API key (none when empty).
func newRequest(method, target, key, body string) *http.Request {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	r := httptest.NewRequest(method, target, rd)
	if key != "" {
		r.Header.Set("Authorization", "Bearer "+key)
	}
	return r
}

// serve runs r through h and returns the answer.
func serve(h http.Handler, r *http.Request) response {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	return response{rec.Code, rec.Header(), rec.Body.Bytes()}
}

// decode unmarshals the body of resp into v, failing the test if it is not JSON.
func (resp response) decode(t testing.TB, v any) {
	t.Helper()
	if ct := resp.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("Content-Type = %q, want application/json; body %s", ct, resp.body)
	}
	if err := json.Unmarshal(resp.body, v); err != nil {
		t.Fatalf("body is not JSON: %v: %s", err, resp.body)
	}
}

type apiError struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
		Field   string `json:"field"`
	} `json:"error"`
}

// wantError checks that resp is an error with the status, code and field.
func (resp response) wantError(t testing.TB, status int, code, field string) apiError {
	t.Helper()
	if resp.status != status {
		t.Fatalf("status = %d, want %d; body %s", resp.status, status, resp.body)
	}
	var e apiError
	resp.decode(t, &e)
	if e.Error.Code != code || e.Error.Field != field {
		t.Fatalf("error = %+v, want code %q field %q", e.Error, code, field)
	}
	if e.Error.Message == "" {
		t.Fatalf("error without a message: %s", resp.body)
	}
	return e
}

func (resp response) wantStatus(t testing.TB, status int) {
	t.Helper()
	if resp.status != status {
		t.Fatalf("status = %d, want %d; body %s", resp.status, status, resp.body)
	}
}

func TestAuth(t *testing.T) {
	t.Parallel()
	h := newWorld().server().Handler()
	for _, tt := range []struct{ name, header string }{
		{"NoKey", ""},
		{"UnknownKey", "Bearer nope"},
		{"NotBearer", "Basic b3A6"},
		{"EmptyBearer", "Bearer "},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := newRequest("GET", "/v1/stores/A", "", "")
			if tt.header != "" {
				r.Header.Set("Authorization", tt.header)
			}
			resp := serve(h, r)
			resp.wantError(t, http.StatusUnauthorized, qianmian.EUNAUTHORIZED, "")
			if resp.header.Get("WWW-Authenticate") == "" {
				t.Error("401 without WWW-Authenticate")
			}
		})
	}
	t.Run("EveryV1RouteNeedsAKey", func(t *testing.T) {
		for _, rt := range []struct{ method, path string }{
			{"POST", "/v1/events"}, {"POST", "/v1/items"}, {"GET", "/v1/items"}, {"GET", "/v1/items/i1"},
			{"GET", "/v1/stores/A/assortment"}, {"GET", "/v1/stores/A/recommendations"},
			{"GET", "/v1/stores/A/items/i1/similar"}, {"GET", "/v1/users/u1"}, {"PUT", "/v1/users/u1/consent"},
			{"GET", "/v1/users/u1/identities"}, {"GET", "/v1/suppliers/S1"}, {"POST", "/v1/assortments"},
		} {
			do(t, h, rt.method, rt.path, "", "").wantError(t, http.StatusUnauthorized, qianmian.EUNAUTHORIZED, "")
		}
	})
	t.Run("OperatorKey", func(t *testing.T) {
		do(t, h, "GET", "/v1/stores/A", "op", "").wantStatus(t, http.StatusOK)
	})
}

func TestHealthz(t *testing.T) {
	t.Parallel()
	w := newWorld()
	h := w.server().Handler()
	do(t, h, "GET", "/healthz", "", "").wantError(t, http.StatusServiceUnavailable, qianmian.EUNAVAILABLE, "")
	w.mu.Lock()
	w.ready = true
	w.mu.Unlock()
	resp := do(t, h, "GET", "/healthz", "", "")
	resp.wantStatus(t, http.StatusOK)
	var body map[string]string
	resp.decode(t, &body)
	if body["status"] != "ok" {
		t.Fatalf("healthz body = %s", resp.body)
	}
}

func TestUnknownRoute(t *testing.T) {
	t.Parallel()
	h := newWorld().server().Handler()
	do(t, h, "GET", "/v2/nothing", "op", "").wantError(t, http.StatusNotFound, qianmian.ENOTFOUND, "")
}

func TestMetrics(t *testing.T) {
	t.Parallel()
	h := newWorld().server().Handler()
	do(t, h, "POST", "/v1/events", "op", string(mustJSON(t, hundredEvents()))).wantStatus(t, http.StatusOK)
	do(t, h, "GET", "/v1/items/i1", "op", "").wantStatus(t, http.StatusOK)
	do(t, h, "GET", "/v1/items/zz", "op", "").wantStatus(t, http.StatusNotFound)

	resp := do(t, h, "GET", "/metrics", "", "")
	resp.wantStatus(t, http.StatusOK)
	for _, want := range []string{
		"qianmian_events_accepted_total 97",
		"qianmian_events_duplicates_total 0",
		`qianmian_events_rejected_total{reason="type"} 1`,
		`qianmian_events_rejected_total{reason="item_id"} 1`,
		`qianmian_events_rejected_total{reason="occurred_at"} 1`,
		`qianmian_http_requests_total{code="200",route="POST /v1/events"} 1`,
		`qianmian_http_requests_total{code="200",route="GET /v1/items/{id}"} 1`,
		`qianmian_http_requests_total{code="404",route="GET /v1/items/{id}"} 1`,
		`qianmian_http_request_duration_seconds_count{code="200",route="POST /v1/events"} 1`,
		"qianmian_live_subjects 42",
		"qianmian_live_state_bytes 4096",
		"go_goroutines",
	} {
		if !bytes.Contains(resp.body, []byte(want)) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}

func TestServer_OpenClose(t *testing.T) {
	t.Parallel()
	w := newWorld()
	w.ready = true
	s := w.server()
	s.Addr = "127.0.0.1:0"
	if err := s.Open(); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(s.URL(), "http://127.0.0.1:") {
		t.Fatalf("URL() = %q", s.URL())
	}
	resp, err := http.Get(s.URL() + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("healthz status = %d", resp.StatusCode)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := http.Get(s.URL() + "/healthz"); err == nil {
		t.Fatal("server still answers after Close")
	}
}

func mustJSON(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
