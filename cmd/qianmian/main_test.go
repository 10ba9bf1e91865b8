package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/qianmian/qianmian"
	"github.com/qianmian/qianmian/sim"
)

// TestMain lets the durability test run this binary as a real server process.
func TestMain(m *testing.M) {
	if args := os.Getenv("QIANMIAN_TEST_CHILD_ARGS"); args != "" {
		os.Exit(Run(context.Background(), strings.Fields(args), os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// demoWorld is a small demo running in-process for the whole-program tests.
type demoWorld struct {
	m    *Main
	info *demoInfo
	dir  string
}

// mustRunDemo builds and serves the small demo world on 127.0.0.1:0.
func mustRunDemo(t *testing.T) *demoWorld {
	t.Helper()
	dir := t.TempDir()
	m := NewMain(io.Discard)
	m.Config.HTTPAddr = "127.0.0.1:0"
	m.Config.TrainEvery = 0
	m.Config.DSN = "sqlite:" + filepath.Join(dir, "qianmian.db")
	cfg := sim.SmallConfig()
	cfg.Seed = 7
	cfg.End = time.Now().UTC().Truncate(time.Second)
	info, err := m.buildDemo(context.Background(), cfg, "small", dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := m.Close(); err != nil {
			t.Error(err)
		}
	})
	return &demoWorld{m: m, info: info, dir: dir}
}

// call sends a request and decodes a JSON answer into out (when non-nil); it returns the status.
func (d *demoWorld) call(t *testing.T, method, path, key string, body io.Reader, out any) int {
	t.Helper()
	req, err := http.NewRequest(method, d.info.BaseURL+path, body)
	if err != nil {
		t.Fatal(err)
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if out != nil && len(b) > 0 {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s %s: %d %s: %v", method, path, resp.StatusCode, b, err)
		}
	}
	return resp.StatusCode
}

type recResponse struct {
	RecID        string `json:"rec_id"`
	Personalized bool   `json:"personalized"`
	Items        []struct {
		ItemID  string   `json:"item_id"`
		Score   float64  `json:"score"`
		Reasons []string `json:"reasons"`
	} `json:"items"`
}

type assortmentPage struct {
	Items []struct {
		ItemID  string  `json:"item_id"`
		Price   float64 `json:"price"`
		InStock bool    `json:"in_stock"`
	} `json:"items"`
	Next string `json:"next"`
}

// inStock returns the store's in-stock items, read page by page through the API.
func (d *demoWorld) inStock(t *testing.T, store string) map[string]bool {
	t.Helper()
	set := map[string]bool{}
	after := ""
	for pages := 0; ; pages++ {
		var p assortmentPage
		if code := d.call(t, "GET", "/v1/stores/"+store+"/assortment?limit=200&after="+after, d.info.Keys.Operator, nil, &p); code != 200 {
			t.Fatalf("assortment page: %d", code)
		}
		for _, it := range p.Items {
			if it.InStock {
				set[it.ItemID] = true
			}
		}
		if p.Next == "" || pages > 1000 {
			return set
		}
		after = p.Next
	}
}

func (d *demoWorld) recommend(t *testing.T, store, user string) recResponse {
	t.Helper()
	var r recResponse
	if code := d.call(t, "GET", fmt.Sprintf("/v1/stores/%s/recommendations?user=%s&n=10", store, user), d.info.Keys.Operator, nil, &r); code != 200 {
		t.Fatalf("recommendations at %s: status %d", store, code)
	}
	return r
}

func TestDemo_WholeProgram(t *testing.T) {
	d := mustRunDemo(t)
	info := d.info
	for name, v := range map[string]string{"base_url": info.BaseURL, "operator": info.Keys.Operator, "store": info.Keys.Store,
		"supplier": info.Keys.Supplier, "store_id": info.StoreID, "other_store_id": info.OtherStoreID,
		"supplier_id": info.SupplierID, "user_id": info.UserID} {
		if v == "" {
			t.Fatalf("demo info %s is empty", name)
		}
	}
	if code := d.call(t, "GET", "/healthz", "", nil, nil); code != 200 {
		t.Fatalf("/healthz: %d", code)
	}
	var onDisk demoInfo
	b, err := os.ReadFile(filepath.Join(d.dir, "demo.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &onDisk); err != nil || onDisk != *info {
		t.Fatalf("demo.json = %s (err %v), want %+v", b, err, *info)
	}

	t.Run("StoresRankDifferentlyFromTheirOwnStock", func(t *testing.T) {
		a := d.recommend(t, info.StoreID, info.UserID)
		b := d.recommend(t, info.OtherStoreID, info.UserID)
		if len(a.Items) == 0 || len(b.Items) == 0 {
			t.Fatalf("empty rankings: %d and %d items", len(a.Items), len(b.Items))
		}
		if !a.Personalized {
			t.Errorf("sample user's ranking is not personalised")
		}
		if fmt.Sprint(ids(a)) == fmt.Sprint(ids(b)) {
			t.Errorf("rankings at %s and %s are the same: %v", info.StoreID, info.OtherStoreID, ids(a))
		}
		for store, r := range map[string]recResponse{info.StoreID: a, info.OtherStoreID: b} {
			stock := d.inStock(t, store)
			for _, it := range r.Items {
				if !stock[it.ItemID] {
					t.Errorf("store %s ranked %s, which is not in its in-stock assortment", store, it.ItemID)
				}
				if len(it.Reasons) == 0 {
					t.Errorf("item %s has no reason", it.ItemID)
				}
			}
		}
	})

	t.Run("NewCategoryViewsShowWithinASecond", func(t *testing.T) { testNewCategory(t, d) })
	t.Run("Access", func(t *testing.T) { testAccess(t, d) })
	t.Run("BadInput", func(t *testing.T) { testBadInput(t, d) })
}

func ids(r recResponse) []string {
	var out []string
	for _, it := range r.Items {
		out = append(out, it.ItemID)
	}
	return out
}

type itemJSON struct {
	ID       string   `json:"id"`
	Title    string   `json:"title"`
	Category []string `json:"category"`
}

func (d *demoWorld) item(t *testing.T, id string) itemJSON {
	t.Helper()
	var it itemJSON
	if code := d.call(t, "GET", "/v1/items/"+id, d.info.Keys.Operator, nil, &it); code != 200 || len(it.Category) == 0 {
		t.Fatalf("GET /v1/items/%s: %d %+v", id, code, it)
	}
	return it
}

// testNewCategory posts five views of a category the user never touched and expects the
// next ranking, within a second, to hold items of that category with a reason saying so.
func testNewCategory(t *testing.T, d *demoWorld) {
	ctx := context.Background()
	touched := map[string]bool{}
	evs, err := d.m.Events.FindEvents(ctx, eventFilterForUser(d.info.UserID))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range evs {
		if e.ItemID != "" {
			touched[strings.Join(d.item(t, e.ItemID).Category, "/")] = true
		}
	}
	byCat := map[string][]itemJSON{}
	for id := range d.inStock(t, d.info.StoreID) {
		it := d.item(t, id)
		if c := strings.Join(it.Category, "/"); !touched[c] {
			byCat[c] = append(byCat[c], it)
		}
	}
	var cat string
	for c, items := range byCat {
		if len(items) >= 5 && (cat == "" || len(items) > len(byCat[cat]) || len(items) == len(byCat[cat]) && c < cat) {
			cat = c
		}
	}
	if cat == "" {
		t.Fatal("no untouched category with 5 in-stock items at the sample store")
	}
	items := byCat[cat]
	var events []map[string]any
	now := time.Now().UTC()
	for i := 0; i < 5; i++ {
		events = append(events, map[string]any{"id": fmt.Sprintf("newcat-%d", i), "type": "view", "user_id": d.info.UserID,
			"item_id": items[i].ID, "store_id": d.info.StoreID, "channel": "app", "occurred_at": now.Add(time.Duration(i) * time.Second).Format(time.RFC3339)})
	}
	body, _ := json.Marshal(events)
	var res struct{ Accepted int }
	if code := d.call(t, "POST", "/v1/events", d.info.Keys.Operator, bytes.NewReader(body), &res); code != 200 || res.Accepted != 5 {
		t.Fatalf("post views: %d accepted %d", code, res.Accepted)
	}
	posted := time.Now()
	leaf := cat[strings.LastIndex(cat, "/")+1:]
	for {
		r := d.recommend(t, d.info.StoreID, d.info.UserID)
		for _, it := range r.Items {
			if strings.Join(d.item(t, it.ItemID).Category, "/") != cat {
				continue
			}
			for _, reason := range it.Reasons {
				if strings.Contains(reason, leaf) || mentionsAny(reason, items[:5]) {
					t.Logf("after %v: %s with reason %q", time.Since(posted), it.ItemID, reason)
					return
				}
			}
		}
		if time.Since(posted) > time.Second {
			t.Fatalf("1 s after 5 views of %s, the ranking has no item of it with a reason naming it: %+v", cat, r.Items)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func mentionsAny(reason string, items []itemJSON) bool {
	for _, it := range items {
		if strings.Contains(reason, it.Title) {
			return true
		}
	}
	return false
}

func testAccess(t *testing.T, d *demoWorld) {
	info := d.info
	var e struct {
		Error struct{ Code, Message string } `json:"error"`
	}
	if code := d.call(t, "GET", "/v1/stores/"+info.StoreID+"/recommendations?user="+info.UserID, "", nil, &e); code != 401 || e.Error.Code == "" {
		t.Errorf("no key: %d %+v, want 401 with a JSON error", code, e)
	}
	if code := d.call(t, "GET", "/v1/stores/"+info.StoreID+"/recommendations", "qm_nope_nope", nil, nil); code != 401 {
		t.Errorf("unknown key: %d, want 401", code)
	}
	if code := d.call(t, "GET", "/v1/stores/"+info.StoreID+"/recommendations?user="+info.UserID, info.Keys.Store, nil, nil); code != 200 {
		t.Errorf("store key, own store: %d, want 200", code)
	}
	var missing, other map[string]any
	c1 := d.call(t, "GET", "/v1/stores/"+info.OtherStoreID+"/recommendations?user="+info.UserID, info.Keys.Store, nil, &other)
	c2 := d.call(t, "GET", "/v1/stores/no-such-store/recommendations?user="+info.UserID, info.Keys.Store, nil, &missing)
	if c1 != 404 || c2 != 404 {
		t.Errorf("store key on other store's recommendations: %d (missing store: %d), want 404", c1, c2)
	}
	if code := d.call(t, "GET", "/v1/stores/"+info.OtherStoreID+"/assortment", info.Keys.Store, nil, nil); code != 404 {
		t.Errorf("store key on other store's assortment: %d, want 404", code)
	}
	stranger := strangerOf(t, d)
	if code := d.call(t, "GET", "/v1/users/"+stranger, info.Keys.Store, nil, nil); code != 404 {
		t.Errorf("store key reading user %s who never touched the store: %d, want 404", stranger, code)
	}
	if code := d.call(t, "GET", "/v1/users/"+stranger, info.Keys.Operator, nil, nil); code != 200 {
		t.Errorf("operator reading user %s: %d, want 200", stranger, code)
	}
}

// strangerOf finds a user with no event at the demo's store.
func strangerOf(t *testing.T, d *demoWorld) string {
	ctx := context.Background()
	users, err := d.m.Users.FindUsers(ctx, pageOf(500))
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range users {
		ok, err := d.m.Events.HasStoreInteraction(ctx, u.ID, d.info.StoreID)
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			return u.ID
		}
	}
	t.Fatal("every user has interacted with the demo store")
	return ""
}

func testBadInput(t *testing.T, d *demoWorld) {
	key := d.info.Keys.Operator
	var e struct {
		Error struct{ Code, Message, Field string } `json:"error"`
	}
	if code := d.call(t, "POST", "/v1/events", key, strings.NewReader(`[{"id":`), &e); code != 400 || e.Error.Message == "" {
		t.Errorf("malformed JSON: %d %+v, want 400 with a JSON error", code, e)
	}
	ctx := context.Background()
	before, err := d.m.Events.CountEvents(ctx)
	if err != nil {
		t.Fatal(err)
	}
	batch := badBatch(d)
	type result struct {
		Accepted, Duplicates int
		Rejected             []struct {
			Index         int
			Field, Reason string
		}
	}
	var r1, r2 result
	if code := d.call(t, "POST", "/v1/events", key, bytes.NewReader(batch), &r1); code != 200 {
		t.Fatalf("batch: %d", code)
	}
	if r1.Accepted != 97 || len(r1.Rejected) != 3 {
		t.Fatalf("batch: %+v, want 97 accepted and 3 rejected", r1)
	}
	wantFields := map[int]string{10: "type", 50: "item_id", 90: "occurred_at"}
	for _, rj := range r1.Rejected {
		if wantFields[rj.Index] != rj.Field || rj.Reason == "" {
			t.Errorf("reject %+v, want field %q with a reason", rj, wantFields[rj.Index])
		}
	}
	if code := d.call(t, "POST", "/v1/events", key, bytes.NewReader(batch), &r2); code != 200 || r2.Duplicates != 97 || r2.Accepted != 0 {
		t.Fatalf("same batch again: %d %+v, want 97 duplicates", code, r2)
	}
	after, err := d.m.Events.CountEvents(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if after-before != 97 {
		t.Fatalf("rows grew by %d, want 97", after-before)
	}
}

// badBatch returns 100 events of which 3 are bad: an unknown type (index 10), a view without
// an item (50) and an unparseable time (90).
func badBatch(d *demoWorld) []byte {
	var lines []string
	now := time.Now().UTC().Add(-time.Minute).Format(time.RFC3339)
	for i := 0; i < 100; i++ {
		typ, item, at := "view", `"item_id":"`+firstItem(d)+`",`, now
		switch i {
		case 10:
			typ = "teleport"
		case 50:
			item = ""
		case 90:
			at = "last tuesday"
		}
		lines = append(lines, fmt.Sprintf(`{"id":"bad-batch-%d","type":%q,"user_id":%q,%s"store_id":%q,"channel":"web","occurred_at":%q}`,
			i, typ, d.info.UserID, item, d.info.StoreID, at))
	}
	return []byte("[" + strings.Join(lines, ",") + "]")
}

func firstItem(d *demoWorld) string {
	inStock := true
	as, err := d.m.Assortments.FindAssortments(context.Background(),
		qianmian.AssortmentFilter{StoreID: d.info.StoreID, InStock: &inStock, Page: qianmian.Page{Limit: 1}})
	if err != nil || len(as) == 0 {
		return ""
	}
	return as[0].ItemID
}

func eventFilterForUser(id string) qianmian.EventFilter { return qianmian.EventFilter{UserID: id} }

func pageOf(n int) qianmian.Page { return qianmian.Page{Limit: n} }
