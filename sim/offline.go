package sim

// offline generates a visit to a store: the visit itself, then purchases at the till of
// what the consumer came to rebuy, other rebuys that are nearly due, the region's trending
// item, and a few things they like. A card holder is known by their card; the link
// session's first purchase carries both card and user id, and later purchases sometimes do.
func (h *history) offline(t int64, store int32, needLeaf int16, link bool) {
	g := h.g
	st := &g.stores[store]
	buys := h.offlineBasket(st, t, needLeaf)
	s := session{at: t, store: store, ch: chOffline, who: whoUser, loc: locStore, geo: geoStore, leaf: needLeaf}
	if h.p.card {
		s.who = whoCard
	}
	if link && len(buys) == 0 {
		s.at, s.who = t+300, whoCardUser
		h.put(&s, rawEvent{typ: evVisit, item: -1})
		h.cardLinked = true
		h.cursor = s.at
		return
	}
	h.put(&s, rawEvent{typ: evVisit, item: -1})
	s.at += 120 + h.r.Int64N(900)
	for i, e := range buys {
		switch {
		case link && i == 0:
			s.at, s.who = t+300, whoCardUser
			h.cardLinked = true
		case h.p.card && h.cardLinked && h.r.Float64() < 0.3:
			s.who = whoCardUser
		case h.p.card:
			s.who = whoCard
		}
		h.purchase(&s, e)
	}
	h.cursor = s.at
}

// offlineBasket chooses what a visit buys (entry indexes, in stock).
func (h *history) offlineBasket(st *storeInfo, t int64, needLeaf int16) []int32 {
	var buys []int32
	add := func(leaf int16, preferLast bool) {
		e := int32(-1)
		if last := h.lastBought[leaf]; preferLast && last >= 0 {
			if i := st.entry(last); i >= 0 && h.g.available(last, t) {
				e = int32(i)
			}
		}
		if e < 0 {
			e = h.pickEntry(st, leaf, t)
		}
		if e >= 0 && st.entries[e].inStock {
			buys = append(buys, e)
		}
	}
	if needLeaf >= 0 {
		add(needLeaf, h.r.Float64() < 0.75)
	}
	// Rebuys due within three days are done on the same trip.
	for i := 0; i < len(h.agenda); {
		a := h.agenda[i]
		if a.at > t+3*86400 {
			break
		}
		if a.kind == doNeed && len(st.leafEntries[a.leaf]) > 0 {
			h.agenda = append(h.agenda[:i], h.agenda[i+1:]...)
			add(a.leaf, true)
			continue
		}
		i++
	}
	for _, tr := range h.g.trends {
		if tr.region == st.region && t >= tr.start && h.r.Float64() < tr.strength*float64(t-tr.start)/float64(h.g.endUnix-tr.start) {
			if e := st.entry(tr.item); e >= 0 && st.entries[e].inStock {
				buys = append(buys, int32(e))
			}
		}
	}
	for range poisson(h.r, 0.6) {
		if l := h.pickLeaf(st); l >= 0 && (!h.sated[l] || h.r.Float64() < 0.3) {
			add(l, false)
		}
	}
	return buys
}
