package recommend

import (
	"context"
	"math"

	"github.com/qianmian/qianmian"
	"github.com/qianmian/qianmian/model"
)

// Candidate sources, in the order of candidate.src.
const (
	srcNeighbors = iota
	srcCategory
	srcStore
	srcRegion
	srcTrending
	srcRestock
	srcModel
	numSources
)

// sourceNames name the sources in qianmian.ScoredItem.Sources.
var sourceNames = [numSources]string{"cooccurrence", "category", "store_popular", "region_popular", "trending", "restock", "model"}

// candidate is one item proposed for a ranking, with every source's score (0–1) and what
// each source knew about why.
type candidate struct {
	item       int32
	src        [numSources]float32
	final      float32
	anchor     int32   // the recent item this is a neighbour of (srcNeighbors)
	anchorW    float32 // that anchor's contribution
	anchorKind kind
	cat        int32 // the favourite category that proposed it (srcCategory)
	storeWhy   uint8 // why the store ranks it (srcStore)
	regionHot  bool  // trending in the region more than in the store
	scored     bool  // blended
	excluded   bool
	picked     bool
}

// anchor is a recent item of the visitor, weighted by intent and recency.
type anchor struct {
	item int32
	w    float32
	kind kind
}

type catScore struct {
	cat           int32
	long, session float32
	score         float32
}

// scratch holds a request's working memory; engines pool them so a request allocates
// little beyond its response.
type scratch struct {
	stamp []uint32 // item → gen when slot is valid
	slot  []int32  // item → index in cands
	gen   uint32

	cands    []candidate
	view     visitorView
	anchors  []anchor
	cats     []catScore
	trend    []trendItem
	scores   []float32
	top      []int32
	picked   []int32
	skipped  []int32
	catCount []uint16

	// The model source's history in model indexes, and its score buffer.
	hItems  []int32
	hW      []float32
	hT      []int64
	mScores []float32
	mSub    []float32 // the learned scores of the store's stock, in modelStock order
	mTop    []int32
}

func (e *Engine) scratch(s *snapshot) *scratch {
	sc, _ := e.pool.Get().(*scratch)
	if sc == nil {
		sc = &scratch{}
	}
	if len(sc.stamp) < len(s.items) {
		sc.stamp = make([]uint32, len(s.items)+len(s.items)/8)
		sc.slot = make([]int32, len(sc.stamp))
		sc.gen = 0
	}
	if len(sc.catCount) < len(s.cats) {
		sc.catCount = make([]uint16, len(s.cats)+len(s.cats)/8)
	}
	sc.gen++
	if sc.gen == 0 { // wrapped: stale stamps could match
		clear(sc.stamp)
		sc.gen = 1
	}
	sc.cands, sc.anchors, sc.cats, sc.trend = sc.cands[:0], sc.anchors[:0], sc.cats[:0], sc.trend[:0]
	sc.scores, sc.top, sc.picked, sc.skipped = sc.scores[:0], sc.top[:0], sc.picked[:0], sc.skipped[:0]
	sc.view.reset()
	return sc
}

// cand returns the index of item's candidate, creating it.
func (sc *scratch) cand(item int32) int32 {
	if sc.stamp[item] == sc.gen {
		return sc.slot[item]
	}
	sc.stamp[item] = sc.gen
	k := int32(len(sc.cands))
	sc.slot[item] = k
	sc.cands = append(sc.cands, candidate{item: item, anchor: -1, cat: -1})
	return k
}

// query is one ranking request in progress.
type query struct {
	e        *Engine
	snap     *snapshot
	st       *storeView
	sc       *scratch
	now      int64 // Unix seconds ranked for
	n        int
	personal bool
	w        BlendWeights
}

// Recommend ranks the store's in-stock assortment for the visitor.
func (e *Engine) Recommend(ctx context.Context, req qianmian.RecommendRequest) (*qianmian.Recommendation, error) {
	if err := req.Validate(); err != nil {
		return nil, err
	}
	snap := e.snap.Load()
	if snap == nil {
		return nil, qianmian.Errorf(qianmian.EUNAVAILABLE, "recommendations are not ready yet")
	}
	st := snap.stores[req.StoreID]
	if st == nil {
		return nil, qianmian.Errorf(qianmian.ENOTFOUND, "store %q not found", req.StoreID)
	}
	at := req.Context.At
	if at.IsZero() {
		at = e.Now()
	}
	done, err := e.startRanking(ctx)
	if err != nil {
		return nil, err
	}
	defer done()
	sc := e.scratch(snap)
	defer e.pool.Put(sc)
	q := &query{e: e, snap: snap, st: st, sc: sc, now: at.Unix(), n: req.N, w: e.cfg.Blend}
	if q.personal = e.visitor(ctx, snap, &req, sc); !q.personal {
		sc.view.reset() // no personal filters either: the same ranking as any unknown visitor
	}
	var key cacheKey
	cacheable := e.cache != nil && req.Context.At.IsZero()
	if cacheable {
		key = cacheKey{store: req.StoreID, n: req.N, channel: req.Context.Channel, location: req.Context.LocationType}
		if q.personal {
			key.subj = sc.view.src
		}
		if hit := e.cache.get(&key, snap, sc.view.ver, at.UnixNano()); hit != nil {
			return &qianmian.Recommendation{
				RecID:        newRecID(),
				Items:        hit.items.unpack(),
				Personalized: hit.personal,
				ModelVersion: snap.version,
			}, nil
		}
	}
	if req.Context.LocationType == qianmian.LocationStore || req.Context.Channel == qianmian.ChannelOffline {
		// In the shop: what is selling there right now matters more.
		q.w.Trending *= 1.5
		q.w.StorePopular *= 1.25
	}
	sources := []func(){q.storePopular, q.regionPopular, q.trending}
	if q.personal {
		sources = append([]func(){q.neighbors, q.categories, q.restock, q.learned}, sources...)
	}
	for _, source := range sources {
		if ctx.Err() != nil {
			// Out of time: rank what we have; the top-up from store popularity still runs.
			break
		}
		source()
	}
	items := q.rank()
	if cacheable && ctx.Err() == nil { // a ranking cut short by the deadline is not kept
		e.cache.put(&key, &cacheEntry{snap: snap, ver: sc.view.ver, at: at.UnixNano(),
			items: packItems(items), personal: q.personal})
	}
	return &qianmian.Recommendation{
		RecID:        newRecID(),
		Items:        items,
		Personalized: q.personal,
		ModelVersion: snap.version,
	}, nil
}

// visitor fills sc.view with the visitor's live state and reports whether the ranking is
// personalised: only for a visitor with history who allows it.
func (e *Engine) visitor(ctx context.Context, snap *snapshot, req *qianmian.RecommendRequest, sc *scratch) bool {
	now := e.Now().UnixNano()
	userID := req.UserID
	if userID == "" && req.Identity != nil {
		if e.Identities != nil {
			uid, err := e.Identities.ResolveIdentity(ctx, *req.Identity)
			if err == nil {
				userID = uid
			} else if qianmian.ErrorCode(err) != qianmian.ENOTFOUND {
				e.Logger.Warn("resolve identity failed", "err", err)
			}
		}
		if userID == "" {
			return e.live.view(req.Identity.AnonymousSubject(), now, &sc.view) && !sc.view.empty()
		}
	}
	if userID == "" {
		return false
	}
	// Consent is read on every request so an opt-out takes effect on the next one.
	if !e.consents(ctx, userID) {
		e.live.forget(userID)
		return false
	}
	if e.live.view(userID, now, &sc.view) {
		return !sc.view.empty()
	}
	e.live.beginLoad(userID, now)
	s, err := e.rebuild(ctx, snap, userID)
	if err != nil {
		e.live.abortLoad(userID)
		if ctx.Err() == nil {
			e.Logger.Warn("rebuild live state failed: serving the store's ranking", "user", userID, "err", err)
		}
		return false
	}
	e.live.finishLoad(userID, s, now)
	sc.view.reset()
	return e.live.view(userID, now, &sc.view) && !sc.view.empty()
}

// blend scores a candidate, or marks it excluded: not in stock, disliked, or bought and
// not due for a restock.
func (q *query) blend(c *candidate) {
	c.scored = true
	if !q.st.stock.has(c.item) || q.disliked(c.item) {
		c.excluded = true
		return
	}
	if p, ok := q.bought(c.item); ok && (!q.rebuyable(p) || c.src[srcRestock] == 0) {
		c.excluded = true
		return
	}
	w := q.w
	c.final = float32(w.Neighbors)*c.src[srcNeighbors] + float32(w.Category)*c.src[srcCategory] +
		float32(w.StorePopular)*c.src[srcStore] + float32(w.RegionPopular)*c.src[srcRegion] +
		float32(w.Trending)*c.src[srcTrending] + float32(w.Restock)*c.src[srcRestock] +
		float32(w.Model)*c.src[srcModel]
	if q.recentlySeen(c.item) {
		c.final *= 0.5 // just looked at it: show something new first
	}
}

func (q *query) disliked(item int32) bool {
	for _, d := range q.sc.view.disliked {
		if d == item {
			return true
		}
	}
	return false
}

func (q *query) bought(item int32) (purchase, bool) {
	for _, p := range q.sc.view.bought {
		if p.item == item {
			return p, true
		}
	}
	return purchase{}, false
}

func (q *query) recentlySeen(item int32) bool {
	since := q.now - int64(q.e.cfg.RecentlySeen.Seconds())
	for k := len(q.sc.view.events) - 1; k >= 0; k-- {
		ev := q.sc.view.events[k]
		if ev.at < since {
			return false
		}
		if ev.item == item && (ev.kind == kindView || ev.kind == kindClick) {
			return true
		}
	}
	return false
}

// rank blends, picks the best with at most MaxCategoryShare of one leaf category, tops up
// from the store's ranking so N is met whenever the store stocks enough, and explains.
func (q *query) rank() []qianmian.ScoredItem {
	sc := q.sc
	sc.scores = sc.scores[:0]
	for k := range sc.cands {
		c := &sc.cands[k]
		q.blend(c)
		s := c.final
		if c.excluded {
			s = float32(math.NaN())
		}
		sc.scores = append(sc.scores, s)
	}
	sc.top = model.TopK(sc.top[:0], sc.scores, 4*q.n+10)
	limit := max(1, int(math.Ceil(float64(q.n)*q.e.cfg.MaxCategoryShare)))
	for _, k := range sc.top {
		if len(sc.picked) == q.n {
			break
		}
		if !q.pick(k, limit) {
			sc.skipped = append(sc.skipped, k)
		}
	}
	// Top up: the store's ranking within the category cap, then what the cap held back,
	// then the store's ranking without the cap.
	q.topUp(limit)
	for _, k := range sc.skipped {
		if len(sc.picked) == q.n {
			break
		}
		q.pick(k, math.MaxInt)
	}
	q.topUp(math.MaxInt)
	return q.explain()
}

// pick adds candidate k to the ranking unless its leaf category already has limit items.
// It reports false only when the cap held the candidate back.
func (q *query) pick(k int32, limit int) bool {
	sc := q.sc
	c := &sc.cands[k]
	if c.picked || c.excluded {
		return true
	}
	cat := q.snap.catOf(c.item)
	if cat >= 0 && int(sc.catCount[cat]) >= limit {
		return false
	}
	c.picked = true
	if cat >= 0 {
		sc.catCount[cat]++
	}
	sc.picked = append(sc.picked, k)
	return true
}

// topUp fills the ranking from the store's own ranking.
func (q *query) topUp(limit int) {
	sc := q.sc
	for k, item := range q.st.ranked {
		if len(sc.picked) >= q.n {
			return
		}
		ci := sc.cand(item)
		c := &sc.cands[ci]
		if !c.scored {
			c.src[srcStore], c.storeWhy = q.st.score[k], q.st.why[k]
			q.blend(c)
		} else if c.src[srcStore] == 0 {
			c.storeWhy = q.st.why[k]
		}
		q.pick(ci, limit)
	}
}
