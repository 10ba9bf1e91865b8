package bench

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// fakeServer answers the few endpoints bench uses, like qianmian does: listings paged with
// after and next, rankings that leave out what the visitor bought, and an events endpoint
// that checks every event and counts duplicates.
type fakeServer struct {
	mu        sync.Mutex
	ids       map[string]bool
	bought    map[string]map[string]bool // user → items
	bad       []string                   // events the server would reject
	rankings  int
	personal  bool
	failEvery int // answer 503 to every n-th ranking
}

const fakeKey = "qm_test"

func newFakeServer(t *testing.T) (*fakeServer, *httptest.Server) {
	f := &fakeServer{ids: map[string]bool{}, bought: map[string]map[string]bool{}, personal: true}
	mux := http.NewServeMux()
	list := func(field, prefix string, n int) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			limit, _ := strconv.Atoi(r.URL.Query().Get("limit"))
			after := r.URL.Query().Get("after")
			var page []map[string]string
			next := ""
			for i := range n {
				id := fmt.Sprintf("%s-%04d", prefix, i)
				if id <= after {
					continue
				}
				if len(page) == limit {
					next = page[len(page)-1]["id"]
					break
				}
				page = append(page, map[string]string{"id": id})
			}
			json.NewEncoder(w).Encode(map[string]any{field: page, "next": next})
		}
	}
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, `{"status":"ok"}`) })
	mux.HandleFunc("GET /v1/users", list("users", "user", 1234))
	mux.HandleFunc("GET /v1/stores", list("stores", "store", 7))
	mux.HandleFunc("GET /v1/items", list("items", "item", 600))
	mux.HandleFunc("GET /v1/stores/{id}/assortment", func(w http.ResponseWriter, r *http.Request) {
		items := []map[string]any{}
		for i := range 20 {
			items = append(items, map[string]any{"item_id": fmt.Sprintf("item-%04d", i), "in_stock": true})
		}
		json.NewEncoder(w).Encode(map[string]any{"items": items, "next": ""})
	})
	mux.HandleFunc("GET /v1/stores/{id}/recommendations", func(w http.ResponseWriter, r *http.Request) {
		user, n := r.URL.Query().Get("user"), r.URL.Query().Get("n")
		if user == "" || n != "10" {
			http.Error(w, `{"error":{"code":"invalid"}}`, http.StatusBadRequest)
			return
		}
		f.mu.Lock()
		f.rankings++
		fail := f.failEvery > 0 && f.rankings%f.failEvery == 0
		bought := f.bought[user]
		var items []map[string]any
		for i := 0; len(items) < 10; i++ {
			if id := fmt.Sprintf("item-%04d", i); !bought[id] {
				items = append(items, map[string]any{"item_id": id, "score": 1, "reasons": []string{}})
			}
		}
		personal := f.personal
		f.mu.Unlock()
		if fail {
			http.Error(w, `{"error":{"code":"unavailable"}}`, http.StatusServiceUnavailable)
			return
		}
		json.NewEncoder(w).Encode(map[string]any{"rec_id": "r", "personalized": personal, "items": items})
	})
	mux.HandleFunc("POST /v1/events", func(w http.ResponseWriter, r *http.Request) {
		var res struct {
			Accepted   int   `json:"accepted"`
			Duplicates int   `json:"duplicates"`
			Rejected   []any `json:"rejected"`
		}
		res.Rejected = []any{}
		sc := bufio.NewScanner(r.Body)
		sc.Buffer(nil, 1<<20)
		f.mu.Lock()
		defer f.mu.Unlock()
		for sc.Scan() {
			var ev struct {
				ID         string `json:"id"`
				Type       string `json:"type"`
				UserID     string `json:"user_id"`
				ItemID     string `json:"item_id"`
				StoreID    string `json:"store_id"`
				Channel    string `json:"channel"`
				Quantity   int    `json:"quantity"`
				OccurredAt string `json:"occurred_at"`
			}
			dec := json.NewDecoder(bytes.NewReader(sc.Bytes()))
			dec.DisallowUnknownFields()
			err := dec.Decode(&ev)
			if err == nil {
				_, err = time.Parse(time.RFC3339Nano, ev.OccurredAt)
			}
			if err != nil || ev.ID == "" || ev.UserID == "" || ev.ItemID == "" || ev.StoreID == "" || ev.Channel == "" || ev.Type == "" {
				f.bad = append(f.bad, sc.Text())
				res.Rejected = append(res.Rejected, map[string]any{"index": 0, "field": "body", "reason": fmt.Sprint(err)})
				continue
			}
			if f.ids[ev.ID] {
				res.Duplicates++
				continue
			}
			f.ids[ev.ID] = true
			res.Accepted++
			if ev.Type == "purchase" {
				if f.bought[ev.UserID] == nil {
					f.bought[ev.UserID] = map[string]bool{}
				}
				f.bought[ev.UserID][ev.ItemID] = true
			}
		}
		json.NewEncoder(w).Encode(res)
	})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/healthz" && r.Header.Get("Authorization") != "Bearer "+fakeKey {
			http.Error(w, `{"error":{"code":"unauthorized"}}`, http.StatusUnauthorized)
			return
		}
		mux.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return f, srv
}

func testConfig(srv *httptest.Server, scenario string) Config {
	return Config{Scenario: scenario, BaseURL: srv.URL + "/", Key: fakeKey, Duration: 2 * time.Second, Concurrency: 3}
}

func TestRun_RecommendStopsAtTheRequestCap(t *testing.T) {
	f, srv := newFakeServer(t)
	cfg := testConfig(srv, Recommend)
	cfg.Requests = 57
	res, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if res.Requests != 57 || res.Errors != 0 || f.rankings != 57 {
		t.Errorf("requests %d, errors %d, server saw %d; want 57, 0, 57", res.Requests, res.Errors, f.rankings)
	}
	if res.HealthzRequests == 0 || res.HealthzPerS <= 0 {
		t.Errorf("healthz phase measured nothing: %+v", res)
	}
	if !(res.P50Ms <= res.P95Ms && res.P95Ms <= res.P99Ms && res.P99Ms <= res.MaxMs && res.MaxMs > 0) {
		t.Errorf("percentiles out of order: %v %v %v %v", res.P50Ms, res.P95Ms, res.P99Ms, res.MaxMs)
	}
	if res.Users != 1234 || res.Stores != 7 || res.Mode != "closed" || res.Concurrency != 3 {
		t.Errorf("users %d stores %d mode %s concurrency %d", res.Users, res.Stores, res.Mode, res.Concurrency)
	}
}

func TestRun_ErrorsAreCountedByStatus(t *testing.T) {
	f, srv := newFakeServer(t)
	f.failEvery = 4
	cfg := testConfig(srv, Recommend)
	cfg.Requests = 40
	res, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if res.Errors != 10 || res.ErrorsByStatus["503"] != 10 || len(res.ErrorsByStatus) != 1 {
		t.Errorf("errors %d by status %v, want 10 × 503", res.Errors, res.ErrorsByStatus)
	}
}

func TestRun_IngestPostsValidUniqueEvents(t *testing.T) {
	f, srv := newFakeServer(t)
	cfg := testConfig(srv, Ingest)
	cfg.Requests, cfg.Batch = 7, 150
	res, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if len(f.bad) > 0 {
		t.Fatalf("%d events malformed, first: %s", len(f.bad), f.bad[0])
	}
	if res.Requests != 7 || len(f.ids) != 7*150 || *res.Events != 7*150 || *res.EventsDuplicate != 0 || *res.EventsRejected != 0 {
		t.Errorf("requests %d, server stored %d, events %d dup %d rej %d; want 7 requests of 150 new events",
			res.Requests, len(f.ids), *res.Events, *res.EventsDuplicate, *res.EventsRejected)
	}
	if *res.EventsPerS <= 0 || res.Batch != 150 {
		t.Errorf("events_per_s %v batch %d", *res.EventsPerS, res.Batch)
	}
	// A second run never repeats an id of the first.
	if _, err := Run(context.Background(), cfg); err != nil {
		t.Fatal(err)
	}
	if len(f.ids) != 2*7*150 {
		t.Errorf("after two runs the server holds %d events, want %d", len(f.ids), 2*7*150)
	}
}

func TestRun_MixedIsNineRankingsToOneBatch(t *testing.T) {
	f, srv := newFakeServer(t)
	cfg := testConfig(srv, Mixed)
	cfg.Concurrency, cfg.Requests = 1, 100
	res, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	rec, ing := res.ByOp[Recommend], res.ByOp[Ingest]
	if rec == nil || ing == nil || rec.Requests != 90 || ing.Requests != 10 {
		t.Fatalf("by_op %+v %+v, want 90 rankings and 10 batches", rec, ing)
	}
	if len(f.ids) != 10*DefaultMixedBatch || *res.Events != 10*DefaultMixedBatch {
		t.Errorf("server stored %d events, result says %d; want %d", len(f.ids), *res.Events, 10*DefaultMixedBatch)
	}
}

func TestRun_OpenLoopSendsTheTimetable(t *testing.T) {
	_, srv := newFakeServer(t)
	cfg := testConfig(srv, Recommend)
	cfg.Concurrency, cfg.Rate, cfg.Duration = 0, 200, 500*time.Millisecond
	res, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if res.Mode != "open" || res.Scheduled == nil || *res.Scheduled != 100 {
		t.Fatalf("mode %s scheduled %v, want open with 100", res.Mode, res.Scheduled)
	}
	if res.Requests+*res.Unsent != 100 {
		t.Errorf("requests %d + unsent %d != 100 scheduled", res.Requests, *res.Unsent)
	}
	if res.SendLagMaxMs == nil || res.Behind == nil || res.Concurrency != openLoopWorkers(200) {
		t.Errorf("open-loop fields missing: %+v", res)
	}
}

func TestRun_FreshnessSeesThePurchaseLeave(t *testing.T) {
	f, srv := newFakeServer(t)
	cfg := testConfig(srv, Freshness)
	cfg.Requests = 6
	res, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if *res.Reflections != 6 || *res.ReflectionTimeouts != 0 || res.Errors != 0 {
		t.Errorf("reflections %d timeouts %d errors %d, want 6, 0, 0", *res.Reflections, *res.ReflectionTimeouts, res.Errors)
	}
	// Each probe bought the item ranked first for its visitor.
	n := 0
	for _, items := range f.bought {
		n += len(items)
		if !items["item-0000"] {
			t.Errorf("a probe bought %v, not the first-ranked item-0000", items)
		}
	}
	if n != 6 {
		t.Errorf("the server saw %d purchases, want 6", n)
	}
	if !(res.P50Ms <= res.P99Ms && res.P99Ms <= res.MaxMs) || *res.HTTPMaxMs <= 0 {
		t.Errorf("freshness percentiles %v %v %v, http max %v", res.P50Ms, res.P99Ms, res.MaxMs, *res.HTTPMaxMs)
	}
}

func TestRun_FreshnessWithoutPersonalisedVisitorsStops(t *testing.T) {
	f, srv := newFakeServer(t)
	f.personal = false
	cfg := testConfig(srv, Freshness)
	cfg.Duration = 20 * time.Second // must stop long before: every visitor is skipped once
	start := time.Now()
	res, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if *res.Reflections != 0 || *res.Skipped != 1234 {
		t.Errorf("reflections %d skipped %d, want 0 and every user once", *res.Reflections, *res.Skipped)
	}
	if time.Since(start) > 15*time.Second {
		t.Errorf("took %s: workers kept probing", time.Since(start))
	}
}

func TestRun_DiscoveryNamesTheKey(t *testing.T) {
	_, srv := newFakeServer(t)
	cfg := testConfig(srv, Recommend)
	cfg.Key = "wrong"
	_, err := Run(context.Background(), cfg)
	if err == nil || !strings.Contains(err.Error(), "401") || !strings.Contains(err.Error(), "operator key") {
		t.Errorf("err = %v, want a 401 naming the operator key", err)
	}
}

func TestConfig_Validate(t *testing.T) {
	ok := Config{Scenario: Recommend, BaseURL: "http://127.0.0.1:1", Key: "k"}
	for _, c := range []struct {
		name   string
		change func(*Config)
		flag   string
		reason string
	}{
		{"no scenario", func(c *Config) { c.Scenario = "" }, "scenario", "required"},
		{"unknown scenario", func(c *Config) { c.Scenario = "soak" }, "scenario", `not "soak"`},
		{"no url", func(c *Config) { c.BaseURL = "" }, "url", "required"},
		{"bad url", func(c *Config) { c.BaseURL = "127.0.0.1:8080" }, "url", "http://"},
		{"no key", func(c *Config) { c.Key = "" }, "key", "required"},
		{"rate and concurrency", func(c *Config) { c.Rate, c.Concurrency = 10, 4 }, "rate", "--concurrency exclude each other"},
		{"negative rate", func(c *Config) { c.Rate = -1 }, "rate", "positive"},
		{"negative concurrency", func(c *Config) { c.Concurrency = -1 }, "concurrency", "at least 1"},
		{"rate with freshness", func(c *Config) { c.Scenario, c.Rate = Freshness, 5 }, "rate", "freshness"},
		{"negative duration", func(c *Config) { c.Duration = -time.Second }, "duration", "positive"},
		{"negative requests", func(c *Config) { c.Requests = -1 }, "requests", "negative"},
		{"batch for recommend", func(c *Config) { c.Batch = 5 }, "batch", "ingest and mixed only"},
		{"batch too big", func(c *Config) { c.Scenario, c.Batch = Ingest, MaxBatch+1 }, "batch", "between 1 and 10000"},
	} {
		cfg := ok
		c.change(&cfg)
		err := cfg.Validate()
		var ce *ConfigError
		if !errors.As(err, &ce) || ce.Flag != c.flag || !strings.Contains(err.Error(), c.reason) {
			t.Errorf("%s: err = %v, want --%s … %s", c.name, err, c.flag, c.reason)
		}
	}
	if err := ok.Validate(); err != nil {
		t.Errorf("a good config: %v", err)
	}
	open := ok
	open.Rate = 100
	if err := open.Validate(); err != nil {
		t.Errorf("an open loop: %v", err)
	}
}

func TestRecommendLoopAllocatesLittle(t *testing.T) {
	// A server that allocates little itself: the count includes both ends.
	answer := []byte(`{"rec_id":"r","personalized":true,"items":[]}`)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write(answer) }))
	defer srv.Close()
	cfg := Config{Scenario: Recommend, BaseURL: srv.URL, Key: fakeKey}
	cfg = cfg.withDefaults()
	e := newEnv(&cfg, newTransport(1), &Subjects{Users: []string{"user-0001", "u 2/ü"}, Stores: []string{"store-0001", "s/2"}})
	o := e.recommendOp(context.Background(), 0, kindRecommend)
	var lv live
	var stop atomic.Bool
	r := &recorder{live: &lv, notes: e.notes, userCtx: context.Background(), hardStop: &stop}
	o.do(context.Background(), r, time.Now()) // warm the connection
	allocs := testing.AllocsPerRun(200, func() { o.do(context.Background(), r, time.Now()) })
	if r.errors != 0 {
		t.Fatalf("%d errors: %v", r.errors, r.byStatus)
	}
	// The same request the plain way: http.Get, io.ReadAll.
	url := srv.URL + recommendPath("store-0001", "user-0001")
	plain := testing.AllocsPerRun(200, func() {
		resp, err := http.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		io.ReadAll(resp.Body)
		resp.Body.Close()
	})
	t.Logf("allocations a ranking request, client and server together: %.0f (plain client %.0f)", allocs, plain)
	// Most allocations are net/http's, at both ends; the pre-built request saves the URL
	// parse, the request and its header.
	if allocs > plain-3 {
		t.Errorf("a ranking request allocates %v objects, the plain client %v: the pre-built requests save nothing", allocs, plain)
	}
}

func TestRecommendOp_RandomPairsEscaped(t *testing.T) {
	users := []string{"user-0001", "u 2/ü", "u&3=x"}
	stores := []string{"store-0001", "s/2", "s 3%"}
	type pair struct{ store, user string }
	var mu sync.Mutex
	seen := map[pair]int{}
	var bad []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mux := http.NewServeMux()
		mux.HandleFunc("GET /v1/stores/{store}/recommendations", func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			defer mu.Unlock()
			p := pair{r.PathValue("store"), r.URL.Query().Get("user")}
			if !slices.Contains(stores, p.store) || !slices.Contains(users, p.user) || r.URL.Query().Get("n") == "" {
				bad = append(bad, r.URL.String())
			}
			seen[p]++
			w.Write([]byte(`{"items":[]}`))
		})
		mux.ServeHTTP(w, r)
	}))
	defer srv.Close()
	cfg := Config{Scenario: Recommend, BaseURL: srv.URL, Key: fakeKey}
	cfg = cfg.withDefaults()
	e := newEnv(&cfg, newTransport(1), &Subjects{Users: users, Stores: stores})
	o := e.recommendOp(context.Background(), 0, kindRecommend)
	var lv live
	var stop atomic.Bool
	r := &recorder{live: &lv, notes: e.notes, userCtx: context.Background(), hardStop: &stop}
	for range 300 {
		o.do(context.Background(), r, time.Now())
	}
	if r.errors != 0 {
		t.Fatalf("%d errors: %v", r.errors, r.byStatus)
	}
	if len(bad) > 0 {
		t.Fatalf("requests naming no listed (store, user): %q", bad[:min(3, len(bad))])
	}
	// 300 draws from 9 pairs: each is expected 33 times; all 9 appear unless the op
	// repeats a fixed few.
	if len(seen) != len(users)*len(stores) {
		t.Errorf("%d distinct (store, user) pairs in 300 requests, want all %d: %v", len(seen), len(users)*len(stores), seen)
	}
}

func TestParseCacheCounts(t *testing.T) {
	text := "# HELP qianmian_recommend_cache_hits_total x\n# TYPE qianmian_recommend_cache_hits_total counter\n" +
		"qianmian_recommend_cache_hits_total 1.234e+06\nqianmian_recommend_cache_misses_total 42\nqianmian_recommend_cache_entries 7\n"
	cc, ok := parseCacheCounts(bufio.NewScanner(strings.NewReader(text)))
	if !ok || cc.hits != 1_234_000 || cc.misses != 42 {
		t.Errorf("parse = %+v, %v; want 1234000 hits, 42 misses", cc, ok)
	}
	if _, ok := parseCacheCounts(bufio.NewScanner(strings.NewReader("qianmian_recommend_cache_hits_total 3\n"))); ok {
		t.Error("a page without the misses counter parsed as complete")
	}
	if _, ok := parseCacheCounts(bufio.NewScanner(strings.NewReader("qianmian_recommend_cache_hits_total x\nqianmian_recommend_cache_misses_total 1\n"))); ok {
		t.Error("a malformed value parsed")
	}
}
