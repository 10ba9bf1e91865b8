package recommend

import "time"

// maxAnchors bounds the recent items whose neighbours are gathered.
const maxAnchors = 20

// neighbors proposes co-occurrence neighbours of the visitor's recent items, weighted by
// the intent of each event and its recency: the session counts most, the last weeks a little.
func (q *query) neighbors() {
	sc, cfg := q.sc, &q.e.cfg
	sessionHL, historyHL := cfg.SessionHalfLife.Seconds(), cfg.HistoryHalfLife.Seconds()
	for k := len(sc.view.events) - 1; k >= 0; k-- {
		ev := sc.view.events[k]
		if ev.w <= 0 {
			continue
		}
		age := float64(q.now - ev.at)
		w := ev.w * float32(halve(age, sessionHL)+0.25*halve(age, historyHL))
		found := false
		for a := range sc.anchors {
			if sc.anchors[a].item == ev.item {
				sc.anchors[a].w += w
				sc.anchors[a].kind = max(sc.anchors[a].kind, ev.kind)
				found = true
				break
			}
		}
		if !found {
			if len(sc.anchors) == maxAnchors {
				continue
			}
			sc.anchors = append(sc.anchors, anchor{item: ev.item, w: w, kind: ev.kind})
		}
	}
	// Scale by the share of the visitor's attention whose items have neighbours here, so
	// a session on items nobody co-bought (a brand-new interest) is not drowned out by
	// neighbours of older items.
	var top, attention, covered float32
	for _, a := range sc.anchors {
		attention += a.w
		nbr, sim := q.snap.neighbors(a.item)
		found := false
		for k, j := range nbr {
			if !q.st.stock.has(j) {
				continue
			}
			found = true
			c := &sc.cands[sc.cand(j)]
			contrib := a.w * sim[k]
			c.src[srcNeighbors] += contrib
			top = max(top, c.src[srcNeighbors])
			if contrib > c.anchorW {
				c.anchor, c.anchorW, c.anchorKind = a.item, contrib, a.kind
			}
		}
		if found {
			covered += a.w
		}
	}
	if top > 0 {
		scale := covered / attention / top
		for k := range sc.cands {
			sc.cands[k].src[srcNeighbors] *= scale
		}
	}
}

// maxFavoriteCats is how many favourite categories propose items.
const maxFavoriteCats = 3

// categories proposes the store's best items in the visitor's favourite leaf categories:
// long-term affinity plus, weighted double, what the current session is about.
func (q *query) categories() {
	sc, cfg := q.sc, &q.e.cfg
	historyHL, sessionHL := cfg.HistoryHalfLife.Seconds(), cfg.SessionHalfLife.Seconds()
	at := func(cat int32) *catScore {
		for k := range sc.cats {
			if sc.cats[k].cat == cat {
				return &sc.cats[k]
			}
		}
		sc.cats = append(sc.cats, catScore{cat: cat})
		return &sc.cats[len(sc.cats)-1]
	}
	for _, a := range sc.view.aff {
		if v := a.v * float32(halve(float64(q.now-a.at), historyHL)); v > 0 {
			at(a.cat).long += v
		}
	}
	for _, ev := range sc.view.events {
		age := float64(q.now - ev.at)
		if ev.w > 0 && age <= 4*sessionHL {
			if cat := q.snap.catOf(ev.item); cat >= 0 {
				at(cat).session += ev.w * float32(halve(age, sessionHL))
			}
		}
	}
	var maxLong, maxSession float32
	for _, c := range sc.cats {
		maxLong, maxSession = max(maxLong, c.long), max(maxSession, c.session)
	}
	var best float32
	for k := range sc.cats {
		c := &sc.cats[k]
		if maxLong > 0 {
			c.score += c.long / maxLong
		}
		if maxSession > 0 {
			c.score += 2 * c.session / maxSession
		}
		best = max(best, c.score)
	}
	if best <= 0 {
		return
	}
	for range maxFavoriteCats {
		pick := -1
		for k, c := range sc.cats {
			if c.score > 0 && (pick < 0 || c.score > sc.cats[pick].score ||
				c.score == sc.cats[pick].score && c.cat < sc.cats[pick].cat) {
				pick = k
			}
		}
		if pick < 0 {
			return
		}
		c := sc.cats[pick]
		sc.cats[pick].score = 0
		items := q.st.byCat[c.cat]
		for k, item := range items[:min(len(items), q.n+5)] {
			v := c.score / best / (1 + 0.1*float32(k))
			cand := &sc.cands[sc.cand(item)]
			if v > cand.src[srcCategory] {
				cand.src[srcCategory], cand.cat = v, c.cat
			}
		}
	}
}

// restock proposes items bought a while ago in categories people rebuy.
func (q *query) restock() {
	after := int64(q.e.cfg.RestockAfter.Seconds())
	for _, p := range q.sc.view.bought {
		if q.rebuyable(p) && q.now-p.at >= after && q.st.stock.has(p.item) {
			q.sc.cands[q.sc.cand(p.item)].src[srcRestock] = 1
		}
	}
}

func (q *query) rebuyable(p purchase) bool {
	cat := q.snap.catOf(p.item)
	return cat >= 0 && q.snap.cats[cat].rebuy
}

// storePopular proposes the head of the store's own ranking.
func (q *query) storePopular() {
	m := min(len(q.st.ranked), 2*q.n+10)
	for k, item := range q.st.ranked[:m] {
		c := &q.sc.cands[q.sc.cand(item)]
		c.src[srcStore], c.storeWhy = q.st.score[k], q.st.why[k]
	}
}

// regionPopular proposes the region's popular items that the store stocks.
func (q *query) regionPopular() {
	if q.st.region < 0 {
		return
	}
	r := &q.snap.regions[q.st.region]
	found := 0
	for k, item := range r.top[:min(len(r.top), 500)] {
		if !q.st.stock.has(item) {
			continue
		}
		q.sc.cands[q.sc.cand(item)].src[srcRegion] = r.score[k] / r.score[0]
		if found++; found >= q.n+5 {
			return
		}
	}
}

// trending proposes what is selling in the store, and in its region, right now.
func (q *query) trending() {
	hl := q.e.cfg.TrendingHalfLife.Seconds()
	wall := time.Now() // only paces the trending cache; ranking time is q.now
	add := func(t *trendTable, factor float32, region bool) {
		if t == nil {
			return
		}
		q.sc.trend = t.best(q.sc.trend[:0], q.now, hl, wall)
		if len(q.sc.trend) == 0 || q.sc.trend[0].v <= 0 {
			return
		}
		top := q.sc.trend[0].v
		for _, x := range q.sc.trend {
			if !q.st.stock.has(x.item) {
				continue
			}
			c := &q.sc.cands[q.sc.cand(x.item)]
			if v := factor * x.v / top; v > c.src[srcTrending] {
				c.src[srcTrending], c.regionHot = v, region
			}
		}
	}
	add(q.e.live.existingTrend(q.e.live.storeTrend, q.st.id), 1, false)
	if q.st.region >= 0 {
		add(q.e.live.existingTrend(q.e.live.regionTrend, q.snap.regions[q.st.region].name), 0.7, true)
	}
}
