package model

import (
	"cmp"
	"math"
	"slices"
	"strconv"
	"strings"
)

// splitValidation carves a validation split from d: for every user with at least
// MinHistory interactions, the most recent ones (d.Sequence order) are held out. It returns
// the reduced dataset, sharing d's id maps and keeping every earlier interaction (repeats
// included, so sequence-aware bases see the same kind of data), and each user's held-out
// items with a positive weight, sorted, some of which the user may have met before.
func splitValidation(d *Dataset, c HybridConfig) (*Dataset, [][]int32) {
	b := &DatasetBuilder{Users: d.Users, Items: d.Items}
	valid := make([][]int32, d.NumUsers())
	for u := 0; u < d.NumUsers(); u++ {
		items, weights, times := d.Sequence(int32(u))
		n, hold := len(items), 0
		if n >= max(c.MinHistory, 2) {
			hold = max(1, int(math.Floor(c.ValidFraction*float64(n)+1e-9)))
			if c.ValidLast > 0 {
				hold = c.ValidLast
			}
			hold = min(hold, n-1)
		}
		for k := range items {
			if k < n-hold {
				b.AddIndex(int32(u), items[k], weights[k], times[k])
			} else if weights[k] > 0 { // a returned item is no target
				valid[u] = append(valid[u], items[k])
			}
		}
		slices.Sort(valid[u])
		valid[u] = slices.Compact(valid[u])
	}
	return b.Build(), valid
}

// repeatShare returns the share of held-out items the user had met in train.
func repeatShare(train *Dataset, valid [][]int32) float64 {
	total, seen := 0, 0
	for u, v := range valid {
		row, _, _ := train.Row(int32(u))
		for _, i := range v {
			if _, ok := slices.BinarySearch(row, i); ok {
				seen++
			}
			total++
		}
	}
	if total == 0 {
		return 0
	}
	return float64(seen) / float64(total)
}

// dropSeen removes from each user's held-out items those they met in train, which a
// ranking that excludes seen items cannot recommend.
func dropSeen(train *Dataset, valid [][]int32) [][]int32 {
	out := make([][]int32, len(valid))
	for u, v := range valid {
		row, _, _ := train.Row(int32(u))
		for _, i := range v {
			if _, ok := slices.BinarySearch(row, i); !ok {
				out[u] = append(out[u], i)
			}
		}
	}
	return out
}

// hybridData is what the ranker's features need to know about a dataset: its users'
// histories, each item's popularity and when it was met.
type hybridData struct {
	d        *Dataset // nil in a hybrid read for serving: it scores histories only
	ni       int
	attrs    *hybridAttrs // nil without item features
	pop      []float32    // log(1+users) per item
	popOrder []int32      // items by pop, best first, then by index
	tptr     []int64      // item i's interaction times, ascending, are times[tptr[i]:tptr[i+1]]
	// times holds each interaction time as seconds after timeBase, the earliest: half the
	// bytes of Unix times (33 MB at 8.3 million interactions), so the searches of itemTimes
	// touch fewer cache lines. The serving artefact stores the same offsets.
	times    []uint32
	timeBase int64
	ends     []int64 // item i's first and last time are ends[2i] and ends[2i+1] (see itemTimes)
	window   int64   // seconds either side of a user's time that pop.near counts
	now      int64   // the latest interaction: the time of a user without history
	actMean  float32 // mean log(1+history length) over users with history
}

func newHybridData(d *Dataset, features *ItemFeatures, c HybridConfig) *hybridData {
	ni := d.NumItems()
	if features != nil {
		features = features.Align(d.Items)
	}
	h := &hybridData{d: d, ni: ni, attrs: newHybridAttrs(features, ni), pop: make([]float32, ni), tptr: make([]int64, ni+1)}
	lo, hi := int64(math.MaxInt64), int64(math.MinInt64)
	for k, i := range d.items {
		if d.weights[k] > 0 {
			h.tptr[i+1]++
			lo, hi = min(lo, d.times[k]), max(hi, d.times[k])
		}
	}
	for i := 0; i < ni; i++ {
		h.pop[i] = float32(math.Log1p(float64(h.tptr[i+1])))
		h.tptr[i+1] += h.tptr[i]
	}
	if hi < lo { // no positive interaction
		lo = 0
	}
	h.timeBase = lo
	h.times = make([]uint32, h.tptr[ni])
	next := slices.Clone(h.tptr[:ni])
	var act float64
	users := 0
	for u := 0; u < d.NumUsers(); u++ {
		items, weights, times := d.Row(int32(u))
		n := 0
		for k, i := range items {
			if weights[k] > 0 {
				h.times[next[i]] = h.timeOffset(times[k])
				next[i]++
				n++
			}
		}
		if n > 0 {
			act += math.Log1p(float64(n))
			users++
		}
	}
	for i := 0; i < ni; i++ {
		slices.Sort(h.times[h.tptr[i]:h.tptr[i+1]])
	}
	if users > 0 {
		h.actMean = float32(act / float64(users))
	}
	h.now = max(hi, 0)
	h.window = int64(c.PopWindow.Seconds())
	if h.window <= 0 && hi > lo {
		h.window = (hi - lo) / 16
	}
	h.sortPop()
	return h
}

// timeOffset returns Unix time t as an offset in times: seconds after timeBase, clamped to
// the offsets' range (a span of 136 years).
func (h *hybridData) timeOffset(t int64) uint32 {
	return uint32(min(max(t-h.timeBase, 0), math.MaxUint32))
}

// sortPop orders the items by popularity, best first, then by index, and notes each
// item's first and last time.
func (h *hybridData) sortPop() {
	h.ends = make([]int64, 2*h.ni)
	for i := range h.ni {
		if lo, hi := h.tptr[i], h.tptr[i+1]; hi > lo {
			h.ends[2*i], h.ends[2*i+1] = h.timeBase+int64(h.times[lo]), h.timeBase+int64(h.times[hi-1])
		}
	}
	h.popOrder = make([]int32, len(h.pop))
	for i := range h.popOrder {
		h.popOrder[i] = int32(i)
	}
	slices.SortStableFunc(h.popOrder, func(a, b int32) int { return cmp.Compare(h.pop[b], h.pop[a]) })
}

// hybridAttrs is what the affinity features read of the item features: each item's leaf
// category, brand and price band (NoFeature when unknown), in the dataset's item space.
type hybridAttrs struct {
	cat, brand, band []int32
	ncat, nbrand     int
}

// newHybridAttrs aligns features to the dataset's ni items; nil features give nil.
func newHybridAttrs(features *ItemFeatures, ni int) *hybridAttrs {
	if features == nil {
		return nil
	}
	a := &hybridAttrs{cat: make([]int32, ni), brand: make([]int32, ni), band: make([]int32, ni),
		ncat: features.Categories.Len(), nbrand: features.Brands.Len()}
	for i := range int32(ni) {
		a.cat[i], a.brand[i], a.band[i] = features.Category(i), features.Brand(i), features.PriceBand(i)
	}
	return a
}

func (a *hybridAttrs) Category(i int32) int32  { return attrAt(a.cat, i) }
func (a *hybridAttrs) Brand(i int32) int32     { return attrAt(a.brand, i) }
func (a *hybridAttrs) PriceBand(i int32) int32 { return attrAt(a.band, i) }

func attrAt(v []int32, i int32) int32 {
	if i < 0 || int(i) >= len(v) {
		return NoFeature
	}
	return v[i]
}

// itemTimes sets, for each of items seen from a user whose latest interaction is at t:
// s.near to the log of 1 + the item's interactions within the window around t, and s.since
// and s.idle to the signed log(1+days) from the item's first and from its last interaction
// to t (negative when after t). Each binary search of an item's times misses the
// cache at nearly every level (popular items have thousands of times in a 33 MB array),
// and one search's next load waits on its last; so the searches of all the items run in
// lockstep, one level of each in turn, and the misses of different searches overlap.
func (h *hybridData) itemTimes(items []int32, t int64, s *candScratch) {
	n := len(items)
	s.near = slices.Grow(s.near[:0], n)[:n]
	s.since = slices.Grow(s.since[:0], n)[:n]
	s.idle = slices.Grow(s.idle[:0], n)[:n]
	s.bounds = slices.Grow(s.bounds[:0], 2*n)[:2*n]
	srch := s.srch[:0]
	for r, i := range items {
		lo, hi := h.tptr[i], h.tptr[i+1]
		s.bounds[2*r], s.bounds[2*r+1] = lo, hi
		if hi == lo {
			s.since[r], s.idle[r] = 0, 0
			continue
		}
		// The ends come from a table of their own (1.6 MB at 100,000 items, which stays in
		// cache), not from the times. When the window covers an end, its search is skipped:
		// a served user's latest interaction is usually after the training data's, so the
		// upper end is nearly always free. A key below timeBase clamps to offset 0, below
		// every time, so each search lands where a search of the Unix times would.
		first, last := h.ends[2*i], h.ends[2*i+1]
		s.since[r], s.idle[r] = signedLogDays(t-first), signedLogDays(t-last)
		if first < t-h.window {
			srch = append(srch, timeSearch{base: lo, n: hi - lo, key: h.timeOffset(t - h.window), dst: int32(2 * r)})
		}
		if last >= t+h.window+1 {
			srch = append(srch, timeSearch{base: lo, n: hi - lo, key: h.timeOffset(t + h.window + 1), dst: int32(2*r + 1)})
		}
	}
	times := h.times
	for len(srch) > 0 {
		live := srch[:0]
		for _, q := range srch {
			// One step of a lower-bound search: the first time ≥ key lies in [base, base+n].
			// n halves whatever the comparison says, so that the step is a conditional move.
			if q.n > 1 {
				half := q.n / 2
				if times[q.base+half] < q.key {
					q.base += half
				}
				q.n -= half
				live = append(live, q)
				continue
			}
			if times[q.base] < q.key {
				q.base++
			}
			s.bounds[q.dst] = q.base
		}
		srch = live
	}
	s.srch = srch
	for r := range items {
		s.near[r] = log1pCount(int(s.bounds[2*r+1] - s.bounds[2*r]))
	}
}

// timeSearch is one lower-bound search of itemTimes in progress: the index of the first time
// at or above key lies in [base, base+n], n ≥ 1; it goes to bounds[dst].
type timeSearch struct {
	base, n int64
	key     uint32
	dst     int32
}

// log1pCounts[n] is float32(log(1+n)): pop.near takes the log of a count for every
// candidate of every request, and a table lookup gives the very same float32.
var log1pCounts = func() (t [4096]float32) {
	for n := range t {
		t[n] = float32(math.Log1p(float64(n)))
	}
	return t
}()

// log1pCount returns float32(log(1+n)) for a count n ≥ 0.
func log1pCount(n int) float32 {
	if n < len(log1pCounts) {
		return log1pCounts[n]
	}
	return float32(math.Log1p(float64(n)))
}

func signedLogDays(sec int64) float32 {
	v := float32(math.Log1p(math.Abs(float64(sec)) / 86400))
	if sec < 0 {
		return -v
	}
	return v
}

// The ranker's feature vector for one (user, candidate item), in this order:
//
//	for each base model b:  b:score  its score, standardised over the user's candidates (see
//	                                 standardiseColumn)
//	                        b:rank   1/log2(2+rank) within its top Candidates, else 0
//	                        b:act    b:score × the user's activity (centred log history length)
//	pop, pop.near, pop.act           users, and interactions within PopWindow of the user's
//	                        latest interaction, both standardised over the candidates;
//	                        pop × activity
//	item.since, item.idle            signed log(1+days) from the item's first and last
//	                        interaction to the user's latest (negative: after it)
//	cat.match, brand.match, price.match  the share of the user's recent history in the
//	                        item's category, brand and price band (±1 band at half weight)
//	seen.weight, seen.recency        for an item the user met before (only candidates when
//	                        repeats are allowed): log(1+their summed weight) and
//	                        1/(1+days since they last met it); else 0
//	[context block]                  reserved: serving-time context (channel, store, region,
//	                        hour, weekday) crossed with item features goes here, after every
//	                        feature above, so rankers saved before it keep their meaning;
//	                        a ranker reads features by name and ignores those it does not know.
const (
	perBaseFeatures = 3
	itemFeatures    = 10
)

func hybridFeatureNames(bases []string) []string {
	var names []string
	for _, b := range bases {
		names = append(names, b+":score", b+":rank", b+":act")
	}
	return append(names, "pop", "pop.near", "pop.act", "item.since", "item.idle",
		"cat.match", "brand.match", "price.match", "seen.weight", "seen.recency")
}

// baseNames returns the models' names, made unique with #2, #3… suffixes.
func baseNames(bases []Model) []string {
	var out []string
	seen := map[string]int{}
	for _, m := range bases {
		name := strings.ReplaceAll(m.Name(), " ", "_")
		seen[name]++
		if n := seen[name]; n > 1 {
			name += "#" + strconv.Itoa(n)
		}
		out = append(out, name)
	}
	return out
}

// candScratch is the per-call working memory of candidate generation.
type candScratch struct {
	scores  [][]float32 // per base, one per item
	seen    []uint32    // == stamp: in the user's history
	inCand  []uint32    // == stamp: a candidate
	allowed []uint32    // == stamp: in the subset candidates are restricted to
	sub     []float32   // one base's scores of the subset
	allow   []int32     // the subset within the fit's items
	list    []int32     // allow and the history: what subset-scoring bases score
	stamp   uint32
	tops    [][]int32 // per base, its top items
	cands   []int32
	pos     []int32 // item → row among cands, valid when inCand
	x       []float32
	catW    []float32
	brandW  []float32
	bands   []bandWeight
	touch   []int32

	// itemTimes' working memory and results, one entry per candidate.
	near, since, idle []float32
	bounds            []int64 // per candidate, the window's two ends as indexes into times
	srch              []timeSearch

	// The ranker's working memory: each candidate's standardised features and score.
	z, rowScore []float32
}

type bandWeight struct {
	band int32
	w    float32
}

func newCandScratch(nb, ni int) *candScratch {
	s := &candScratch{seen: make([]uint32, ni), inCand: make([]uint32, ni), allowed: make([]uint32, ni), pos: make([]int32, ni),
		scores: make([][]float32, nb), tops: make([][]int32, nb)}
	for b := range s.scores {
		s.scores[b] = make([]float32, ni)
	}
	return s
}

// candParams are the settings of candidate generation.
type candParams struct {
	m        int     // items per source
	repeat   bool    // the user's own items may be recommended again
	halfLife float32 // of the affinity features
}

// candidates fills s.cands (sorted by item) with the union of every base's and
// popularity's top m items for user u — unseen ones only unless p.repeat, which adds the
// user's own most recent m items instead — and s.x with their feature rows.
func (h *hybridData) candidates(u int32, bases []Model, p candParams, s *candScratch) {
	items, weights, times := h.d.Row(u)
	h.candidatesOf(items, weights, times, func(b int, sc []float32) { bases[b].ScoreUser(u, sc) }, len(bases), p, nil, nil, s)
}

// candidatesOf is candidates for any history in Row form (distinct items sorted by index,
// summed weights, latest times); score fills base b's scores of every item, or, when allow
// is not nil, at least of the items of allow (sorted, distinct), to which the candidates
// are then restricted. popAllow, when not nil, is allow in popOrder's order, so the
// popularity fill need not walk the catalogue.
func (h *hybridData) candidatesOf(items []int32, weights []float32, times []int64, score func(b int, sc []float32), nb int, p candParams, allow, popAllow []int32, s *candScratch) {
	s.stamp++
	if s.stamp == 0 { // wrapped: reset the marks
		clear(s.seen)
		clear(s.inCand)
		clear(s.allowed)
		s.stamp = 1
	}
	for _, i := range items {
		s.seen[i] = s.stamp
	}
	ok := func(int32) bool { return true }
	if allow != nil {
		for _, i := range allow {
			s.allowed[i] = s.stamp
		}
		ok = func(i int32) bool { return s.allowed[i] == s.stamp }
	}
	s.cands = s.cands[:0]
	add := func(i int32) {
		if s.inCand[i] != s.stamp {
			s.inCand[i] = s.stamp
			s.cands = append(s.cands, i)
		}
	}
	nan := float32(math.NaN())
	for b := 0; b < nb; b++ {
		sc := s.scores[b]
		score(b, sc)
		if allow == nil {
			for i, v := range sc {
				if math.IsInf(float64(v), 0) {
					sc[i] = nan // keep -Inf floors out of the statistics
				}
			}
			if !p.repeat {
				for _, i := range items {
					sc[i] = nan
				}
			}
			s.tops[b] = TopK(s.tops[b][:0], sc, p.m)
		} else {
			s.sub = s.sub[:0]
			for _, i := range allow {
				v := sc[i]
				if math.IsInf(float64(v), 0) || !p.repeat && s.seen[i] == s.stamp {
					v = nan
				}
				s.sub = append(s.sub, v)
			}
			for _, i := range items { // history items are scored for the repeat features
				if v := sc[i]; math.IsInf(float64(v), 0) {
					sc[i] = nan
				}
			}
			s.tops[b] = TopK(s.tops[b][:0], s.sub, p.m)
			for k, j := range s.tops[b] {
				s.tops[b][k] = allow[j]
			}
		}
		for _, i := range s.tops[b] {
			add(i)
		}
	}
	byPop := h.popOrder
	if popAllow != nil {
		byPop = popAllow
	}
	for k, taken := 0, 0; k < len(byPop) && taken < p.m; k++ {
		if i := byPop[k]; ok(i) && (p.repeat || s.seen[i] != s.stamp) {
			add(i)
			taken++
		}
	}
	if p.repeat {
		for _, k := range recentPositive(items, weights, times, p.m) {
			if ok(items[k]) {
				add(items[k])
			}
		}
	}
	slices.Sort(s.cands)
	for r, i := range s.cands {
		s.pos[i] = int32(r)
	}
	h.rows(items, weights, times, nb, p.halfLife, s)
}

// mergeHistory returns a history (any order, repeats allowed) in Row form: distinct items
// sorted by index, their summed weights and latest times.
func mergeHistory(items []int32, weights []float32, times []int64) ([]int32, []float32, []int64) {
	order := make([]int, len(items))
	for k := range order {
		order[k] = k
	}
	slices.SortStableFunc(order, func(a, b int) int { return int(items[a]) - int(items[b]) })
	var mi []int32
	var mw []float32
	var mt []int64
	for _, k := range order {
		if n := len(mi); n > 0 && mi[n-1] == items[k] {
			mw[n-1] += weights[k]
			mt[n-1] = max(mt[n-1], times[k])
			continue
		}
		mi, mw, mt = append(mi, items[k]), append(mw, weights[k]), append(mt, times[k])
	}
	return mi, mw, mt
}

// rows writes the feature rows of s.cands into s.x.
func (h *hybridData) rows(items []int32, weights []float32, times []int64, nb int, histHalfLife float32, s *candScratch) {
	nf := perBaseFeatures*nb + itemFeatures
	n := len(s.cands)
	s.x = slices.Grow(s.x[:0], n*nf)[:n*nf]
	clear(s.x)
	npos, tu := 0, int64(math.MinInt64)
	for k, w := range weights {
		if w > 0 {
			npos++
			tu = max(tu, times[k])
		}
	}
	if npos == 0 {
		tu = h.now
	}
	act := float32(0)
	if npos > 0 {
		act = float32(math.Log1p(float64(npos))) - h.actMean
	}
	for b := 0; b < nb; b++ {
		baseColumns(s, b, nf, act)
	}
	h.affinity(items, weights, times, histHalfLife, s)
	o := perBaseFeatures * nb
	h.itemTimes(s.cands, tu, s)
	for r, i := range s.cands {
		row := s.x[r*nf+o : (r+1)*nf]
		row[0], row[1], row[3], row[4] = h.pop[i], s.near[r], s.since[r], s.idle[r]
		row[5], row[6], row[7] = h.itemAffinity(i, s)
		if s.seen[i] == s.stamp {
			k, _ := slices.BinarySearch(items, i)
			row[8] = float32(math.Log1p(max(float64(weights[k]), 0)))
			row[9] = 1 / (1 + float32(max(tu-times[k], 0))/86400)
		}
	}
	standardiseColumn(s.x, nf, o, n)
	standardiseColumn(s.x, nf, o+1, n)
	for r := range s.cands {
		s.x[r*nf+o+2] = s.x[r*nf+o] * act
	}
	// Leave the affinity tables clean for the next user.
	for _, c := range s.touch {
		if c >= 0 {
			s.catW[c] = 0
		} else {
			s.brandW[-c-1] = 0
		}
	}
}

// baseColumns writes base b's score, rank and score × activity columns.
func baseColumns(s *candScratch, b, nf int, act float32) {
	sc := s.scores[b]
	lowest := float32(math.Inf(1))
	for _, i := range s.cands {
		if v := sc[i]; v == v {
			lowest = min(lowest, v)
		}
	}
	col := perBaseFeatures * b
	for r, i := range s.cands {
		v := sc[i]
		if v != v {
			v = lowest // -Inf floors and NaN rank last
		}
		s.x[r*nf+col] = v
	}
	standardiseColumn(s.x, nf, col, len(s.cands))
	for r := range s.cands {
		s.x[r*nf+col+2] = s.x[r*nf+col] * act
	}
	for rank, i := range s.tops[b] {
		s.x[int(s.pos[i])*nf+col+1] = float32(1 / math.Log2(float64(rank)+2))
	}
}

// itemAffinity returns the user's share of history in item i's category, brand and price
// band (neighbouring bands at half weight), from the tables affinity filled.
func (h *hybridData) itemAffinity(i int32, s *candScratch) (cat, brand, price float32) {
	f := h.attrs
	if f == nil {
		return 0, 0, 0
	}
	if c := f.Category(i); c != NoFeature && int(c) < len(s.catW) {
		cat = s.catW[c]
	}
	if b := f.Brand(i); b != NoFeature && int(b) < len(s.brandW) {
		brand = s.brandW[b]
	}
	if p := f.PriceBand(i); p != NoFeature {
		for _, bw := range s.bands {
			switch bw.band - p {
			case 0:
				price += bw.w
			case -1, 1:
				price += bw.w / 2
			}
		}
	}
	return cat, brand, price
}

// standardiseColumn replaces column col of the n rows of x by asinh((v−mean)/sd) over the
// rows: the user's candidates. Features relative to the user's own candidates mean the same
// on the reduced data the ranker learns on and on the full data it serves, where counts
// and scores are larger; asinh keeps the order (ranking by the column is ranking by v)
// while taming the outliers of peaky models.
func standardiseColumn(x []float32, nf, col, n int) {
	if n == 0 {
		return
	}
	var sum, sum2 float64
	finite := 0
	for r := 0; r < n; r++ {
		v := float64(x[r*nf+col])
		if math.IsInf(v, 0) || v != v {
			continue
		}
		sum += v
		sum2 += v * v
		finite++
	}
	mean := sum / float64(max(finite, 1))
	sd := 1.0
	if v := sum2/float64(max(finite, 1)) - mean*mean; v > 1e-12 {
		sd = math.Sqrt(v)
	}
	for r := 0; r < n; r++ {
		v := float64(x[r*nf+col])
		if math.IsInf(v, 0) || v != v {
			x[r*nf+col] = 0
			continue
		}
		x[r*nf+col] = float32(math.Asinh((v - mean) / sd))
	}
}

// affinity fills s.catW, s.brandW and s.bands with the recency-weighted shares of the
// user's most recent 100 positive items, recording touched entries in s.touch.
func (h *hybridData) affinity(items []int32, weights []float32, times []int64, halfLife float32, s *candScratch) {
	s.touch, s.bands = s.touch[:0], s.bands[:0]
	f := h.attrs
	if f == nil {
		return
	}
	if n := f.ncat; len(s.catW) < n {
		s.catW = make([]float32, n)
	}
	if n := f.nbrand; len(s.brandW) < n {
		s.brandW = make([]float32, n)
	}
	order := recentPositive(items, weights, times, 100)
	var total float32
	ws := make([]float32, len(order))
	for pos := range order {
		ws[pos] = 1
		if halfLife > 0 {
			ws[pos] = float32(math.Exp2(-float64(pos) / float64(halfLife)))
		}
		total += ws[pos]
	}
	for pos, k := range order {
		i, w := items[k], ws[pos]/total
		if c := f.Category(i); c != NoFeature && int(c) < len(s.catW) {
			if s.catW[c] == 0 {
				s.touch = append(s.touch, c)
			}
			s.catW[c] += w
		}
		if b := f.Brand(i); b != NoFeature && int(b) < len(s.brandW) {
			if s.brandW[b] == 0 {
				s.touch = append(s.touch, -b-1)
			}
			s.brandW[b] += w
		}
		if p := f.PriceBand(i); p != NoFeature {
			found := false
			for q := range s.bands {
				if s.bands[q].band == p {
					s.bands[q].w += w
					found = true
				}
			}
			if !found {
				s.bands = append(s.bands, bandWeight{p, w})
			}
		}
	}
}
