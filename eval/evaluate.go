package eval

import (
	"context"
	"math"
	"runtime"
	"runtime/metrics"
	"sync"
	"sync/atomic"
	"time"

	"github.com/qianmian/qianmian/model"
)

// Metrics are a fitted model's ranking quality on a split: the means over the evaluated
// users of model.NDCG, Recall, HitRate and MRR at K, and catalogue coverage.
type Metrics struct {
	K      int
	NDCG   float64
	Recall float64
	HR     float64
	MRR    float64
	// Coverage is the share of the item universe that appears in at least one user's top K.
	Coverage float64
	Users    int
}

// Evaluator ranks every item for every user with test items. Set fields before calling
// Evaluate.
type Evaluator struct {
	K int
	// ExcludeSeen leaves out of each ranking the items the user met in train.
	ExcludeSeen bool
	// Workers is the number of goroutines ranking users; 0 means 2.
	Workers int
	// Progress, if set, is called as users are done (from any worker goroutine).
	Progress func(done, total int)
}

// Evaluate scores all items for each evaluated user of s with m (already fitted on
// s.Train), takes the top K with model.TopK and averages the metrics. Each worker reuses
// one score buffer; per-user results are summed in user order, so the result does not
// depend on Workers.
func (e *Evaluator) Evaluate(ctx context.Context, m model.Model, s *Split) (Metrics, error) {
	users := make([]int32, 0, s.Users())
	for u, rel := range s.Test {
		if rel != nil {
			users = append(users, int32(u))
		}
	}
	ni := s.Train.NumItems()
	per := make([][4]float64, len(users))
	workers := e.Workers
	if workers <= 0 {
		workers = 2
	}
	covered := make([][]bool, workers)
	var next, done atomic.Int64
	const chunk = 32
	var wg sync.WaitGroup
	for w := range workers {
		covered[w] = make([]bool, ni)
		wg.Go(func() {
			scores := make([]float32, ni)
			top := make([]int32, 0, e.K)
			for ctx.Err() == nil {
				lo := int(next.Add(chunk)) - chunk
				if lo >= len(users) {
					return
				}
				hi := min(lo+chunk, len(users))
				for k := lo; k < hi; k++ {
					top = e.rankUser(m, s, users[k], scores, top[:0])
					rel := s.Test[users[k]]
					per[k] = [4]float64{model.NDCG(top, rel, e.K), model.Recall(top, rel, e.K),
						model.HitRate(top, rel, e.K), model.MRR(top, rel, e.K)}
					for _, i := range top {
						covered[w][i] = true
					}
				}
				n := done.Add(int64(hi - lo))
				if e.Progress != nil {
					e.Progress(int(n), len(users))
				}
			}
		})
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return Metrics{}, err
	}
	return summarise(e.K, per, covered, ni), nil
}

// rankUser appends user u's top K to top.
func (e *Evaluator) rankUser(m model.Model, s *Split, u int32, scores []float32, top []int32) []int32 {
	m.ScoreUser(u, scores)
	if e.ExcludeSeen {
		seen, _, _ := s.Train.Row(u)
		for _, i := range seen {
			scores[i] = float32(math.NaN()) // model.TopK never picks NaN
		}
	}
	return model.TopK(top, scores, e.K)
}

func summarise(k int, per [][4]float64, covered [][]bool, ni int) Metrics {
	r := Metrics{K: k, Users: len(per)}
	for _, p := range per {
		r.NDCG += p[0]
		r.Recall += p[1]
		r.HR += p[2]
		r.MRR += p[3]
	}
	if n := float64(len(per)); n > 0 {
		r.NDCG, r.Recall, r.HR, r.MRR = r.NDCG/n, r.Recall/n, r.HR/n, r.MRR/n
	}
	distinct := 0
	for i := range ni {
		for _, c := range covered {
			if c[i] {
				distinct++
				break
			}
		}
	}
	if ni > 0 {
		r.Coverage = float64(distinct) / float64(ni)
	}
	return r
}

// FitStats is what fitting a model cost.
type FitStats struct {
	Seconds float64
	// PeakMB is the highest Go heap (live and not yet collected objects) seen during Fit,
	// sampled every 5 ms, above the heap right before it, after a collection, in MiB.
	PeakMB float64
}

// Fit fits m on d and measures the time and the peak heap it took.
func Fit(ctx context.Context, m model.Model, d *model.Dataset) (FitStats, error) {
	runtime.GC()
	base := heapBytes()
	stop := make(chan struct{})
	peakc := make(chan uint64)
	go func() {
		peak := base
		t := time.NewTicker(5 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-stop:
				peakc <- max(peak, heapBytes())
				return
			case <-t.C:
				peak = max(peak, heapBytes())
			}
		}
	}()
	start := time.Now()
	err := m.Fit(ctx, d)
	st := FitStats{Seconds: time.Since(start).Seconds()}
	close(stop)
	if peak := <-peakc; peak > base {
		st.PeakMB = float64(peak-base) / (1 << 20)
	}
	return st, err
}

func heapBytes() uint64 {
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return s[0].Value.Uint64()
}
