package sim

import (
	"cmp"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"time"

	"github.com/qianmian/qianmian"
)

// storeInfo is the compact form of a store that histories are generated from.
type storeInfo struct {
	region, kind    int
	city            citySpec
	online, offline bool
	geo             qianmian.GeoPoint
	size            float64
	mix             []float64    // audience share per persona
	entries         []storeEntry // the assortment, ordered by item
	leafEntries     [][]int32    // entry indexes per leaf
	popular         []int32      // entry indexes of the store's most popular items
}

type storeEntry struct {
	item    int32
	price   float64
	inStock bool
}

// entry returns the index of item in the store's assortment, or -1.
func (s *storeInfo) entry(item int32) int {
	i, ok := slices.BinarySearchFunc(s.entries, item, func(e storeEntry, it int32) int { return int(e.item - it) })
	if !ok {
		return -1
	}
	return i
}

// regionCounts splits n stores over regions by weight, each region getting one while
// there are stores to spare.
func regionCounts(regions []regionSpec, n int) []int {
	counts := make([]int, len(regions))
	left := n
	for i := range counts {
		if left > 0 {
			counts[i], left = 1, left-1
		}
	}
	w := make([]float64, len(regions))
	for i, r := range regions {
		w[i] = r.weight
	}
	normalize(w)
	for left > 0 {
		best, gap := 0, math.Inf(-1)
		for i := range counts {
			if d := w[i]*float64(n) - float64(counts[i]); d > gap {
				best, gap = i, d
			}
		}
		counts[best]++
		left--
	}
	return counts
}

// buildStores places stores in regions and cities, gives each a kind, an audience and an
// assortment, and returns the stores and every assortment entry.
func (g *generator) buildStores(r *rand.Rand) ([]*qianmian.Store, []*qianmian.Assortment) {
	regions := regionSpecs()
	kinds := storeKinds()
	kw := make([]float64, len(kinds))
	for i, k := range kinds {
		kw[i] = k.weight
	}
	var stores []*qianmian.Store
	names := map[string]bool{}
	for ri, n := range regionCounts(regions, g.cfg.Stores) {
		cw := make([]float64, len(regions[ri].cities))
		for i, c := range regions[ri].cities {
			cw[i] = c.weight
		}
		for range n {
			city := regions[ri].cities[pick(r, cw)]
			area := city.areas[r.IntN(len(city.areas))]
			ki := pick(r, kw)
			s := g.newStore(r, ri, ki, city)
			name := storeBrands()[r.IntN(len(storeBrands()))] + " " + area.name + " " + kinds[ki].suffix
			for k := 2; names[name]; k++ {
				name = storeBrands()[r.IntN(len(storeBrands()))] + " " + area.name + " " + kinds[ki].suffix
				if k > 4 {
					name += " No." + strconv.Itoa(k)
				}
			}
			names[name] = true
			i := len(g.stores)
			g.storeIDs = append(g.storeIDs, id("store", i, g.cfg.Stores))
			g.stores = append(g.stores, s)
			stores = append(stores, &qianmian.Store{
				ID: g.storeIDs[i], Name: name, Region: regions[ri].name, City: city.name,
				Channel: storeChannel(s), Geo: &qianmian.GeoPoint{Lat: s.geo.Lat, Lon: s.geo.Lon},
				UpdatedAt: g.start.Add(-7 * 24 * time.Hour),
			})
		}
	}
	var all []*qianmian.Assortment
	for i := range g.stores {
		all = append(all, g.buildAssortment(r, i)...)
	}
	return stores, all
}

func storeChannel(s storeInfo) qianmian.StoreChannel {
	switch {
	case s.online && s.offline:
		return qianmian.StoreBoth
	case s.offline:
		return qianmian.StoreOffline
	}
	return qianmian.StoreOnline
}

func (g *generator) newStore(r *rand.Rand, region, kind int, city citySpec) storeInfo {
	k := storeKinds()[kind]
	s := storeInfo{region: region, kind: kind, city: city, size: logNormal(r, 0.6) * k.size}
	switch pick(r, k.channels[:]) {
	case 0:
		s.online = true
	case 1:
		s.offline = true
	default:
		s.online, s.offline = true, true
	}
	s.geo = qianmian.GeoPoint{
		Lat: math.Round((city.lat+between(r, -0.08, 0.08))*1e6) / 1e6,
		Lon: math.Round((city.lon+between(r, -0.08, 0.08))*1e6) / 1e6,
	}
	s.mix = make([]float64, len(g.personas))
	for i, p := range g.personas {
		s.mix[i] = k.audience[p.spec.name] * logNormal(r, 0.35)
	}
	normalize(s.mix)
	return s
}

// buildAssortment draws store si's assortment: a weighted sample of the catalogue without
// replacement, biased to the categories its audience likes and to popular items, plus the
// emerging trends of its region.
func (g *generator) buildAssortment(r *rand.Rand, si int) []*qianmian.Assortment {
	s := &g.stores[si]
	n := len(g.items)
	lo, hi := min(300, n*3/10), min(1500, n*8/10)
	k := lo + int(float64(hi-lo)*r.Float64()*min(1, s.size))
	aud := make([]float64, len(g.leaves))
	for li := range g.leaves {
		for pi, p := range g.personas {
			aud[li] += s.mix[pi] * p.leafW[li]
		}
	}
	// Efraimidis–Spirakis: the k smallest -ln(U)/w are a weighted sample without replacement.
	keys := make([]float64, n)
	for i, it := range g.items {
		w := (0.01 + aud[it.leaf]) / float64(len(g.leaves[it.leaf].items)) * math.Sqrt(it.pop)
		keys[i] = -math.Log(1-r.Float64()) / w
	}
	for _, t := range g.trends {
		if t.region == s.region {
			keys[t.item] = -1
		}
	}
	chosen := smallest(keys, k)
	slices.Sort(chosen)
	return g.fillAssortment(r, si, chosen)
}

// smallest returns the indexes of the k smallest keys (ties to the lower index), in no
// particular order. It keeps a max-heap of the best k so far: O(n log k).
func smallest(keys []float64, k int) []int32 {
	h := make([]int32, 0, k)
	less := func(a, b int32) bool { // a is worse than b: a larger key, or equal and later
		return keys[a] > keys[b] || keys[a] == keys[b] && a > b
	}
	down := func(i int) {
		for {
			c := 2*i + 1
			if c >= len(h) {
				return
			}
			if c+1 < len(h) && less(h[c+1], h[c]) {
				c++
			}
			if !less(h[c], h[i]) {
				return
			}
			h[i], h[c] = h[c], h[i]
			i = c
		}
	}
	for i := range keys {
		x := int32(i)
		switch {
		case len(h) < k:
			h = append(h, x)
			for j := len(h) - 1; j > 0 && less(h[j], h[(j-1)/2]); j = (j - 1) / 2 {
				h[j], h[(j-1)/2] = h[(j-1)/2], h[j]
			}
		case k > 0 && less(h[0], x):
			h[0] = x
			down(0)
		}
	}
	return h
}

// fillAssortment prices the chosen items for store si and indexes them.
func (g *generator) fillAssortment(r *rand.Rand, si int, chosen []int32) []*qianmian.Assortment {
	s := &g.stores[si]
	s.leafEntries = make([][]int32, len(g.leaves))
	out := make([]*qianmian.Assortment, 0, len(chosen))
	for _, it := range chosen {
		info := &g.items[it]
		e := storeEntry{item: it, price: roundCents(info.price * between(r, 0.9, 1.05)), inStock: r.Float64() >= 0.05}
		if info.discontinued != 0 {
			e.inStock = false
		}
		ei := int32(len(s.entries))
		s.entries = append(s.entries, e)
		s.leafEntries[info.leaf] = append(s.leafEntries[info.leaf], ei)
		out = append(out, &qianmian.Assortment{
			StoreID: g.storeIDs[si], ItemID: g.itemIDs[it], Price: e.price, InStock: e.inStock,
			CommissionRate: math.Round(between(r, 0.05, 0.20)*1000) / 1000,
			UpdatedAt:      time.Unix(max(info.launch, g.startUnix-86400), 0).UTC(),
		})
	}
	pop := make([]int32, len(s.entries))
	for i := range pop {
		pop[i] = int32(i)
	}
	slices.SortStableFunc(pop, func(a, b int32) int {
		return cmp.Compare(g.items[s.entries[b].item].pop, g.items[s.entries[a].item].pop)
	})
	s.popular = pop[:min(len(pop), 30)]
	return out
}
