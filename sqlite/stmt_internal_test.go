package sqlite

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
)

// TestReadStmts_PreparedOnceAndBounded: a read query is prepared once and then reused; a
// bad query still reports its error; past the bound, queries run unprepared and still work.
func TestReadStmts_PreparedOnceAndBounded(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := NewDB(filepath.Join(t.TempDir(), "stmts.db"))
	if err := db.Open(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	r := newReadStmts(db.read)
	t.Cleanup(func() { _ = r.Close() })

	for k := range 3 {
		var n int
		if err := r.QueryRowContext(ctx, `SELECT ? + 1`, k).Scan(&n); err != nil || n != k+1 {
			t.Fatalf("SELECT %d + 1 = %d, %v", k, n, err)
		}
	}
	if r.Len() != 1 {
		t.Errorf("%d statements kept after one query ran three times, want 1", r.Len())
	}
	first := r.stmt(ctx, `SELECT ? + 1`)
	if again := r.stmt(ctx, `SELECT ? + 1`); again != first || first == nil {
		t.Errorf("the same query got another statement (%p, %p)", first, again)
	}

	if err := r.QueryRowContext(ctx, `SELEC nonsense`).Scan(new(int)); err == nil {
		t.Error("a malformed query ran without an error")
	}
	if _, err := r.QueryContext(ctx, `SELECT * FROM no_such_table`); err == nil {
		t.Error("a query of a missing table ran without an error")
	}
	if r.Len() != 1 {
		t.Errorf("failed queries were kept: %d statements", r.Len())
	}

	for k := range maxReadStmts + 20 {
		var n int
		if err := r.QueryRowContext(ctx, fmt.Sprintf(`SELECT %d`, k)).Scan(&n); err != nil || n != k {
			t.Fatalf("SELECT %d = %d, %v", k, n, err)
		}
	}
	if r.Len() != maxReadStmts {
		t.Errorf("%d statements kept, want the bound %d", r.Len(), maxReadStmts)
	}
	if err := r.Close(); err != nil || r.Len() != 0 {
		t.Errorf("close: %v, %d left", err, r.Len())
	}
}
