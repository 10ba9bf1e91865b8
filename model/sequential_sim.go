package model

import (
	"cmp"
	"context"
	"math"
	"slices"
)

// seqSimilarity fits the item–item model. X is the binary users × items matrix of each
// user's latest MaxUserItems distinct items and G = XᵀX. For every item j, the weights b
// over its Neighbours most co-occurring items N minimise ‖X_j − X_N·b‖² + λ‖b‖², that is
// (G_NN + λI)·b = G_Nj: EASE (whose zero diagonal is j ∉ N) restricted to a neighbourhood,
// which costs Neighbours³ per item instead of a dense inverse of the whole catalogue. It
// returns the weights by source row (row i: what item i adds to each item) and λ.
func seqSimilarity(ctx context.Context, c SequentialConfig, h *seqCSR, n int) (seqCSR, float32, error) {
	x := seqDistinctLatest(h, n, c.MaxUserItems)
	xt := seqColumns(&x, n)
	g, err := seqGram(ctx, c.Workers, &x, &xt)
	if err != nil {
		return seqCSR{}, 0, err
	}
	var mass float64
	for i := 0; i < n; i++ {
		mass += float64(xt.ptr[i+1] - xt.ptr[i])
	}
	lambda := c.Lambda * float32(max(mass/float64(max(n, 1)), 1))

	colIdx := make([][]int32, n)
	colVal := make([][]float32, n)
	type worker struct {
		pos  []int32
		cand []int32
		a, b []float64
	}
	ws := make([]worker, c.Workers)
	err = seqParallel(ctx, c.Workers, n, func(w, j int) {
		wk := &ws[w]
		if wk.pos == nil {
			wk.pos = make([]int32, n)
			for k := range wk.pos {
				wk.pos[k] = -1
			}
		}
		colIdx[j], colVal[j] = seqSolveItem(&g, int32(j), c.Neighbours, float64(lambda), wk.pos, &wk.cand, &wk.a, &wk.b)
	})
	if err != nil {
		return seqCSR{}, 0, err
	}
	return seqTransposeRows(colIdx, colVal, n), lambda, nil
}

// seqSolveItem solves item j's regression over its k most co-occurring items and returns
// them (by index) with their weights. pos must be all −1; it is left so.
func seqSolveItem(g *seqCSR, j int32, k int, lambda float64, pos []int32, candBuf *[]int32, aBuf, bBuf *[]float64) ([]int32, []float32) {
	gi, gv := g.row(j)
	cand := (*candBuf)[:0] // positions in j's row, so G_ij is gv[q]
	for q, i := range gi {
		if i != j {
			cand = append(cand, int32(q))
		}
	}
	if len(cand) == 0 {
		return nil, nil
	}
	if len(cand) > k {
		slices.SortFunc(cand, func(a, b int32) int {
			if c := cmp.Compare(gv[b], gv[a]); c != 0 {
				return c
			}
			return cmp.Compare(a, b) // rows are sorted by item, so this is by item too
		})
		cand = cand[:k]
		slices.Sort(cand)
	}
	*candBuf = cand
	m := len(cand)
	if cap(*aBuf) < m*m {
		*aBuf = make([]float64, m*m)
	}
	if cap(*bBuf) < m {
		*bBuf = make([]float64, m)
	}
	a, b := (*aBuf)[:m*m], (*bBuf)[:m]
	clear(a)
	for x, q := range cand {
		pos[gi[q]] = int32(x)
	}
	for x, q := range cand {
		ri, rv := g.row(gi[q])
		for t, i := range ri {
			if y := pos[i]; y >= 0 {
				a[x*m+int(y)] = float64(rv[t])
			}
		}
		a[x*m+x] += lambda
		b[x] = float64(gv[q])
	}
	seqCholeskySolve(a, b, m)
	idx := make([]int32, m)
	val := make([]float32, m)
	for x, q := range cand {
		idx[x], val[x] = gi[q], float32(b[x])
		pos[gi[q]] = -1
	}
	return idx, val
}

// seqCholeskySolve solves a·x = b for a symmetric positive definite m×m matrix (row-major),
// overwriting a with its Cholesky factor and b with x.
func seqCholeskySolve(a, b []float64, m int) {
	for j := 0; j < m; j++ {
		rj := a[j*m : j*m+m]
		s := rj[j]
		for _, v := range rj[:j] {
			s -= v * v
		}
		d := math.Sqrt(max(s, 1e-12))
		rj[j] = d
		for i := j + 1; i < m; i++ {
			ri := a[i*m : i*m+m]
			s := ri[j]
			for k, v := range rj[:j] {
				s -= ri[k] * v
			}
			ri[j] = s / d
		}
	}
	for i := 0; i < m; i++ {
		ri := a[i*m : i*m+m]
		s := b[i]
		for k, v := range ri[:i] {
			s -= v * b[k]
		}
		b[i] = s / ri[i]
	}
	for i := m - 1; i >= 0; i-- {
		s := b[i]
		for k := i + 1; k < m; k++ {
			s -= a[k*m+i] * b[k]
		}
		b[i] = s / a[i*m+i]
	}
}

// seqDistinctLatest returns each user's latest k distinct items (all when k is 0), sorted
// by item.
func seqDistinctLatest(h *seqCSR, n, k int) seqCSR {
	x := seqCSR{ptr: make([]int32, len(h.ptr))}
	seen := make([]bool, n)
	for u := 0; u+1 < len(h.ptr); u++ {
		start := len(x.idx)
		for q := h.ptr[u+1] - 1; q >= h.ptr[u]; q-- {
			if i := h.idx[q]; !seen[i] && (k <= 0 || len(x.idx)-start < k) {
				seen[i] = true
				x.idx = append(x.idx, i)
			}
		}
		row := x.idx[start:]
		for _, i := range row {
			seen[i] = false
		}
		slices.Sort(row)
		x.ptr[u+1] = int32(len(x.idx))
	}
	return x
}

// seqColumns returns the users of every item, in increasing order.
func seqColumns(x *seqCSR, n int) seqCSR {
	t := seqCSR{ptr: make([]int32, n+1), idx: make([]int32, len(x.idx))}
	for _, i := range x.idx {
		t.ptr[i+1]++
	}
	for i := 0; i < n; i++ {
		t.ptr[i+1] += t.ptr[i]
	}
	next := slices.Clone(t.ptr[:n])
	for u := 0; u+1 < len(x.ptr); u++ {
		for _, i := range x.idx[x.ptr[u]:x.ptr[u+1]] {
			t.idx[next[i]] = int32(u)
			next[i]++
		}
	}
	return t
}

// seqGram returns G = XᵀX in rows sorted by item, the diagonal included.
func seqGram(ctx context.Context, workers int, x, xt *seqCSR) (seqCSR, error) {
	return seqBuildRows(ctx, workers, len(xt.ptr)-1, 0, func(i int, acc []float32, t []int32) []int32 {
		for _, u := range xt.idx[xt.ptr[i]:xt.ptr[i+1]] {
			for _, j := range x.idx[x.ptr[u]:x.ptr[u+1]] {
				if acc[j] == 0 {
					t = append(t, j)
				}
				acc[j]++
			}
		}
		return t
	})
}

// seqTransposeRows turns per-target columns (the sources of each item and their weights)
// into rows by source, each sorted by target.
func seqTransposeRows(colIdx [][]int32, colVal [][]float32, n int) seqCSR {
	out := seqCSR{ptr: make([]int32, n+1)}
	for _, col := range colIdx {
		for _, i := range col {
			out.ptr[i+1]++
		}
	}
	for i := 0; i < n; i++ {
		out.ptr[i+1] += out.ptr[i]
	}
	out.idx = make([]int32, out.ptr[n])
	out.val = make([]float32, out.ptr[n])
	next := slices.Clone(out.ptr[:n])
	for j, col := range colIdx {
		for q, i := range col {
			out.idx[next[i]] = int32(j)
			out.val[next[i]] = colVal[j][q]
			next[i]++
		}
	}
	return out
}
