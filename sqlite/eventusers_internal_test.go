package sqlite

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestEventUsersQueryPlan: FindEventUsers walks the two user indexes in order and never
// reads the log or sorts it, so a page costs its own users' index entries.
func TestEventUsersQueryPlan(t *testing.T) {
	t.Parallel()
	db := NewDB(filepath.Join(t.TempDir(), "plans.db"))
	if err := db.Open(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	plan := queryPlan(t, db, eventUsersQuery+" LIMIT 1000", "u", "u")
	t.Logf("plan:\n%s", plan)
	if !strings.Contains(plan, "events_user") || !strings.Contains(plan, "identities_user") ||
		strings.Contains(plan, "SCAN events") || strings.Contains(plan, "TEMP B-TREE") {
		t.Errorf("FindEventUsers plan:\n%s", plan)
	}
}
