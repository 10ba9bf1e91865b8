package model_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/qianmian/qianmian/model"
)

// BenchmarkHybrid_ScoreHistorySubset scores one history for a store's stock of 800 items
// out of a 100,000-item catalogue (the large demo world's proportions) with the hybrid
// over sequential, iALS and content bases: the serving path's candidate generation, from the
// catalogue and from the stock as PrepareSubset prepared it. 2,000 histories in turn, so
// iALS's fold memo (4,096 histories) holds each after its first round.
func BenchmarkHybrid_ScoreHistorySubset(b *testing.B) {
	const items, stock = 100_000, 800
	const cats, users = 400, 20_000
	// Each user keeps to two categories, browsing a few popular items of them in order, so
	// every base has signal and the boosted ranker is chosen.
	rng := rand.New(rand.NewPCG(1, 2))
	db := model.NewDatasetBuilder()
	for i := 0; i < items; i++ {
		db.Items.Add(fmt.Sprintf("i%d", i))
	}
	perCat := items / cats
	for u := 0; u < users; u++ {
		uid := db.Users.Add(fmt.Sprintf("u%d", u))
		a, c := rng.IntN(cats), rng.IntN(cats)
		for k := 0; k < 20; k++ {
			cat := a
			if k%3 == 2 {
				cat = c
			}
			rank := int(float64(perCat) * rng.Float64() * rng.Float64() * rng.Float64())
			db.AddIndex(uid, int32(rank*cats+cat), 1, int64(1_000_000+100*u+k))
		}
	}
	d := db.Build()
	fb := model.NewItemFeaturesBuilder(d.Items)
	for i := 0; i < items; i++ {
		fb.Add(d.Items.ID(int32(i)), []string{fmt.Sprintf("c%d", i%cats)}, fmt.Sprintf("b%d", i%900), float64(10+i%97), nil, "")
	}
	f := fb.Build()
	ic := model.DefaultIALSConfig()
	ic.Factors, ic.Epochs = 32, 4
	h := fastHybrid([]model.Model{
		&model.Sequential{Config: model.DefaultSequentialConfig()},
		&model.IALS{Config: ic},
		&model.Content{Config: model.DefaultContentConfig(), Features: f},
	})
	h.Features = f
	if err := h.Fit(context.Background(), d); err != nil {
		b.Fatal(err)
	}
	if c := h.Report().Chosen; c != "lambdamart" && c != "linear" {
		b.Fatalf("the hybrid chose %s: the benchmark needs its ranker", c)
	}
	subset := make([]int32, 0, stock)
	for _, i := range rng.Perm(items)[:stock] {
		subset = append(subset, int32(i))
	}
	slices.Sort(subset)
	dst := make([]float32, items)
	// Each sub-benchmark scores the 2,000 histories in turn with score.
	run := func(name string, score func(hi []int32, hw []float32, ht []int64)) {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			u := int32(0)
			for b.Loop() {
				hi, hw, ht := d.Sequence(u % 2000)
				score(hi, hw, ht)
				u++
			}
		})
	}
	run("unprepared", func(hi []int32, hw []float32, ht []int64) { h.ScoreHistorySubset(hi, hw, ht, subset, dst) })
	// As a server scores a store's stock: with what PrepareSubset made of it once.
	prep, _ := h.PrepareSubset(subset)
	run("prepared", func(hi []int32, hw []float32, ht []int64) { h.ScorePrepared(hi, hw, ht, subset, prep, nil, dst) })
}
