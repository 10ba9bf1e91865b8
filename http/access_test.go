package http_test

import (
	"bytes"
	"net/http"
	"testing"

	"github.com/qianmian/qianmian"
)

// TestAccess_OtherTenantIsNotFound checks that another tenant's object answers exactly what
// a missing object answers: same status, same body.
func TestAccess_OtherTenantIsNotFound(t *testing.T) {
	t.Parallel()
	h := newWorld().server().Handler()
	for _, tt := range []struct {
		name           string
		key, forbidden string // the key and a path of another tenant's object
		missing        string // a path of an object that does not exist, asked by the operator
	}{
		{"StoreRecommendations", "store-a", "/v1/stores/B/recommendations?user=u1", "/v1/stores/C/recommendations?user=u1"},
		{"StoreAssortment", "store-a", "/v1/stores/B/assortment", "/v1/stores/C/assortment"},
		{"StoreSimilar", "store-a", "/v1/stores/B/items/j1/similar", "/v1/stores/C/items/j1/similar"},
		{"Store", "store-a", "/v1/stores/B", "/v1/stores/C"},
		{"StoreItemNotCarried", "store-a", "/v1/items/j2", "/v1/items/nope"},
		{"StoreUserWithoutInteraction", "store-a", "/v1/users/u3", "/v1/users/nobody"},
		{"OtherStoreUser", "store-b", "/v1/users/u1", "/v1/users/nobody"},
		{"StoreIdentities", "store-a", "/v1/users/u1/identities", "/v1/users/nobody/identities"},
		{"SupplierOtherSupplier", "sup-1", "/v1/suppliers/S2", "/v1/suppliers/S9"},
		{"SupplierOtherItem", "sup-1", "/v1/items/j1", "/v1/items/nope"},
		{"SupplierStoreWithoutItsItems", "sup-1", "/v1/stores/B/assortment", "/v1/stores/C/assortment"},
		{"SupplierUser", "sup-1", "/v1/users/u1", "/v1/users/nobody"},
		{"SupplierRecommendations", "sup-1", "/v1/stores/A/recommendations", "/v1/stores/C/recommendations"},
		{"SupplierStore", "sup-1", "/v1/stores/A", "/v1/stores/C"},
		{"ConsumerOtherUser", "user-u1", "/v1/users/u2", "/v1/users/nobody"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := do(t, h, "GET", tt.forbidden, tt.key, "")
			got.wantError(t, http.StatusNotFound, qianmian.ENOTFOUND, "")
			want := do(t, h, "GET", tt.missing, "op", "")
			want.wantError(t, http.StatusNotFound, qianmian.ENOTFOUND, "")
			if !bytes.Equal(got.body, want.body) {
				t.Fatalf("another tenant's object answers %s, a missing one %s", got.body, want.body)
			}
		})
	}
}

func TestAccess_StoreReadsItsOwn(t *testing.T) {
	t.Parallel()
	h := newWorld().server().Handler()
	for _, path := range []string{
		"/v1/stores/A", "/v1/stores/A/assortment", "/v1/stores/A/recommendations?user=u3",
		"/v1/stores/A/recommendations", "/v1/stores/A/items/i1/similar", "/v1/items/j1", "/v1/users/u1",
	} {
		do(t, h, "GET", path, "store-a", "").wantStatus(t, http.StatusOK)
	}
	for _, path := range []string{"/v1/stores", "/v1/items", "/v1/users", "/v1/suppliers"} {
		do(t, h, "GET", path, "store-a", "").wantError(t, http.StatusForbidden, qianmian.EFORBIDDEN, "")
	}
}

func TestAccess_PersonalFields(t *testing.T) {
	t.Parallel()
	h := newWorld().server().Handler()
	for _, tt := range []struct {
		key, user    string
		wantPersonal bool
	}{
		{"store-a", "u1", false}, // interacted, no marketing consent
		{"store-a", "u2", true},  // interacted, marketing consent
		{"op", "u1", true},
		{"user-u1", "u1", true},
	} {
		resp := do(t, h, "GET", "/v1/users/"+tt.user, tt.key, "")
		resp.wantStatus(t, http.StatusOK)
		var u qianmian.User
		resp.decode(t, &u)
		if u.ID != tt.user {
			t.Fatalf("%s reading %s got user %q", tt.key, tt.user, u.ID)
		}
		if got := u.Name != "" && u.Phone != "" && u.Address != ""; got != tt.wantPersonal {
			t.Errorf("%s reading %s: personal fields shown %v, want %v: %s", tt.key, tt.user, got, tt.wantPersonal, resp.body)
		}
		if !tt.wantPersonal && (u.Name != "" || u.Phone != "" || u.Address != "") {
			t.Errorf("%s reading %s: some personal field shown: %s", tt.key, tt.user, resp.body)
		}
	}
}

func TestAccess_Supplier(t *testing.T) {
	t.Parallel()
	w := newWorld()
	h := w.server().Handler()
	for _, path := range []string{"/v1/suppliers/S1", "/v1/items/i1"} {
		do(t, h, "GET", path, "sup-1", "").wantStatus(t, http.StatusOK)
	}

	// Its items in store A, not S2's j1 that A also carries.
	if got := assortmentIDs(t, do(t, h, "GET", "/v1/stores/A/assortment", "sup-1", "")); !equal(got, "i1", "i2", "i3", "i4", "i5") {
		t.Fatalf("S1 sees A's entries %v", got)
	}
	if got := assortmentIDs(t, do(t, h, "GET", "/v1/stores/A/assortment", "sup-2", "")); !equal(got, "j1") {
		t.Fatalf("S2 sees A's entries %v", got)
	}
	// A later page past its entries is empty, not 404, since A carries S1's items.
	if got := assortmentIDs(t, do(t, h, "GET", "/v1/stores/A/assortment?after=i5", "sup-1", "")); len(got) != 0 {
		t.Fatalf("S1 past the end sees %v", got)
	}

	resp := do(t, h, "GET", "/v1/items", "sup-1", "")
	resp.wantStatus(t, http.StatusOK)
	var list struct {
		Items []qianmian.Item `json:"items"`
	}
	resp.decode(t, &list)
	for _, it := range list.Items {
		if it.SupplierID != "S1" {
			t.Fatalf("supplier S1 lists item %s of %s", it.ID, it.SupplierID)
		}
	}
	if len(list.Items) != 5 {
		t.Fatalf("S1 lists %d items, want 5", len(list.Items))
	}
	// Even asking for another supplier's items lists only its own.
	resp = do(t, h, "GET", "/v1/items?supplier_id=S2", "sup-1", "")
	resp.decode(t, &list)
	if len(list.Items) != 5 || list.Items[0].SupplierID != "S1" {
		t.Fatalf("S1 asking for S2's items got %s", resp.body)
	}
	for _, path := range []string{"/v1/users", "/v1/stores", "/v1/suppliers"} {
		do(t, h, "GET", path, "sup-1", "").wantError(t, http.StatusForbidden, qianmian.EFORBIDDEN, "")
	}
}

func TestAccess_SupplierUpsertsOnlyItsItems(t *testing.T) {
	t.Parallel()
	w := newWorld()
	h := w.server().Handler()
	item := func(id, supplier string) map[string]any {
		m := map[string]any{"id": id, "title": "New " + id, "category": []string{"home"}, "price": 5}
		if supplier != "" {
			m["supplier_id"] = supplier
		}
		return m
	}
	post := func(key string, items ...map[string]any) response {
		return do(t, h, "POST", "/v1/items", key, string(mustJSON(t, items)))
	}
	post("sup-1", item("n1", "S1"), item("n2", "S2")).wantError(t, http.StatusForbidden, qianmian.EFORBIDDEN, "items[1].supplier_id")
	// j1 is S2's: S1 may not take it over by upserting it under its own id.
	post("sup-1", item("n1", "S1"), item("j1", "S1")).wantError(t, http.StatusForbidden, qianmian.EFORBIDDEN, "items[1].id")
	if len(w.upserted) != 0 {
		t.Fatalf("refused batches stored %v", w.upserted)
	}
	resp := post("sup-1", item("n1", ""), item("i2", "S1"))
	resp.wantStatus(t, http.StatusOK)
	stored := w.upserted[0].([]*qianmian.Item)
	if stored[0].SupplierID != "S1" {
		t.Fatalf("empty supplier_id stored as %q, want S1", stored[0].SupplierID)
	}
	for _, key := range []string{"store-a", "user-u1"} {
		post(key, item("n1", "S1")).wantError(t, http.StatusForbidden, qianmian.EFORBIDDEN, "")
	}
}

func TestAccess_ConsentAndIdentities(t *testing.T) {
	t.Parallel()
	w := newWorld()
	h := w.server().Handler()
	resp := do(t, h, "PUT", "/v1/users/u1/consent", "user-u1", `{"marketing": true}`)
	resp.wantStatus(t, http.StatusOK)
	var u qianmian.User
	resp.decode(t, &u)
	if !u.Consent.Marketing || !u.Consent.Personalization {
		t.Fatalf("consent after update = %+v", u.Consent)
	}
	do(t, h, "PUT", "/v1/users/u1/consent", "op", `{"personalization": false}`).wantStatus(t, http.StatusOK)
	if w.users["u1"].Consent.Personalization {
		t.Fatal("operator's consent change not applied")
	}
	for _, key := range []string{"store-a", "sup-1"} {
		do(t, h, "PUT", "/v1/users/u1/consent", key, `{"marketing": false}`).wantError(t, http.StatusNotFound, qianmian.ENOTFOUND, "")
	}
	do(t, h, "PUT", "/v1/users/u2/consent", "user-u1", `{"marketing": false}`).wantError(t, http.StatusNotFound, qianmian.ENOTFOUND, "")
	do(t, h, "PUT", "/v1/users/u1/consent", "op", `{"marketting": true}`).wantError(t, http.StatusBadRequest, qianmian.EINVALID, "marketting")
	do(t, h, "PUT", "/v1/users/u1/consent", "op", `{"marketing": "yes"}`).wantError(t, http.StatusBadRequest, qianmian.EINVALID, "marketing")
	do(t, h, "PUT", "/v1/users/u1/consent", "op", `{"marketing": tru`).wantError(t, http.StatusBadRequest, qianmian.EINVALID, "body")
	do(t, h, "PUT", "/v1/users/nobody/consent", "op", `{}`).wantError(t, http.StatusNotFound, qianmian.ENOTFOUND, "")

	resp = do(t, h, "GET", "/v1/users/u1/identities", "user-u1", "")
	resp.wantStatus(t, http.StatusOK)
	var ids struct {
		Identities []qianmian.Identity `json:"identities"`
	}
	resp.decode(t, &ids)
	if len(ids.Identities) != 1 || ids.Identities[0].Value != "dev-1" || ids.Identities[0].Type != qianmian.IdentityDevice {
		t.Fatalf("identities = %s", resp.body)
	}
	resp = do(t, h, "GET", "/v1/users/u2/identities", "op", "")
	if !bytes.Contains(resp.body, []byte(`"identities":[]`)) {
		t.Fatalf("no identities answered %s, want an empty array", resp.body)
	}
}

func assortmentIDs(t *testing.T, resp response) []string {
	t.Helper()
	resp.wantStatus(t, http.StatusOK)
	var page assortmentPage
	resp.decode(t, &page)
	ids := []string{}
	for _, e := range page.Items {
		ids = append(ids, e.ItemID)
	}
	return ids
}

func equal(got []string, want ...string) bool {
	if len(got) != len(want) {
		return false
	}
	for i := range got {
		if got[i] != want[i] {
			return false
		}
	}
	return true
}
