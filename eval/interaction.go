package eval

import (
	"cmp"
	"slices"
	"strconv"
	"strings"

	"github.com/qianmian/qianmian"
)

// Interaction is one thing a user did with an item.
type Interaction struct {
	User string
	Item string
	// Time is in Unix seconds; datasets that only give an order (Amazon Beauty) use the
	// position in the user's sequence.
	Time int64
	// Weight is how much the interaction says about the user's interest; negative for a
	// return. Only positive interactions count as relevant in a test split.
	Weight float32
}

// eventWeights maps the event names an interaction file may use to weights. They follow
// the serving engine's defaults (purchase 8 > cart 4 > favorite 3 > click 2 > view 1,
// return −8); a rating or review is an interaction of weight 1, as in the public benchmarks.
// Impressions, searches and visits say nothing about an item and weigh 0.
var eventWeights = map[string]float32{
	string(qianmian.EventView):       1,
	string(qianmian.EventClick):      2,
	string(qianmian.EventFavorite):   3,
	"fav":                            3,
	string(qianmian.EventCart):       4,
	"add_to_cart":                    4,
	string(qianmian.EventPurchase):   8,
	"buy":                            8,
	"order":                          8,
	string(qianmian.EventReturn):     -8,
	"rating":                         1,
	string(qianmian.EventReview):     1,
	string(qianmian.EventImpression): 0,
	string(qianmian.EventSearch):     0,
	string(qianmian.EventVisit):      0,
}

// EventWeight returns the weight of an event name (case-insensitive) and whether it is
// known.
func EventWeight(event string) (float32, bool) {
	w, ok := eventWeights[strings.ToLower(strings.TrimSpace(event))]
	return w, ok
}

// EventNames returns the event names EventWeight knows, sorted.
func EventNames() []string {
	names := make([]string, 0, len(eventWeights))
	for n := range eventWeights {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// CompareIDs orders ids numerically when both are integers and as strings otherwise, so
// MovieLens item 9 comes before item 10.
func CompareIDs(a, b string) int {
	x, errA := strconv.ParseInt(a, 10, 64)
	y, errB := strconv.ParseInt(b, 10, 64)
	switch {
	case errA == nil && errB == nil:
		return cmp.Compare(x, y)
	case errA == nil:
		return -1
	case errB == nil:
		return 1
	}
	return strings.Compare(a, b)
}

// compareUserTime orders a log by user, then by (time, item id): the order every split uses.
func compareUserTime(a, b Interaction) int {
	if c := strings.Compare(a.User, b.User); c != 0 {
		return c
	}
	if c := cmp.Compare(a.Time, b.Time); c != 0 {
		return c
	}
	return CompareIDs(a.Item, b.Item)
}

// byUser returns the log sorted by user and (time, item id), and calls f with each user's
// interactions in that order. The sort is stable, so equal entries keep the input order.
func byUser(log []Interaction, f func(rows []Interaction)) {
	sorted := slices.Clone(log)
	slices.SortStableFunc(sorted, compareUserTime)
	for lo := 0; lo < len(sorted); {
		hi := lo + 1
		for hi < len(sorted) && sorted[hi].User == sorted[lo].User {
			hi++
		}
		f(sorted[lo:hi])
		lo = hi
	}
}
