package storetest

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/qianmian/qianmian"
)

func userTests() []contractTest {
	return []contractTest{
		{"Users/UpsertThenFind", testUsersUpsertThenFind},
		{"Users/CreatedAtKept", testUsersCreatedAtKept},
		{"Users/NotFound", testUsersNotFound},
		{"Users/Paging", testUsersPaging},
		{"Users/UpdateConsent", testUsersUpdateConsent},
		{"Users/FindRefusals", testUsersFindRefusals},
		{"Users/Personalizes", testUsersPersonalizes},
		{"Identities/LinkResolveFind", testIdentitiesLink},
		{"Identities/FirstLinkWins", testIdentitiesFirstLinkWins},
	}
}

func testUser(id string) *qianmian.User {
	return &qianmian.User{
		ID:        id,
		Gender:    qianmian.GenderFemale,
		BirthYear: 1994,
		City:      "Shanghai",
		Consent:   qianmian.Consent{Personalization: true, Marketing: true, Analytics: false},
		Name:      "李小梅",
		Phone:     "+86 138 0013 8000",
		Address:   "上海市静安区南京西路 1 号",
	}
}

func testUsersUpsertThenFind(t *testing.T, s Stores) {
	ctx := t.Context()
	full := testUser("u-1")
	bare := &qianmian.User{ID: "u-2", Consent: qianmian.DefaultConsent()}
	must(t, s.Users.UpsertUsers(ctx, []*qianmian.User{full, bare}))
	for _, w := range []*qianmian.User{full, bare} {
		if !w.CreatedAt.Equal(Now()) || !w.UpdatedAt.Equal(Now()) {
			t.Fatalf("user %s got CreatedAt %v, UpdatedAt %v; want both %v", w.ID, w.CreatedAt, w.UpdatedAt, Now())
		}
		got, err := s.Users.FindUserByID(ctx, w.ID)
		must(t, err)
		equal(t, "FindUserByID "+w.ID, got, w)
	}

	// Replacing clears personal fields that are no longer given.
	changed := &qianmian.User{ID: "u-1", Gender: qianmian.GenderOther, Phone: "+86 139 0000 0000"}
	must(t, s.Users.UpsertUsers(ctx, []*qianmian.User{changed}))
	got, err := s.Users.FindUserByID(ctx, "u-1")
	must(t, err)
	equal(t, "user after second upsert", got, changed)

	err = s.Users.UpsertUsers(ctx, []*qianmian.User{{ID: "u-3", Gender: "robot"}})
	wantField(t, "UpsertUsers with gender robot", err, "gender")
}

func testUsersCreatedAtKept(t *testing.T, s Stores) {
	ctx := t.Context()
	first := time.Date(2023, 2, 3, 4, 5, 6, 0, time.UTC)
	u := testUser("u-1")
	u.CreatedAt = first
	must(t, s.Users.UpsertUsers(ctx, []*qianmian.User{u}))

	again := testUser("u-1")
	again.CreatedAt = first.AddDate(1, 0, 0)
	again.City = "Hangzhou"
	must(t, s.Users.UpsertUsers(ctx, []*qianmian.User{again}))
	if !again.CreatedAt.Equal(first) {
		t.Fatalf("upsert of an existing user set CreatedAt=%v on the caller's user, want %v", again.CreatedAt, first)
	}
	got, err := s.Users.FindUserByID(ctx, "u-1")
	must(t, err)
	if !got.CreatedAt.Equal(first) || got.City != "Hangzhou" {
		t.Fatalf("after a second upsert: CreatedAt %v, city %q; want %v, Hangzhou", got.CreatedAt, got.City, first)
	}
}

func testUsersNotFound(t *testing.T, s Stores) {
	_, err := s.Users.FindUserByID(t.Context(), "nope")
	wantCode(t, "FindUserByID(nope)", err, qianmian.ENOTFOUND)
	_, err = s.Users.UpdateConsent(t.Context(), "nope", qianmian.ConsentUpdate{})
	wantCode(t, "UpdateConsent(nope)", err, qianmian.ENOTFOUND)
}

func testUsersPaging(t *testing.T, s Stores) {
	ctx := t.Context()
	var users []*qianmian.User
	for i := range 5 {
		users = append(users, testUser(fmt.Sprintf("u-%d", i)))
	}
	must(t, s.Users.UpsertUsers(ctx, users))
	got, err := s.Users.FindUsers(ctx, qianmian.Page{After: "u-1", Limit: 2})
	must(t, err)
	equal(t, "users after u-1, limit 2", got, users[2:4])
	got, err = s.Users.FindUsers(ctx, qianmian.Page{After: "u-3"})
	must(t, err)
	equal(t, "users after u-3", got, users[4:])
}

func testUsersUpdateConsent(t *testing.T, s Stores) {
	ctx := t.Context()
	u := testUser("u-1")
	must(t, s.Users.UpsertUsers(ctx, []*qianmian.User{u}))

	no, yes := false, true
	got, err := s.Users.UpdateConsent(ctx, "u-1", qianmian.ConsentUpdate{Personalization: &no, Analytics: &yes})
	must(t, err)
	want := *u
	want.Consent = qianmian.Consent{Personalization: false, Marketing: true, Analytics: true}
	equal(t, "UpdateConsent result", got, &want)
	stored, err := s.Users.FindUserByID(ctx, "u-1")
	must(t, err)
	equal(t, "user after UpdateConsent", stored, &want)

	got, err = s.Users.UpdateConsent(ctx, "u-1", qianmian.ConsentUpdate{})
	must(t, err)
	equal(t, "empty UpdateConsent", got.Consent, want.Consent)
}

// wantRefusals fails t unless FindRefusals gives, for each purpose, exactly the ids in want
// (nil and empty alike), in that order.
func wantRefusals(t *testing.T, s Stores, when string, want map[qianmian.ConsentPurpose][]string) {
	t.Helper()
	for _, p := range qianmian.ConsentPurposes() {
		got, err := s.Users.FindRefusals(t.Context(), p)
		must(t, err)
		if !slices.Equal(got, want[p]) {
			t.Fatalf("%s: FindRefusals(%s) = %q, want %q", when, p, got, want[p])
		}
	}
}

func testUsersFindRefusals(t *testing.T, s Stores) {
	ctx := t.Context()
	wantRefusals(t, s, "no users", nil)

	yes, no := true, false
	mk := func(id string, c qianmian.Consent) *qianmian.User {
		u := testUser(id)
		u.Consent = c
		return u
	}
	// Inserted out of id order; "u-10" sorts before "u-2".
	must(t, s.Users.UpsertUsers(ctx, []*qianmian.User{
		mk("u-9", qianmian.Consent{Personalization: true, Marketing: true, Analytics: true, StoreAlerts: true}),
		mk("u-2", qianmian.Consent{}),
		{ID: "u-10", Consent: qianmian.DefaultConsent()}, // no personal fields
		mk("u-5", qianmian.Consent{Personalization: false, Marketing: true, Analytics: false, StoreAlerts: true}),
		mk("u-1", qianmian.Consent{Personalization: true, Marketing: false, Analytics: true, StoreAlerts: false}),
	}))
	wantRefusals(t, s, "after upsert", map[qianmian.ConsentPurpose][]string{
		qianmian.PurposePersonalization: {"u-2", "u-5"},
		qianmian.PurposeMarketing:       {"u-1", "u-10", "u-2"},
		qianmian.PurposeAnalytics:       {"u-2", "u-5"},
		qianmian.PurposeStoreAlerts:     {"u-1", "u-10", "u-2"},
	})

	// u-9 refuses personalisation and store alerts; u-2 grants analytics; u-1 grants
	// marketing and then withdraws it, and refuses analytics and grants it again.
	_, err := s.Users.UpdateConsent(ctx, "u-9", qianmian.ConsentUpdate{Personalization: &no, StoreAlerts: &no})
	must(t, err)
	_, err = s.Users.UpdateConsent(ctx, "u-2", qianmian.ConsentUpdate{Analytics: &yes})
	must(t, err)
	_, err = s.Users.UpdateConsent(ctx, "u-1", qianmian.ConsentUpdate{Marketing: &yes, Analytics: &no})
	must(t, err)
	wantRefusals(t, s, "after the first updates", map[qianmian.ConsentPurpose][]string{
		qianmian.PurposePersonalization: {"u-2", "u-5", "u-9"},
		qianmian.PurposeMarketing:       {"u-10", "u-2"},
		qianmian.PurposeAnalytics:       {"u-1", "u-5"},
		qianmian.PurposeStoreAlerts:     {"u-1", "u-10", "u-2", "u-9"},
	})
	_, err = s.Users.UpdateConsent(ctx, "u-1", qianmian.ConsentUpdate{Marketing: &no, Analytics: &yes})
	must(t, err)
	_, err = s.Users.UpdateConsent(ctx, "u-5", qianmian.ConsentUpdate{}) // changes nothing
	must(t, err)
	wantRefusals(t, s, "after flipping u-1 back", map[qianmian.ConsentPurpose][]string{
		qianmian.PurposePersonalization: {"u-2", "u-5", "u-9"},
		qianmian.PurposeMarketing:       {"u-1", "u-10", "u-2"},
		qianmian.PurposeAnalytics:       {"u-5"},
		qianmian.PurposeStoreAlerts:     {"u-1", "u-10", "u-2", "u-9"},
	})

	// An upsert replaces consent as a whole.
	must(t, s.Users.UpsertUsers(ctx, []*qianmian.User{mk("u-2", qianmian.Consent{
		Personalization: true, Marketing: true, Analytics: true, StoreAlerts: true})}))
	wantRefusals(t, s, "after upserting u-2 consenting to all", map[qianmian.ConsentPurpose][]string{
		qianmian.PurposePersonalization: {"u-5", "u-9"},
		qianmian.PurposeMarketing:       {"u-1", "u-10"},
		qianmian.PurposeAnalytics:       {"u-5"},
		qianmian.PurposeStoreAlerts:     {"u-1", "u-10", "u-9"},
	})

	for _, p := range []qianmian.ConsentPurpose{"", "telepathy", "Analytics"} {
		_, err := s.Users.FindRefusals(ctx, p)
		wantField(t, fmt.Sprintf("FindRefusals(%q)", p), err, "purpose")
		if msg := qianmian.ErrorMessage(err); p != "" && !strings.Contains(msg, string(p)) {
			t.Fatalf("FindRefusals(%q): message %q does not name the purpose", p, msg)
		}
	}
}

// wantPersonalizes fails t unless Personalizes gives each id's answer in want.
func wantPersonalizes(t *testing.T, s Stores, when string, want map[string]bool) {
	t.Helper()
	for id, w := range want {
		got, err := s.Users.Personalizes(t.Context(), id)
		must(t, err)
		if got != w {
			t.Fatalf("%s: Personalizes(%s) = %v, want %v", when, id, got, w)
		}
	}
}

// testUsersPersonalizes checks the stored consent, the default for an unknown user, and
// that a change made through the same service is seen by the next call, with no time
// passing (the clock is pinned).
func testUsersPersonalizes(t *testing.T, s Stores) {
	ctx := t.Context()
	wantPersonalizes(t, s, "no users", map[string]bool{"u-1": true, "nobody": true})

	yes, no := true, false
	refusing := testUser("u-2")
	refusing.Consent.Personalization = false
	must(t, s.Users.UpsertUsers(ctx, []*qianmian.User{testUser("u-1"), refusing}))
	wantPersonalizes(t, s, "after upsert", map[string]bool{"u-1": true, "u-2": false, "nobody": true})

	_, err := s.Users.UpdateConsent(ctx, "u-1", qianmian.ConsentUpdate{Personalization: &no})
	must(t, err)
	_, err = s.Users.UpdateConsent(ctx, "u-2", qianmian.ConsentUpdate{Personalization: &yes})
	must(t, err)
	wantPersonalizes(t, s, "after UpdateConsent flipped both", map[string]bool{"u-1": false, "u-2": true})

	// Other purposes leave personalisation as it is; flipping back is seen too.
	_, err = s.Users.UpdateConsent(ctx, "u-1", qianmian.ConsentUpdate{Marketing: &no, Analytics: &yes})
	must(t, err)
	wantPersonalizes(t, s, "after UpdateConsent of other purposes", map[string]bool{"u-1": false})
	_, err = s.Users.UpdateConsent(ctx, "u-1", qianmian.ConsentUpdate{Personalization: &yes})
	must(t, err)
	wantPersonalizes(t, s, "after UpdateConsent flipped u-1 back", map[string]bool{"u-1": true})

	// An upsert replaces consent as a whole: u-2 refuses again, u-3 is new and refuses.
	again := testUser("u-2")
	again.Consent = qianmian.Consent{}
	newcomer := &qianmian.User{ID: "u-3", Consent: qianmian.Consent{Marketing: true}}
	must(t, s.Users.UpsertUsers(ctx, []*qianmian.User{again, newcomer}))
	wantPersonalizes(t, s, "after UpsertUsers replaced consent", map[string]bool{
		"u-1": true, "u-2": false, "u-3": false, "nobody": true})
	must(t, s.Users.UpsertUsers(ctx, []*qianmian.User{{ID: "u-3", Consent: qianmian.DefaultConsent()}}))
	wantPersonalizes(t, s, "after UpsertUsers gave u-3 the default", map[string]bool{"u-2": false, "u-3": true})

	// A failed write changes nothing.
	err = s.Users.UpsertUsers(ctx, []*qianmian.User{{ID: "u-1"}, {ID: "u-4", Gender: "robot"}})
	wantField(t, "UpsertUsers with gender robot", err, "gender")
	wantPersonalizes(t, s, "after a rejected upsert", map[string]bool{"u-1": true, "u-4": true})
}

func testIdentitiesLink(t *testing.T, s Stores) {
	ctx := t.Context()
	device := qianmian.IdentityRef{Channel: qianmian.ChannelApp, Type: qianmian.IdentityDevice, Value: "dev:42:abc"}
	card := qianmian.IdentityRef{Channel: qianmian.ChannelOffline, Type: qianmian.IdentityMembership, Value: "M-0001"}

	_, err := s.Identities.ResolveIdentity(ctx, device)
	wantCode(t, "ResolveIdentity before any link", err, qianmian.ENOTFOUND)

	must(t, s.Identities.LinkIdentity(ctx, device, "u-1"))
	must(t, s.Identities.LinkIdentity(ctx, card, "u-1"))
	must(t, s.Identities.LinkIdentity(ctx, device, "u-1")) // again: a no-op

	got, err := s.Identities.ResolveIdentity(ctx, device)
	must(t, err)
	if got != "u-1" {
		t.Fatalf("ResolveIdentity=%q, want u-1", got)
	}
	ids, err := s.Identities.FindIdentities(ctx, "u-1")
	must(t, err)
	if len(ids) != 2 {
		t.Fatalf("FindIdentities gave %d identities, want 2", len(ids))
	}
	for _, id := range ids {
		if id.UserID != "u-1" || !id.LinkedAt.Equal(Now()) || (id.IdentityRef != device && id.IdentityRef != card) {
			t.Fatalf("FindIdentities gave %+v", id)
		}
	}
	none, err := s.Identities.FindIdentities(ctx, "u-2")
	must(t, err)
	if len(none) != 0 {
		t.Fatalf("FindIdentities(u-2) gave %d identities, want 0", len(none))
	}

	err = s.Identities.LinkIdentity(ctx, qianmian.IdentityRef{Channel: "fax", Type: qianmian.IdentityDevice, Value: "x"}, "u-1")
	wantField(t, "LinkIdentity with channel fax", err, "identity.channel")
}

func testIdentitiesFirstLinkWins(t *testing.T, s Stores) {
	ctx := t.Context()
	device := qianmian.IdentityRef{Channel: qianmian.ChannelWeb, Type: qianmian.IdentityDevice, Value: "cookie-1"}
	must(t, s.Identities.LinkIdentity(ctx, device, "u-1"))
	err := s.Identities.LinkIdentity(ctx, device, "u-2")
	wantCode(t, "linking to a second user", err, qianmian.ECONFLICT)
	got, err := s.Identities.ResolveIdentity(ctx, device)
	must(t, err)
	if got != "u-1" {
		t.Fatalf("after a conflicting link ResolveIdentity=%q, want u-1", got)
	}
}
