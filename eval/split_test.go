package eval_test

import (
	"fmt"
	"slices"
	"testing"

	"github.com/qianmian/qianmian/eval"
)

// pairs returns "user:item" for each interaction, in order.
func pairs(log []eval.Interaction) []string {
	out := make([]string, len(log))
	for k, x := range log {
		out[k] = x.User + ":" + x.Item
	}
	return out
}

func TestTemporal_OrderAndFloor(t *testing.T) {
	t.Parallel()
	// u1 has 5 ratings, three at the same second: ties go by item id, numerically (9 < 10).
	// floor(0.2·5) = 1 held out. u2 has 4: floor(0.8) = 0, all in train. u3 has 10: 2.
	in := log(
		"u1", "10", 300, "u1", "9", 300, "u1", "2", 100, "u1", "11", 300, "u1", "7", 200,
		"u2", "1", 1, "u2", "2", 2, "u2", "3", 3, "u2", "4", 4,
	)
	for k := 0; k < 10; k++ {
		in = append(in, eval.Interaction{User: "u3", Item: fmt.Sprint(100 - k), Time: int64(k / 2), Weight: 1})
	}
	train, test := eval.Temporal{Frac: 0.2}.Split(in)
	wantTest := []string{"u1:11", "u3:91", "u3:92"} // u3's last second holds items 91 and 92
	if got := pairs(test); !slices.Equal(got, wantTest) {
		t.Fatalf("test %v, want %v", got, wantTest)
	}
	wantTrain := []string{"u1:2", "u1:7", "u1:9", "u1:10", "u2:1", "u2:2", "u2:3", "u2:4"}
	if got := pairs(train)[:8]; !slices.Equal(got, wantTrain) {
		t.Fatalf("train %v, want %v", got, wantTrain)
	}
	if len(train)+len(test) != len(in) {
		t.Fatalf("%d train + %d test != %d", len(train), len(test), len(in))
	}
}

func TestLeaveOneOut(t *testing.T) {
	t.Parallel()
	in := log("u1", "a", 1, "u1", "b", 2, "u1", "c", 3, "u2", "x", 5, "u3", "q", 2, "u3", "p", 2)
	train, test := eval.LeaveOneOut{}.Split(in)
	if got, want := pairs(test), []string{"u1:c", "u3:q"}; !slices.Equal(got, want) {
		t.Fatalf("test %v, want %v", got, want)
	}
	if got, want := pairs(train), []string{"u1:a", "u1:b", "u2:x", "u3:p"}; !slices.Equal(got, want) {
		t.Fatalf("train %v, want %v", got, want)
	}
	// Tuning carves validation from train the same way: the second-to-last item.
	vt, vv := eval.LeaveOneOut{}.Split(train)
	if got, want := pairs(vv), []string{"u1:b"}; !slices.Equal(got, want) {
		t.Fatalf("validation %v, want %v", got, want)
	}
	if got, want := pairs(vt), []string{"u1:a", "u2:x", "u3:p"}; !slices.Equal(got, want) {
		t.Fatalf("validation train %v, want %v", got, want)
	}
}

func TestLastWeeks(t *testing.T) {
	t.Parallel()
	const week = 7 * 86400
	in := log("u1", "a", 0, "u1", "b", 2*week+5, "u2", "c", 3*week, "u2", "d", 3*week+10, "u3", "e", 3*week+1)
	// Calendar weeks starting at 0, 1w, 2w, 3w: the last two weeks are weeks 2 and 3.
	train, test := eval.LastWeeks{Weeks: 2, Starts: []int64{0, week, 2 * week, 3 * week}}.Split(in)
	if got, want := pairs(test), []string{"u1:b", "u2:c", "u2:d", "u3:e"}; !slices.Equal(got, want) {
		t.Fatalf("test %v, want %v", got, want)
	}
	if got, want := pairs(train), []string{"u1:a"}; !slices.Equal(got, want) {
		t.Fatalf("train %v, want %v", got, want)
	}
	// Without a calendar, weeks count back seven days from the latest interaction
	// (3w+10): only d and e and c fall in the last week.
	_, test = eval.LastWeeks{Weeks: 1}.Split(in)
	if got, want := pairs(test), []string{"u2:c", "u2:d", "u3:e"}; !slices.Equal(got, want) {
		t.Fatalf("test %v, want %v", got, want)
	}
}

func TestCompareIDs(t *testing.T) {
	t.Parallel()
	ids := []string{"10", "b", "9", "a", "-1"}
	slices.SortFunc(ids, eval.CompareIDs)
	if want := []string{"-1", "9", "10", "a", "b"}; !slices.Equal(ids, want) {
		t.Fatalf("sorted %v, want %v", ids, want)
	}
}
