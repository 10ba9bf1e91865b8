package sqlite

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/qianmian/qianmian"
)

func openInternal(t *testing.T) *DB {
	t.Helper()
	db := NewDB(filepath.Join(t.TempDir(), "identity.db"))
	db.Now = func() time.Time { return time.Date(2024, 6, 1, 12, 0, 0, 0, time.UTC) }
	if err := db.Open(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}

// TestIdentityQueryPlans guards the indexes the identity queries walk: an identity's
// anonymous events through events_identity, the unlink's and the graph's walk of the
// user's events through events_user; never the whole log.
func TestIdentityQueryPlans(t *testing.T) {
	t.Parallel()
	db := openInternal(t)
	dev := qianmian.IdentityRef{Channel: qianmian.ChannelApp, Type: qianmian.IdentityDevice, Value: "d"}
	q, args, err := eventQuery(qianmian.EventFilter{Identity: &dev, Since: time.Unix(0, 0), AfterSeq: 3})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name, q string
		args    []any
		want    string
	}{
		{"EventFilter.Identity", q, args, "events_identity"},
		{"Unlink", unlinkEventsSQL, []any{"u", "k"}, "events_user"},
		{"GraphOwn", graphOwnSQL, []any{"u"}, "events_user"},
		{"GraphAnonymous", graphAnonymousSQL, []any{"u"}, "events_identity"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			plan := queryPlan(t, db, tt.q, tt.args...)
			if !strings.Contains(plan, tt.want) || strings.Contains(plan, "SCAN events") {
				t.Errorf("plan does not use %s only:\n%s", tt.want, plan)
			}
		})
	}
}

// eventRow is an event's ownership as stored.
type eventRow struct {
	id, user string
	resolved int
}

func eventRows(t *testing.T, db *DB) []eventRow {
	t.Helper()
	rows, err := db.read.Query(`SELECT id, user_id, user_resolved FROM events ORDER BY seq`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var list []eventRow
	for rows.Next() {
		var r eventRow
		if err := rows.Scan(&r.id, &r.user, &r.resolved); err != nil {
			t.Fatal(err)
		}
		list = append(list, r)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return list
}

// TestUnlinkIdentity_Columns checks what the log records: user_resolved only on the events
// whose user came from the link, linked_by, and what the unlink and a relink change.
func TestUnlinkIdentity_Columns(t *testing.T) {
	t.Parallel()
	db := openInternal(t)
	ctx := t.Context()
	events, ids := NewEventService(db), NewIdentityService(db)
	dev := qianmian.IdentityRef{Channel: qianmian.ChannelApp, Type: qianmian.IdentityDevice, Value: "dev-1"}
	at := db.Now().Add(-time.Hour)
	ev := func(id, user string, ref *qianmian.IdentityRef) *qianmian.Event {
		return &qianmian.Event{ID: id, Type: qianmian.EventView, UserID: user, Identity: ref, ItemID: "i",
			StoreID: "s", Channel: qianmian.ChannelApp, OccurredAt: at}
	}
	// One batch: before the link, the link, resolved by it, sent with the user, no identity.
	if _, err := events.CreateEvents(ctx, []*qianmian.Event{ev("e1", "", &dev), ev("e2", "u1", &dev),
		ev("e3", "", &dev), ev("e4", "u1", &dev), ev("e5", "u1", nil)}); err != nil {
		t.Fatal(err)
	}
	want := []eventRow{{"e1", "", 0}, {"e2", "u1", 0}, {"e3", "u1", 1}, {"e4", "u1", 0}, {"e5", "u1", 0}}
	if got := eventRows(t, db); !slices.Equal(got, want) {
		t.Fatalf("events after ingest %v, want %v", got, want)
	}
	var by string
	if err := db.read.QueryRow(`SELECT linked_by FROM identities WHERE key = ?`, dev.Key()).Scan(&by); err != nil || by != "e2" {
		t.Fatalf("linked_by %q, %v; want e2", by, err)
	}

	if err := ids.UnlinkIdentity(ctx, dev, "u1", "test"); err != nil {
		t.Fatal(err)
	}
	want[2] = eventRow{"e3", "", 0}
	if got := eventRows(t, db); !slices.Equal(got, want) {
		t.Fatalf("events after the unlink %v, want %v", got, want)
	}
	// Resolved again after an explicit relink: a later anonymous event is marked resolved.
	if err := ids.LinkIdentity(ctx, dev, "u1"); err != nil {
		t.Fatal(err)
	}
	if _, err := events.CreateEvents(ctx, []*qianmian.Event{ev("e6", "", &dev)}); err != nil {
		t.Fatal(err)
	}
	want = append(want, eventRow{"e6", "u1", 1})
	if got := eventRows(t, db); !slices.Equal(got, want) {
		t.Fatalf("events after the relink %v, want %v", got, want)
	}
	var standing int
	if err := db.read.QueryRow(`SELECT linked_by, (SELECT COUNT(*) FROM identity_unlinks WHERE relinked_at IS NULL)
		FROM identities WHERE key = ?`, dev.Key()).Scan(&by, &standing); err != nil || by != qianmian.LinkedByAPI || standing != 0 {
		t.Fatalf("after the relink: linked_by %q, %d unlinks standing, %v; want api, 0", by, standing, err)
	}
}
