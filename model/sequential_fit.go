package model

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"runtime"
	"slices"
	"sync"
)

// Fit counts transitions and co-occurrences in d's sequences and solves the item–item
// regressions, sharding items over Workers goroutines and checking ctx as it goes. On
// error m is left as it was.
func (m *Sequential) Fit(ctx context.Context, d *Dataset) error {
	c := m.Config
	if c.Workers <= 0 {
		c.Workers = runtime.GOMAXPROCS(0)
	}
	if err := c.validate(); err != nil {
		return err
	}
	n := d.NumItems()
	seqs := seqHistories(d)
	if len(seqs.idx) > math.MaxInt32 {
		return fmt.Errorf("seq: %d interactions, at most %d", len(seqs.idx), math.MaxInt32)
	}
	occ := seqTranspose(&seqs, n)
	trans, err := seqTransitions(ctx, c, &seqs, &occ)
	if err != nil {
		return err
	}
	counts := make([]float32, n)
	for i := 0; i < n; i++ {
		counts[i] = float32(occ.ptr[i+1] - occ.ptr[i])
	}
	var sim seqCSR
	var lambda float32
	if c.Similarity > 0 {
		if sim, lambda, err = seqSimilarity(ctx, c, &seqs, n); err != nil {
			return err
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	scale := make([]float32, n)
	pop := make([]float32, n)
	top := float32(0)
	for i, k := range counts {
		scale[i] = 1 / (k + 1)
		top = max(top, k)
	}
	for i, k := range counts {
		if top > 0 {
			pop[i] = k / top
		}
	}
	var two seqCSR
	if c.TwoStep > 0 {
		if two, err = seqTwoSteps(ctx, c, &trans, scale); err != nil {
			return err
		}
	}
	m.n, m.trans, m.two, m.scale, m.sim, m.pop, m.lambda = n, trans, two, scale, sim, pop, lambda
	m.users = seqLatest(&seqs, max(c.History, c.SimilarityHistory))
	m.pool = sync.Pool{}
	return nil
}

func (c SequentialConfig) validate() error {
	switch {
	case c.Window < 1:
		return fmt.Errorf("seq: window must be at least 1, got %d", c.Window)
	case c.History < 1:
		return fmt.Errorf("seq: history must be at least 1, got %d", c.History)
	case c.Similarity > 0 && (c.Neighbours < 1 || c.SimilarityHistory < 1):
		return fmt.Errorf("seq: neighbours and similarity history must be at least 1, got %d and %d", c.Neighbours, c.SimilarityHistory)
	case c.Similarity > 0 && !(c.Lambda > 0):
		return fmt.Errorf("seq: lambda must be positive, got %g", c.Lambda)
	case c.GapDecay < 0 || c.HistoryDecay < 0 || c.SimilarityDecay < 0:
		return errors.New("seq: decays must not be negative")
	case c.TwoStep < 0 || c.Similarity < 0 || c.Repeat < 0 || c.Popularity < 0:
		return errors.New("seq: weights must not be negative")
	}
	return nil
}

// seqHistories returns every user's positive interactions in time order, a repeat of the
// previous step dropped.
func seqHistories(d *Dataset) seqCSR {
	nu := d.NumUsers()
	h := seqCSR{ptr: make([]int32, nu+1)}
	for u := 0; u < nu; u++ {
		items, weights, _ := d.Sequence(int32(u))
		start := len(h.idx)
		for q, i := range items {
			if weights[q] <= 0 || len(h.idx) > start && h.idx[len(h.idx)-1] == i {
				continue
			}
			h.idx = append(h.idx, i)
		}
		h.ptr[u+1] = int32(len(h.idx))
	}
	return h
}

// seqTranspose returns, for every item, the positions (as indexes into h.idx) where it
// occurs, in increasing order.
func seqTranspose(h *seqCSR, n int) seqCSR {
	t := seqCSR{ptr: make([]int32, n+1), idx: make([]int32, len(h.idx))}
	for _, i := range h.idx {
		t.ptr[i+1]++
	}
	for i := 0; i < n; i++ {
		t.ptr[i+1] += t.ptr[i]
	}
	next := slices.Clone(t.ptr[:n])
	for q, i := range h.idx {
		t.idx[next[i]] = int32(q)
		next[i]++
	}
	return t
}

// seqLatest keeps each user's latest k steps.
func seqLatest(h *seqCSR, k int) seqCSR {
	out := seqCSR{ptr: make([]int32, len(h.ptr))}
	for u := 0; u+1 < len(h.ptr); u++ {
		lo, hi := h.ptr[u], h.ptr[u+1]
		out.idx = append(out.idx, h.idx[max(lo, hi-int32(k)):hi]...)
		out.ptr[u+1] = int32(len(out.idx))
	}
	return out
}

// seqParallel calls fn(w, i) for every i in [0, n), worker w taking i = w, w+workers, …,
// and checks ctx every 256 items. Each i's result must depend only on i, so the outcome
// is the same for any number of workers.
func seqParallel(ctx context.Context, workers, n int, fn func(w, i int)) error {
	var wg sync.WaitGroup
	errs := make([]error, workers)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i, k := w, 0; i < n; i, k = i+workers, k+1 {
				if k%256 == 0 {
					if err := ctx.Err(); err != nil {
						errs[w] = err
						return
					}
				}
				fn(w, i)
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// seqRows assembles per-item rows into one CSR matrix.
func seqRows(idx [][]int32, val [][]float32) seqCSR {
	out := seqCSR{ptr: make([]int32, len(idx)+1)}
	total := 0
	for _, r := range idx {
		total += len(r)
	}
	out.idx = make([]int32, 0, total)
	out.val = make([]float32, 0, total)
	for i := range idx {
		out.idx = append(out.idx, idx[i]...)
		out.val = append(out.val, val[i]...)
		out.ptr[i+1] = int32(len(out.idx))
	}
	return out
}

// seqTopRow keeps the k largest entries of a sparse row (ties to the lower index; all when
// k is 0) and returns them sorted by index, reading and clearing acc.
func seqTopRow(touched []int32, acc []float32, k int) ([]int32, []float32) {
	if k > 0 && len(touched) > k {
		slices.SortFunc(touched, func(a, b int32) int {
			if c := cmp.Compare(acc[b], acc[a]); c != 0 {
				return c
			}
			return cmp.Compare(a, b)
		})
		for _, j := range touched[k:] {
			acc[j] = 0
		}
		touched = touched[:k]
	}
	slices.Sort(touched)
	idx := slices.Clone(touched)
	val := make([]float32, len(idx))
	for q, j := range idx {
		val[q] = acc[j]
		acc[j] = 0
	}
	return idx, val
}

// seqTransitions counts, for every item i, how often each item j follows it within Window
// steps, a gap of g steps counting GapDecay^(g−1).
func seqTransitions(ctx context.Context, c SequentialConfig, h, occ *seqCSR) (seqCSR, error) {
	n := len(occ.ptr) - 1
	owner := make([]int32, len(h.idx)) // the user of each position
	for u := 0; u+1 < len(h.ptr); u++ {
		for q := h.ptr[u]; q < h.ptr[u+1]; q++ {
			owner[q] = int32(u)
		}
	}
	gap := make([]float32, c.Window+1)
	for g := 1; g <= c.Window; g++ {
		gap[g] = float32(math.Pow(float64(c.GapDecay), float64(g-1)))
	}
	return seqBuildRows(ctx, c.Workers, n, c.MaxTransitions, func(i int, acc []float32, t []int32) []int32 {
		for _, p := range occ.idx[occ.ptr[i]:occ.ptr[i+1]] {
			end := h.ptr[owner[p]+1]
			for q := p + 1; q < end && int(q-p) <= c.Window; q++ {
				j := h.idx[q]
				if j == int32(i) || gap[q-p] == 0 {
					continue
				}
				if acc[j] == 0 {
					t = append(t, j)
				}
				acc[j] += gap[q-p]
			}
		}
		return t
	})
}

// seqBuildRows builds one sparse row per item [0, n) over workers goroutines: fill(i, acc,
// t) adds row i into acc (a worker's dense accumulator, all zero on entry), appending each
// index it makes non-zero to t, and returns t; the row keeps its strongest keep entries
// (all when keep is 0), and acc is cleared for the next.
func seqBuildRows(ctx context.Context, workers, n, keep int, fill func(i int, acc []float32, t []int32) []int32) (seqCSR, error) {
	rowIdx := make([][]int32, n)
	rowVal := make([][]float32, n)
	accs := make([][]float32, workers)
	touched := make([][]int32, workers)
	err := seqParallel(ctx, workers, n, func(w, i int) {
		if accs[w] == nil {
			accs[w] = make([]float32, n)
		}
		t := fill(i, accs[w], touched[w][:0])
		rowIdx[i], rowVal[i] = seqTopRow(t, accs[w], keep)
		touched[w] = t
	})
	if err != nil {
		return seqCSR{}, err
	}
	return seqRows(rowIdx, rowVal), nil
}

// seqTwoStepRow is how many entries each item's two-step row keeps when MaxTransitions
// keeps all.
const seqTwoStepRow = 200

// seqTwoSteps returns every item's two-step row: for item i,
// scale[i] × Σ_j trans[i,j] × scale[j] × trans[j,·], each step's transition counts turned
// into probabilities, keeping the strongest MaxTransitions entries (seqTwoStepRow when it
// keeps all). A history's two-step score is then the decayed sum of its items' rows, a
// few hundred additions an item where expanding the transitions at serving time took tens
// of thousands.
func seqTwoSteps(ctx context.Context, c SequentialConfig, trans *seqCSR, scale []float32) (seqCSR, error) {
	n := len(scale)
	keep := c.MaxTransitions
	if keep <= 0 {
		keep = seqTwoStepRow
	}
	return seqBuildRows(ctx, c.Workers, n, keep, func(i int, acc []float32, t []int32) []int32 {
		idx, val := trans.row(int32(i))
		for k, j := range idx {
			f := scale[i] * val[k] * scale[j]
			sidx, sval := trans.row(j)
			for q, l := range sidx {
				if acc[l] == 0 {
					t = append(t, l)
				}
				acc[l] += f * sval[q]
				if acc[l] == 0 {
					acc[l] = math.SmallestNonzeroFloat32
				}
			}
		}
		return t
	})
}
