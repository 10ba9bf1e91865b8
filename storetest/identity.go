package storetest

import (
	"strings"
	"testing"

	"github.com/qianmian/qianmian"
)

func identityTests() []contractTest {
	return []contractTest{
		{"Identities/UnlinkRestoresEvents", testIdentitiesUnlinkRestoresEvents},
		{"Identities/UnlinkBlocksAutomaticRelink", testIdentitiesUnlinkBlocksRelink},
		{"Identities/ExplicitLinkEndsUnlink", testIdentitiesExplicitRelink},
		{"Identities/UnlinkErrors", testIdentitiesUnlinkErrors},
		{"Identities/GraphOfUnknownUser", testIdentitiesGraphUnknown},
	}
}

// linked is the graph entry of ref linked to userID at Now.
func linked(ref qianmian.IdentityRef, userID, by string, events, explicit int) *qianmian.LinkedIdentity {
	return &qianmian.LinkedIdentity{Identity: qianmian.Identity{IdentityRef: ref, UserID: userID, LinkedAt: Now()},
		LinkedBy: by, Events: events, ExplicitEvents: explicit}
}

func graph(t *testing.T, s Stores, userID string) *qianmian.IdentityGraph {
	t.Helper()
	g, err := s.Identities.IdentityGraph(t.Context(), userID)
	must(t, err)
	return g
}

// testIdentitiesUnlinkRestoresEvents: a device browses anonymously, logs in as u-1 (the
// link), browses on anonymously (resolved to u-1) and with u-1's id; u-1 also shops without
// the device. Unlinking the device gives the anonymous events, before and after the link,
// back to the device; the events sent with u-1's id stay u-1's.
func testIdentitiesUnlinkRestoresEvents(t *testing.T, s Stores) {
	ctx := t.Context()
	dev := qianmian.IdentityRef{Channel: qianmian.ChannelApp, Type: qianmian.IdentityDevice, Value: "dev-1"}
	login := anon("e-3", dev, "i-3", "s-a", 2)
	login.UserID = "u-1"
	explicit := anon("e-5", dev, "i-5", "s-a", 4)
	explicit.UserID = "u-1"
	create(t, s, anon("e-1", dev, "i-1", "s-b", 0), anon("e-2", dev, "i-2", "s-b", 1), login)
	resolved := anon("e-4", dev, "i-4", "s-b", 3)
	create(t, s, resolved, explicit, view("e-6", "u-1", "i-6", "s-a", 5))
	if resolved.UserID != "u-1" {
		t.Fatalf("anonymous e-4 after the link got user %q, want u-1", resolved.UserID)
	}
	equal(t, "u-1's events before the unlink", find(t, s, qianmian.EventFilter{UserID: "u-1"}),
		[]string{"e-1", "e-2", "e-3", "e-4", "e-5", "e-6"})
	equal(t, "the device's own events while linked", find(t, s, qianmian.EventFilter{Identity: &dev}),
		[]string{"e-1", "e-2"})
	equal(t, "graph before the unlink", graph(t, s, "u-1"), &qianmian.IdentityGraph{UserID: "u-1",
		Identities: []*qianmian.LinkedIdentity{linked(dev, "u-1", "e-3", 5, 2)},
		Unlinks:    []*qianmian.IdentityUnlink{}})

	must(t, s.Identities.UnlinkIdentity(ctx, dev, "u-1", "shared family tablet"))

	equal(t, "u-1's events after the unlink", find(t, s, qianmian.EventFilter{UserID: "u-1"}),
		[]string{"e-3", "e-5", "e-6"})
	equal(t, "the device's events after the unlink", find(t, s, qianmian.EventFilter{Identity: &dev}),
		[]string{"e-1", "e-2", "e-4"})
	got, err := s.Events.FindEvents(ctx, qianmian.EventFilter{ItemID: "i-4"})
	must(t, err)
	if len(got) != 1 || got[0].UserID != "" || got[0].Identity == nil || *got[0].Identity != dev {
		t.Fatalf("e-4 after the unlink is %+v, want no user and the device", got)
	}
	if ok, err := s.Events.HasStoreInteraction(ctx, "u-1", "s-b"); err != nil || ok {
		t.Fatalf("HasStoreInteraction(u-1, s-b) after the unlink=%v, %v; want false: only the device was there", ok, err)
	}
	_, err = s.Identities.ResolveIdentity(ctx, dev)
	wantCode(t, "ResolveIdentity after the unlink", err, qianmian.ENOTFOUND)
	ids, err := s.Identities.FindIdentities(ctx, "u-1")
	must(t, err)
	if len(ids) != 0 {
		t.Fatalf("FindIdentities after the unlink gave %d identities, want 0", len(ids))
	}
	equal(t, "graph after the unlink", graph(t, s, "u-1"), &qianmian.IdentityGraph{UserID: "u-1",
		Identities: []*qianmian.LinkedIdentity{},
		Unlinks: []*qianmian.IdentityUnlink{{IdentityRef: dev, UserID: "u-1", UnlinkedAt: Now(),
			Reason: "shared family tablet", ResolvedEvents: 1}}})

	// Later anonymous events of the device are the device's own.
	later := anon("e-7", dev, "i-7", "s-b", 6)
	create(t, s, later)
	if later.UserID != "" {
		t.Fatalf("an anonymous event after the unlink got user %q, want none", later.UserID)
	}
	equal(t, "the device's events at the end", find(t, s, qianmian.EventFilter{Identity: &dev}),
		[]string{"e-1", "e-2", "e-4", "e-7"})
}

// testIdentitiesUnlinkBlocksRelink: after an unlink, events carrying the identity and the
// same user stay the user's own but do not link the pair again, in later batches and in the
// same batch; another user may still link the identity.
func testIdentitiesUnlinkBlocksRelink(t *testing.T, s Stores) {
	ctx := t.Context()
	dev := qianmian.IdentityRef{Channel: qianmian.ChannelWeb, Type: qianmian.IdentityDevice, Value: "cookie-1"}
	login := anon("e-1", dev, "i-1", "s-a", 0)
	login.UserID = "u-1"
	create(t, s, login)
	must(t, s.Identities.UnlinkIdentity(ctx, dev, "u-1", ""))

	again := anon("e-2", dev, "i-2", "s-a", 1)
	again.UserID = "u-1"
	after := anon("e-3", dev, "i-3", "s-a", 2)
	create(t, s, again, after)
	if again.UserID != "u-1" || after.UserID != "" {
		t.Fatalf("after the unlink: the login event got user %q (want u-1), the anonymous one %q (want none)",
			again.UserID, after.UserID)
	}
	_, err := s.Identities.ResolveIdentity(ctx, dev)
	wantCode(t, "ResolveIdentity after a login event of the unlinked pair", err, qianmian.ENOTFOUND)
	equal(t, "u-1's events", find(t, s, qianmian.EventFilter{UserID: "u-1"}), []string{"e-1", "e-2"})
	equal(t, "the device's events", find(t, s, qianmian.EventFilter{Identity: &dev}), []string{"e-3"})

	// Another user's login links the device as usual.
	other := anon("e-4", dev, "i-4", "s-a", 3)
	other.UserID = "u-2"
	next := anon("e-5", dev, "i-5", "s-a", 4)
	create(t, s, other, next)
	if user, err := s.Identities.ResolveIdentity(ctx, dev); err != nil || user != "u-2" {
		t.Fatalf("ResolveIdentity after u-2's login=%q, %v; want u-2", user, err)
	}
	if next.UserID != "u-2" {
		t.Fatalf("an anonymous event after u-2's login got user %q, want u-2", next.UserID)
	}
	equal(t, "u-2's events", find(t, s, qianmian.EventFilter{UserID: "u-2"}), []string{"e-3", "e-4", "e-5"})
	equal(t, "u-2's graph", graph(t, s, "u-2").Identities, []*qianmian.LinkedIdentity{linked(dev, "u-2", "e-4", 3, 1)})
}

// testIdentitiesExplicitRelink: the operator's LinkIdentity relinks an unlinked pair and
// ends the unlink, so the identity's anonymous events count for the user again and events
// may link the pair after a later unlink only if that one is ended too.
func testIdentitiesExplicitRelink(t *testing.T, s Stores) {
	ctx := t.Context()
	card := qianmian.IdentityRef{Channel: qianmian.ChannelOffline, Type: qianmian.IdentityMembership, Value: "M-1"}
	create(t, s, anon("e-1", card, "i-1", "s-a", 0))
	must(t, s.Identities.LinkIdentity(ctx, card, "u-1"))
	equal(t, "graph of an API link", graph(t, s, "u-1").Identities,
		[]*qianmian.LinkedIdentity{linked(card, "u-1", qianmian.LinkedByAPI, 1, 0)})
	must(t, s.Identities.UnlinkIdentity(ctx, card, "u-1", "wrong card"))
	equal(t, "u-1's events after the unlink", find(t, s, qianmian.EventFilter{UserID: "u-1"}), []string{})

	must(t, s.Identities.LinkIdentity(ctx, card, "u-1"))
	equal(t, "u-1's events after the relink", find(t, s, qianmian.EventFilter{UserID: "u-1"}), []string{"e-1"})
	now := Now()
	equal(t, "graph after the relink", graph(t, s, "u-1"), &qianmian.IdentityGraph{UserID: "u-1",
		Identities: []*qianmian.LinkedIdentity{linked(card, "u-1", qianmian.LinkedByAPI, 1, 0)},
		Unlinks: []*qianmian.IdentityUnlink{{IdentityRef: card, UserID: "u-1", UnlinkedAt: now,
			Reason: "wrong card", RelinkedAt: &now}}})

	// Unlinked again: the new unlink stands (the first stays ended), so a till event
	// carrying both does not link the pair.
	must(t, s.Identities.UnlinkIdentity(ctx, card, "u-1", "again"))
	till := anon("e-2", card, "i-2", "s-a", 1)
	till.UserID = "u-1"
	create(t, s, till)
	_, err := s.Identities.ResolveIdentity(ctx, card)
	wantCode(t, "ResolveIdentity after the second unlink and a till event", err, qianmian.ENOTFOUND)
	if g := graph(t, s, "u-1"); len(g.Unlinks) != 2 || g.Unlinks[0].RelinkedAt == nil || g.Unlinks[1].RelinkedAt != nil {
		t.Fatalf("unlinks %+v: want the first ended, the second standing", g.Unlinks)
	}
}

func testIdentitiesUnlinkErrors(t *testing.T, s Stores) {
	ctx := t.Context()
	dev := qianmian.IdentityRef{Channel: qianmian.ChannelApp, Type: qianmian.IdentityDevice, Value: "dev-9"}
	err := s.Identities.UnlinkIdentity(ctx, dev, "u-1", "")
	wantCode(t, "UnlinkIdentity of an identity never linked", err, qianmian.ENOTFOUND)
	must(t, s.Identities.LinkIdentity(ctx, dev, "u-1"))
	err = s.Identities.UnlinkIdentity(ctx, dev, "u-2", "")
	wantCode(t, "UnlinkIdentity from a user it is not linked to", err, qianmian.ENOTFOUND)
	if user, err := s.Identities.ResolveIdentity(ctx, dev); err != nil || user != "u-1" {
		t.Fatalf("ResolveIdentity after a refused unlink=%q, %v; want u-1", user, err)
	}
	err = s.Identities.UnlinkIdentity(ctx, qianmian.IdentityRef{Channel: "fax", Type: qianmian.IdentityDevice, Value: "x"}, "u-1", "")
	wantField(t, "UnlinkIdentity with channel fax", err, "identity.channel")
	err = s.Identities.UnlinkIdentity(ctx, dev, "", "")
	wantField(t, "UnlinkIdentity without a user", err, "user_id")
	err = s.Identities.UnlinkIdentity(ctx, dev, "u-1", strings.Repeat("x", qianmian.MaxUnlinkReasonLength+1))
	wantField(t, "UnlinkIdentity with a long reason", err, "reason")
	must(t, s.Identities.UnlinkIdentity(ctx, dev, "u-1", ""))
	err = s.Identities.UnlinkIdentity(ctx, dev, "u-1", "")
	wantCode(t, "UnlinkIdentity twice", err, qianmian.ENOTFOUND)
	_, err = s.Identities.IdentityGraph(ctx, "")
	wantField(t, "IdentityGraph without a user", err, "user_id")
}

func testIdentitiesGraphUnknown(t *testing.T, s Stores) {
	ctx := t.Context()
	_, err := s.Identities.IdentityGraph(ctx, "nobody")
	wantCode(t, "IdentityGraph of an unknown user", err, qianmian.ENOTFOUND)
	// A user the log names, though never upserted, has a graph, empty.
	create(t, s, view("e-1", "u-9", "i-1", "s-a", 0))
	equal(t, "graph of a user with events only", graph(t, s, "u-9"), &qianmian.IdentityGraph{UserID: "u-9",
		Identities: []*qianmian.LinkedIdentity{}, Unlinks: []*qianmian.IdentityUnlink{}})
	must(t, s.Users.UpsertUsers(ctx, []*qianmian.User{testUser("u-8")}))
	equal(t, "graph of a user upserted only", graph(t, s, "u-8").Identities, []*qianmian.LinkedIdentity{})
}
