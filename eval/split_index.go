package eval

import (
	"slices"

	"github.com/qianmian/qianmian/model"
)

// Split is a train dataset and each train user's held-out items, indexed for evaluation.
// The item universe, the items every ranking covers, is every item of train and test.
type Split struct {
	Train *model.Dataset
	// Test holds, for each train user index, the distinct items of their positive test
	// interactions, sorted; nil for a user without any.
	Test [][]int32
	// UsersNoTest counts train users without test items: they are not evaluated.
	UsersNoTest int
	// UsersNoTrain counts test users without train rows: they are not evaluated either
	// (there is nothing to recommend from), and are counted apart.
	UsersNoTrain int
	// SeenInTest counts held-out items the user had already met in train: unreachable when
	// seen items are excluded, so they count as misses.
	SeenInTest int
}

// NewSplit indexes a train and a test log. Items get indexes in order of first appearance,
// train first; users are train's users. Test interactions with a weight ≤ 0 (returns, bad
// reviews) are not relevant.
func NewSplit(train, test []Interaction) *Split { return NewSplitOver(nil, train, test) }

// NewSplitOver is NewSplit over a given item universe: the items of universe (which is
// cloned, not changed) keep their indexes, and items of train and test it lacks follow.
// The harness tunes over the universe of the test split, so that validation ranks the
// catalogue the test does.
func NewSplitOver(universe *model.IDMap, train, test []Interaction) *Split {
	b := model.NewDatasetBuilder()
	if universe != nil {
		b.Items = universe.Clone()
	}
	for _, x := range train {
		b.Items.Add(x.Item)
	}
	for _, x := range test {
		b.Items.Add(x.Item)
	}
	for _, x := range train {
		b.Add(x.User, x.Item, x.Weight, x.Time)
	}
	s := &Split{Train: b.Build()}
	s.Test = make([][]int32, s.Train.NumUsers())
	noTrain := map[string]bool{}
	for _, x := range test {
		u, ok := s.Train.Users.Index(x.User)
		if !ok {
			noTrain[x.User] = true
			continue
		}
		if x.Weight <= 0 {
			continue
		}
		i, _ := s.Train.Items.Index(x.Item)
		s.Test[u] = append(s.Test[u], i)
	}
	s.UsersNoTrain = len(noTrain)
	for u, rel := range s.Test {
		if len(rel) == 0 {
			s.Test[u] = nil
			s.UsersNoTest++
			continue
		}
		slices.Sort(rel)
		rel = slices.Compact(rel)
		s.Test[u] = slices.Clip(rel)
		seen, _, _ := s.Train.Row(int32(u))
		for _, i := range rel {
			if _, ok := slices.BinarySearch(seen, i); ok {
				s.SeenInTest++
			}
		}
	}
	return s
}

// Users returns the number of users evaluated: train users with test items.
func (s *Split) Users() int { return s.Train.NumUsers() - s.UsersNoTest }

// TestItems returns the number of held-out (user, item) pairs.
func (s *Split) TestItems() int {
	n := 0
	for _, rel := range s.Test {
		n += len(rel)
	}
	return n
}
