package sim

// available reports whether an item is on sale at time t: launched and not discontinued.
func (g *generator) available(item int32, t int64) bool {
	it := &g.items[item]
	return it.launch <= t && (it.discontinued == 0 || t < it.discontinued)
}

// pickLeaf draws a category the consumer likes that the store carries, or -1.
func (h *history) pickLeaf(st *storeInfo) int16 {
	for range 4 {
		l := pickCum(h.r, h.leafCum)
		if len(st.leafEntries[l]) > 0 {
			return int16(l)
		}
	}
	return -1
}

// pickEntry draws an item of the leaf from the store's assortment, available at t, by
// popularity, the consumer's liking for its price tier and brand, and novelty; -1 if none.
func (h *history) pickEntry(st *storeInfo, leaf int16, t int64) int32 {
	entries := st.leafEntries[leaf]
	h.weights = h.weights[:0]
	for _, e := range entries {
		item := st.entries[e].item
		it := &h.g.items[item]
		w := 0.0
		if h.g.available(item, t) {
			w = it.pop * h.per.spec.tiers[it.tier]
			if it.brand == h.favBrand[0] || it.brand == h.favBrand[1] {
				w *= 3
			}
			if t-it.launch < 21*86400 {
				w *= 2
			}
		}
		h.weights = append(h.weights, w)
	}
	i := pick(h.r, h.weights)
	if i < 0 {
		return -1
	}
	return entries[i]
}

// pickUnmet draws a query the catalogue cannot answer, mostly one the persona asks for.
func (h *history) pickUnmet() int {
	h.weights = h.weights[:0]
	for _, u := range h.g.unmet {
		w := 0.3
		for _, p := range u.personas {
			if p == h.per.spec.name {
				w = 3
			}
		}
		h.weights = append(h.weights, w)
	}
	return pick(h.r, h.weights)
}
