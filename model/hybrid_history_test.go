package model_test

import (
	"context"
	"math"
	"testing"

	"github.com/qianmian/qianmian/model"
)

// TestHybrid_ScoreHistoryMatchesScoreUser checks that serving a fitted user's own history
// through ScoreHistory ranks as ScoreUser does, so the hybrid can rank live histories.
func TestHybrid_ScoreHistoryMatchesScoreUser(t *testing.T) {
	t.Parallel()
	d, _, _ := plantedWorld(300, 4, 11)
	bases := []model.Model{&model.PopularityModel{}, &model.ItemKNNModel{Config: model.DefaultItemKNNConfig()},
		&model.IALS{Config: model.DefaultIALSConfig()}}
	h := fastHybrid(bases)
	h.Config.Trees = 0 // a linear blend: the same features give the same scores
	if err := h.Fit(context.Background(), d); err != nil {
		t.Fatal(err)
	}
	t.Logf("chosen: %s", h.Report().Chosen)
	n := d.NumItems()
	byUser, byHistory := make([]float32, n), make([]float32, n)
	for u := int32(0); u < 30; u++ {
		h.ScoreUser(u, byUser)
		// The user's row (items merged, as the fit saw them): a base chosen alone scores
		// what it is given, and some weigh a repeated item once, summed, not per event.
		items, weights, times := d.Row(u)
		h.ScoreHistory(items, weights, times, byHistory)
		top1 := model.TopK(nil, byUser, 10)
		top2 := model.TopK(nil, byHistory, 10)
		common := 0
		for _, i := range top1 {
			for _, j := range top2 {
				if i == j {
					common++
				}
			}
			if a, b := byUser[i], byHistory[i]; math.Abs(float64(a-b)) > 0.02*(1+math.Abs(float64(a))) {
				t.Fatalf("user %d item %d: ScoreUser %v, ScoreHistory %v", u, i, a, b)
			}
		}
		if common < 9 {
			t.Fatalf("user %d: top 10 by ScoreUser %v and by ScoreHistory %v share %d items, want >= 9", u, top1, top2, common)
		}
	}
	// Items the fit never saw are ignored; an empty history gets popularity.
	items, weights, times := d.Sequence(0)
	h.ScoreHistory(append([]int32{int32(n) + 5}, items...), append([]float32{1}, weights...), append([]int64{times[0]}, times...), byHistory)
	h.ScoreUser(0, byUser)
	if got, want := model.TopK(nil, byHistory, 1)[0], model.TopK(nil, byUser, 1)[0]; got != want {
		t.Fatalf("with an unknown item in the history the top item is %d, want %d", got, want)
	}
	h.ScoreHistory(nil, nil, nil, byHistory)
	pop := &model.PopularityModel{}
	if err := pop.Fit(context.Background(), d); err != nil {
		t.Fatal(err)
	}
	pop.ScoreUser(0, byUser)
	if got, want := model.TopK(nil, byHistory, 5), model.TopK(nil, byUser, 5); !equalInt32s(got, want) {
		t.Fatalf("empty history: top %v, want popularity's %v", got, want)
	}
}

func equalInt32s(a, b []int32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
