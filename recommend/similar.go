package recommend

import (
	"cmp"
	"context"
	"math"
	"slices"

	"github.com/qianmian/qianmian"
)

// Similar ranks the store's in-stock items most like itemID: its co-occurrence neighbours
// first, then content neighbours (the same leaf category, then the same brand or parent
// category, nearest in price), then the store's popular items.
func (e *Engine) Similar(ctx context.Context, storeID, itemID string, n int) (*qianmian.Recommendation, error) {
	if n == 0 {
		n = 10
	}
	if n < 1 || n > qianmian.MaxRecommendations {
		return nil, qianmian.Invalid("n", "must be between 1 and %d", qianmian.MaxRecommendations)
	}
	snap := e.snap.Load()
	if snap == nil {
		return nil, qianmian.Errorf(qianmian.EUNAVAILABLE, "recommendations are not ready yet")
	}
	st := snap.stores[storeID]
	if st == nil {
		return nil, qianmian.Errorf(qianmian.ENOTFOUND, "store %q not found", storeID)
	}
	base := snap.item(itemID)
	if base < 0 || snap.items[base].id == "" {
		return nil, qianmian.Errorf(qianmian.ENOTFOUND, "item %q not found", itemID)
	}
	done, err := e.startRanking(ctx)
	if err != nil {
		return nil, err
	}
	defer done()
	sc := e.scratch(snap)
	defer e.pool.Put(sc)
	sim := similarRanking{snap: snap, st: st, sc: sc, base: base, n: n}
	sim.used(base)
	sim.cooccurring()
	sim.content()
	sim.popular()
	return &qianmian.Recommendation{RecID: newRecID(), Items: sim.out, ModelVersion: snap.version}, nil
}

type similarRanking struct {
	snap *snapshot
	st   *storeView
	sc   *scratch
	base int32
	n    int
	out  []qianmian.ScoredItem
	prev float64
}

// used reports whether item is already ranked (or is the base item), marking it.
func (r *similarRanking) used(item int32) bool {
	if r.sc.stamp[item] == r.sc.gen {
		return true
	}
	r.sc.cand(item)
	return false
}

func (r *similarRanking) add(item int32, score float64, reason, source string) {
	if len(r.out) == 0 || score < r.prev {
		r.prev = score
	}
	r.out = append(r.out, qianmian.ScoredItem{ItemID: r.snap.items[item].id,
		Score: math.Round(r.prev*1e4) / 1e4, Reasons: []string{reason}, Sources: []string{source}})
}

func (r *similarRanking) full() bool { return len(r.out) >= r.n }

func (r *similarRanking) cooccurring() {
	nbr, sim := r.snap.neighbors(r.base)
	title := r.snap.items[r.base].title
	for k, j := range nbr {
		if r.full() {
			return
		}
		if r.st.stock.has(j) && !r.used(j) {
			r.add(j, 0.5+0.5*float64(sim[k]/sim[0]), "bought together with "+title, "cooccurrence")
		}
	}
}

// content adds the same leaf category by price distance, then the same brand or parent
// category.
func (r *similarRanking) content() {
	b := r.snap.items[r.base]
	distance := func(i int32) float64 {
		p := r.snap.items[i].price
		return math.Abs(p-b.price) / max(b.price, p, 1)
	}
	byPrice := func(items []int32) []int32 {
		slices.SortStableFunc(items, func(x, y int32) int { return cmp.Compare(distance(x), distance(y)) })
		return items
	}
	if b.cat >= 0 && !r.full() {
		var same []int32
		for _, i := range r.st.byCat[b.cat] {
			if i != r.base && r.sc.stamp[i] != r.sc.gen {
				same = append(same, i)
			}
		}
		for _, i := range byPrice(same) {
			if r.full() {
				return
			}
			r.used(i)
			r.add(i, 0.45/(1+distance(i)), "same category: "+r.snap.cats[b.cat].name, "content")
		}
	}
	if r.full() || (b.brand == "" && b.parent < 0) {
		return
	}
	var near []int32
	for _, i := range r.st.ranked {
		it := r.snap.items[i]
		if r.sc.stamp[i] != r.sc.gen && ((b.brand != "" && it.brand == b.brand) || (b.parent >= 0 && it.parent == b.parent)) {
			near = append(near, i)
		}
	}
	for _, i := range byPrice(near) {
		if r.full() {
			return
		}
		r.used(i)
		reason := "same category: " + r.snap.cats[max(b.parent, 0)].name
		if b.brand != "" && r.snap.items[i].brand == b.brand {
			reason = "same brand: " + b.brand
		}
		r.add(i, 0.3/(1+distance(i)), reason, "content")
	}
}

// popular tops the list up with the store's own ranking.
func (r *similarRanking) popular() {
	q := query{snap: r.snap, st: r.st}
	for k, i := range r.st.ranked {
		if r.full() {
			return
		}
		if !r.used(i) {
			r.add(i, 0.1*float64(r.st.score[k]), q.storeReason(r.st.why[k]), sourceNames[srcStore])
		}
	}
}
