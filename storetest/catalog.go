package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/qianmian/qianmian"
)

func catalogTests() []contractTest {
	return []contractTest{
		{"Suppliers/UpsertThenFind", testSuppliersUpsertThenFind},
		{"Suppliers/NotFound", testSuppliersNotFound},
		{"Suppliers/InvalidBatchStoresNothing", testSuppliersInvalid},
		{"Suppliers/Paging", testSuppliersPaging},
		{"Stores/UpsertThenFind", testStoresUpsertThenFind},
		{"Stores/NotFound", testStoresNotFound},
		{"Stores/RegionAndPaging", testStoresRegionAndPaging},
		{"Items/RoundTrip", testItemsRoundTrip},
		{"Items/NotFound", testItemsNotFound},
		{"Items/Filters", testItemsFilters},
	}
}

func testSuppliersUpsertThenFind(t *testing.T, s Stores) {
	ctx := t.Context()
	want := []*qianmian.Supplier{
		{ID: "sup-1", Name: "Jade Cosmetics", Region: "east"},
		{ID: "sup-2", Name: "Hangzhou Tea Co."},
	}
	must(t, s.Suppliers.UpsertSuppliers(ctx, want))
	for _, w := range want {
		if !w.UpdatedAt.Equal(Now()) {
			t.Fatalf("UpsertSuppliers set UpdatedAt=%v, want %v", w.UpdatedAt, Now())
		}
		got, err := s.Suppliers.FindSupplierByID(ctx, w.ID)
		must(t, err)
		equal(t, "FindSupplierByID "+w.ID, got, w)
	}

	// Upsert replaces.
	changed := &qianmian.Supplier{ID: "sup-1", Name: "Jade Beauty", Region: "south"}
	must(t, s.Suppliers.UpsertSuppliers(ctx, []*qianmian.Supplier{changed}))
	got, err := s.Suppliers.FindSupplierByID(ctx, "sup-1")
	must(t, err)
	equal(t, "supplier after second upsert", got, changed)
}

func testSuppliersNotFound(t *testing.T, s Stores) {
	_, err := s.Suppliers.FindSupplierByID(t.Context(), "nope")
	wantCode(t, "FindSupplierByID(nope)", err, qianmian.ENOTFOUND)
}

func testSuppliersInvalid(t *testing.T, s Stores) {
	ctx := t.Context()
	err := s.Suppliers.UpsertSuppliers(ctx, []*qianmian.Supplier{
		{ID: "sup-1", Name: "Fine"},
		{ID: "sup-2"}, // no name
	})
	wantField(t, "UpsertSuppliers with a nameless supplier", err, "name")
	_, err = s.Suppliers.FindSupplierByID(ctx, "sup-1")
	wantCode(t, "the valid supplier of a rejected batch", err, qianmian.ENOTFOUND)
}

func testSuppliersPaging(t *testing.T, s Stores) {
	ctx := t.Context()
	var all []*qianmian.Supplier
	for i := 5; i >= 1; i-- { // inserted in reverse: listings are by id, not insertion
		all = append(all, &qianmian.Supplier{ID: fmt.Sprintf("sup-%d", i), Name: "S"})
	}
	must(t, s.Suppliers.UpsertSuppliers(ctx, all))
	var ids []string
	after := ""
	for range 10 {
		page, err := s.Suppliers.FindSuppliers(ctx, qianmian.Page{After: after, Limit: 2})
		must(t, err)
		if len(page) == 0 {
			break
		}
		if len(page) > 2 {
			t.Fatalf("page of %d suppliers, limit 2", len(page))
		}
		for _, sp := range page {
			ids = append(ids, sp.ID)
		}
		after = page[len(page)-1].ID
	}
	equal(t, "suppliers paged by 2", ids, []string{"sup-1", "sup-2", "sup-3", "sup-4", "sup-5"})

	list, err := s.Suppliers.FindSuppliers(ctx, qianmian.Page{})
	must(t, err)
	if len(list) != 5 {
		t.Fatalf("FindSuppliers without limit gave %d, want 5", len(list))
	}
}

func testStoresUpsertThenFind(t *testing.T, s Stores) {
	ctx := t.Context()
	want := []*qianmian.Store{
		{ID: "store-sh-1", Name: "Jingan Beauty", Region: "east", City: "Shanghai", Channel: qianmian.StoreBoth,
			Geo: &qianmian.GeoPoint{Lat: 31.2304, Lon: 121.4737}},
		{ID: "store-web", Name: "Web Shop", Region: "north", Channel: qianmian.StoreOnline},
	}
	must(t, s.Stores.UpsertStores(ctx, want))
	for _, w := range want {
		got, err := s.Stores.FindStoreByID(ctx, w.ID)
		must(t, err)
		equal(t, "FindStoreByID "+w.ID, got, w)
	}

	// Validate fills an empty channel with online.
	noChannel := &qianmian.Store{ID: "store-x", Region: "west"}
	must(t, s.Stores.UpsertStores(ctx, []*qianmian.Store{noChannel}))
	got, err := s.Stores.FindStoreByID(ctx, "store-x")
	must(t, err)
	if got.Channel != qianmian.StoreOnline || got.Geo != nil {
		t.Fatalf("store without channel and geo read back with channel %q, geo %v", got.Channel, got.Geo)
	}

	err = s.Stores.UpsertStores(ctx, []*qianmian.Store{{ID: "store-y", Region: "west", Channel: "moon"}})
	wantField(t, "UpsertStores with an unknown channel", err, "channel")
}

func testStoresNotFound(t *testing.T, s Stores) {
	_, err := s.Stores.FindStoreByID(t.Context(), "nope")
	wantCode(t, "FindStoreByID(nope)", err, qianmian.ENOTFOUND)
}

func testStoresRegionAndPaging(t *testing.T, s Stores) {
	ctx := t.Context()
	var stores []*qianmian.Store
	for i := range 6 {
		region := "east"
		if i%2 == 1 {
			region = "west"
		}
		stores = append(stores, &qianmian.Store{ID: fmt.Sprintf("st-%d", i), Region: region})
	}
	must(t, s.Stores.UpsertStores(ctx, stores))

	east, err := s.Stores.FindStores(ctx, qianmian.StoreFilter{Region: "east"})
	must(t, err)
	equal(t, "east stores", storeIDs(east), []string{"st-0", "st-2", "st-4"})

	page, err := s.Stores.FindStores(ctx, qianmian.StoreFilter{Region: "west", Page: qianmian.Page{After: "st-1", Limit: 1}})
	must(t, err)
	equal(t, "west stores after st-1, limit 1", storeIDs(page), []string{"st-3"})

	all, err := s.Stores.FindStores(ctx, qianmian.StoreFilter{Page: qianmian.Page{After: "st-3"}})
	must(t, err)
	equal(t, "stores after st-3", storeIDs(all), []string{"st-4", "st-5"})
}

func storeIDs(list []*qianmian.Store) []string {
	ids := []string{}
	for _, s := range list {
		ids = append(ids, s.ID)
	}
	return ids
}

// testItem returns a complete item of the given supplier.
func testItem(id, supplier string) *qianmian.Item {
	return &qianmian.Item{
		ID:         id,
		SupplierID: supplier,
		Title:      "Osmanthus Eau de Parfum " + id,
		Category:   []string{"beauty", "fragrance", "perfume"},
		Brand:      "Jade",
		Price:      199.5,
		Attributes: map[string]string{"volume": "50ml", "scent": "floral", "产地": "杭州"},
		Tags:       []string{"new", "gift"},
		Status:     qianmian.ItemActive,
		LaunchedAt: time.Date(2024, 3, 8, 9, 30, 0, 0, time.UTC),
	}
}

func testItemsRoundTrip(t *testing.T, s Stores) {
	ctx := t.Context()
	full := testItem("item-1", "sup-1")
	bare := &qianmian.Item{ID: "item-2", SupplierID: "sup-1", Title: "Tea", Category: []string{"food"}, Price: 0}
	must(t, s.Items.UpsertItems(ctx, []*qianmian.Item{full, bare}))
	if bare.Status != qianmian.ItemActive {
		t.Fatalf("an item without status got %q, want active", bare.Status)
	}
	for _, w := range []*qianmian.Item{full, bare} {
		got, err := s.Items.FindItemByID(ctx, w.ID)
		must(t, err)
		equal(t, "FindItemByID "+w.ID, got, w)
	}
	got, err := s.Items.FindItemByID(ctx, "item-1")
	must(t, err)
	if got.CategoryKey() != "beauty/fragrance/perfume" || got.Attributes["产地"] != "杭州" || len(got.Tags) != 2 {
		t.Fatalf("item read back with category %q, attributes %v, tags %v", got.CategoryKey(), got.Attributes, got.Tags)
	}

	changed := testItem("item-1", "sup-2")
	changed.Category = []string{"beauty", "skincare"}
	changed.Attributes = map[string]string{"volume": "30ml"}
	changed.Tags = nil
	changed.Status = qianmian.ItemInactive
	must(t, s.Items.UpsertItems(ctx, []*qianmian.Item{changed}))
	got, err = s.Items.FindItemByID(ctx, "item-1")
	must(t, err)
	equal(t, "item after second upsert", got, changed)

	err = s.Items.UpsertItems(ctx, []*qianmian.Item{{ID: "item-3", SupplierID: "sup-1", Title: "No category"}})
	wantField(t, "UpsertItems without category", err, "category")
}

func testItemsNotFound(t *testing.T, s Stores) {
	_, err := s.Items.FindItemByID(t.Context(), "nope")
	wantCode(t, "FindItemByID(nope)", err, qianmian.ENOTFOUND)
}

func testItemsFilters(t *testing.T, s Stores) {
	ctx := t.Context()
	var items []*qianmian.Item
	for i := range 6 {
		items = append(items, testItem(fmt.Sprintf("item-%d", i), fmt.Sprintf("sup-%d", i%2)))
	}
	must(t, s.Items.UpsertItems(ctx, items))

	for _, tt := range []struct {
		name   string
		filter qianmian.ItemFilter
		want   []string
	}{
		{"All", qianmian.ItemFilter{}, []string{"item-0", "item-1", "item-2", "item-3", "item-4", "item-5"}},
		{"Supplier", qianmian.ItemFilter{SupplierID: "sup-1"}, []string{"item-1", "item-3", "item-5"}},
		{"IDs", qianmian.ItemFilter{IDs: []string{"item-4", "item-0", "missing"}}, []string{"item-0", "item-4"}},
		{"SupplierAndIDs", qianmian.ItemFilter{SupplierID: "sup-0", IDs: []string{"item-1", "item-2"}}, []string{"item-2"}},
		{"Page", qianmian.ItemFilter{Page: qianmian.Page{After: "item-1", Limit: 2}}, []string{"item-2", "item-3"}},
		{"SupplierPage", qianmian.ItemFilter{SupplierID: "sup-0", Page: qianmian.Page{After: "item-0", Limit: 1}}, []string{"item-2"}},
		{"NoMatch", qianmian.ItemFilter{SupplierID: "sup-9"}, []string{}},
	} {
		got, err := s.Items.FindItems(ctx, tt.filter)
		must(t, err)
		ids := []string{}
		for _, it := range got {
			ids = append(ids, it.ID)
		}
		equal(t, "FindItems "+tt.name, ids, tt.want)
	}
}
