package model

import (
	"context"
	"math"
	"sync"
)

// rankData is the ranker's learning set: one query per sampled validation user, one row of
// features per candidate, rows of a query sorted by item (which breaks score ties).
type rankData struct {
	nf   int
	x    []float32 // rows × nf, standardised once collected
	rel  []bool
	qptr []int32 // query q's rows are [qptr[q], qptr[q+1])
	idcg []float64
	hold []bool // per query: in the holdout that chooses the solution
	// users counts the sampled validation users of each part, including those none of whose
	// held-out items made it into the candidates: they score 0 whatever the ranking.
	users [numParts]int
}

// The parts of the validation users.
const (
	partLearn = iota
	partHold
	partAll
	numParts
)

func (rd *rankData) numQueries() int { return len(rd.qptr) - 1 }

func (rd *rankData) inPart(q, part int) bool {
	switch part {
	case partLearn:
		return !rd.hold[q]
	case partHold:
		return rd.hold[q]
	}
	return true
}

// standardise rescales every feature to mean 0, variance 1 over all rows and returns the
// means and standard deviations (1 for a constant feature).
func (rd *rankData) standardise() (mean, std []float32) {
	nf, n := rd.nf, len(rd.rel)
	sum := make([]float64, nf)
	sum2 := make([]float64, nf)
	for r := 0; r < n; r++ {
		for f, v := range rd.x[r*nf : (r+1)*nf] {
			sum[f] += float64(v)
			sum2[f] += float64(v) * float64(v)
		}
	}
	mean, std = make([]float32, nf), make([]float32, nf)
	for f := range mean {
		std[f] = 1
		if n == 0 {
			continue
		}
		mu := sum[f] / float64(n)
		mean[f] = float32(mu)
		if v := sum2[f]/float64(n) - mu*mu; v > 1e-12 {
			std[f] = float32(math.Sqrt(v))
		}
	}
	for r := 0; r < n; r++ {
		row := rd.x[r*nf : (r+1)*nf]
		for f := range row {
			row[f] = (row[f] - mean[f]) / std[f]
		}
	}
	return mean, std
}

// ndcgBlock is the number of queries summed together; blocks are reduced in order, so the
// result does not depend on the number of workers.
const ndcgBlock = 64

// ndcg returns the mean NDCG@k of the row scores s over the users of part.
func (rd *rankData) ndcg(s []float32, part, k, workers int) float64 {
	nq := rd.numQueries()
	nb := (nq + ndcgBlock - 1) / ndcgBlock
	sums := make([]float64, nb)
	parallelFor(nb, workers, func(b int) {
		buf := make([]int32, 0, k)
		for q := b * ndcgBlock; q < min(nq, (b+1)*ndcgBlock); q++ {
			if rd.inPart(q, part) {
				lo, hi := rd.qptr[q], rd.qptr[q+1]
				sums[b] += dcgAt(s[lo:hi], rd.rel[lo:hi], k, buf) / rd.idcg[q]
			}
		}
	})
	total := 0.0
	for _, v := range sums {
		total += v
	}
	if rd.users[part] == 0 {
		return 0
	}
	return total / float64(rd.users[part])
}

// dcgAt returns the DCG of the k best rows by s (ties to the earlier row) with binary gains.
func dcgAt(s []float32, rel []bool, k int, buf []int32) float64 {
	buf = buf[:0]
	for r := range s {
		if len(buf) == k && !rowBetter(s, int32(r), buf[k-1]) {
			continue
		}
		p := len(buf)
		if p < k {
			buf = append(buf, 0)
		} else {
			p = k - 1
		}
		for p > 0 && rowBetter(s, int32(r), buf[p-1]) {
			buf[p] = buf[p-1]
			p--
		}
		buf[p] = int32(r)
	}
	dcg := 0.0
	for p, r := range buf {
		if rel[r] {
			dcg += 1 / math.Log2(float64(p)+2)
		}
	}
	return dcg
}

func rowBetter(s []float32, a, b int32) bool {
	return s[a] > s[b] || (s[a] == s[b] && a < b)
}

// idealDCG returns the DCG of n hits at the top of a list cut at k.
func idealDCG(n, k int) float64 {
	v := 0.0
	for p := 0; p < min(n, k); p++ {
		v += 1 / math.Log2(float64(p)+2)
	}
	return v
}

// linearScores returns x·w for every row.
func (rd *rankData) linearScores(w []float32) []float32 {
	nf := rd.nf
	s := make([]float32, len(rd.rel))
	for r := range s {
		var v float32
		for f, x := range rd.x[r*nf : (r+1)*nf] {
			v += w[f] * x
		}
		s[r] = v
	}
	return s
}

// caSteps are the moves coordinate ascent tries on a weight, with weights scaled to
// Σ|w| = 1; it also tries setting the weight to 0.
var caSteps = [...]float32{-2, -1, -0.5, -0.25, -0.1, -0.05, -0.02, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2}

// coordinateAscent improves the linear weights w0 on the NDCG@k of part, one weight at a
// time by line search (Metzler and Croft 2007), for at most rounds passes or until a pass
// gains nothing. It returns the weights, scaled to Σ|w| = 1, and their NDCG.
func (rd *rankData) coordinateAscent(ctx context.Context, w0 []float32, part, k, rounds, workers int) ([]float32, float64, error) {
	w := append([]float32(nil), w0...)
	normaliseL1(w)
	s := rd.linearScores(w)
	best := rd.ndcg(s, part, k, workers)
	trial := make([]float32, len(s))
	nf := rd.nf
	for round := 0; round < rounds; round++ {
		gained := false
		for f := 0; f < nf; f++ {
			if err := ctx.Err(); err != nil {
				return nil, 0, err
			}
			bestDelta := float32(0)
			for t := -1; t < len(caSteps); t++ {
				delta := -w[f] // t == -1: try without the feature
				if t >= 0 {
					delta = caSteps[t]
				}
				if delta == 0 {
					continue
				}
				for r := range trial {
					trial[r] = s[r] + delta*rd.x[r*nf+f]
				}
				if v := rd.ndcg(trial, part, k, workers); v > best+1e-9 {
					best, bestDelta = v, delta
				}
			}
			if bestDelta != 0 {
				gained = true
				w[f] += bestDelta
				for r := range s {
					s[r] += bestDelta * rd.x[r*nf+f]
				}
				// Rescale, so steps stay relative to the weights; ranking is unchanged.
				if norm := normaliseL1(w); norm > 0 {
					for r := range s {
						s[r] /= norm
					}
				}
			}
		}
		if !gained {
			break
		}
	}
	return w, best, nil
}

// normaliseL1 divides w by Σ|w| and returns that sum.
func normaliseL1(w []float32) float32 {
	var norm float32
	for _, v := range w {
		norm += float32(math.Abs(float64(v)))
	}
	if norm > 0 {
		for f := range w {
			w[f] /= norm
		}
	}
	return norm
}

// parallelFor calls fn(0..n-1) on up to workers goroutines.
func parallelFor(n, workers int, fn func(i int)) {
	parallelForW(n, workers, func(_, i int) { fn(i) })
}

// parallelForW calls fn(w, i) for i in 0..n-1 on up to workers goroutines, worker w taking
// i = w, w+workers, … so per-worker scratch can be indexed by w.
func parallelForW(n, workers int, fn func(w, i int)) {
	workers = max(1, min(workers, n))
	if workers == 1 {
		for i := 0; i < n; i++ {
			fn(0, i)
		}
		return
	}
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n; i += workers {
				fn(w, i)
			}
		}()
	}
	wg.Wait()
}
