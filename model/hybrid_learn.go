package model

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"
)

// collectRankData gathers the candidates and features of every sampled validation user
// from the bases fitted on h's (reduced) dataset. Users none of whose held-out items are
// among their candidates add no rows but are counted.
func collectRankData(ctx context.Context, h *hybridData, bases []Model, valid [][]int32, qs []query, p candParams, c HybridConfig) (*rankData, error) {
	nb := len(bases)
	nf := perBaseFeatures*nb + itemFeatures
	type out struct {
		x   []float32
		rel []bool
	}
	outs := make([]out, len(qs))
	scratch := make([]*candScratch, c.Workers)
	parallelForW(len(qs), c.Workers, func(w, k int) {
		if ctx.Err() != nil {
			return
		}
		if scratch[w] == nil {
			scratch[w] = newCandScratch(nb, h.ni)
		}
		s := scratch[w]
		u := qs[k].user
		h.candidates(u, bases, p, s)
		rel := make([]bool, len(s.cands))
		hit := false
		for _, i := range valid[u] {
			if s.inCand[i] == s.stamp {
				rel[s.pos[i]], hit = true, true
			}
		}
		if hit {
			outs[k] = out{slices.Clone(s.x), rel}
		}
	})
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	rd := &rankData{nf: nf, qptr: []int32{0}}
	for k, q := range qs {
		part := partLearn
		if q.hold {
			part = partHold
		}
		rd.users[part]++
		rd.users[partAll]++
		if outs[k].rel == nil {
			continue
		}
		rd.x = append(rd.x, outs[k].x...)
		rd.rel = append(rd.rel, outs[k].rel...)
		rd.qptr = append(rd.qptr, int32(len(rd.rel)))
		rd.idcg = append(rd.idcg, idealDCG(len(valid[q.user]), c.K))
		rd.hold = append(rd.hold, q.hold)
		outs[k] = out{}
	}
	return rd, nil
}

// The kinds of ranker: popularity alone, one base alone, the linear blend, and the blend
// with trees.
const (
	rankPop = iota
	rankBase
	rankLinear
	rankTrees
)

var rankKindNames = [...]string{"popularity", "base", "linear", "lambdamart"}

// hybridRanker is what Hybrid learns. Scores are scale·w·z + Σ trees(z), z the features
// standardised by mean and std; for rankPop and rankBase the popularity or the base's
// own scores are served unchanged.
type hybridRanker struct {
	kind      int
	base      string // for rankBase
	names     []string
	mean, std []float32
	w         []float32
	scale     float32
	trees     []regTree
	gain      []float64

	remap []int32 // ranker feature → index in the bound feature layout
	baseI int

	// The trees laid out for serving (flatten): tree t starts at nodes[roots[t]], and
	// every walk through it takes depth[t] steps.
	nodes []treeNode
	roots []int32
	depth []int32
}

// bind maps the ranker's features onto the layout of the given bases.
func (r *hybridRanker) bind(bases []string) error {
	layout := hybridFeatureNames(bases)
	remap := make([]int32, len(r.names))
	for f, name := range r.names {
		k := slices.Index(layout, name)
		if k < 0 {
			return fmt.Errorf("model: hybrid: feature %q has no source among bases %v", name, bases)
		}
		remap[f] = int32(k)
	}
	baseI := -1
	if r.kind == rankBase {
		if baseI = slices.Index(bases, r.base); baseI < 0 {
			return fmt.Errorf("model: hybrid: chosen base %q not among bases %v", r.base, bases)
		}
	}
	r.remap, r.baseI = remap, baseI
	r.flatten()
	return nil
}

// scoreCands writes to dst[i] the score of each candidate i in s.cands below len(dst), its
// features the rows of s.x (nf each).
func (r *hybridRanker) scoreCands(s *candScratch, nf int, dst []float32) {
	n := len(s.cands)
	s.rowScore = slices.Grow(s.rowScore[:0], n)[:n]
	s.z = slices.Grow(s.z[:0], n*len(r.names))[:n*len(r.names)]
	r.scoreRows(s.x, nf, s.rowScore, s.z)
	for k, i := range s.cands {
		if int(i) < len(dst) {
			dst[i] = s.rowScore[k]
		}
	}
}

// scoreRows writes to dst[k] the ranker's score of row k of x (rows of nf features of the
// bound layout, len(dst) rows). z is scratch of len(dst)*len(r.names): each row
// standardised, which the trees then read.
func (r *hybridRanker) scoreRows(x []float32, nf int, dst, z []float32) {
	nz := len(r.names)
	for k := range dst {
		xr, zr := x[k*nf:(k+1)*nf], z[k*nz:(k+1)*nz]
		var s float32
		for f := range r.names {
			zr[f] = (xr[r.remap[f]] - r.mean[f]) / r.std[f]
			s += r.w[f] * zr[f]
		}
		dst[k] = s * r.scale
	}
	if len(r.roots) != len(r.trees) { // not flattened: walk the trees as learned
		for k := range dst {
			for t := range r.trees {
				dst[k] += r.trees[t].eval(z[k*nz : (k+1)*nz])
			}
		}
		return
	}
	evalForest(r.nodes, r.roots, r.depth, z, nz, dst)
}

type solution struct {
	HybridSolution
	kind  int
	base  string
	w     []float32
	scale float32
	trees []regTree
	gain  []float64
}

// learnRanker considers popularity alone, each base alone, the linear blend and the boosted
// blend, trained on the learning users, and keeps the best on the holdout users, preferring
// the simpler on ties; the learned ones are then refitted on all validation users and kept
// only if they still beat popularity there.
func learnRanker(ctx context.Context, rd *rankData, bases []string, c HybridConfig) (*hybridRanker, HybridReport, error) {
	names := hybridFeatureNames(bases)
	rep := HybridReport{K: c.K, Users: rd.users[partAll], Chosen: "popularity"}
	r := &hybridRanker{kind: rankPop, names: names, mean: make([]float32, len(names)),
		std: make([]float32, len(names)), w: make([]float32, len(names)), scale: 1,
		gain: make([]float64, len(names))}
	for f := range r.std {
		r.std[f] = 1
	}
	if rd.numQueries() == 0 {
		rep.Solutions = []HybridSolution{{Name: "popularity"}}
		return r, rep, nil
	}
	r.mean, r.std = rd.standardise()
	fit, sel := partLearn, partHold
	if rd.users[partLearn] == 0 || rd.users[partHold] == 0 {
		fit, sel = partAll, partAll
	}
	sols, bn, err := rd.solutions(ctx, bases, fit, sel, c)
	if err != nil {
		return nil, rep, err
	}
	best := 0
	for k := range sols {
		if partValue(sols[k].HybridSolution, sel) > partValue(sols[best].HybridSolution, sel)+1e-9 {
			best = k
		}
	}
	chosen := sols[best]
	if fit != partAll && chosen.kind >= rankLinear {
		if chosen, err = rd.refitAll(ctx, bn, chosen, c); err != nil {
			return nil, rep, err
		}
		if chosen.All < sols[0].All { // never worse than popularity on validation
			chosen = sols[0]
		}
	}
	for _, s := range sols {
		rep.Solutions = append(rep.Solutions, s.HybridSolution)
	}
	rep.Chosen = rankKindNames[chosen.kind]
	if chosen.kind == rankBase {
		rep.Chosen = chosen.base
	}
	r.kind, r.base, r.w, r.scale, r.trees, r.gain = chosen.kind, chosen.base, chosen.w, chosen.scale, chosen.trees, chosen.gain
	if r.gain == nil {
		r.gain = make([]float64, len(names))
	}
	rep.Trees = len(r.trees)
	rep.Features = r.featureWeights()
	return r, rep, nil
}

// solutions returns popularity alone, each base alone, the linear blend fitted on part fit
// (by coordinate ascent from the best of those) and, with c.Trees, the boosted blend
// stopped early on part sel, each with its NDCG on every part; and the binned features.
func (rd *rankData) solutions(ctx context.Context, bases []string, fit, sel int, c HybridConfig) ([]solution, *binned, error) {
	eval := func(name string, s []float32) HybridSolution {
		return HybridSolution{Name: name, Learn: rd.ndcg(s, partLearn, c.K, c.Workers),
			Holdout: rd.ndcg(s, partHold, c.K, c.Workers), All: rd.ndcg(s, partAll, c.K, c.Workers)}
	}
	column := func(f int) []float32 {
		w := make([]float32, rd.nf)
		w[f] = 1
		return w
	}
	popF := perBaseFeatures * len(bases)
	sols := []solution{{HybridSolution: eval("popularity", rd.linearScores(column(popF))), kind: rankPop, w: column(popF)}}
	for b, name := range bases {
		w := column(perBaseFeatures * b)
		sols = append(sols, solution{HybridSolution: eval(name, rd.linearScores(w)), kind: rankBase, base: name, w: w})
	}
	init := sols[0]
	for _, s := range sols[1:] {
		if partValue(s.HybridSolution, fit) > partValue(init.HybridSolution, fit) {
			init = s
		}
	}
	w, _, err := rd.coordinateAscent(ctx, init.w, fit, c.K, c.Rounds, c.Workers)
	if err != nil {
		return nil, nil, err
	}
	sols = append(sols, solution{HybridSolution: eval("linear", rd.linearScores(w)), kind: rankLinear, w: w, scale: 1})
	if c.Trees <= 0 {
		return sols, nil, nil
	}
	bn := binFeatures(rd)
	sol, err := rd.boostedSolution(ctx, bn, w, fit, sel, c.Trees, c)
	if err != nil {
		return nil, nil, err
	}
	sol.HybridSolution = eval("lambdamart", sol.scores)
	return append(sols, sol.solution), bn, nil
}

func partValue(s HybridSolution, part int) float64 {
	switch part {
	case partLearn:
		return s.Learn
	case partHold:
		return s.Holdout
	}
	return s.All
}

func (r *hybridRanker) featureWeights() []FeatureWeight {
	total := 0.0
	for _, g := range r.gain {
		total += g
	}
	out := make([]FeatureWeight, len(r.names))
	for f, name := range r.names {
		out[f] = FeatureWeight{Name: name, Weight: r.w[f]}
		if total > 0 {
			out[f].Gain = r.gain[f] / total
		}
	}
	return out
}

type boosted struct {
	solution
	scores []float32
}

// boostedSolution boosts trees on fit, starting from the linear scores with weights w scaled
// to fit the pairwise loss best, stopping early on stop (when it differs from fit).
func (rd *rankData) boostedSolution(ctx context.Context, bn *binned, w []float32, fit, stop, trees int, c HybridConfig) (boosted, error) {
	tc := treeConfig{trees: trees, depth: c.Depth, minLeaf: c.MinLeaf, trunc: max(30, 3*c.K),
		patience: 20, k: c.K, workers: c.Workers, rate: c.Rate, l2: 1e-3}
	s := rd.linearScores(w)
	scale := rd.bestScale(s, fit, tc)
	for r := range s {
		s[r] *= scale
	}
	if stop == fit {
		stop = -1
	}
	ts, gain, _, err := rd.boost(ctx, bn, s, fit, stop, tc)
	if err != nil {
		return boosted{}, err
	}
	// Recompute the scores of the kept trees (boost ran past them looking for a gain).
	s = rd.linearScores(w)
	nf := rd.nf
	for r := range s {
		s[r] *= scale
		for t := range ts {
			s[r] += ts[t].eval(rd.x[r*nf : (r+1)*nf])
		}
	}
	return boosted{solution{kind: rankTrees, w: w, scale: scale, trees: ts, gain: gain}, s}, nil
}

// refitAll refits a learned solution on all validation users: coordinate ascent from its
// weights, then as many trees as it had.
func (rd *rankData) refitAll(ctx context.Context, bn *binned, sol solution, c HybridConfig) (solution, error) {
	w, _, err := rd.coordinateAscent(ctx, sol.w, partAll, c.K, c.Rounds, c.Workers)
	if err != nil {
		return sol, err
	}
	out := solution{HybridSolution: sol.HybridSolution, kind: sol.kind, w: w, scale: 1}
	s := rd.linearScores(w)
	if sol.kind == rankTrees && len(sol.trees) > 0 {
		b, err := rd.boostedSolution(ctx, bn, w, partAll, partAll, len(sol.trees), c)
		if err != nil {
			return sol, err
		}
		out, s = b.solution, b.scores
		out.HybridSolution = sol.HybridSolution
	}
	out.All = rd.ndcg(s, partAll, c.K, c.Workers)
	return out, nil
}

// bestScale returns the factor of the linear scores, among powers of two from 1/4 to 64,
// that minimises the NDCG-weighted pairwise logistic loss LambdaMART starts from.
func (rd *rankData) bestScale(s []float32, part int, c treeConfig) float32 {
	best, bestLoss := float32(1), math.Inf(1)
	for scale := float32(0.25); scale <= 64; scale *= 2 {
		loss := rd.pairLoss(s, scale, part, c.trunc)
		if loss < bestLoss-1e-12 {
			best, bestLoss = scale, loss
		}
	}
	return best
}

// pairLoss returns Σ ΔNDCG·log(1+exp(−scale·(s_rel − s_irrel))) over the pairs lambdas uses.
func (rd *rankData) pairLoss(s []float32, scale float32, part, trunc int) float64 {
	total := 0.0
	var order []int32
	for q := 0; q < rd.numQueries(); q++ {
		if !rd.inPart(q, part) {
			continue
		}
		lo, hi := int(rd.qptr[q]), int(rd.qptr[q+1])
		order = order[:0]
		for r := lo; r < hi; r++ {
			order = append(order, int32(r))
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
		for a := 0; a < min(trunc, len(order)); a++ {
			for b := a + 1; b < len(order); b++ {
				ra, rb := order[a], order[b]
				if rd.rel[ra] == rd.rel[rb] {
					continue
				}
				delta := (1/math.Log2(float64(a)+2) - 1/math.Log2(float64(b)+2)) / rd.idcg[q]
				diff := float64(s[ra] - s[rb])
				if rd.rel[rb] {
					diff = -diff
				}
				total += delta * math.Log1p(math.Exp(-float64(scale)*diff))
			}
		}
	}
	return total
}

// ScoreUser writes the hybrid's score of every item for user u of the bound dataset: the
// learned ranker's score for the user's candidates and −Inf for every other item, or
// popularity's or the chosen base's own scores when one of them alone was best.
func (m *Hybrid) ScoreUser(u int32, dst []float32) {
	r := m.ranker
	if r == nil || m.data == nil || m.data.d == nil || u < 0 || int(u) >= m.data.d.NumUsers() || r.kind == rankPop {
		for j := range dst {
			dst[j] = 0
			if m.data != nil && j < len(m.data.pop) {
				dst[j] = m.data.pop[j]
			}
		}
		return
	}
	if r.kind == rankBase {
		m.Bases[r.baseI].ScoreUser(u, dst)
		return
	}
	c := m.Config.withDefaults()
	s := m.pool.Get().(*candScratch)
	defer m.pool.Put(s)
	m.data.candidates(u, m.Bases, candParams{m: c.Candidates, repeat: m.repeat, halfLife: c.HistoryHalfLife}, s)
	for j := range dst {
		dst[j] = float32(math.Inf(-1))
	}
	nf := perBaseFeatures*len(m.Bases) + itemFeatures
	r.scoreCands(s, nf, dst)
}

// ScoreHistory scores every item for any history (oldest first, repeats allowed): a user
// the hybrid was not fit on, or one with events newer than the fit. Every base must be a
// HistoryScorer (all of this package's are); the bases score the history as given, and the
// ranker's features are computed from it as for a fitted user's row.
func (m *Hybrid) ScoreHistory(items []int32, weights []float32, times []int64, dst []float32) {
	m.scoreHistory(items, weights, times, nil, nil, dst)
}

// ScoreHistorySubset is ScoreHistory with the candidates restricted to subset (sorted,
// distinct item indexes): bases that are SubsetScorers score only the subset and the
// history, so a store's stock is ranked without scoring the catalogue. Items of subset
// that are not candidates get −Inf.
func (m *Hybrid) ScoreHistorySubset(items []int32, weights []float32, times []int64, subset []int32, dst []float32) {
	if subset == nil {
		subset = []int32{}
	}
	m.scoreHistory(items, weights, times, subset, nil, dst)
}

// hybridPrep is what the hybrid prepared for a subset: the subset's items the fit knows,
// and what each base that is a PreparedScorer prepared for them (nil for the others).
type hybridPrep struct {
	m     *Hybrid
	allow []int32
	pop   []int32 // allow in popularity order, as popOrder lists them
	bases []any
}

// PrepareSubset keeps the subset's items the fit knows, in index and in popularity order,
// and lets every base that is a PreparedScorer prepare them; nil for an unfitted hybrid.
func (m *Hybrid) PrepareSubset(subset []int32) (any, int) {
	if m.data == nil || m.ranker == nil {
		return nil, 0
	}
	p := &hybridPrep{m: m, bases: make([]any, len(m.Bases))}
	for _, i := range subset {
		if i >= 0 && int(i) < m.data.ni {
			p.allow = append(p.allow, i)
		}
	}
	// The candidates' popularity fill walks the catalogue by popularity for the subset's
	// items: at 800 of 100,000 items and 100 candidates, about 12,500 steps a request, each a
	// random read of a 400 KB table.
	p.pop = slices.Clone(p.allow)
	slices.SortStableFunc(p.pop, func(a, b int32) int { return cmp.Compare(m.data.pop[b], m.data.pop[a]) })
	size := 4*cap(p.allow) + 4*cap(p.pop)
	for b, base := range m.Bases {
		if ps, ok := base.(PreparedScorer); ok {
			var n int
			p.bases[b], n = ps.PrepareSubset(p.allow)
			size += n
		}
	}
	return p, size
}

// ScorePrepared is ScoreHistorySubset with the bases' prepared data. With extra items it
// scores subset ∪ extra as ScoreHistorySubset would, unprepared.
func (m *Hybrid) ScorePrepared(items []int32, weights []float32, times []int64, subset []int32, prep any, extra []int32, dst []float32) {
	p, ok := prep.(*hybridPrep)
	if !ok || p.m != m || len(extra) > 0 {
		all := append(slices.Clone(subset), extra...)
		slices.Sort(all)
		m.ScoreHistorySubset(items, weights, times, slices.Compact(all), dst)
		return
	}
	if subset == nil {
		subset = []int32{}
	}
	m.scoreHistory(items, weights, times, subset, p, dst)
}

func (m *Hybrid) scoreHistory(items []int32, weights []float32, times []int64, subset []int32, prep *hybridPrep, dst []float32) {
	r := m.ranker
	if r == nil || m.data == nil || r.kind == rankPop || len(items) == 0 {
		if subset == nil {
			m.ScoreUser(-1, dst) // popularity
			return
		}
		for _, i := range subset {
			if i >= 0 && int(i) < len(dst) {
				dst[i] = 0
				if m.data != nil && int(i) < len(m.data.pop) {
					dst[i] = m.data.pop[i]
				}
			}
		}
		return
	}
	scorers := make([]HistoryScorer, len(m.Bases))
	for b, base := range m.Bases {
		hs, ok := base.(HistoryScorer)
		if !ok {
			m.scoreHistory(nil, nil, nil, subset, nil, dst)
			return
		}
		scorers[b] = hs
	}
	if r.kind == rankBase {
		// The prepared subset holds only the fit's items; a subset with others takes the
		// unprepared path, which scores those too.
		if prep != nil && prep.bases[r.baseI] != nil && len(prep.allow) == len(subset) {
			scorers[r.baseI].(PreparedScorer).ScorePrepared(items, weights, times, prep.allow, prep.bases[r.baseI], nil, dst)
		} else if ss, ok := scorers[r.baseI].(SubsetScorer); ok && subset != nil {
			ss.ScoreHistorySubset(items, weights, times, subset, dst)
		} else {
			scorers[r.baseI].ScoreHistory(items, weights, times, dst)
		}
		return
	}
	c := m.Config.withDefaults()
	s := m.pool.Get().(*candScratch)
	defer m.pool.Put(s)
	ni := m.data.ni
	var hi []int32
	var hw []float32
	var ht []int64
	for k, i := range items { // items the fit never saw have no features
		if i >= 0 && int(i) < ni {
			hi, hw, ht = append(hi, i), append(hw, weights[k]), append(ht, times[k])
		}
	}
	mi, mw, mt := mergeHistory(hi, hw, ht)
	var allow, list, popAllow []int32
	if subset != nil {
		if prep != nil {
			allow, popAllow = prep.allow, prep.pop
		} else {
			s.allow = s.allow[:0]
			for _, i := range subset {
				if i >= 0 && int(i) < ni {
					s.allow = append(s.allow, i)
				}
			}
			allow = s.allow
		}
		s.list = append(append(s.list[:0], allow...), mi...) // the bases score the history too
		list = s.list
	}
	score := func(b int, sc []float32) {
		if prep != nil && prep.bases[b] != nil {
			scorers[b].(PreparedScorer).ScorePrepared(hi, hw, ht, allow, prep.bases[b], mi, sc)
			return
		}
		if ss, ok := scorers[b].(SubsetScorer); ok && list != nil {
			ss.ScoreHistorySubset(hi, hw, ht, list, sc)
			return
		}
		scorers[b].ScoreHistory(hi, hw, ht, sc)
	}
	m.data.candidatesOf(mi, mw, mt, score, len(m.Bases), candParams{m: c.Candidates, repeat: m.repeat, halfLife: c.HistoryHalfLife}, allow, popAllow, s)
	inf := float32(math.Inf(-1))
	if subset == nil {
		for j := range dst {
			dst[j] = inf
		}
	} else {
		for _, i := range subset {
			if i >= 0 && int(i) < len(dst) {
				dst[i] = inf
			}
		}
	}
	nf := perBaseFeatures*len(m.Bases) + itemFeatures
	r.scoreCands(s, nf, dst)
}
