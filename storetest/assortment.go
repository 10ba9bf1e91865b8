package storetest

import (
	"fmt"
	"testing"

	"github.com/qianmian/qianmian"
)

func assortmentTests() []contractTest {
	return []contractTest{
		{"Assortments/UpsertThenFind", testAssortmentsUpsertThenFind},
		{"Assortments/MissingStoreOrItem", testAssortmentsMissing},
		{"Assortments/Filters", testAssortmentsFilters},
		{"Assortments/StoreCursorPaging", testAssortmentsStorePaging},
		{"Assortments/GlobalCursorPaging", testAssortmentsGlobalPaging},
	}
}

// seedShops stores two stores (s-a, s-b), two suppliers' items (i-0 … i-5, supplier sup-0
// for even and sup-1 for odd numbers), and an assortment: s-a sells every item, in stock
// except i-3; s-b sells i-0, i-1 and i-2, out of stock except i-2.
func seedShops(t *testing.T, s Stores) []*qianmian.Assortment {
	t.Helper()
	ctx := t.Context()
	must(t, s.Stores.UpsertStores(ctx, []*qianmian.Store{
		{ID: "s-a", Region: "east", Channel: qianmian.StoreOffline},
		{ID: "s-b", Region: "west"},
	}))
	var items []*qianmian.Item
	for i := range 6 {
		items = append(items, testItem(fmt.Sprintf("i-%d", i), fmt.Sprintf("sup-%d", i%2)))
	}
	must(t, s.Items.UpsertItems(ctx, items))
	var entries []*qianmian.Assortment
	for i := 5; i >= 0; i-- { // reverse: listings are ordered by item id, not insertion
		entries = append(entries, &qianmian.Assortment{StoreID: "s-a", ItemID: fmt.Sprintf("i-%d", i),
			Price: 100 + float64(i), InStock: i != 3, CommissionRate: 0.1})
	}
	for i := range 3 {
		entries = append(entries, &qianmian.Assortment{StoreID: "s-b", ItemID: fmt.Sprintf("i-%d", i),
			Price: 90, InStock: i == 2, CommissionRate: 0.2})
	}
	must(t, s.Assortments.UpsertAssortments(ctx, entries))
	return entries
}

func assortmentKeys(list []*qianmian.Assortment) []string {
	keys := []string{}
	for _, a := range list {
		keys = append(keys, a.StoreID+"/"+a.ItemID)
	}
	return keys
}

func testAssortmentsUpsertThenFind(t *testing.T, s Stores) {
	ctx := t.Context()
	seedShops(t, s)
	want := &qianmian.Assortment{StoreID: "s-b", ItemID: "i-1", Price: 88.8, InStock: true, CommissionRate: 0.15}
	must(t, s.Assortments.UpsertAssortments(ctx, []*qianmian.Assortment{want}))
	if !want.UpdatedAt.Equal(Now()) {
		t.Fatalf("UpsertAssortments set UpdatedAt=%v, want %v", want.UpdatedAt, Now())
	}
	got, err := s.Assortments.FindAssortments(ctx, qianmian.AssortmentFilter{StoreID: "s-b", ItemID: "i-1"})
	must(t, err)
	equal(t, "the replaced entry", got, []*qianmian.Assortment{want})

	err = s.Assortments.UpsertAssortments(ctx, []*qianmian.Assortment{{StoreID: "s-a", ItemID: "i-0", CommissionRate: 2}})
	wantField(t, "commission rate 2", err, "commission_rate")
}

func testAssortmentsMissing(t *testing.T, s Stores) {
	ctx := t.Context()
	seedShops(t, s)
	for _, tt := range []struct {
		name, store, item, field string
	}{
		{"Store", "s-missing", "i-0", "store_id"},
		{"Item", "s-a", "i-missing", "item_id"},
	} {
		err := s.Assortments.UpsertAssortments(ctx, []*qianmian.Assortment{
			{StoreID: "s-b", ItemID: "i-5", Price: 1}, // valid, but its batch fails
			{StoreID: tt.store, ItemID: tt.item, Price: 1},
		})
		wantCode(t, "UpsertAssortments with a missing "+tt.name, err, qianmian.ENOTFOUND)
		if got := qianmian.ErrorField(err); got != tt.field {
			t.Fatalf("missing %s: error %v names field %q, want %q", tt.name, err, got, tt.field)
		}
		got, err := s.Assortments.FindAssortments(ctx, qianmian.AssortmentFilter{StoreID: "s-b", ItemID: "i-5"})
		must(t, err)
		if len(got) != 0 {
			t.Fatalf("a rejected batch stored %v", assortmentKeys(got))
		}
	}
}

func testAssortmentsFilters(t *testing.T, s Stores) {
	ctx := t.Context()
	seedShops(t, s)
	yes, no := true, false
	for _, tt := range []struct {
		name   string
		filter qianmian.AssortmentFilter
		want   []string
	}{
		{"All", qianmian.AssortmentFilter{}, []string{"s-a/i-0", "s-a/i-1", "s-a/i-2", "s-a/i-3", "s-a/i-4", "s-a/i-5",
			"s-b/i-0", "s-b/i-1", "s-b/i-2"}},
		{"Store", qianmian.AssortmentFilter{StoreID: "s-b"}, []string{"s-b/i-0", "s-b/i-1", "s-b/i-2"}},
		{"Item", qianmian.AssortmentFilter{ItemID: "i-1"}, []string{"s-a/i-1", "s-b/i-1"}},
		{"Supplier", qianmian.AssortmentFilter{SupplierID: "sup-1"}, []string{"s-a/i-1", "s-a/i-3", "s-a/i-5", "s-b/i-1"}},
		{"StoreSupplier", qianmian.AssortmentFilter{StoreID: "s-b", SupplierID: "sup-0"}, []string{"s-b/i-0", "s-b/i-2"}},
		{"InStock", qianmian.AssortmentFilter{StoreID: "s-a", InStock: &yes}, []string{"s-a/i-0", "s-a/i-1", "s-a/i-2", "s-a/i-4", "s-a/i-5"}},
		{"OutOfStock", qianmian.AssortmentFilter{InStock: &no}, []string{"s-a/i-3", "s-b/i-0", "s-b/i-1"}},
		{"SupplierInStock", qianmian.AssortmentFilter{SupplierID: "sup-0", InStock: &yes}, []string{"s-a/i-0", "s-a/i-2", "s-a/i-4", "s-b/i-2"}},
		{"NoMatch", qianmian.AssortmentFilter{StoreID: "s-missing"}, []string{}},
	} {
		got, err := s.Assortments.FindAssortments(ctx, tt.filter)
		must(t, err)
		equal(t, "FindAssortments "+tt.name, assortmentKeys(got), tt.want)
	}

	got, err := s.Assortments.FindAssortments(ctx, qianmian.AssortmentFilter{StoreID: "s-a", ItemID: "i-3"})
	must(t, err)
	equal(t, "entry s-a/i-3", got, []*qianmian.Assortment{
		{StoreID: "s-a", ItemID: "i-3", Price: 103, InStock: false, CommissionRate: 0.1, UpdatedAt: Now()},
	})
}

// page walks a listing with the given limit, using the last entry's cursor, and returns the
// keys it saw; cursor returns the After value that follows an entry.
func page(t *testing.T, s Stores, filter qianmian.AssortmentFilter, cursor func(*qianmian.Assortment) string) []string {
	t.Helper()
	var keys []string
	for range 20 {
		got, err := s.Assortments.FindAssortments(t.Context(), filter)
		must(t, err)
		if len(got) > filter.Limit {
			t.Fatalf("page of %d entries, limit %d", len(got), filter.Limit)
		}
		if len(got) == 0 {
			return keys
		}
		keys = append(keys, assortmentKeys(got)...)
		filter.After = cursor(got[len(got)-1])
	}
	t.Fatal("paging did not end")
	return nil
}

func testAssortmentsStorePaging(t *testing.T, s Stores) {
	seedShops(t, s)
	itemCursor := func(a *qianmian.Assortment) string { return a.ItemID }
	got := page(t, s, qianmian.AssortmentFilter{StoreID: "s-a", Page: qianmian.Page{Limit: 2}}, itemCursor)
	equal(t, "s-a paged by 2", got, []string{"s-a/i-0", "s-a/i-1", "s-a/i-2", "s-a/i-3", "s-a/i-4", "s-a/i-5"})

	yes := true
	got = page(t, s, qianmian.AssortmentFilter{StoreID: "s-a", InStock: &yes, Page: qianmian.Page{Limit: 2}}, itemCursor)
	equal(t, "s-a in stock paged by 2", got, []string{"s-a/i-0", "s-a/i-1", "s-a/i-2", "s-a/i-4", "s-a/i-5"})

	// The same cursor gives the same next page.
	f := qianmian.AssortmentFilter{StoreID: "s-a", Page: qianmian.Page{After: "i-2", Limit: 2}}
	a, err := s.Assortments.FindAssortments(t.Context(), f)
	must(t, err)
	b, err := s.Assortments.FindAssortments(t.Context(), f)
	must(t, err)
	equal(t, "page after i-2", assortmentKeys(a), []string{"s-a/i-3", "s-a/i-4"})
	equal(t, "page after i-2 again", assortmentKeys(b), assortmentKeys(a))
}

func testAssortmentsGlobalPaging(t *testing.T, s Stores) {
	seedShops(t, s)
	got := page(t, s, qianmian.AssortmentFilter{Page: qianmian.Page{Limit: 4}},
		func(a *qianmian.Assortment) string { return a.StoreID + "/" + a.ItemID })
	equal(t, "every entry paged by 4", got, []string{"s-a/i-0", "s-a/i-1", "s-a/i-2", "s-a/i-3", "s-a/i-4", "s-a/i-5",
		"s-b/i-0", "s-b/i-1", "s-b/i-2"})

	got = page(t, s, qianmian.AssortmentFilter{SupplierID: "sup-1", Page: qianmian.Page{Limit: 1}},
		func(a *qianmian.Assortment) string { return a.StoreID + "/" + a.ItemID })
	equal(t, "sup-1 entries paged by 1", got, []string{"s-a/i-1", "s-a/i-3", "s-a/i-5", "s-b/i-1"})
}
