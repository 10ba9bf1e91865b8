package profile_test

import (
	"slices"
	"testing"
	"time"

	"github.com/qianmian/qianmian"
)

// TestService_DeviceAndCardMakeOneProfile: a consumer browses the app under a device id,
// logs in (linking the device), and buys offline with a membership card that the till ties
// to the same phone, i.e. to the same user, after the purchase. One profile holds the app
// browsing and the offline purchase, through the store's identity links.
func TestService_DeviceAndCardMakeOneProfile(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func() time.Time { return t0.Add(day) })
	e.seedCatalog(t)
	e.open(t)
	ctx := t.Context()
	dev := qianmian.IdentityRef{Channel: qianmian.ChannelApp, Type: qianmian.IdentityDevice, Value: "dev-77"}
	card := qianmian.IdentityRef{Channel: qianmian.ChannelOffline, Type: qianmian.IdentityMembership, Value: "M-0138"}
	anon := func(x *qianmian.Event, ref qianmian.IdentityRef) *qianmian.Event {
		x.UserID, x.Identity = "", &ref
		return x
	}
	// Anonymous app browsing, then the login that links the device.
	_, err := e.events.CreateEvents(ctx, []*qianmian.Event{
		anon(ev("a1", qianmian.EventView, "", "p1", "s1", qianmian.ChannelApp, qianmian.LocationHome, 0), dev),
		anon(ev("a2", qianmian.EventCart, "", "p1", "s1", qianmian.ChannelApp, qianmian.LocationHome, time.Minute), dev),
	})
	must(t, err)
	login := ev("a3", qianmian.EventView, "u7", "p2", "s1", qianmian.ChannelApp, qianmian.LocationHome, 2*time.Minute)
	login.Identity = &dev
	_, err = e.events.CreateEvents(ctx, []*qianmian.Event{login})
	must(t, err)
	p, err := e.svc.FindProfileByUserID(ctx, "u7")
	must(t, err)
	if p.Traits.Events != 3 || p.Traits.ChannelShares[qianmian.ChannelApp] != 1 {
		t.Fatalf("after the login: %d events, channels %v; want the 3 app events", p.Traits.Events, p.Traits.ChannelShares)
	}

	// An offline purchase with the card, not yet tied to anyone; then the till ties the card
	// to the member's phone, which is u7's.
	_, err = e.events.CreateEvents(ctx, []*qianmian.Event{buy(anon(ev("c1", qianmian.EventPurchase, "", "f1", "s2",
		qianmian.ChannelOffline, qianmian.LocationStore, 3*time.Hour), card), 3, 30)})
	must(t, err)
	must(t, e.identities.LinkIdentity(ctx, card, "u7"))

	p, err = e.svc.FindProfileByUserID(ctx, "u7")
	must(t, err)
	tr := p.Traits
	if tr.Events != 4 || tr.ChannelShares[qianmian.ChannelOffline] != 0.25 || tr.Bought != 3 || tr.TopStore != "s1" ||
		tr.CategoryAffinity["food"] == 0 || tr.CategoryAffinity["beauty"] == 0 {
		t.Fatalf("one profile should hold both: %+v", tr)
	}
	if len(p.Identities) != 2 || !slices.Contains(p.Identities, dev) || !slices.Contains(p.Identities, card) {
		t.Fatalf("identities %v, want the device and the card", p.Identities)
	}

	// A later card purchase arrives resolved to u7 and reaches the loaded profile from the bus.
	_, err = e.events.CreateEvents(ctx, []*qianmian.Event{buy(anon(ev("c2", qianmian.EventPurchase, "", "f1", "s2",
		qianmian.ChannelOffline, qianmian.LocationStore, 4*time.Hour), card), 1, 10)})
	must(t, err)
	waitFor(t, "the second card purchase", func() bool {
		p, err := e.svc.FindProfileByUserID(ctx, "u7")
		must(t, err)
		return p.Traits.Events == 5 && p.Traits.Bought == 4
	})
}

// waitFor polls cond until it holds, failing after a second.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not seen within 1 s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestService_NewEventWithinASecond checks that a loaded profile reflects a committed event
// within a second, from the bus, without a rebuild.
func TestService_NewEventWithinASecond(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func() time.Time { return t0.Add(day) })
	e.seedCatalog(t)
	ctx := t.Context()
	_, err := e.events.CreateEvents(ctx, []*qianmian.Event{ev("x1", qianmian.EventView, "u1", "f1", "s1", qianmian.ChannelApp, qianmian.LocationHome, 0)})
	must(t, err)
	e.open(t)
	p, err := e.svc.FindProfileByUserID(ctx, "u1")
	must(t, err)
	if p.Traits.CategoryAffinity["beauty"] != 0 {
		t.Fatalf("affinity(beauty) before = %v", p.Traits.CategoryAffinity["beauty"])
	}
	start := time.Now()
	_, err = e.events.CreateEvents(ctx, []*qianmian.Event{ev("x2", qianmian.EventPurchase, "u1", "p1", "s1", qianmian.ChannelApp, qianmian.LocationHome, time.Minute)})
	must(t, err)
	waitFor(t, "the purchase", func() bool {
		p, err := e.svc.FindProfileByUserID(ctx, "u1")
		must(t, err)
		return p.Traits.CategoryAffinity["beauty"] > 0.8
	})
	t.Logf("the purchase showed in the profile %v after it was committed", time.Since(start).Round(time.Millisecond))
}

// TestService_OptedOut checks that a consumer who turns personalisation off keeps only
// their declared attributes and gains no traits from later events, and that turning it on
// again profiles them from the log.
func TestService_OptedOut(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func() time.Time { return t0.Add(day) })
	e.seedCatalog(t)
	ctx := t.Context()
	must(t, e.users.UpsertUsers(ctx, []*qianmian.User{{ID: "u2", Gender: qianmian.GenderFemale, BirthYear: 1995, City: "Hangzhou",
		Consent: qianmian.DefaultConsent()}}))
	_, err := e.events.CreateEvents(ctx, []*qianmian.Event{ev("o1", qianmian.EventView, "u2", "p1", "s1", qianmian.ChannelApp, qianmian.LocationHome, 0)})
	must(t, err)
	e.open(t)
	p, err := e.svc.FindProfileByUserID(ctx, "u2")
	must(t, err)
	if p.Traits == nil || p.Traits.Events != 1 {
		t.Fatalf("before opting out: %+v", p)
	}

	p, err = e.svc.SetPersonalization(ctx, "u2", false)
	must(t, err)
	wantOff := func(p *qianmian.Profile) {
		t.Helper()
		if p.Personalization || p.Traits != nil || len(p.Tags) != 0 || len(p.Explanations) != 0 || p.Note == "" {
			t.Fatalf("opted out, the profile holds %+v", p)
		}
		want := qianmian.DeclaredAttributes{Gender: qianmian.GenderFemale, BirthYear: 1995, AgeBand: "25_34", City: "Hangzhou"}
		if p.Declared != want {
			t.Fatalf("declared %+v, want %+v", p.Declared, want)
		}
	}
	wantOff(p)
	_, err = e.events.CreateEvents(ctx, []*qianmian.Event{
		buy(ev("o2", qianmian.EventPurchase, "u2", "f1", "s1", qianmian.ChannelApp, qianmian.LocationHome, time.Minute), 1, 10),
		ev("o3", qianmian.EventView, "u2", "f1", "s1", qianmian.ChannelApp, qianmian.LocationHome, 2*time.Minute),
	})
	must(t, err)
	time.Sleep(50 * time.Millisecond) // time for the bus to deliver: nothing may come of it
	if n := e.svc.Stats().Profiles; n != 0 {
		t.Fatalf("%d profiles in memory after the opt-out", n)
	}
	p, err = e.svc.FindProfileByUserID(ctx, "u2")
	must(t, err)
	wantOff(p)

	p, err = e.svc.SetPersonalization(ctx, "u2", true)
	must(t, err)
	if p.Traits == nil || p.Traits.Events != 3 {
		t.Fatalf("opted in again, traits %+v", p.Traits)
	}
}

// TestService_UnknownUser: no user record, no events, no identities: ENOTFOUND.
func TestService_UnknownUser(t *testing.T) {
	t.Parallel()
	e := newEnv(t, time.Now)
	e.seedCatalog(t)
	e.open(t)
	_, err := e.svc.FindProfileByUserID(t.Context(), "nobody")
	if qianmian.ErrorCode(err) != qianmian.ENOTFOUND {
		t.Fatalf("FindProfileByUserID(nobody) = %v, want ENOTFOUND", err)
	}
	if n := e.svc.Stats().Profiles; n != 0 {
		t.Fatalf("%d profiles kept for an unknown user", n)
	}
	p, err := e.svc.SetPersonalization(t.Context(), "newcomer", false)
	must(t, err)
	if p.Personalization || p.UserID != "newcomer" {
		t.Fatalf("a consumer unknown to the platform who turns personalisation off: %+v", p)
	}
}
