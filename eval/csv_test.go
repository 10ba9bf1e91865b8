package eval_test

import (
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/qianmian/qianmian"
	"github.com/qianmian/qianmian/eval"
)

func TestReadInteractions(t *testing.T) {
	t.Parallel()
	in := "user_id,item_id,timestamp,event,weight\n" +
		"u1,i1,1700000000,view,\n" +
		"u1,i2,2023-11-14T22:13:21Z,purchase,\n" +
		"u2,i1,1700000002,,2.5\n" + // weight alone
		"u2,i3,1700000003,cart,0.5\n" + // weight overrides the event
		"u3,i3,1700000004,,\n" // neither: 1
	got, err := eval.ReadInteractions(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	want := []eval.Interaction{
		{User: "u1", Item: "i1", Time: 1700000000, Weight: 1},
		{User: "u1", Item: "i2", Time: 1700000001, Weight: 8},
		{User: "u2", Item: "i1", Time: 1700000002, Weight: 2.5},
		{User: "u2", Item: "i3", Time: 1700000003, Weight: 0.5},
		{User: "u3", Item: "i3", Time: 1700000004, Weight: 1},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d interactions, want %d", len(got), len(want))
	}
	for k := range want {
		if got[k] != want[k] {
			t.Errorf("row %d: %+v, want %+v", k, got[k], want[k])
		}
	}
}

func TestReadInteractions_RejectsNamingTheColumn(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name, in, field, inMsg string
	}{
		{"BadTimestamp", "user_id,item_id,timestamp\nu1,i1,1\nu1,i2,yesterday\n", "timestamp", "line 3"},
		{"UnknownEvent", "user_id,item_id,timestamp,event\nu1,i1,1,like\n", "event", `"like"`},
		{"BadWeight", "user_id,item_id,timestamp,weight\nu1,i1,1,heavy\n", "weight", "line 2"},
		{"MissingItem", "user_id,item_id,timestamp\nu1,,1\n", "item_id", "line 2"},
		{"ShortRow", "user_id,item_id,timestamp\nu1,i1\n", "timestamp", "line 2"},
		{"MissingColumn", "user_id,timestamp\nu1,1\n", "item_id", "header"},
		{"UnknownColumn", "user_id,item_id,timestamp,rating\nu1,i1,1,5\n", "rating", "unknown column"},
		{"Empty", "", "header", "empty"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := eval.ReadInteractions(strings.NewReader(tt.in))
			if qianmian.ErrorCode(err) != qianmian.EINVALID || qianmian.ErrorField(err) != tt.field {
				t.Fatalf("err=%v, want EINVALID on %s", err, tt.field)
			}
			if !strings.Contains(err.Error(), tt.inMsg) {
				t.Fatalf("err=%v, want it to mention %s", err, tt.inMsg)
			}
		})
	}
}

func TestReadItems(t *testing.T) {
	t.Parallel()
	in := "item_id,title,category_id,brand,price,color\n" +
		"i1,Rose perfume,perfume,Aurora,199,red\n" +
		"i2,,soap,,,\n"
	items, err := eval.ReadItems(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	it, ok := items.Find("i1")
	if !ok || it.Title != "Rose perfume" || !slices.Equal(it.Category, []string{"perfume"}) || it.Brand != "Aurora" || it.Price != 199 ||
		len(it.Attrs) != 1 || it.Attrs[0] != "color=red" {
		t.Fatalf("i1 = %+v", it)
	}
	if it, _ := items.Find("i2"); !math.IsNaN(it.Price) || !slices.Equal(it.Category, []string{"soap"}) || len(it.Attrs) != 0 {
		t.Fatalf("i2 = %+v", it)
	}
	_, err = eval.ReadItems(strings.NewReader("item_id,price\ni1,cheap\n"))
	if qianmian.ErrorField(err) != "price" || !strings.Contains(err.Error(), "line 2") {
		t.Fatalf("err=%v, want price on line 2", err)
	}
}
