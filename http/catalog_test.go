package http_test

import (
	"net/http"
	"net/url"
	"slices"
	"testing"

	"github.com/qianmian/qianmian"
)

type assortmentPage struct {
	Items []struct {
		ItemID         string   `json:"item_id"`
		Price          float64  `json:"price"`
		InStock        bool     `json:"in_stock"`
		CommissionRate float64  `json:"commission_rate"`
		Title          string   `json:"title"`
		Category       []string `json:"category"`
	} `json:"items"`
	Next *string `json:"next"`
}

func TestItemGet_HasCategory(t *testing.T) {
	t.Parallel()
	h := newWorld().server().Handler()
	resp := do(t, h, "GET", "/v1/items/i1", "op", "")
	resp.wantStatus(t, http.StatusOK)
	var item map[string]any
	resp.decode(t, &item)
	cat, _ := item["category"].([]any)
	if len(cat) != 3 || cat[0] != "beauty" || cat[2] != "perfume" || item["id"] != "i1" || item["supplier_id"] != "S1" {
		t.Fatalf("item = %s", resp.body)
	}
}

func TestAssortment_Paging(t *testing.T) {
	t.Parallel()
	h := newWorld().server().Handler()
	var got []string
	after, pages := "", 0
	for {
		resp := do(t, h, "GET", "/v1/stores/A/assortment?limit=4&after="+url.QueryEscape(after), "store-a", "")
		resp.wantStatus(t, http.StatusOK)
		var page assortmentPage
		resp.decode(t, &page)
		if page.Next == nil {
			t.Fatalf("page without next: %s", resp.body)
		}
		pages++
		for _, e := range page.Items {
			got = append(got, e.ItemID)
			if e.Title != "Title "+e.ItemID || len(e.Category) == 0 || e.Price != 12 || e.CommissionRate != 0.1 {
				t.Fatalf("entry = %+v", e)
			}
		}
		if *page.Next == "" {
			break
		}
		if len(page.Items) != 4 || *page.Next != page.Items[3].ItemID {
			t.Fatalf("page of %d with next %q: %s", len(page.Items), *page.Next, resp.body)
		}
		after = *page.Next
	}
	if want := []string{"i1", "i2", "i3", "i4", "i5", "j1"}; !slices.Equal(got, want) || pages != 2 {
		t.Fatalf("paged %v in %d pages, want %v in 2", got, pages, want)
	}
	// A limit that divides the assortment exactly ends with next "" after the last full page.
	if ids := assortmentIDs(t, do(t, h, "GET", "/v1/stores/A/assortment?limit=6", "op", "")); len(ids) != 6 {
		t.Fatalf("limit=6 gave %v", ids)
	}
	resp := do(t, h, "GET", "/v1/stores/A/assortment?limit=6", "op", "")
	var page assortmentPage
	resp.decode(t, &page)
	if *page.Next != "" {
		t.Fatalf("last full page has next %q", *page.Next)
	}
	if ids := assortmentIDs(t, do(t, h, "GET", "/v1/stores/A/assortment?in_stock=true", "op", "")); slices.Contains(ids, "i3") || len(ids) != 5 {
		t.Fatalf("in_stock=true gave %v", ids)
	}
	for _, q := range []string{"limit=0", "limit=501", "limit=ten", "limit=-1"} {
		do(t, h, "GET", "/v1/stores/A/assortment?"+q, "store-a", "").wantError(t, http.StatusBadRequest, qianmian.EINVALID, "limit")
	}
	do(t, h, "GET", "/v1/stores/A/assortment?in_stock=maybe", "op", "").wantError(t, http.StatusBadRequest, qianmian.EINVALID, "in_stock")
}

func TestUpsert_InvalidRecordStoresNothing(t *testing.T) {
	t.Parallel()
	w := newWorld()
	h := w.server().Handler()
	item := func(id string) map[string]any {
		return map[string]any{"id": id, "supplier_id": "S1", "title": "T", "category": []string{"home"}, "price": 1}
	}
	bad := []map[string]any{item("a"), item("b"), item("c"), item("d")}
	bad[3]["price"] = -1
	for _, tt := range []struct {
		name, body, field string
	}{
		{"Validate", string(mustJSON(t, bad)), "items[3].price"},
		{"Type", `[{"id": "a", "price": "cheap"}]`, "items[0].price"},
		{"UnknownField", `[{"id": "a", "colour": "red"}]`, "items[0].colour"},
		{"MapValueType", `[{"id": "a", "attributes": {"size": 3}}]`, "items[0].attributes"},
		{"NotArray", `{"id": "a"}`, "body"},
		{"Malformed", `[{"id": "a",]`, "body"},
		{"Empty", ``, "body"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			do(t, h, "POST", "/v1/items", "op", tt.body).wantError(t, http.StatusBadRequest, qianmian.EINVALID, tt.field)
		})
	}
	if len(w.upserted) != 0 {
		t.Fatalf("invalid batches stored %v", w.upserted)
	}

	resp := do(t, h, "POST", "/v1/items", "op", string(mustJSON(t, bad[:3])))
	resp.wantStatus(t, http.StatusOK)
	var res struct {
		Upserted int `json:"upserted"`
	}
	resp.decode(t, &res)
	if res.Upserted != 3 || len(w.upserted) != 1 {
		t.Fatalf("upserted %d in %d calls", res.Upserted, len(w.upserted))
	}
	if got := w.upserted[0].([]*qianmian.Item)[0].Status; got != qianmian.ItemActive {
		t.Fatalf("status %q, want active filled by Validate", got)
	}
}

func TestUpsert_OperatorOnly(t *testing.T) {
	t.Parallel()
	w := newWorld()
	h := w.server().Handler()
	for _, tt := range []struct{ path, body string }{
		{"/v1/suppliers", `[{"id": "S3", "name": "Three"}]`},
		{"/v1/stores", `[{"id": "D", "name": "D", "region": "west"}]`},
		{"/v1/users", `[{"id": "u9", "gender": "female"}]`},
	} {
		for _, key := range []string{"store-a", "sup-1", "user-u1"} {
			do(t, h, "POST", tt.path, key, tt.body).wantError(t, http.StatusForbidden, qianmian.EFORBIDDEN, "")
		}
		do(t, h, "POST", tt.path, "op", tt.body).wantStatus(t, http.StatusOK)
	}
	if len(w.upserted) != 3 {
		t.Fatalf("%d upserts, want 3", len(w.upserted))
	}
	do(t, h, "POST", "/v1/stores", "op", `[{"id": "D", "region": "west", "channel": "pigeon"}]`).
		wantError(t, http.StatusBadRequest, qianmian.EINVALID, "stores[0].channel")
	do(t, h, "POST", "/v1/stores", "op", `[{"id": "D", "region": "west", "geo": {"lat": "north", "lon": 1}}]`).
		wantError(t, http.StatusBadRequest, qianmian.EINVALID, "stores[0].geo.lat")
	do(t, h, "POST", "/v1/stores", "op", `[{"id": "D", "region": "west", "geo": {"lat": 91, "lon": 1}}]`).
		wantError(t, http.StatusBadRequest, qianmian.EINVALID, "stores[0].geo.lat")
	do(t, h, "POST", "/v1/users", "op", `[{"id": "u9"}, {"id": "u10", "gender": "robot"}]`).
		wantError(t, http.StatusBadRequest, qianmian.EINVALID, "users[1].gender")
}

func TestUpsert_AssortmentsByStore(t *testing.T) {
	t.Parallel()
	w := newWorld()
	h := w.server().Handler()
	do(t, h, "POST", "/v1/assortments", "store-a", `[{"item_id": "j2", "price": 3, "in_stock": true}, {"store_id": "B", "item_id": "j3", "price": 3}]`).
		wantError(t, http.StatusForbidden, qianmian.EFORBIDDEN, "assortments[1].store_id")
	do(t, h, "POST", "/v1/assortments", "sup-1", `[{"store_id": "A", "item_id": "i1", "price": 3}]`).
		wantError(t, http.StatusForbidden, qianmian.EFORBIDDEN, "")
	do(t, h, "POST", "/v1/assortments", "store-a", `[{"item_id": "j2", "price": 3, "commission_rate": 2}]`).
		wantError(t, http.StatusBadRequest, qianmian.EINVALID, "assortments[0].commission_rate")
	// An entry naming an item that does not exist is bad input, not a missing resource.
	do(t, h, "POST", "/v1/assortments", "store-a", `[{"item_id": "ghost", "price": 3}]`).
		wantError(t, http.StatusBadRequest, qianmian.EINVALID, "assortments")
	if len(w.upserted) != 0 {
		t.Fatalf("refused batches stored %v", w.upserted)
	}
	do(t, h, "POST", "/v1/assortments", "store-a", `[{"item_id": "j2", "price": 3, "in_stock": true}]`).wantStatus(t, http.StatusOK)
	if got := w.upserted[0].([]*qianmian.Assortment)[0].StoreID; got != "A" {
		t.Fatalf("store_id stored as %q, want A", got)
	}
}

func TestList_Operator(t *testing.T) {
	t.Parallel()
	h := newWorld().server().Handler()
	resp := do(t, h, "GET", "/v1/stores?limit=1", "op", "")
	resp.wantStatus(t, http.StatusOK)
	var page struct {
		Stores []qianmian.Store `json:"stores"`
		Next   string           `json:"next"`
	}
	resp.decode(t, &page)
	if len(page.Stores) != 1 || page.Stores[0].ID != "A" || page.Next != "A" {
		t.Fatalf("first page = %s", resp.body)
	}
	resp = do(t, h, "GET", "/v1/stores?limit=1&after=A", "op", "")
	resp.decode(t, &page)
	if len(page.Stores) != 1 || page.Stores[0].ID != "B" || page.Next != "" {
		t.Fatalf("second page = %s", resp.body)
	}
}
