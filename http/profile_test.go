package http_test

import (
	"bytes"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/qianmian/qianmian"
	"github.com/qianmian/qianmian/profile"
)

// profileWorld is the API over a real SQLite file, a real bus, the profile service and the
// recommendation engine: stores A and B; u1 browsed perfume at A, u3 only shopped at B.
type profileWorld struct {
	h    http.Handler
	keys map[string]string // name → token: op, store-a, u1, u3
}

func newProfileWorld(t *testing.T) *profileWorld {
	t.Helper()
	api := openSQLiteAPI(t, []*qianmian.Store{
		{ID: "A", Name: "Store A", Region: "east", City: "Shanghai", Channel: qianmian.StoreOnline},
		{ID: "B", Name: "Store B", Region: "north", City: "Beijing", Channel: qianmian.StoreOnline},
	}, []string{"p1", "p2", "p3", "p4", "f1", "f2"}, 50, "A", "B")
	ctx := t.Context()
	api.check(api.users.UpsertUsers(ctx, []*qianmian.User{{ID: "u1", City: "Shanghai", Consent: qianmian.DefaultConsent()}}))
	at := time.Now().Add(-time.Hour)
	view := func(id, user, item, store string) *qianmian.Event {
		return &qianmian.Event{ID: id, Type: qianmian.EventView, UserID: user, ItemID: item, StoreID: store,
			Channel: qianmian.ChannelApp, OccurredAt: at}
	}
	_, err := api.events.CreateEvents(ctx, []*qianmian.Event{
		view("e1", "u1", "p1", "A"), view("e2", "u1", "p2", "A"), view("e3", "u1", "p3", "A"),
		view("e4", "u3", "f1", "B"), view("e5", "u2", "f2", "A"), view("e6", "u2", "f1", "A"), view("e7", "u2", "p4", "A"),
	})
	api.check(err)
	ps, e := api.profiles(false), api.engine()
	s := api.server()
	s.Recommender, s.Profiles = e, ps
	return &profileWorld{h: s.Handler(), keys: api.tokens(map[string]qianmian.Principal{
		"op": {Role: qianmian.RoleOperator}, "store-a": {Role: qianmian.RoleStore, ID: "A"},
		"u1": {Role: qianmian.RoleConsumer, ID: "u1"}, "u3": {Role: qianmian.RoleConsumer, ID: "u3"},
	})}
}

func (w *profileWorld) do(t *testing.T, method, target, key, body string) response {
	t.Helper()
	return do(t, w.h, method, target, w.keys[key], body)
}

func (w *profileWorld) profile(t *testing.T, target, key string) qianmian.Profile {
	t.Helper()
	resp := w.do(t, "GET", target, key, "")
	resp.wantStatus(t, http.StatusOK)
	var p qianmian.Profile
	resp.decode(t, &p)
	return p
}

func tagNames(p qianmian.Profile) []string {
	var names []string
	for _, tag := range p.Tags {
		names = append(names, tag.Name)
	}
	return names
}

func TestProfile_Access(t *testing.T) {
	t.Parallel()
	w := newProfileWorld(t)
	// A store reads the profiles of its own customers only; another's answers as a missing one.
	p := w.profile(t, "/v1/users/u1/profile", "store-a")
	if p.UserID != "u1" || p.Traits == nil || p.Traits.CategoryAffinity["beauty"] != 1 {
		t.Fatalf("store A reading its customer u1: %+v", p)
	}
	got := w.do(t, "GET", "/v1/users/u3/profile", "store-a", "")
	got.wantError(t, http.StatusNotFound, qianmian.ENOTFOUND, "")
	missing := w.do(t, "GET", "/v1/users/nobody/profile", "op", "")
	missing.wantError(t, http.StatusNotFound, qianmian.ENOTFOUND, "")
	if !bytes.Equal(got.body, missing.body) {
		t.Fatalf("a non-customer's profile answers %s, a missing one %s", got.body, missing.body)
	}
	w.profile(t, "/v1/users/u3/profile", "op")

	// A consumer key reads its own profile only.
	if p := w.profile(t, "/v1/me/profile", "u1"); p.UserID != "u1" || p.Traits == nil {
		t.Fatalf("u1's own profile: %+v", p)
	}
	if p := w.profile(t, "/v1/me/profile", "u3"); p.UserID != "u3" {
		t.Fatalf("u3's own profile: %+v", p)
	}
	w.profile(t, "/v1/users/u1/profile", "u1")
	w.do(t, "GET", "/v1/users/u3/profile", "u1", "").wantError(t, http.StatusNotFound, qianmian.ENOTFOUND, "")
	w.do(t, "GET", "/v1/me/profile", "op", "").wantError(t, http.StatusNotFound, qianmian.ENOTFOUND, "")
	w.do(t, "GET", "/v1/me/profile", "store-a", "").wantError(t, http.StatusNotFound, qianmian.ENOTFOUND, "")
	w.do(t, "DELETE", "/v1/me/profile/tags/white_collar_woman", "op", "").wantError(t, http.StatusForbidden, qianmian.EFORBIDDEN, "")
	w.do(t, "PUT", "/v1/me/personalization", "store-a", `{"enabled": false}`).wantError(t, http.StatusForbidden, qianmian.EFORBIDDEN, "")
	w.do(t, "GET", "/v1/me/profile", "", "").wantError(t, http.StatusUnauthorized, qianmian.EUNAUTHORIZED, "")
}

func TestProfile_DeleteTag(t *testing.T) {
	t.Parallel()
	w := newProfileWorld(t)
	p := w.profile(t, "/v1/me/profile", "u1")
	if !slices.Contains(tagNames(p), "white_collar_woman") {
		t.Fatalf("u1's tags %v: the perfume browsing should make them white_collar_woman", tagNames(p))
	}
	for _, tag := range p.Tags {
		if tag.Name == "white_collar_woman" && (tag.Source != qianmian.TagSourceRule || tag.Reason == "") {
			t.Fatalf("rule tag without its rule as reason: %+v", tag)
		}
	}
	resp := w.do(t, "DELETE", "/v1/me/profile/tags/white_collar_woman", "u1", "")
	resp.wantStatus(t, http.StatusNoContent)
	p = w.profile(t, "/v1/me/profile", "u1")
	if slices.Contains(tagNames(p), "white_collar_woman") || !slices.Equal(p.DeletedTags, []string{"white_collar_woman"}) {
		t.Fatalf("after deleting: tags %v, deleted %v", tagNames(p), p.DeletedTags)
	}
	if p := w.profile(t, "/v1/users/u1/profile", "store-a"); slices.Contains(tagNames(p), "white_collar_woman") {
		t.Fatal("the store still sees the deleted tag")
	}
	w.do(t, "DELETE", "/v1/me/profile/tags/Not%20a%20tag", "u1", "").wantError(t, http.StatusBadRequest, qianmian.EINVALID, "tag")
}

// TestProfile_PersonalizationOff: a consumer turns personalisation off; the very next
// ranking is not personalised and the profile holds no traits, whatever events arrive.
func TestProfile_PersonalizationOff(t *testing.T) {
	t.Parallel()
	w := newProfileWorld(t)
	rank := func() bool {
		t.Helper()
		resp := w.do(t, "GET", "/v1/stores/A/recommendations?user=u1&n=3", "store-a", "")
		resp.wantStatus(t, http.StatusOK)
		var rec struct {
			Personalized bool `json:"personalized"`
		}
		resp.decode(t, &rec)
		return rec.Personalized
	}
	if !rank() {
		t.Fatal("before opting out, u1's ranking is not personalised")
	}
	w.do(t, "PUT", "/v1/me/personalization", "u1", `{}`).wantError(t, http.StatusBadRequest, qianmian.EINVALID, "enabled")
	resp := w.do(t, "PUT", "/v1/me/personalization", "u1", `{"enabled": false}`)
	resp.wantStatus(t, http.StatusOK)
	var p qianmian.Profile
	resp.decode(t, &p)
	if p.Personalization || p.Traits != nil || len(p.Tags) != 0 || p.Note != profile.NotePersonalizationOff {
		t.Fatalf("the answer to turning personalisation off: %+v", p)
	}
	if rank() {
		t.Fatal("the ranking right after opting out is personalised")
	}
	resp = w.do(t, "POST", "/v1/events", "op", `[{"id":"n1","type":"purchase","user_id":"u1","item_id":"f1","store_id":"A","channel":"app","occurred_at":"`+
		time.Now().UTC().Format(time.RFC3339)+`"}]`)
	resp.wantStatus(t, http.StatusOK)
	time.Sleep(50 * time.Millisecond)
	if p := w.profile(t, "/v1/me/profile", "u1"); p.Traits != nil || len(p.Tags) != 0 {
		t.Fatalf("opted out, u1 gained traits %+v, tags %v", p.Traits, tagNames(p))
	}
	if rank() {
		t.Fatal("opted out, u1's ranking is personalised after a new event")
	}
}
