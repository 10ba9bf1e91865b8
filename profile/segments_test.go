package profile_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/qianmian/qianmian"
	"github.com/qianmian/qianmian/sqlite"
)

// TestSegments_LoadedAtOpenAndKeptCurrent: a stored definition is loaded at Open (one that
// no longer compiles is skipped), a consumer joins in the event step that qualifies them and
// leaves in the one that disqualifies them; a segment created later is evaluated over the
// profiles in memory at once.
func TestSegments_LoadedAtOpenAndKeptCurrent(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func() time.Time { return t0.Add(day) })
	e.seedCatalog(t)
	ctx := t.Context()
	store := sqlite.NewSegmentStore(e.db)
	must(t, store.CreateSegment(ctx, &qianmian.Segment{ID: "beauty", Name: "Beauty", Expression: `affinity("beauty") > 0.3`}))
	must(t, store.CreateSegment(ctx, &qianmian.Segment{ID: "broken", Name: "Broken", Expression: `nope(`}))
	e.svc.Segments = store
	e.open(t)

	members := func(id string) []string {
		t.Helper()
		ids, err := e.svc.SegmentMembers(ctx, id, "", 0)
		must(t, err)
		return ids
	}
	if got := members("beauty"); len(got) != 0 {
		t.Fatalf("members before any event: %v", got)
	}
	if _, err := e.svc.SegmentMembers(ctx, "broken", "", 0); qianmian.ErrorCode(err) != qianmian.ENOTFOUND {
		t.Fatalf("members of a segment that does not compile: %v, want ENOTFOUND", err)
	}

	start := time.Now()
	_, err := e.events.CreateEvents(ctx, []*qianmian.Event{
		ev("e1", qianmian.EventView, "u1", "p1", "s1", qianmian.ChannelApp, qianmian.LocationHome, 0),
	})
	must(t, err)
	waitFor(t, "u1 joins beauty", func() bool { return slices.Equal(members("beauty"), []string{"u1"}) })
	t.Logf("membership latency: %v", time.Since(start))

	var snacks []*qianmian.Event
	for i := range 6 {
		snacks = append(snacks, ev("f"+string(rune('0'+i)), qianmian.EventView, "u1", "f1", "s1",
			qianmian.ChannelApp, qianmian.LocationHome, time.Duration(i+1)*time.Minute))
	}
	_, err = e.events.CreateEvents(ctx, snacks)
	must(t, err)
	waitFor(t, "u1 leaves beauty", func() bool { return len(members("beauty")) == 0 })

	g, err := e.svc.CreateSegment(ctx, &qianmian.Segment{Name: "Snackers", Expression: `affinity("food") > 0.5`})
	must(t, err)
	if !strings.HasPrefix(g.ID, "seg_") {
		t.Fatalf("generated id %q", g.ID)
	}
	if got := members(g.ID); !slices.Equal(got, []string{"u1"}) {
		t.Fatalf("a new segment over the profiles in memory: %v, want [u1]", got)
	}
	n, err := e.svc.SegmentCount(ctx, g.ID)
	must(t, err)
	if n != 1 {
		t.Fatalf("count %d, want 1", n)
	}

	_, err = e.svc.CreateSegment(ctx, &qianmian.Segment{ID: "bad", Name: "Bad", Expression: `price_tier >= `})
	if qianmian.ErrorField(err) != "expression" || !strings.Contains(qianmian.ErrorMessage(err), "column") {
		t.Fatalf("a bad expression: %v, want EINVALID naming expression and its column", err)
	}
	if _, err := store.FindSegmentByID(ctx, "bad"); qianmian.ErrorCode(err) != qianmian.ENOTFOUND {
		t.Fatalf("a segment that does not compile was stored: %v", err)
	}

	must(t, e.svc.DeleteSegment(ctx, g.ID))
	if _, err := e.svc.SegmentCount(ctx, g.ID); qianmian.ErrorCode(err) != qianmian.ENOTFOUND {
		t.Fatalf("count of a deleted segment: %v", err)
	}
}

// TestSegments_Disabled: without a SegmentStore the methods answer EUNAVAILABLE.
func TestSegments_Disabled(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func() time.Time { return t0.Add(day) })
	e.open(t)
	_, err := e.svc.CreateSegment(t.Context(), &qianmian.Segment{ID: "x", Name: "X", Expression: "events > 0"})
	if qianmian.ErrorCode(err) != qianmian.EUNAVAILABLE {
		t.Fatalf("CreateSegment without a store: %v", err)
	}
}
