package sqlite_test

import (
	"slices"
	"testing"

	"github.com/qianmian/qianmian/sqlite"
	"github.com/qianmian/qianmian/storetest"
)

// TestProfileContract runs the profile contract on SQLite. (TestContract covers it as well
// once its stores set Profiles.)
func TestProfileContract(t *testing.T) {
	storetest.RunProfiles(t, func(t *testing.T) storetest.Stores {
		bus := storetest.NewBus()
		db := mustOpen(t, newDB(t, bus))
		s := stores(db, bus)
		s.Profiles = sqlite.NewProfileStore(db)
		return s
	})
}

// TestProfileStore_DeletionSurvivesReopen checks that a deleted tag is on disk: a reopened
// database still holds it.
func TestProfileStore_DeletionSurvivesReopen(t *testing.T) {
	t.Parallel()
	db := newDB(t, nil)
	if err := db.Open(); err != nil {
		t.Fatal(err)
	}
	if err := sqlite.NewProfileStore(db).DeleteProfileTag(t.Context(), "u-1", "gamer"); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	again := mustOpen(t, sqlite.NewDB(db.Path))
	got, err := sqlite.NewProfileStore(again).FindDeletedTags(t.Context(), "u-1")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, []string{"gamer"}) {
		t.Fatalf("after reopening, deleted tags are %v, want [gamer]", got)
	}
}
