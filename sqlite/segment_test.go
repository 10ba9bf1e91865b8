package sqlite_test

import (
	"path/filepath"
	"testing"

	"github.com/qianmian/qianmian"
	"github.com/qianmian/qianmian/sqlite"
	"github.com/qianmian/qianmian/storetest"
)

// TestSegmentStore_SurvivesReopen: definitions outlive the process (the members do not: the
// profile service recomputes them).
func TestSegmentStore_SurvivesReopen(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "qianmian.db")
	open := func() *sqlite.DB {
		db := sqlite.NewDB(path)
		db.Now = storetest.Now
		if err := db.Open(); err != nil {
			t.Fatal(err)
		}
		return db
	}
	db := open()
	want := &qianmian.Segment{ID: "beauty", Name: "Beauty", Expression: `affinity("beauty") > 0.3`}
	if err := sqlite.NewSegmentStore(db).CreateSegment(t.Context(), want); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db = open()
	defer db.Close()
	got, err := sqlite.NewSegmentStore(db).FindSegmentByID(t.Context(), "beauty")
	if err != nil {
		t.Fatal(err)
	}
	if *got != *want {
		t.Fatalf("after reopening: %+v, want %+v", got, want)
	}
}
