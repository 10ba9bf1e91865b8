package http_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/qianmian/qianmian"
)

// segmentWorld is the API over a real SQLite file, a real bus and the real profile service
// with segments: beauty items p1–p3, food item f1; u1 consented to marketing, u2 did not.
type segmentWorld struct {
	h      http.Handler
	events qianmian.EventService
	keys   map[string]string // op, store-a, u1, u2
}

func newSegmentWorld(t *testing.T) *segmentWorld {
	t.Helper()
	api := openSQLiteAPI(t, []*qianmian.Store{{ID: "A", Name: "Store A", Region: "east", City: "Shanghai", Channel: qianmian.StoreOnline}},
		[]string{"p1", "p2", "p3", "f1"}, 50)
	marketing := qianmian.DefaultConsent()
	marketing.Marketing = true
	api.check(api.users.UpsertUsers(t.Context(), []*qianmian.User{
		{ID: "u1", City: "Shanghai", Consent: marketing},
		{ID: "u2", City: "Beijing", Consent: qianmian.DefaultConsent()},
	}))
	ps := api.profiles(true)
	s := api.server()
	s.Profiles, s.Segments = ps, ps
	return &segmentWorld{h: s.Handler(), events: api.events, keys: api.tokens(map[string]qianmian.Principal{
		"op": {Role: qianmian.RoleOperator}, "store-a": {Role: qianmian.RoleStore, ID: "A"},
		"u1": {Role: qianmian.RoleConsumer, ID: "u1"}, "u2": {Role: qianmian.RoleConsumer, ID: "u2"},
	})}
}

func (w *segmentWorld) do(t *testing.T, method, target, key, body string) response {
	t.Helper()
	return do(t, w.h, method, target, w.keys[key], body)
}

func (w *segmentWorld) members(t *testing.T, target string) (ids []string, next string) {
	t.Helper()
	resp := w.do(t, "GET", target, "op", "")
	resp.wantStatus(t, http.StatusOK)
	var page struct {
		Members []string `json:"members"`
		Next    string   `json:"next"`
	}
	resp.decode(t, &page)
	return page.Members, page.Next
}

// TestSegment_MembershipFollowsEvents: a segment defined over the API gains a consumer
// within a second of the event that qualifies them; its audience leaves out a member
// without marketing consent; turning personalisation off leaves it at once.
func TestSegment_MembershipFollowsEvents(t *testing.T) {
	t.Parallel()
	w := newSegmentWorld(t)
	resp := w.do(t, "POST", "/v1/segments", "op",
		`{"id": "beauty", "name": "Beauty fans", "expression": "affinity(\"beauty\") > 0.3"}`)
	resp.wantStatus(t, http.StatusCreated)
	var g qianmian.Segment
	resp.decode(t, &g)
	if g.ID != "beauty" || g.Expression != `affinity("beauty") > 0.3` || g.CreatedAt.IsZero() {
		t.Fatalf("created segment %+v", g)
	}
	if ids, _ := w.members(t, "/v1/segments/beauty/members"); len(ids) != 0 {
		t.Fatalf("members before any event: %v", ids)
	}

	at := time.Now().Add(-time.Minute)
	view := func(id, user, item string) *qianmian.Event {
		return &qianmian.Event{ID: id, Type: qianmian.EventView, UserID: user, ItemID: item, StoreID: "A",
			Channel: qianmian.ChannelApp, OccurredAt: at}
	}
	start := time.Now()
	if _, err := w.events.CreateEvents(t.Context(), []*qianmian.Event{
		view("e1", "u1", "p1"), view("e2", "u2", "p2"), view("e3", "u3", "f1"),
	}); err != nil {
		t.Fatal(err)
	}
	deadline := start.Add(time.Second)
	var ids []string
	for {
		ids, _ = w.members(t, "/v1/segments/beauty/members")
		if slices.Equal(ids, []string{"u1", "u2"}) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("members a second after the events: %v, want [u1 u2]", ids)
		}
		time.Sleep(2 * time.Millisecond)
	}
	t.Logf("membership latency (CreateEvents to members): %v", time.Since(start))

	// Paging.
	if ids, next := w.members(t, "/v1/segments/beauty/members?limit=1"); !slices.Equal(ids, []string{"u1"}) || next != "u1" {
		t.Fatalf("first page: %v next %q", ids, next)
	}
	if ids, next := w.members(t, "/v1/segments/beauty/members?limit=1&after=u1"); !slices.Equal(ids, []string{"u2"}) || next != "" {
		t.Fatalf("second page: %v next %q", ids, next)
	}

	// The audience: members with marketing consent only.
	resp = w.do(t, "GET", "/v1/segments/beauty/audience", "op", "")
	resp.wantStatus(t, http.StatusOK)
	var aud struct {
		Audience []string `json:"audience"`
	}
	resp.decode(t, &aud)
	if !slices.Equal(aud.Audience, []string{"u1"}) {
		t.Fatalf("audience %v, want [u1]: u2 did not consent to marketing", aud.Audience)
	}

	resp = w.do(t, "GET", "/v1/segments/beauty/counts", "op", "")
	resp.wantStatus(t, http.StatusOK)
	var counts struct {
		Count   int                     `json:"count"`
		History []qianmian.SegmentCount `json:"history"`
	}
	resp.decode(t, &counts)
	if counts.Count != 2 || len(counts.History) == 0 || counts.History[len(counts.History)-1].Count != 2 {
		t.Fatalf("counts %+v", counts)
	}

	// Personalisation off: out of every segment at once.
	w.do(t, "PUT", "/v1/me/personalization", "u2", `{"enabled": false}`).wantStatus(t, http.StatusOK)
	if ids, _ := w.members(t, "/v1/segments/beauty/members"); !slices.Equal(ids, []string{"u1"}) {
		t.Fatalf("members after u2 turned personalisation off: %v", ids)
	}

	// Redefined over the profiles in memory, then deleted.
	resp = w.do(t, "PUT", "/v1/segments/beauty", "op", `{"name": "Snackers", "expression": "affinity(\"food\") > 0.3"}`)
	resp.wantStatus(t, http.StatusOK)
	if ids, _ := w.members(t, "/v1/segments/beauty/members"); !slices.Equal(ids, []string{"u3"}) {
		t.Fatalf("members after the redefinition: %v, want [u3]", ids)
	}
	resp = w.do(t, "GET", "/v1/segments", "op", "")
	resp.wantStatus(t, http.StatusOK)
	if !strings.Contains(string(resp.body), `"Snackers"`) {
		t.Fatalf("segments list %s", resp.body)
	}
	w.do(t, "DELETE", "/v1/segments/beauty", "op", "").wantStatus(t, http.StatusNoContent)
	w.do(t, "GET", "/v1/segments/beauty", "op", "").wantError(t, http.StatusNotFound, qianmian.ENOTFOUND, "")
	w.do(t, "GET", "/v1/segments/beauty/members", "op", "").wantError(t, http.StatusNotFound, qianmian.ENOTFOUND, "")
}

// TestSegment_BadExpression: an expression that does not compile answers 400 naming the
// field "expression" and the column of the mistake.
func TestSegment_BadExpression(t *testing.T) {
	t.Parallel()
	w := newSegmentWorld(t)
	for _, tc := range []struct{ expr, column string }{
		{`affinity(\"beauty\" > 0.3`, "column 24"}, // the call is never closed
		{`afinity(\"beauty\") > 0.3`, "column 1"},
		{`price_tier >`, "column 13"},
	} {
		resp := w.do(t, "POST", "/v1/segments", "op", `{"id": "x", "name": "X", "expression": "`+tc.expr+`"}`)
		resp.wantError(t, http.StatusBadRequest, qianmian.EINVALID, "expression")
		if !strings.Contains(string(resp.body), tc.column) {
			t.Errorf("%s: body %s does not name %q", tc.expr, resp.body, tc.column)
		}
	}
	w.do(t, "GET", "/v1/segments/x", "op", "").wantError(t, http.StatusNotFound, qianmian.ENOTFOUND, "")
}

// TestSegment_Access: segments are the operator's; other keys read 404 and write 403.
func TestSegment_Access(t *testing.T) {
	t.Parallel()
	w := newSegmentWorld(t)
	w.do(t, "POST", "/v1/segments", "op", `{"id": "s", "name": "S", "expression": "events > 0"}`).wantStatus(t, http.StatusCreated)
	for _, key := range []string{"store-a", "u1"} {
		for _, path := range []string{"/v1/segments", "/v1/segments/s", "/v1/segments/s/members",
			"/v1/segments/s/counts", "/v1/segments/s/audience"} {
			w.do(t, "GET", path, key, "").wantError(t, http.StatusNotFound, qianmian.ENOTFOUND, "")
		}
		w.do(t, "POST", "/v1/segments", key, `{"id": "t", "name": "T", "expression": "events > 0"}`).
			wantError(t, http.StatusForbidden, qianmian.EFORBIDDEN, "")
		w.do(t, "PUT", "/v1/segments/s", key, `{"name": "T", "expression": "events > 0"}`).
			wantError(t, http.StatusForbidden, qianmian.EFORBIDDEN, "")
		w.do(t, "DELETE", "/v1/segments/s", key, "").wantError(t, http.StatusForbidden, qianmian.EFORBIDDEN, "")
	}
	w.do(t, "GET", "/v1/segments/s", "", "").wantError(t, http.StatusUnauthorized, qianmian.EUNAUTHORIZED, "")
}
