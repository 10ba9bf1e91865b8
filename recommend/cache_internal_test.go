package recommend

import (
	"reflect"
	"testing"

	"github.com/qianmian/qianmian"
)

// A packed ranking unpacks to the items it was packed from: ids, scores, every reason and
// source in order, and nil slices nil (their JSON is null, an empty one's is []).
func TestPackedItems_RoundTrip(t *testing.T) {
	cases := map[string][]qianmian.ScoredItem{
		"none":  {},
		"plain": {{ItemID: "i1", Score: 2.5, Reasons: []string{"popular in this store"}, Sources: []string{"store_popular"}}},
		"mixed": {
			{ItemID: "玫瑰香水", Score: 1e-9, Reasons: []string{"看过相似商品：玫瑰香水", ""}, Sources: nil},
			{ItemID: "", Score: -3, Reasons: nil, Sources: []string{}},
			{ItemID: "i3", Score: 0, Reasons: []string{}, Sources: []string{"cooccurrence", "trending", "learned"}},
			{ItemID: "i4", Score: 7, Reasons: []string{"a", "bb", "ccc"}, Sources: []string{"d"}},
		},
	}
	for name, items := range cases {
		p := packItems(items)
		got := p.unpack()
		if !reflect.DeepEqual(got, items) {
			t.Errorf("%s: unpacked\n %#v\nwant\n %#v", name, got, items)
		}
		for k := range got {
			if got[k].Reasons == nil != (items[k].Reasons == nil) || got[k].Sources == nil != (items[k].Sources == nil) {
				t.Errorf("%s: item %d: nil-ness of reasons or sources changed", name, k)
			}
		}
	}
}

// Two hits of one packed ranking do not share slices a caller could append into: each
// item's reasons are capped, so an append reallocates instead of overwriting a neighbour.
func TestPackedItems_UnpackedSlicesAreCapped(t *testing.T) {
	p := packItems([]qianmian.ScoredItem{
		{ItemID: "a", Reasons: []string{"r1"}, Sources: []string{"s1"}},
		{ItemID: "b", Reasons: []string{"r2"}, Sources: []string{"s2"}},
	})
	got := p.unpack()
	_ = append(got[0].Reasons, "overwrite?")
	_ = append(got[0].Sources, "overwrite?")
	if got[1].Reasons[0] != "r2" || got[0].Sources[0] != "s1" || got[1].Sources[0] != "s2" {
		t.Fatalf("an append to one item's slices changed another's: %+v", got)
	}
}
