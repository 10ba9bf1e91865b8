package eval_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/qianmian/qianmian/eval"
	"github.com/qianmian/qianmian/model"
)

// benchLog returns about users·perUser interactions of users who each stay mostly inside
// one of 50 taste clusters of a skewed catalogue, so that co-occurrence has structure.
func benchLog(users, items, perUser int, seed uint64) []eval.Interaction {
	rng := rand.New(rand.NewPCG(seed, 2))
	const clusters = 50
	var out []eval.Interaction
	for u := range users {
		c := rng.IntN(clusters)
		for k := range perUser {
			var i int
			if rng.IntN(4) == 0 {
				i = int(float64(items) * rng.Float64() * rng.Float64()) // anything, popular first
			} else {
				i = c + clusters*int(float64(items/clusters)*rng.Float64()*rng.Float64())
			}
			out = append(out, eval.Interaction{User: fmt.Sprintf("u%d", u), Item: fmt.Sprintf("i%d", i),
				Time: int64(1_700_000_000 + k*3600 + u), Weight: float32(1 + rng.IntN(3))})
		}
	}
	return out
}

// BenchmarkFamily_Fit fits each registered family's default config on about 100k
// interactions (10,000 users, 5,000 items) and reports the peak heap the fit took.
func BenchmarkFamily_Fit(b *testing.B) {
	train, _ := eval.Temporal{Frac: 0.2}.Split(benchLog(10_000, 5_000, 12, 1))
	s := eval.NewSplit(train, nil)
	b.Logf("%d interactions, %d distinct pairs, %d users, %d items", len(train), s.Train.NumInteractions(), s.Train.NumUsers(), s.Train.NumItems())
	for _, fam := range eval.Families(new(eval.Items).Features()) {
		b.Run(fam.Name, func(b *testing.B) {
			b.ReportAllocs()
			var peak float64
			for b.Loop() {
				m := fam.Configs(1, 1)[0]
				st, err := eval.Fit(context.Background(), m, s.Train)
				if err != nil {
					b.Fatal(err)
				}
				peak = max(peak, st.PeakMB)
			}
			b.ReportMetric(peak, "peak-MB")
		})
	}
}

// BenchmarkEvaluator_Evaluate ranks every item for 2,000 users with popularity.
func BenchmarkEvaluator_Evaluate(b *testing.B) {
	train, test := eval.Temporal{Frac: 0.2}.Split(benchLog(2_000, 5_000, 12, 3))
	s := eval.NewSplit(train, test)
	m := new(model.PopularityModel)
	if err := m.Fit(context.Background(), s.Train); err != nil {
		b.Fatal(err)
	}
	e := &eval.Evaluator{K: 10, ExcludeSeen: true, Workers: 2}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := e.Evaluate(context.Background(), m, s); err != nil {
			b.Fatal(err)
		}
	}
}
