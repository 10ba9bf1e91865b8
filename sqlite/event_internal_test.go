package sqlite

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/qianmian/qianmian"
)

// TestEventQueryPlans guards the indexes each listing walks. On a young database the planner
// has no statistics, and a wrong guess walks every event of a store (or the whole log) to
// find one user's.
func TestEventQueryPlans(t *testing.T) {
	t.Parallel()
	db := NewDB(filepath.Join(t.TempDir(), "plans.db"))
	if err := db.Open(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	since := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	types := []qianmian.EventType{qianmian.EventView}

	for _, tt := range []struct {
		name   string
		filter qianmian.EventFilter
		want   []string // what the plan must mention
		scan   bool     // the plan walks the log in seq order (no index serves the filter)
	}{
		{"User", qianmian.EventFilter{UserID: "u"}, []string{"events_user", "events_identity"}, false},
		{"UserBrief", qianmian.EventFilter{UserID: "u", Types: types, Since: since, AfterSeq: 9, Limit: 5, Brief: true},
			[]string{"events_user", "events_identity"}, false},
		{"UserStoreTimeSeq", qianmian.EventFilter{UserID: "u", StoreID: "s", ItemID: "i", Types: types, Since: since, AfterSeq: 9},
			[]string{"events_user", "events_identity"}, false},
		// 0002_events_ingest_indexes dropped the store, item and time indexes: these walk the
		// log in seq order, and never sort it.
		{"ItemStore", qianmian.EventFilter{ItemID: "i", StoreID: "s", Since: since}, []string{"SCAN events"}, true},
		{"StoreTime", qianmian.EventFilter{StoreID: "s", Since: since, Until: since.Add(time.Hour)}, []string{"SCAN events"}, true},
		{"Time", qianmian.EventFilter{Since: since, Until: since.Add(time.Hour)}, []string{"SCAN events"}, true},
		{"TimeAfterSeq", qianmian.EventFilter{Since: since, AfterSeq: 5}, []string{"INTEGER PRIMARY KEY"}, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			q, args, err := eventQuery(tt.filter)
			if err != nil {
				t.Fatal(err)
			}
			plan := queryPlan(t, db, q, args...)
			for _, w := range tt.want {
				if !strings.Contains(plan, w) {
					t.Errorf("plan does not use %s:\n%s", w, plan)
				}
			}
			if !tt.scan && strings.Contains(plan, "SCAN events") {
				t.Errorf("plan scans the whole log:\n%s", plan)
			}
			if tt.scan && strings.Contains(plan, "TEMP B-TREE") {
				t.Errorf("plan sorts the log:\n%s", plan)
			}
		})
	}

	plan := queryPlan(t, db, storeInteractionQuery, "u", "s", "u", "s")
	if !strings.Contains(plan, "events_user") || !strings.Contains(plan, "events_identity") ||
		strings.Contains(plan, "events_store") || strings.Contains(plan, "SCAN events") {
		t.Errorf("HasStoreInteraction plan:\n%s", plan)
	}
}

func queryPlan(t *testing.T, db *DB, q string, args ...any) string {
	t.Helper()
	rows, err := db.read.Query(`EXPLAIN QUERY PLAN `+q, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var b strings.Builder
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		b.WriteString(detail + "\n")
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func TestInsertSizeIndex(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ n, want int }{{1, 0}, {2, 1}, {3, 1}, {100, 6}, {255, 7}, {256, 8}, {10000, 8}} {
		if got := insertSizeIndex(tt.n); got != tt.want {
			t.Errorf("insertSizeIndex(%d)=%d, want %d", tt.n, got, tt.want)
		}
	}
}
