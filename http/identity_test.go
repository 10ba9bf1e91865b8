package http_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/qianmian/qianmian"
	"github.com/qianmian/qianmian/profile"
)

// identityWorld is the API over a real SQLite file, a real bus, the profile service and the
// recommendation engine, wired as cmd/qianmian wires them: store A sells perfume (p1–p4)
// and snacks (f1, f2) online and offline; user U is known.
type identityWorld struct {
	h    http.Handler
	keys map[string]string // name → token: op, store-a, U
	at   time.Time         // when the events happened
	seq  int
}

func newIdentityWorld(t *testing.T) *identityWorld {
	t.Helper()
	api := openSQLiteAPI(t, []*qianmian.Store{
		{ID: "A", Name: "Store A", Region: "east", City: "Shanghai", Channel: qianmian.StoreBoth}},
		[]string{"p1", "p2", "p3", "p4", "f1", "f2"}, 30, "A")
	api.check(api.users.UpsertUsers(t.Context(), []*qianmian.User{{ID: "U", City: "Shanghai", Consent: qianmian.DefaultConsent()}}))
	ps, e := api.profiles(false), api.engine()
	s := api.server()
	s.Recommender, s.Profiles = e, ps
	s.IdentityChanged = func(ctx context.Context, ref qianmian.IdentityRef, userID string) {
		e.Forget(userID)
		e.Forget(ref.AnonymousSubject())
		ps.Forget(ctx, userID)
	}
	return &identityWorld{h: s.Handler(), at: time.Now().Add(-2 * time.Hour).UTC(), keys: api.tokens(map[string]qianmian.Principal{
		"op": {Role: qianmian.RoleOperator}, "store-a": {Role: qianmian.RoleStore, ID: "A"},
		"U": {Role: qianmian.RoleConsumer, ID: "U"},
	})}
}

func (w *identityWorld) do(t *testing.T, method, target, key, body string) response {
	t.Helper()
	return do(t, w.h, method, target, w.keys[key], body)
}

// event returns the JSON of an event a minute after the previous one; identity is
// "channel/type/value" or "".
func (w *identityWorld) event(id, typ, user, identity, item, channel string) string {
	w.seq++
	fields := []string{fmt.Sprintf(`"id":%q,"type":%q,"item_id":%q,"store_id":"A","channel":%q,"occurred_at":%q`,
		id, typ, item, channel, w.at.Add(time.Duration(w.seq)*time.Minute).Format(time.RFC3339))}
	if user != "" {
		fields = append(fields, fmt.Sprintf(`"user_id":%q`, user))
	}
	if identity != "" {
		p := strings.SplitN(identity, "/", 3)
		fields = append(fields, fmt.Sprintf(`"identity":{"channel":%q,"type":%q,"value":%q}`, p[0], p[1], p[2]))
	}
	if typ == "purchase" {
		fields = append(fields, `"quantity":1,"amount":30`)
	}
	return "{" + strings.Join(fields, ",") + "}"
}

func (w *identityWorld) post(t *testing.T, events ...string) {
	t.Helper()
	resp := w.do(t, "POST", "/v1/events", "op", "["+strings.Join(events, ",")+"]")
	resp.wantStatus(t, http.StatusOK)
	var res struct {
		Accepted int `json:"accepted"`
	}
	resp.decode(t, &res)
	if res.Accepted != len(events) {
		t.Fatalf("accepted %d of %d events: %s", res.Accepted, len(events), resp.body)
	}
}

func (w *identityWorld) profile(t *testing.T, id string) qianmian.Profile {
	t.Helper()
	resp := w.do(t, "GET", "/v1/users/"+id+"/profile", "op", "")
	resp.wantStatus(t, http.StatusOK)
	var p qianmian.Profile
	resp.decode(t, &p)
	if p.Traits == nil {
		t.Fatalf("profile of %s without traits: %s", id, resp.body)
	}
	return p
}

// identityGraph is the answer of GET /v1/users/{id}/identity-graph.
type identityGraph struct {
	qianmian.IdentityGraph
	User *qianmian.User `json:"user"`
}

func (w *identityWorld) graph(t *testing.T, id string) identityGraph {
	t.Helper()
	resp := w.do(t, "GET", "/v1/users/"+id+"/identity-graph", "op", "")
	resp.wantStatus(t, http.StatusOK)
	var g identityGraph
	resp.decode(t, &g)
	return g
}

// TestIdentity_UnlinkRestoresBothProfiles is the must-show of undoing a wrong merge: a
// device browses perfume in the app anonymously, logs in as U (which links them) and
// browses on, U buys snacks offline, and U's profile holds all of it. The operator unlinks
// the device: U's profile is recomputed from U's own events only (the login and the
// purchase), the device's anonymous subject has a profile of the browsing, and the graph
// shows the unlink; a later login of the pair does not merge them again, and only the
// operator's explicit link does.
func TestIdentity_UnlinkRestoresBothProfiles(t *testing.T) {
	t.Parallel()
	w := newIdentityWorld(t)
	const dev, anon = "app/device/dev-77", "~app:device:dev-77"
	w.post(t, w.event("a1", "view", "", dev, "p1", "app"), w.event("a2", "view", "", dev, "p2", "app"),
		w.event("a3", "cart", "", dev, "p3", "app"))
	w.post(t, w.event("login", "view", "U", dev, "f1", "app"))
	w.post(t, w.event("a4", "view", "", dev, "p4", "app"), w.event("till", "purchase", "U", "", "f2", "offline"))

	p := w.profile(t, "U")
	tr := p.Traits
	if tr.Events != 6 || tr.Bought != 1 || tr.ChannelShares[qianmian.ChannelOffline] == 0 ||
		tr.CategoryAffinity["beauty"] < 0.5 || len(p.Identities) != 1 {
		t.Fatalf("U's merged profile should hold the device's browsing and the offline purchase: %+v, identities %v", tr, p.Identities)
	}
	if p := w.profile(t, anon); p.UserID != "U" {
		t.Fatalf("the linked device's subject answered %q's profile, want U's", p.UserID)
	}
	g := w.graph(t, "U")
	if g.User == nil || g.User.ID != "U" || len(g.Unlinks) != 0 || len(g.Identities) != 1 {
		t.Fatalf("graph before the unlink: %+v", g)
	}
	if id := g.Identities[0]; id.Value != "dev-77" || id.LinkedBy != "login" || id.Events != 5 || id.ExplicitEvents != 1 {
		t.Fatalf("the device in the graph: %+v; want linked by the login event, 5 events, 1 sent with U's id", id)
	}

	w.do(t, "DELETE", "/v1/users/U/identities/app/device/dev-77?reason=shared+family+tablet", "op", "").
		wantStatus(t, http.StatusNoContent)

	p = w.profile(t, "U")
	tr = p.Traits
	if tr.Events != 2 || tr.Bought != 1 || tr.CategoryAffinity["beauty"] != 0 || tr.CategoryAffinity["food"] != 1 ||
		tr.ChannelShares[qianmian.ChannelApp] != 0.5 || tr.ChannelShares[qianmian.ChannelOffline] != 0.5 || len(p.Identities) != 0 {
		t.Fatalf("U's profile after the unlink should hold the login and the purchase only: %+v, identities %v", tr, p.Identities)
	}
	p = w.profile(t, anon)
	tr = p.Traits
	if p.UserID != anon || p.Note != profile.NoteAnonymous || tr.Events != 4 || tr.Bought != 0 ||
		tr.CategoryAffinity["beauty"] != 1 || tr.ChannelShares[qianmian.ChannelApp] != 1 {
		t.Fatalf("the device's own profile should hold the four perfume events: %+v %+v", p, tr)
	}
	g = w.graph(t, "U")
	if len(g.Identities) != 0 || len(g.Unlinks) != 1 {
		t.Fatalf("graph after the unlink: %+v", g)
	}
	if u := g.Unlinks[0]; u.Value != "dev-77" || u.UserID != "U" || u.Reason != "shared family tablet" ||
		u.ResolvedEvents != 1 || u.UnlinkedAt.IsZero() || u.RelinkedAt != nil {
		t.Fatalf("the unlink in the graph: %+v", u)
	}
	w.do(t, "DELETE", "/v1/users/U/identities/app/device/dev-77", "op", "").
		wantError(t, http.StatusNotFound, qianmian.ENOTFOUND, "")

	// U logs in on the tablet again: the event is U's, the pair is not merged again.
	w.post(t, w.event("login2", "view", "U", dev, "f1", "app"))
	if g := w.graph(t, "U"); len(g.Identities) != 0 {
		t.Fatalf("a login after the unlink linked the device again: %+v", g.Identities)
	}
	if p := w.profile(t, anon); p.UserID != anon || p.Traits.Events != 4 {
		t.Fatalf("after a login of the unlinked pair the device's profile is %s's with %d events, want its own 4",
			p.UserID, p.Traits.Events)
	}

	// The operator links them again explicitly: one profile again, the unlink ended.
	w.do(t, "POST", "/v1/users/U/identities", "op", `{"channel":"app","type":"device","value":"dev-77"}`).
		wantStatus(t, http.StatusNoContent)
	if p := w.profile(t, "U"); p.Traits.Events != 7 || p.Traits.CategoryAffinity["beauty"] == 0 {
		t.Fatalf("after the explicit relink U's profile has %d events, beauty %v; want 7 and the browsing",
			p.Traits.Events, p.Traits.CategoryAffinity["beauty"])
	}
	g = w.graph(t, "U")
	if len(g.Identities) != 1 || g.Identities[0].LinkedBy != qianmian.LinkedByAPI || len(g.Unlinks) != 1 || g.Unlinks[0].RelinkedAt == nil {
		t.Fatalf("graph after the explicit relink: %+v", g)
	}
}

func TestIdentity_LinkAndUnlinkErrors(t *testing.T) {
	t.Parallel()
	w := newIdentityWorld(t)
	card := `{"channel":"offline","type":"membership_card","value":"M/0138"}`
	w.do(t, "POST", "/v1/users/U/identities", "op", card).wantStatus(t, http.StatusNoContent)
	w.do(t, "POST", "/v1/users/U/identities", "op", card).wantStatus(t, http.StatusNoContent) // again: a no-op
	w.do(t, "POST", "/v1/users/V/identities", "op", card).wantError(t, http.StatusConflict, qianmian.ECONFLICT, "")
	w.do(t, "POST", "/v1/users/U/identities", "op", `{"channel":"fax","type":"device","value":"x"}`).
		wantError(t, http.StatusBadRequest, qianmian.EINVALID, "channel")
	w.do(t, "POST", "/v1/users/U/identities", "op", `{"channel":"app","type":"device","value":"x","user":"U"}`).
		wantError(t, http.StatusBadRequest, qianmian.EINVALID, "user")
	w.do(t, "DELETE", "/v1/users/U/identities/app/toaster/x", "op", "").wantError(t, http.StatusBadRequest, qianmian.EINVALID, "type")
	w.do(t, "DELETE", "/v1/users/U/identities/offline/membership_card/M%2F0138?reason="+strings.Repeat("x", 501), "op", "").
		wantError(t, http.StatusBadRequest, qianmian.EINVALID, "reason")
	w.do(t, "DELETE", "/v1/users/V/identities/offline/membership_card/M%2F0138", "op", "").
		wantError(t, http.StatusNotFound, qianmian.ENOTFOUND, "")

	// Only the operator: a refused read is 404, a refused write 403.
	w.do(t, "GET", "/v1/users/U/identity-graph", "store-a", "").wantError(t, http.StatusNotFound, qianmian.ENOTFOUND, "")
	w.do(t, "GET", "/v1/users/U/identity-graph", "U", "").wantError(t, http.StatusNotFound, qianmian.ENOTFOUND, "")
	w.do(t, "POST", "/v1/users/U/identities", "U", card).wantError(t, http.StatusForbidden, qianmian.EFORBIDDEN, "")
	w.do(t, "DELETE", "/v1/users/U/identities/offline/membership_card/M%2F0138", "store-a", "").
		wantError(t, http.StatusForbidden, qianmian.EFORBIDDEN, "")
	w.do(t, "GET", "/v1/users/nobody/identity-graph", "op", "").wantError(t, http.StatusNotFound, qianmian.ENOTFOUND, "")

	// A value with a slash is one path segment, escaped.
	w.do(t, "DELETE", "/v1/users/U/identities/offline/membership_card/M%2F0138", "op", "").
		wantStatus(t, http.StatusNoContent)
	if g := w.graph(t, "U"); len(g.Identities) != 0 || len(g.Unlinks) != 1 || g.Unlinks[0].Value != "M/0138" {
		t.Fatalf("graph after unlinking the card: %+v", g)
	}
}
