package profile_test

import (
	"context"
	"fmt"
	"iter"
	"log/slog"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/qianmian/qianmian"
	"github.com/qianmian/qianmian/profile/segment"
	"github.com/qianmian/qianmian/sim"
	"github.com/qianmian/qianmian/sqlite"
)

// views returns n view events of user on item, a minute apart from t0 plus d.
func views(prefix, user, item string, n int, d time.Duration) []*qianmian.Event {
	var out []*qianmian.Event
	for i := range n {
		out = append(out, ev(fmt.Sprintf("%s-%d", prefix, i), qianmian.EventView, user, item, "s1", qianmian.ChannelApp,
			qianmian.LocationHome, d+time.Duration(i)*time.Minute))
	}
	return out
}

// waitBackfill waits until the segment's backfill is complete and returns its status.
func waitBackfill(t *testing.T, e *env, id string) *qianmian.SegmentBackfill {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		b, err := e.svc.SegmentBackfill(t.Context(), id)
		must(t, err)
		if b.State == qianmian.BackfillComplete {
			return b
		}
		if b.State == qianmian.BackfillFailed || time.Now().After(deadline) {
			t.Fatalf("backfill of %s: %+v", id, b)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func members(t *testing.T, e *env, id string) []string {
	t.Helper()
	ids, err := e.svc.SegmentMembers(t.Context(), id, "", 0)
	must(t, err)
	return ids
}

// waitMembers waits until the segment's members are want.
func waitMembers(t *testing.T, e *env, id string, want ...string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !slices.Equal(members(t, e, id), want) {
		if time.Now().After(deadline) {
			t.Fatalf("members of %s: %v, want %v", id, members(t, e, id), want)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestBackfill_ConsumersNotInMemory: over an existing log, a fresh service holds no profile,
// and a segment created then is filled by the backfill: the consumers who qualify (named by
// their events, unknown to the users table, or known only through a linked identity) join,
// those who do not qualify or turned personalisation off do not, and no profile is left in
// memory. The count history ends at the backfilled count; a redefinition is backfilled again;
// live events keep the members current afterwards.
func TestBackfill_ConsumersNotInMemory(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func() time.Time { return t0.Add(day) })
	e.seedCatalog(t)
	ctx := t.Context()
	e.svc.Segments = sqlite.NewSegmentStore(e.db)
	off := qianmian.DefaultConsent()
	off.Personalization = false
	must(t, e.users.UpsertUsers(ctx, []*qianmian.User{
		{ID: "u1", City: "Shanghai", Consent: qianmian.DefaultConsent()},
		{ID: "u2", Consent: qianmian.DefaultConsent()},
		{ID: "u3", Consent: off},
		{ID: "u6", City: "Shanghai", Consent: qianmian.DefaultConsent()}, // no behaviour at all
	}))
	dev := qianmian.IdentityRef{Channel: qianmian.ChannelApp, Type: qianmian.IdentityDevice, Value: "dev-5"}
	var log []*qianmian.Event
	log = append(log, views("a", "u1", "p1", 3, 0)...) // beauty
	log = append(log, views("b", "u2", "f1", 3, 0)...) // food: does not qualify
	log = append(log, views("c", "u3", "p2", 3, 0)...) // beauty, but personalisation off
	log = append(log, views("d", "u4", "p1", 2, 0)...) // beauty, no user record
	anon := views("e", "", "p2", 2, 0)                 // beauty on a device, linked to u5 below
	for _, x := range anon {
		x.Identity = &dev
	}
	log = append(log, anon...)
	_, err := e.events.CreateEvents(ctx, log)
	must(t, err)
	must(t, e.identities.LinkIdentity(ctx, dev, "u5"))
	e.open(t)
	if n := e.svc.Stats().Profiles; n != 0 {
		t.Fatalf("%d profiles in memory after Open", n)
	}

	g, err := e.svc.CreateSegment(ctx, &qianmian.Segment{ID: "beauty", Name: "Beauty", Expression: `affinity("beauty") > 0.5`})
	must(t, err)
	b := waitBackfill(t, e, g.ID)
	if got, want := members(t, e, g.ID), []string{"u1", "u4", "u5"}; !slices.Equal(got, want) {
		t.Fatalf("members after the backfill: %v, want %v", got, want)
	}
	if b.Evaluated != 5 || b.Total != 5 || b.StartedAt.IsZero() || b.FinishedAt.IsZero() {
		t.Fatalf("backfill status %+v, want 5 of 5 consumers (u1–u5) evaluated", b)
	}
	if n := e.svc.Stats().Profiles; n != 0 {
		t.Fatalf("the backfill left %d profiles in memory", n)
	}
	h, err := e.svc.SegmentHistory(ctx, g.ID)
	must(t, err)
	if len(h) == 0 || h[len(h)-1].Count != 3 {
		t.Fatalf("count history %+v, want it to end at 3", h)
	}

	// A redefinition is backfilled again: u2 is not in memory either.
	_, err = e.svc.UpdateSegment(ctx, &qianmian.Segment{ID: g.ID, Name: "Food", Expression: `affinity("food") > 0.5`})
	must(t, err)
	waitBackfill(t, e, g.ID)
	if got := members(t, e, g.ID); !slices.Equal(got, []string{"u2"}) {
		t.Fatalf("members after the redefinition: %v, want [u2]", got)
	}

	// Live events after the backfill: u1 turns to food and joins, u2 turns to beauty and
	// leaves.
	_, err = e.events.CreateEvents(ctx, append(views("f", "u1", "f1", 6, time.Hour), views("g", "u2", "p1", 6, time.Hour)...))
	must(t, err)
	waitMembers(t, e, g.ID, "u1")
}

// TestBackfill_StoredSegmentsAtOpen: the stored segments are backfilled when the service
// opens, since membership lives in memory only.
func TestBackfill_StoredSegmentsAtOpen(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func() time.Time { return t0.Add(day) })
	e.seedCatalog(t)
	ctx := t.Context()
	store := sqlite.NewSegmentStore(e.db)
	must(t, store.CreateSegment(ctx, &qianmian.Segment{ID: "beauty", Name: "Beauty", Expression: `affinity("beauty") > 0.5`}))
	must(t, store.CreateSegment(ctx, &qianmian.Segment{ID: "food", Name: "Food", Expression: `affinity("food") > 0.5`}))
	e.svc.Segments = store
	_, err := e.events.CreateEvents(ctx, append(views("a", "u1", "p1", 2, 0), views("b", "u2", "f1", 2, 0)...))
	must(t, err)
	e.open(t)
	waitBackfill(t, e, "beauty")
	waitBackfill(t, e, "food")
	if got := members(t, e, "beauty"); !slices.Equal(got, []string{"u1"}) {
		t.Fatalf("beauty after Open: %v, want [u1]", got)
	}
	if got := members(t, e, "food"); !slices.Equal(got, []string{"u2"}) {
		t.Fatalf("food after Open: %v, want [u2]", got)
	}
}

// gatedEvents holds the first read of one consumer's events: it reads them, reports that
// on read, and hands them over only when release is closed. The backfill then applies a
// view older than the events stored meanwhile.
type gatedEvents struct {
	qianmian.EventService
	user          string
	once          sync.Once
	read, release chan struct{}
}

func (g *gatedEvents) ScanEvents(ctx context.Context, f qianmian.EventFilter) iter.Seq2[*qianmian.Event, error] {
	first := false
	if f.UserID == g.user {
		g.once.Do(func() { first = true })
	}
	if !first {
		return g.EventService.ScanEvents(ctx, f)
	}
	return func(yield func(*qianmian.Event, error) bool) {
		var got []*qianmian.Event
		for e, err := range g.EventService.ScanEvents(ctx, f) {
			if err != nil {
				yield(nil, err)
				return
			}
			got = append(got, e)
		}
		close(g.read)
		select {
		case <-g.release:
		case <-ctx.Done():
			yield(nil, ctx.Err())
			return
		}
		for _, e := range got {
			if !yield(e, nil) {
				return
			}
		}
	}
}

// gatedEnv is a service over a log of five consumers (a0 and z9 food, a1, a2 and m5 beauty)
// whose first read of m5's events is held by a gate, and a beauty segment whose backfill is
// held there.
func gatedEnv(t *testing.T) (*env, *gatedEvents) {
	t.Helper()
	e := newEnv(t, func() time.Time { return t0.Add(day) })
	e.seedCatalog(t)
	ctx := t.Context()
	gate := &gatedEvents{EventService: e.events, user: "m5", read: make(chan struct{}), release: make(chan struct{})}
	e.svc.Events = gate
	e.svc.Segments = sqlite.NewSegmentStore(e.db)
	var log []*qianmian.Event
	log = append(log, views("a0", "a0", "f1", 3, 0)...)
	log = append(log, views("a1", "a1", "p1", 3, 0)...)
	log = append(log, views("a2", "a2", "p2", 3, 0)...)
	log = append(log, views("m5", "m5", "p1", 2, 0)...)
	log = append(log, views("z9", "z9", "f1", 3, 0)...)
	_, err := e.events.CreateEvents(ctx, log)
	must(t, err)
	e.open(t)
	t.Cleanup(func() {
		select {
		case <-gate.release:
		default:
			close(gate.release)
		}
	})
	_, err = e.svc.CreateSegment(ctx, &qianmian.Segment{ID: "beauty", Name: "Beauty", Expression: `affinity("beauty") > 0.5`})
	must(t, err)
	select {
	case <-gate.read:
	case <-time.After(10 * time.Second):
		t.Fatal("the backfill never read m5")
	}
	b, err := e.svc.SegmentBackfill(ctx, "beauty")
	must(t, err)
	if b.State != qianmian.BackfillRunning || b.Total != 5 {
		t.Fatalf("backfill while it reads m5: %+v, want running over 5 consumers", b)
	}
	return e, gate
}

// TestBackfill_LiveChangeWins: the backfill reads m5's profile (beauty), then m5's new
// events move them to food live, before the backfill applies what it read: the live view
// stands. Live events after the pass update membership as before.
func TestBackfill_LiveChangeWins(t *testing.T) {
	t.Parallel()
	e, gate := gatedEnv(t)
	ctx := t.Context()
	// m5 turns to food while the backfill holds the beauty view it read; n6, new, joins in
	// the same step, after m5.
	_, err := e.events.CreateEvents(ctx, append(views("m5-live", "m5", "f1", 10, time.Hour), views("n6", "n6", "p1", 2, time.Hour)...))
	must(t, err)
	waitMembers(t, e, "beauty", "a1", "a2", "n6") // what the pass evaluated before m5, and n6
	close(gate.release)
	waitBackfill(t, e, "beauty")
	if got, want := members(t, e, "beauty"), []string{"a1", "a2", "n6"}; !slices.Equal(got, want) {
		t.Fatalf("beauty after the backfill: %v, want %v (m5's stale read must not bring them back)", got, want)
	}

	// After the pass: a1 turns to food and leaves, m5 comes back.
	_, err = e.events.CreateEvents(ctx, append(views("a1-live", "a1", "f1", 12, 2*time.Hour),
		views("m5-back", "m5", "p2", 40, 2*time.Hour)...))
	must(t, err)
	waitMembers(t, e, "beauty", "a2", "m5", "n6")
}

// TestBackfill_SegmentJoinsRunningPass: a segment created while a pass runs joins it, and
// the pass wraps round to evaluate the consumers it had read before that segment existed
// (a0), then stops.
func TestBackfill_SegmentJoinsRunningPass(t *testing.T) {
	t.Parallel()
	e, gate := gatedEnv(t)
	ctx := t.Context()
	_, err := e.svc.CreateSegment(ctx, &qianmian.Segment{ID: "food", Name: "Food", Expression: `affinity("food") > 0.5`})
	must(t, err)
	b, err := e.svc.SegmentBackfill(ctx, "food")
	must(t, err)
	if b.State != qianmian.BackfillRunning || b.Evaluated != 0 || b.Total != 5 {
		t.Fatalf("a segment created during a pass: %+v, want it running in that pass, 0 of 5", b)
	}
	close(gate.release)
	waitBackfill(t, e, "beauty")
	b = waitBackfill(t, e, "food")
	if got, want := members(t, e, "food"), []string{"a0", "z9"}; !slices.Equal(got, want) {
		t.Fatalf("food after the backfill: %v, want %v", got, want)
	}
	if got, want := members(t, e, "beauty"), []string{"a1", "a2", "m5"}; !slices.Equal(got, want) {
		t.Fatalf("beauty after the backfill: %v, want %v", got, want)
	}
	if b.Evaluated != 5 || b.Total != 5 {
		t.Fatalf("food's backfill %+v: want 5 of 5", b)
	}
}

// TestBackfill_SimWorld backfills three segments at once over a generated world, on a fresh
// service, and checks each against every consumer's profile evaluated one by one. It logs the
// rate. QIANMIAN_PROFILE_WORLD=default measures the demo's world (20,000 consumers).
func TestBackfill_SimWorld(t *testing.T) {
	cfg := sim.SmallConfig()
	if os.Getenv("QIANMIAN_PROFILE_WORLD") == "default" {
		cfg = sim.DefaultConfig()
	}
	w, err := sim.Generate(cfg)
	must(t, err)
	e := newEnv(t, func() time.Time { return w.Truth.End })
	e.svc.Segments = sqlite.NewSegmentStore(e.db)
	e.svc.Logger = slog.New(slog.NewTextHandler(testLog{t}, nil)) // the backfill's progress
	started := time.Now()
	e.loadWorld(t, w)
	n, err := e.events.CountEvents(t.Context())
	must(t, err)
	t.Logf("world of %d events loaded in %v", n, time.Since(started).Round(time.Millisecond))
	e.open(t)
	ctx := t.Context()
	defs := map[string]string{
		"beauty":  `affinity("beauty") > 0.3`,
		"premium": `price_tier >= 4 and recency_days < 30`,
		"parents": `has_tag("young_parent") or searched("stroller") > 0`,
	}
	started = time.Now()
	for _, id := range []string{"beauty", "premium", "parents"} {
		_, err := e.svc.CreateSegment(ctx, &qianmian.Segment{ID: id, Name: id, Expression: defs[id]})
		must(t, err)
	}
	var b *qianmian.SegmentBackfill
	for _, id := range []string{"beauty", "premium", "parents"} {
		b = waitBackfill(t, e, id)
	}
	took := time.Since(started)
	t.Logf("backfill of 3 segments over %d consumers (%d users in the world): %v, %.0f ms per 1,000 consumers; %d profiles in memory",
		b.Evaluated, len(w.Users), took.Round(time.Millisecond), float64(took.Milliseconds())*1000/float64(b.Evaluated),
		e.svc.Stats().Profiles)
	if n := e.svc.Stats().Profiles; n != 0 {
		t.Fatalf("the backfill left %d profiles in memory", n)
	}

	// Every consumer with behaviour, evaluated one by one.
	ids, err := e.events.FindEventUsers(ctx, qianmian.Page{})
	must(t, err)
	if len(ids) != b.Evaluated {
		t.Fatalf("%d consumers with behaviour, the backfill evaluated %d", len(ids), b.Evaluated)
	}
	schema := segment.DefaultSchema()
	for id, src := range defs {
		x, err := schema.Compile(src)
		must(t, err)
		var want []string
		for _, uid := range ids {
			p, err := e.svc.FindProfileByUserID(ctx, uid)
			must(t, err)
			if p.Personalization && x.Match(p) {
				want = append(want, uid)
			}
		}
		got := members(t, e, id)
		if !slices.Equal(got, want) {
			t.Errorf("%s: %d members after the backfill, %d qualify", id, len(got), len(want))
		}
		t.Logf("%s: %d members", id, len(got))
	}
}

// testLog writes log lines to the test's log.
type testLog struct{ t *testing.T }

func (l testLog) Write(p []byte) (int, error) {
	l.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}
