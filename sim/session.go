package sim

import (
	"math"
	"slices"
)

// session is a consumer's visit to one store's shop, online or in person.
type session struct {
	at    int64 // the time of the next event
	store int32
	ch    uint8
	who   uint8
	loc   uint8
	geo   uint8
	leaf  int16 // a category the consumer came to rebuy, or -1
}

// put emits an event of the session at its current time and moves the time on. The login
// event is the first of its session; anonymous browsing stops a minute before the login.
func (h *history) put(s *session, e rawEvent) {
	if s.who == whoDevice && s.at >= h.p.loginAt-60 {
		return
	}
	e.at, e.store, e.ch, e.who, e.loc, e.geo = s.at, s.store, s.ch, s.who, s.loc, s.geo
	h.emit(e)
	if s.who == whoDeviceUser {
		s.who = whoUser
	}
	s.at += 10 + h.r.Int64N(80)
}

// online generates a session in a store's online shop: maybe a trending item, then either
// the rebuy the consumer came for, a search and the results they click, or browsing; every
// item seen may be favourited or carted, and carted items may be bought at the end.
func (h *history) online(s session) {
	g := h.g
	st := &g.stores[s.store]
	s.loc = g.location(h.r, h.per, s.at)
	if s.ch == chApp && h.r.Float64() < 0.5 {
		switch s.loc {
		case locHome:
			s.geo = geoHome
		case locOffice:
			s.geo = geoOffice
		}
	}
	var cart []int32
	for _, t := range g.trends {
		if t.region == st.region && s.at >= t.start && h.r.Float64() < t.strength*float64(s.at-t.start)/float64(g.endUnix-t.start) {
			if e := st.entry(t.item); e >= 0 {
				if h.r.Float64() < 0.3 {
					h.put(&s, rawEvent{typ: evSearch, item: -1, qkind: qTrend, qa: t.item})
				}
				cart = h.look(&s, int32(e), cart, 2)
			}
		}
	}
	switch {
	case s.leaf >= 0:
		cart = h.rebuy(&s, cart)
	case h.r.Float64() < h.per.spec.search:
		cart = h.search(&s, cart)
	default:
		cart = h.browse(&s, cart, 1+poisson(h.r, 1.6))
	}
	for _, e := range cart {
		p := h.per.spec.purchase
		if s.leaf >= 0 && g.items[st.entries[e].item].leaf == s.leaf {
			p = 0.92
		}
		if s.who != whoDevice && h.r.Float64() < p {
			h.purchase(&s, e)
		}
	}
	h.cursor = s.at
}

// look views an entry and maybe favourites or carts it; boost scales the chance to cart.
func (h *history) look(s *session, e int32, cart []int32, boost float64) []int32 {
	st := &h.g.stores[s.store]
	item := st.entries[e].item
	h.put(s, rawEvent{typ: evView, item: item})
	fit := h.fit(item)
	if h.r.Float64() < 0.04*(0.5+fit) {
		h.put(s, rawEvent{typ: evFavorite, item: item})
	}
	if h.sated[h.g.items[item].leaf] {
		boost *= 0.3
	}
	if st.entries[e].inStock && !slices.Contains(cart, e) && h.r.Float64() < h.per.spec.cart*(0.3+fit)*boost {
		h.put(s, rawEvent{typ: evCart, item: item})
		cart = append(cart, e)
	}
	return cart
}

// browse views n items: mostly of one category the consumer likes, some of another, some
// of the store's most popular.
func (h *history) browse(s *session, cart []int32, n int) []int32 {
	st := &h.g.stores[s.store]
	focus := h.pickLeaf(st)
	for range n {
		e := int32(-1)
		switch u := h.r.Float64(); {
		case u < 0.75 && focus >= 0:
			e = h.pickEntry(st, focus, s.at)
		case u < 0.9:
			if l := h.pickLeaf(st); l >= 0 {
				e = h.pickEntry(st, l, s.at)
			}
		default:
			if p := st.popular[h.r.IntN(len(st.popular))]; h.g.available(st.entries[p].item, s.at) {
				e = p
			}
		}
		if e >= 0 {
			cart = h.look(s, e, cart, 1)
		}
	}
	return cart
}

// search types a query, usually for a category the consumer likes, and clicks through to
// some results; a few searches are for things no store carries.
func (h *history) search(s *session, cart []int32) []int32 {
	g := h.g
	st := &g.stores[s.store]
	if h.r.Float64() < g.cfg.UnmetShare {
		h.put(s, rawEvent{typ: evSearch, item: -1, qkind: qUnmet, qa: int32(h.pickUnmet())})
		if h.r.Float64() < 0.5 {
			return h.browse(s, cart, 1)
		}
		return cart
	}
	leaf := h.pickLeaf(st)
	if leaf < 0 {
		return h.browse(s, cart, 1)
	}
	h.put(s, h.queryEvent(leaf))
	for range 1 + min(poisson(h.r, 0.9), 4) {
		if e := h.pickEntry(st, leaf, s.at); e >= 0 {
			h.put(s, rawEvent{typ: evClick, item: st.entries[e].item})
			cart = h.look(s, e, cart, 1.2)
		}
	}
	return cart
}

// queryEvent is a search for a leaf: its term alone, with a brand, or with a descriptor.
func (h *history) queryEvent(leaf int16) rawEvent {
	spec := &h.g.leaves[leaf].spec
	e := rawEvent{typ: evSearch, item: -1, qkind: qTerm, qa: int32(leaf), qb: int16(h.r.IntN(len(spec.terms)))}
	switch u := h.r.Float64(); {
	case u < 0.25:
		e.qkind, e.qc = qBrand, h.brandFor(leaf)
	case u < 0.5:
		e.qkind, e.qc = qDesc, int16(h.r.IntN(len(spec.desc.values)))
	}
	return e
}

// brandFor returns a favourite brand of the leaf's group, or any brand of it.
func (h *history) brandFor(leaf int16) int16 {
	group := h.g.leaves[leaf].group
	for _, b := range h.favBrand {
		if h.g.brands[b].group == group {
			return b
		}
	}
	var in []int16
	for bi, b := range h.g.brands {
		if b.group == group {
			in = append(in, int16(bi))
		}
	}
	return in[h.r.IntN(len(in))]
}

// rebuy is a session for a category the consumer runs out of: they look at what they bought
// last time, or another item of the category, and usually cart it.
func (h *history) rebuy(s *session, cart []int32) []int32 {
	st := &h.g.stores[s.store]
	e := int32(-1)
	if last := h.lastBought[s.leaf]; last >= 0 && h.r.Float64() < 0.75 {
		if i := st.entry(last); i >= 0 && st.entries[i].inStock && h.g.available(last, s.at) {
			e = int32(i)
		}
	}
	if h.r.Float64() < 0.2 {
		spec := &h.g.leaves[s.leaf].spec
		h.put(s, rawEvent{typ: evSearch, item: -1, qkind: qTerm, qa: int32(s.leaf), qb: int16(h.r.IntN(len(spec.terms)))})
	}
	if e < 0 {
		e = h.pickEntry(st, s.leaf, s.at)
	}
	if e < 0 || !st.entries[e].inStock {
		h.retryNeed(s)
		return cart
	}
	item := st.entries[e].item
	h.put(s, rawEvent{typ: evView, item: item})
	if h.r.Float64() < 0.9 {
		h.put(s, rawEvent{typ: evCart, item: item})
		return append(cart, e)
	}
	h.retryNeed(s)
	return cart
}

// retryNeed puts an unmet need back on the agenda a few days later, half the time.
func (h *history) retryNeed(s *session) {
	if h.r.Float64() < 0.5 {
		h.schedule(agendaEntry{at: h.later(s.at, 1, 4), kind: doNeed, leaf: s.leaf})
	}
}

// purchase buys an entry and schedules what follows: the next rebuy of a repeat category,
// and a return or a review.
func (h *history) purchase(s *session, e int32) {
	g := h.g
	st := &g.stores[s.store]
	item := st.entries[e].item
	spec := &g.leaves[g.items[item].leaf].spec
	qty := 1
	if spec.repeat > 0 {
		qty += b2i(h.r.Float64() < 0.35) + b2i(h.r.Float64() < 0.1)
	} else if h.r.Float64() < 0.05 {
		qty++
	}
	at := s.at
	h.put(s, rawEvent{typ: evPurchase, item: item, qty: uint8(qty)})
	leaf := g.items[item].leaf
	// Only those who use the category up come back for more: the chance to rebuy grows
	// with the consumer's interest in it.
	if spec.repeat > 0 && h.r.Float64() < min(0.8, 6*h.leafW[leaf]) {
		h.lastBought[leaf] = item
		next := at + int64(h.interval(leaf)*float64(qty+1)/2*logNormal(h.r, 0.2)*86400)
		h.schedule(agendaEntry{at: next, kind: doNeed, leaf: leaf})
	}
	if spec.repeat == 0 {
		h.sated[leaf] = true
	}
	fit := h.fit(item)
	ret := spec.returns * 1.2
	if fit < 0.4 {
		ret = spec.returns * 3
	}
	follow := rawEvent{item: item, store: s.store, ch: s.ch, loc: locHome, who: s.who}
	if s.ch == chOffline {
		follow.loc, follow.geo = locStore, geoStore
	}
	if follow.who == whoCardUser || follow.who == whoDeviceUser {
		follow.who = whoUser
	}
	switch {
	case h.r.Float64() < ret:
		follow.typ, follow.qty = evReturn, uint8(qty)
		follow.at = h.later(at, 3, 14)
		h.emit(follow)
	case h.r.Float64() < 0.15:
		follow.typ, follow.who, follow.loc, follow.geo = evReview, whoUser, locHome, geoNone
		if follow.ch == chOffline {
			follow.ch = chMini
		}
		follow.rating = uint8(min(5, max(1, int(math.Round(1+4*fit+0.9*h.r.NormFloat64())))))
		follow.qkind, follow.qb = qReview, int16(h.r.IntN(len(g.reviews[follow.rating-1])))
		follow.at = h.later(at, 2, 10)
		h.emit(follow)
	}
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// interval is how many days a unit of a repeat category lasts the consumer: the category's
// interval for those who use it most, up to three times longer for occasional users.
func (h *history) interval(leaf int16) float64 {
	return h.g.leaves[leaf].spec.repeat * min(3, max(1, 0.15/h.leafW[leaf]))
}

// later returns a moment between lo and hi days after t, at an hour of the persona's rhythm.
func (h *history) later(t int64, lo, hi float64) int64 {
	return max(h.rhythmic(t+int64(between(h.r, lo, hi)*86400)), t+3600)
}
