package eval_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/qianmian/qianmian/eval"
	"github.com/qianmian/qianmian/model"
)

// rank returns the item ids of a model's full ranking for user.
func rank(t *testing.T, m model.Model, s *eval.Split, user string) []string {
	t.Helper()
	u, ok := s.Train.Users.Index(user)
	if !ok {
		t.Fatalf("no user %s", user)
	}
	scores := make([]float32, s.Train.NumItems())
	m.ScoreUser(u, scores)
	top := model.TopK(nil, scores, len(scores))
	ids := make([]string, len(top))
	for k, i := range top {
		ids[k] = s.Train.Items.ID(i)
	}
	return ids
}

func TestItemKNNModel(t *testing.T) {
	t.Parallel()
	// x and y are always met together; p is popular but met with no one else's items;
	// z is met alone by the user "lone".
	train := log(
		"u1", "x", 1, "u1", "y", 2,
		"u2", "x", 1, "u2", "y", 2,
		"u3", "p", 1, "u4", "p", 1, "u5", "p", 1,
		"lone", "z", 1,
		"fan", "x", 1,
	)
	s := eval.NewSplit(train, nil)
	m := &model.ItemKNNModel{Config: model.DefaultItemKNNConfig()}
	if err := m.Fit(context.Background(), s.Train); err != nil {
		t.Fatal(err)
	}
	// fan met x: y, its neighbour, comes first; the rest follow by popularity.
	if got := rank(t, m, s, "fan"); got[0] != "y" || !slices.Equal(got[1:3], []string{"x", "p"}) {
		t.Fatalf("fan's ranking %v, want y first, then x and p by popularity", got)
	}
	// lone's z has no neighbours: the ranking is popularity (x 3 users, p 3, y 2, z 1).
	// x and p tie at 3 users: x, indexed first, wins.
	if got := rank(t, m, s, "lone"); !slices.Equal(got, []string{"x", "p", "y", "z"}) {
		t.Fatalf("lone's ranking %v, want popularity order x p y z", got)
	}
}

func TestPopularityModel(t *testing.T) {
	t.Parallel()
	train := []eval.Interaction{
		{User: "u1", Item: "old", Time: 0, Weight: 5},
		{User: "u2", Item: "old", Time: 0, Weight: 1},
		{User: "u3", Item: "new", Time: 30 * 86400, Weight: 1},
		{User: "u3", Item: "bad", Time: 30 * 86400, Weight: -8},
	}
	s := eval.NewSplit(train, nil)
	for _, tt := range []struct {
		m    *model.PopularityModel
		want []string
	}{
		{&model.PopularityModel{}, []string{"old", "new", "bad"}},                         // 2 users > 1 > 0
		{&model.PopularityModel{Weighted: true}, []string{"old", "new", "bad"}},           // 6 > 1 > -8
		{&model.PopularityModel{HalfLife: 24 * time.Hour}, []string{"new", "old", "bad"}}, // old decayed 2^-30
	} {
		if err := tt.m.Fit(context.Background(), s.Train); err != nil {
			t.Fatal(err)
		}
		if got := rank(t, tt.m, s, "u1"); !slices.Equal(got, tt.want) {
			t.Errorf("%s: ranking %v, want %v", tt.m.Describe(), got, tt.want)
		}
	}
}
