package storetest

import (
	"testing"

	"github.com/qianmian/qianmian"
)

func segmentTests() []contractTest {
	return []contractTest{
		{"Segments/CRUD", testSegmentsCRUD},
		{"Segments/Errors", testSegmentsErrors},
	}
}

func needSegments(t *testing.T, s Stores) qianmian.SegmentStore {
	t.Helper()
	if s.Segments == nil {
		t.Skip("the stores provide no SegmentStore")
	}
	return s.Segments
}

func testSegmentsCRUD(t *testing.T, s Stores) {
	st := needSegments(t, s)
	ctx := t.Context()
	list, err := st.FindSegments(ctx)
	must(t, err)
	equal(t, "segments of an empty store", list, []*qianmian.Segment{})
	b := &qianmian.Segment{ID: "beauty", Name: "Beauty fans", Expression: `affinity("beauty") > 0.3`}
	must(t, st.CreateSegment(ctx, b))
	if !b.CreatedAt.Equal(Now()) || !b.UpdatedAt.Equal(Now()) {
		t.Fatalf("created segment stamped %v, %v; want %v", b.CreatedAt, b.UpdatedAt, Now())
	}
	a := &qianmian.Segment{ID: "a-shanghai", Name: "Shanghai", Expression: `city = "Shanghai"`}
	must(t, st.CreateSegment(ctx, a))
	got, err := st.FindSegmentByID(ctx, "beauty")
	must(t, err)
	equal(t, "segment read back", got, b)
	list, err = st.FindSegments(ctx)
	must(t, err)
	equal(t, "segments by id", list, []*qianmian.Segment{a, b})

	u := &qianmian.Segment{ID: "beauty", Name: "Beauty lovers", Expression: `affinity("beauty") > 0.5`}
	must(t, st.UpdateSegment(ctx, u))
	if !u.CreatedAt.Equal(b.CreatedAt) {
		t.Fatalf("updated segment's CreatedAt %v, want %v", u.CreatedAt, b.CreatedAt)
	}
	got, err = st.FindSegmentByID(ctx, "beauty")
	must(t, err)
	equal(t, "updated segment read back", got, u)

	must(t, st.DeleteSegment(ctx, "beauty"))
	_, err = st.FindSegmentByID(ctx, "beauty")
	wantCode(t, "FindSegmentByID after delete", err, qianmian.ENOTFOUND)
	list, err = st.FindSegments(ctx)
	must(t, err)
	equal(t, "segments after delete", list, []*qianmian.Segment{a})
}

func testSegmentsErrors(t *testing.T, s Stores) {
	st := needSegments(t, s)
	ctx := t.Context()
	must(t, st.CreateSegment(ctx, &qianmian.Segment{ID: "x", Name: "X", Expression: "events > 1"}))
	wantCode(t, "CreateSegment with a taken id",
		st.CreateSegment(ctx, &qianmian.Segment{ID: "x", Name: "X2", Expression: "events > 2"}), qianmian.ECONFLICT)
	wantField(t, "CreateSegment without an id",
		st.CreateSegment(ctx, &qianmian.Segment{Name: "X", Expression: "events > 1"}), "id")
	wantField(t, "CreateSegment without an expression",
		st.CreateSegment(ctx, &qianmian.Segment{ID: "y", Name: "Y"}), "expression")
	wantField(t, "CreateSegment without a name",
		st.CreateSegment(ctx, &qianmian.Segment{ID: "y", Expression: "events > 1"}), "name")
	_, err := st.FindSegmentByID(ctx, "nope")
	wantCode(t, "FindSegmentByID of a missing segment", err, qianmian.ENOTFOUND)
	wantCode(t, "UpdateSegment of a missing segment",
		st.UpdateSegment(ctx, &qianmian.Segment{ID: "nope", Name: "N", Expression: "events > 1"}), qianmian.ENOTFOUND)
	wantCode(t, "DeleteSegment of a missing segment", st.DeleteSegment(ctx, "nope"), qianmian.ENOTFOUND)
}
