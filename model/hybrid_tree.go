package model

import (
	"context"
	"math"
	"slices"
)

// regTree is a regression tree over standardised features: node n is a leaf when feat[n]
// is -1, else rows with x[feat[n]] <= thr[n] go to left[n] and the rest to right[n].
type regTree struct {
	feat        []int32
	thr         []float32
	left, right []int32
	value       []float32
}

func (t *regTree) eval(x []float32) float32 {
	n := int32(0)
	for t.feat[n] >= 0 {
		if x[t.feat[n]] <= t.thr[n] {
			n = t.left[n]
		} else {
			n = t.right[n]
		}
	}
	return t.value[n]
}

// treeNode is a node of the serving layout of a ranker's trees (hybridRanker.flatten): every
// tree's nodes in one array, each node in 16 bytes, so a candidate's walk through 150 trees
// reads one small contiguous table instead of five slices per tree. An inner node sends
// rows with x[feat] <= thr to kids[0] and the rest (NaN included) to kids[1], as
// regTree.eval does. A leaf holds its value in thr and points both kids at itself (feat 0,
// any feature will do): a walk that reaches it early stays there, so every row takes the
// same number of steps through a tree, its depth, with no test for leaves.
type treeNode struct {
	feat int32
	thr  float32
	kids [2]int32
}

// flatten lays r's trees out as nodes, roots and depths for evalForest.
func (r *hybridRanker) flatten() {
	r.nodes, r.roots, r.depth = r.nodes[:0], r.roots[:0], r.depth[:0]
	for _, t := range r.trees {
		base := int32(len(r.nodes))
		r.roots = append(r.roots, base)
		r.depth = append(r.depth, int32(t.depth(0)))
		for n, f := range t.feat {
			self := base + int32(n)
			if f < 0 {
				r.nodes = append(r.nodes, treeNode{thr: t.value[n], kids: [2]int32{self, self}})
				continue
			}
			r.nodes = append(r.nodes, treeNode{feat: f, thr: t.thr[n], kids: [2]int32{base + t.left[n], base + t.right[n]}})
		}
	}
}

// depth returns the number of inner nodes on the longest path from node n to a leaf.
func (t *regTree) depth(n int32) int {
	if t.feat[n] < 0 {
		return 0
	}
	return 1 + max(t.depth(t.left[n]), t.depth(t.right[n]))
}

// forestBlock is the number of rows evalForest walks through a tree side by side.
const forestBlock = 8

// evalForest adds to s[k], for every row k of z (rows of nz features, len(s) rows), the
// leaf value the row reaches in each tree, in tree order: the same float32 as adding
// regTree.eval to s[k] tree by tree.
//
// Rows go through the trees in blocks of forestBlock, each tree a level at a time for the
// whole block. A step's branch is a conditional move, not a jump (a feature against a
// threshold is a coin toss to the branch predictor, and each miss cost a pipeline flush),
// and the block's walks are independent, so their loads overlap where one row's walk
// would wait on each load in turn.
func evalForest(nodes []treeNode, roots, depth []int32, z []float32, nz int, s []float32) {
	for lo := 0; lo < len(s); lo += forestBlock {
		n := min(forestBlock, len(s)-lo)
		var sb [forestBlock]float32
		var offs [forestBlock]int32 // rows past n walk row 0 again, and are dropped
		copy(sb[:], s[lo:lo+n])
		for r := 1; r < n; r++ {
			offs[r] = int32(r * nz)
		}
		evalBlock(nodes, roots, depth, z[lo*nz:(lo+n)*nz], &offs, &sb)
		copy(s[lo:lo+n], sb[:n])
	}
}

// evalBlock is evalForest for one block: the rows of zb starting at offs.
func evalBlock(nodes []treeNode, roots, depth []int32, zb []float32, offs *[forestBlock]int32, sb *[forestBlock]float32) {
	for t, root := range roots {
		var cur [forestBlock]int32
		for r := range cur {
			cur[r] = root
		}
		for range depth[t] {
			for r := range cur {
				nd := &nodes[cur[r]]
				c := 1
				if zb[int(offs[r])+int(nd.feat)] <= nd.thr {
					c = 0
				}
				cur[r] = nd.kids[c]
			}
		}
		for r := range cur {
			sb[r] += nodes[cur[r]].thr
		}
	}
}

// treeConfig holds LambdaMART's settings (see HybridConfig).
type treeConfig struct {
	trees, depth, minLeaf, trunc, patience, k, workers int
	rate, l2                                           float32
}

// binned holds every feature quantised into at most 64 bins: row r of feature f falls in
// bin b, the first with x <= upper[f][b] (the last bin is unbounded).
type binned struct {
	bins  [][]uint8
	upper [][]float32
}

const maxBins = 64

func binFeatures(rd *rankData) *binned {
	nf, n := rd.nf, len(rd.rel)
	b := &binned{bins: make([][]uint8, nf), upper: make([][]float32, nf)}
	stride := max(1, n/50_000)
	vals := make([]float32, 0, n/stride+1)
	for f := 0; f < nf; f++ {
		vals = vals[:0]
		for r := 0; r < n; r += stride {
			vals = append(vals, rd.x[r*nf+f])
		}
		slices.Sort(vals)
		var up []float32
		for q := 1; q < maxBins && len(vals) > 0; q++ {
			v := vals[min(len(vals)-1, q*len(vals)/maxBins)]
			if len(up) == 0 || v > up[len(up)-1] {
				up = append(up, v)
			}
		}
		if len(up) > 0 && up[len(up)-1] >= vals[len(vals)-1] {
			up = up[:len(up)-1] // the last bin is unbounded anyway
		}
		up = append(up, float32(math.Inf(1)))
		b.upper[f] = up
		col := make([]uint8, n)
		for r := 0; r < n; r++ {
			x := rd.x[r*nf+f]
			k, _ := slices.BinarySearch(up, x) // first upper >= x
			col[r] = uint8(min(k, len(up)-1))
		}
		b.bins[f] = col
	}
	return b
}

// lambdas writes the LambdaRank gradients (g, pushing a row up when positive) and their
// second derivatives (h) of the rows of part's queries under scores s: every pair of a
// relevant and an irrelevant row, one of them in the top trunc, pulls by the change of
// NDCG a swap would make times the logistic probability that it is misordered.
func (rd *rankData) lambdas(s []float32, part, trunc, workers int, g, h []float32) {
	clear(g)
	clear(h)
	parallelFor(rd.numQueries(), workers, func(q int) {
		if !rd.inPart(q, part) {
			return
		}
		lo, hi := int(rd.qptr[q]), int(rd.qptr[q+1])
		order := make([]int32, hi-lo)
		for r := range order {
			order[r] = int32(lo + r)
		}
		slices.SortFunc(order, func(a, b int32) int {
			if rowBetter(s, a, b) {
				return -1
			}
			if rowBetter(s, b, a) {
				return 1
			}
			return 0
		})
		inv := 1 / rd.idcg[q]
		for a := 0; a < min(trunc, len(order)); a++ {
			ra := order[a]
			da := 1 / math.Log2(float64(a)+2)
			for b := a + 1; b < len(order); b++ {
				rb := order[b]
				if rd.rel[ra] == rd.rel[rb] {
					continue
				}
				delta := (da - 1/math.Log2(float64(b)+2)) * inv
				up, down := ra, rb
				if rd.rel[rb] {
					up, down = rb, ra
				}
				rho := 1 / (1 + math.Exp(float64(s[up]-s[down])))
				gv, hv := float32(delta*rho), float32(delta*rho*(1-rho))
				g[up] += gv
				g[down] -= gv
				h[up] += hv
				h[down] += hv
			}
		}
	})
}

// rows returns the rows of part's queries.
func (rd *rankData) rows(part int) []int32 {
	var out []int32
	for q := 0; q < rd.numQueries(); q++ {
		if rd.inPart(q, part) {
			for r := rd.qptr[q]; r < rd.qptr[q+1]; r++ {
				out = append(out, r)
			}
		}
	}
	return out
}

// boost fits up to c.trees LambdaMART trees on part fit, starting from scores s (which it
// updates). With stop >= 0 it keeps the trees up to the best NDCG@k on part stop, giving up
// after c.patience trees without a gain. It returns the trees, the gain of each feature
// and the best NDCG on stop (on fit when stop < 0).
func (rd *rankData) boost(ctx context.Context, bn *binned, s []float32, fit, stop int, c treeConfig) ([]regTree, []float64, float64, error) {
	n := len(rd.rel)
	g, h := make([]float32, n), make([]float32, n)
	rows := rd.rows(fit)
	gain := make([]float64, rd.nf)
	evalPart := stop
	if stop < 0 {
		evalPart = fit
	}
	best := rd.ndcg(s, evalPart, c.k, c.workers)
	var trees []regTree
	bestLen := 0
	for t := 0; t < c.trees; t++ {
		if err := ctx.Err(); err != nil {
			return nil, nil, 0, err
		}
		rd.lambdas(s, fit, c.trunc, c.workers, g, h)
		tree := buildTree(bn, rows, g, h, c, gain)
		for r := 0; r < n; r++ {
			s[r] += tree.eval(rd.x[r*rd.nf : (r+1)*rd.nf])
		}
		trees = append(trees, tree)
		if stop < 0 {
			bestLen = len(trees)
			continue
		}
		if v := rd.ndcg(s, stop, c.k, c.workers); v > best+1e-9 {
			best, bestLen = v, len(trees)
		} else if len(trees)-bestLen >= c.patience {
			break
		}
	}
	if stop < 0 {
		best = rd.ndcg(s, fit, c.k, c.workers)
	}
	return trees[:bestLen], gain, best, nil
}

// buildTree grows one tree depth-first to c.depth on the gradients of rows, adding each
// split's gain to gain. Leaves take the Newton step rate·Σg/(Σh+l2).
func buildTree(bn *binned, rows []int32, g, h []float32, c treeConfig, gain []float64) regTree {
	var t regTree
	var grow func(rows []int32, depth int) int32
	grow = func(rows []int32, depth int) int32 {
		id := int32(len(t.feat))
		t.feat = append(t.feat, -1)
		t.thr = append(t.thr, 0)
		t.left = append(t.left, -1)
		t.right = append(t.right, -1)
		t.value = append(t.value, 0)
		var gs, hs float64
		for _, r := range rows {
			gs += float64(g[r])
			hs += float64(h[r])
		}
		t.value[id] = c.rate * float32(gs/(hs+float64(c.l2)))
		if depth >= c.depth || len(rows) < 2*c.minLeaf {
			return id
		}
		f, bin, gv := bestSplit(bn, rows, g, h, gs, hs, c)
		if f < 0 {
			return id
		}
		gain[f] += gv
		var left, right []int32
		col := bn.bins[f]
		for _, r := range rows {
			if int(col[r]) <= bin {
				left = append(left, r)
			} else {
				right = append(right, r)
			}
		}
		t.feat[id], t.thr[id] = int32(f), bn.upper[f][bin]
		l := grow(left, depth+1)
		rt := grow(right, depth+1)
		t.left[id], t.right[id] = l, rt
		return id
	}
	grow(rows, 0)
	return t
}

// bestSplit returns the feature and bin of the best split of rows (-1 if none gains), and
// its gain: GL²/(HL+l2) + GR²/(HR+l2) − G²/(H+l2). Ties go to the lower feature and bin.
func bestSplit(bn *binned, rows []int32, g, h []float32, gs, hs float64, c treeConfig) (int, int, float64) {
	nf := len(bn.bins)
	type split struct {
		bin  int
		gain float64
	}
	found := make([]split, nf)
	l2 := float64(c.l2)
	parent := gs * gs / (hs + l2)
	parallelFor(nf, c.workers, func(f int) {
		var hg, hh [maxBins]float64
		var hc [maxBins]int
		col := bn.bins[f]
		for _, r := range rows {
			b := col[r]
			hg[b] += float64(g[r])
			hh[b] += float64(h[r])
			hc[b]++
		}
		best := split{-1, 0}
		var gl, hl float64
		cl := 0
		for b := 0; b < len(bn.upper[f])-1; b++ {
			gl, hl, cl = gl+hg[b], hl+hh[b], cl+hc[b]
			cr := len(rows) - cl
			if cl < c.minLeaf || cr < c.minLeaf {
				continue
			}
			gr, hr := gs-gl, hs-hl
			v := gl*gl/(hl+l2) + gr*gr/(hr+l2) - parent
			if v > best.gain+1e-12 {
				best = split{b, v}
			}
		}
		found[f] = best
	})
	bf, bb, bg := -1, -1, 0.0
	for f, s := range found {
		if s.bin >= 0 && s.gain > bg+1e-12 {
			bf, bb, bg = f, s.bin, s.gain
		}
	}
	return bf, bb, bg
}
