package main

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestServe_UnlinkRebuildsLiveState checks the wiring of the whole program: a tablet
// browses anonymously, a login on it (a search: no item) links it to a new user, whose
// ranking is then personalised by the tablet's views. The operator unlinks the tablet; the
// very next ranking of the user is rebuilt from the log, where the user has only the
// search, so it is not personalised any more.
func TestServe_UnlinkRebuildsLiveState(t *testing.T) {
	d := mustRunDemo(t)
	op, store, user := d.info.Keys.Operator, d.info.StoreID, "unlink-e2e"
	var stock []string
	for id := range d.inStock(t, store) {
		stock = append(stock, id)
	}
	slices.Sort(stock)
	if len(stock) < 5 {
		t.Fatalf("store %s has %d items in stock", store, len(stock))
	}
	at := time.Now().UTC().Add(-time.Minute).Format(time.RFC3339)
	tablet := `"identity":{"channel":"app","type":"device","value":"e2e-tablet"}`
	var lines []string
	for k, item := range stock[:5] {
		lines = append(lines, fmt.Sprintf(`{"id":"e2e-view-%d","type":"view",%s,"item_id":%q,"store_id":%q,"channel":"app","occurred_at":%q}`,
			k, tablet, item, store, at))
	}
	lines = append(lines, fmt.Sprintf(`{"id":"e2e-login","type":"search","query":"login","user_id":%q,%s,"store_id":%q,"channel":"app","occurred_at":%q}`,
		user, tablet, store, at))
	for _, l := range lines { // one request each, in order: the login comes last
		if code := d.call(t, "POST", "/v1/events", op, strings.NewReader(l), nil); code != 200 {
			t.Fatalf("POST /v1/events %s: %d", l, code)
		}
	}
	deadline := time.Now().Add(2 * time.Second)
	for !d.recommend(t, store, user).Personalized {
		if time.Now().After(deadline) {
			t.Fatal("the linked user's ranking is not personalised by the tablet's views")
		}
		time.Sleep(10 * time.Millisecond)
	}

	if code := d.call(t, "DELETE", "/v1/users/"+user+"/identities/app/device/e2e-tablet?reason=e2e", op, nil, nil); code != 204 {
		t.Fatalf("DELETE identity: %d", code)
	}
	if d.recommend(t, store, user).Personalized {
		t.Fatal("after the unlink the user's ranking is still personalised by the tablet's views")
	}
	var g struct {
		Identities []any `json:"identities"`
		Unlinks    []struct {
			Value          string `json:"value"`
			Reason         string `json:"reason"`
			ResolvedEvents int    `json:"resolved_events"`
		} `json:"unlinks"`
	}
	if code := d.call(t, "GET", "/v1/users/"+user+"/identity-graph", op, nil, &g); code != 200 ||
		len(g.Identities) != 0 || len(g.Unlinks) != 1 || g.Unlinks[0].Value != "e2e-tablet" || g.Unlinks[0].Reason != "e2e" {
		t.Fatalf("identity graph after the unlink: %d %+v", code, g)
	}
	var p struct {
		UserID string `json:"user_id"`
		Traits struct {
			Events int `json:"events"`
		} `json:"traits"`
	}
	if code := d.call(t, "GET", "/v1/users/~app:device:e2e-tablet/profile", op, nil, &p); code != 200 ||
		p.UserID != "~app:device:e2e-tablet" || p.Traits.Events != 5 {
		t.Fatalf("the tablet's own profile: %d %+v", code, p)
	}
}
