package storetest

import (
	"testing"

	"github.com/qianmian/qianmian"
)

func profileTests() []contractTest {
	return []contractTest{
		{"Profiles/DeletedTagsStay", testProfilesDeletedTagsStay},
		{"Profiles/DeletedTagsPerUser", testProfilesDeletedTagsPerUser},
		{"Profiles/InvalidTag", testProfilesInvalidTag},
	}
}

// RunProfiles runs the profile contract only, for a backend whose Run does not yet set
// Stores.Profiles.
func RunProfiles(t *testing.T, open func(t *testing.T) Stores) {
	for _, tc := range profileTests() {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, open(t))
		})
	}
}

func needProfiles(t *testing.T, s Stores) qianmian.ProfileStore {
	t.Helper()
	if s.Profiles == nil {
		t.Skip("the stores provide no ProfileStore")
	}
	return s.Profiles
}

func testProfilesDeletedTagsStay(t *testing.T, s Stores) {
	p := needProfiles(t, s)
	ctx := t.Context()
	got, err := p.FindDeletedTags(ctx, "u-1")
	must(t, err)
	equal(t, "deleted tags of a user who deleted none", got, []string{})
	must(t, p.DeleteProfileTag(ctx, "u-1", "white_collar_woman"))
	must(t, p.DeleteProfileTag(ctx, "u-1", "gender_female"))
	must(t, p.DeleteProfileTag(ctx, "u-1", "white_collar_woman")) // again: a no-op
	got, err = p.FindDeletedTags(ctx, "u-1")
	must(t, err)
	equal(t, "deleted tags, sorted", got, []string{"gender_female", "white_collar_woman"})
}

func testProfilesDeletedTagsPerUser(t *testing.T, s Stores) {
	p := needProfiles(t, s)
	ctx := t.Context()
	must(t, p.DeleteProfileTag(ctx, "u-1", "gamer"))
	must(t, p.DeleteProfileTag(ctx, "u-2", "student"))
	got, err := p.FindDeletedTags(ctx, "u-2")
	must(t, err)
	equal(t, "u-2's deleted tags", got, []string{"student"})
	got, err = p.FindDeletedTags(ctx, "u-3")
	must(t, err)
	equal(t, "u-3's deleted tags", got, []string{})
}

func testProfilesInvalidTag(t *testing.T, s Stores) {
	p := needProfiles(t, s)
	ctx := t.Context()
	wantField(t, "DeleteProfileTag with an empty tag", p.DeleteProfileTag(ctx, "u-1", ""), "tag")
	wantField(t, "DeleteProfileTag with upper case", p.DeleteProfileTag(ctx, "u-1", "Gamer"), "tag")
	wantField(t, "DeleteProfileTag with a slash", p.DeleteProfileTag(ctx, "u-1", "a/b"), "tag")
	wantField(t, "DeleteProfileTag without a user", p.DeleteProfileTag(ctx, "", "gamer"), "user_id")
	got, err := p.FindDeletedTags(ctx, "u-1")
	must(t, err)
	equal(t, "deleted tags after invalid deletions", got, []string{})
}
