package recommend

import (
	"cmp"
	"slices"
	"strings"
	"time"

	"github.com/qianmian/qianmian"
	"github.com/qianmian/qianmian/model"
)

// registry gives items and categories engine-wide dense indexes. It only grows, so the
// indexes kept in live state stay valid across reloads. Only Reload writes it (under the
// engine's reload lock); snapshots carry their own read-only clones.
type registry struct {
	items *model.IDMap
	cats  *model.IDMap // category keys, leaves and their parents
}

// snapshot is everything a request reads besides live state. It is immutable once built
// and replaced as a whole by Reload, so requests never wait for a reload.
type snapshot struct {
	items     []itemInfo // by registry index; absent items keep a zero entry
	itemIndex *model.IDMap
	cats      []catInfo // by registry index

	stores      map[string]*storeView
	prepared    struct{ stores, bytes int64 } // what the learned model prepared for stores
	regions     []regionView
	regionIndex map[string]int32

	// Co-occurrence neighbours in registry indexes: item i's are [nptr[i], nptr[i+1]).
	nptr []int32
	nbr  []int32
	nsim []float32

	// learned scores live histories in its own item index space: fromModel maps it to the
	// registry (-1 for items not active here), toModel back. nil without a learned model.
	learned     model.HistoryScorer
	learnedName string
	fromModel   []int32
	toModel     []int32

	version   int64     // model version, 0 for the popularity fallback
	trainedAt time.Time // when the model was trained
	fallback  bool
}

type itemInfo struct {
	id, title, brand string
	cat, parent      int32 // leaf category and its parent, -1 when none
	price            float64
	active           bool // in the catalogue and active: may be recommended
}

type catInfo struct {
	name  string // the leaf name people read ("milk")
	rebuy bool   // people buy in it again: bought items may come back
}

// storeView is one store's shop: its in-stock active items ranked without personalisation,
// and the same items grouped by leaf category.
type storeView struct {
	id     string
	region int32 // index into snapshot.regions, -1 when unknown
	stock  bitset
	// modelStock is the stock in the learned model's item indexes, sorted: what a
	// SubsetScorer scores instead of the whole catalogue. nil without a learned model.
	modelStock []int32
	// modelPrep is what a PreparedScorer laid out for modelStock; nil when the model
	// prepares nothing or EngineConfig.PreparedBytes was spent on other stores.
	modelPrep any
	ranked    []int32   // best first
	score     []float32 // ranked's static score, normalised to the best = 1
	why       []uint8   // what made each ranked item popular: whyStore, whyRegion…
	byCat     map[int32][]int32
}

// Why a store-ranked item is there.
const (
	whyStock  uint8 = iota // in stock, no popularity signal yet
	whyStore               // sold or liked in this store this week
	whyRegion              // popular in the store's region this week
	whyGlobal              // popular across the platform
)

type regionView struct {
	name  string
	top   []int32 // active items, best first
	score []float32
}

func (s *snapshot) neighbors(i int32) ([]int32, []float32) {
	if i < 0 || int(i) >= len(s.nptr)-1 {
		return nil, nil
	}
	lo, hi := s.nptr[i], s.nptr[i+1]
	return s.nbr[lo:hi], s.nsim[lo:hi]
}

// item returns the registry index of an item the snapshot knows, or -1.
func (s *snapshot) item(id string) int32 {
	if i, ok := s.itemIndex.Index(id); ok && int(i) < len(s.items) {
		return i
	}
	return -1
}

// catOf returns item i's leaf category, or -1.
func (s *snapshot) catOf(i int32) int32 {
	if i < 0 || int(i) >= len(s.items) {
		return -1
	}
	return s.items[i].cat
}

func (s *snapshot) regionName(r int32) string {
	if r < 0 || int(r) >= len(s.regions) {
		return ""
	}
	return s.regions[r].name
}

// bitset is a dense set of item indexes.
type bitset []uint64

func newBitset(n int) bitset { return make(bitset, (n+63)/64) }

func (b bitset) has(i int32) bool {
	return i >= 0 && int(i>>6) < len(b) && b[i>>6]&(1<<(uint(i)&63)) != 0
}

func (b bitset) set(i int32) { b[i>>6] |= 1 << (uint(i) & 63) }

// Weights of the parts of a store's static ranking: its own popularity first, then its
// region's, then the platform's, so a new store still has a sensible shop.
const (
	staticRegionWeight = 0.3
	staticGlobalWeight = 0.1
)

// buildSnapshot combines the catalogue and a trained (or fallback) artefact, remapping the
// artefact's indexes onto the registry.
// prepBudget bounds the bytes of what the learned model prepares for the stores' stock
// (EngineConfig.PreparedBytes; 0 or less prepares nothing).
func buildSnapshot(reg *registry, c *catalog, a *artefact, version int64, prepBudget int64) *snapshot {
	s := &snapshot{version: version, trainedAt: time.Unix(a.TrainedAt, 0).UTC(), fallback: a.Neighbors == nil}
	type catName struct {
		idx  int32
		name string
	}
	var names []catName
	for _, it := range c.items {
		reg.items.Add(it.ID)
		if len(it.Category) > 1 {
			p := reg.cats.Add(strings.Join(it.Category[:len(it.Category)-1], "/"))
			names = append(names, catName{p, it.Category[len(it.Category)-2]})
		}
		names = append(names, catName{reg.cats.Add(it.CategoryKey()), it.LeafCategory()})
	}
	s.itemIndex = reg.items.Clone()
	s.items = make([]itemInfo, reg.items.Len())
	for i := range s.items {
		s.items[i].cat, s.items[i].parent = -1, -1
	}
	for _, it := range c.items {
		i, _ := reg.items.Index(it.ID)
		info := itemInfo{id: it.ID, title: it.Title, brand: it.Brand, price: it.Price, parent: -1,
			active: it.Status == "" || it.Status == qianmian.ItemActive}
		info.cat, _ = reg.cats.Index(it.CategoryKey())
		if len(it.Category) > 1 {
			info.parent, _ = reg.cats.Index(strings.Join(it.Category[:len(it.Category)-1], "/"))
		}
		s.items[i] = info
	}
	s.cats = make([]catInfo, reg.cats.Len())
	for _, n := range names {
		s.cats[n.idx].name = n.name
	}
	for _, c := range a.Rebuy {
		if int(c) < a.Categories.Len() {
			if i, ok := reg.cats.Index(a.Categories.ID(c)); ok {
				s.cats[i].rebuy = true
			}
		}
	}
	toReg := s.remapItems(a.Items)
	s.remapNeighbors(a, toReg)
	if a.Learned != nil {
		s.learned, s.learnedName, s.fromModel = a.Learned, a.LearnedName, toReg
		s.toModel = make([]int32, len(s.items))
		for r := range s.toModel {
			s.toModel[r] = -1
		}
		for m, r := range toReg {
			if r >= 0 {
				s.toModel[r] = int32(m)
			}
		}
	}
	global := make([]float32, len(s.items))
	items, scores := a.GlobalPop.Top(0)
	for k, m := range items {
		if r := lookup(toReg, m); r >= 0 {
			global[r] = scores[k]
		}
	}
	s.buildRegions(c, a, toReg)
	s.buildStores(c, a, toReg, global, prepBudget)
	return s
}

// remapItems returns, for each artefact item, its registry index if active, else -1.
func (s *snapshot) remapItems(items *model.IDMap) []int32 {
	toReg := make([]int32, items.Len())
	for m := range toReg {
		toReg[m] = -1
		if r := s.item(items.ID(int32(m))); r >= 0 && s.items[r].active {
			toReg[m] = r
		}
	}
	return toReg
}

func lookup(toReg []int32, m int32) int32 {
	if m < 0 || int(m) >= len(toReg) {
		return -1
	}
	return toReg[m]
}

func (s *snapshot) remapNeighbors(a *artefact, toReg []int32) {
	s.nptr = make([]int32, len(s.items)+1)
	if a.Neighbors == nil {
		return
	}
	fromReg := make([]int32, len(s.items))
	for r := range fromReg {
		fromReg[r] = -1
	}
	for m, r := range toReg {
		if r >= 0 {
			fromReg[r] = int32(m)
		}
	}
	for r, m := range fromReg {
		if m >= 0 {
			nbr, sim := a.Neighbors.Neighbors(m)
			for k, j := range nbr {
				if rj := lookup(toReg, j); rj >= 0 {
					s.nbr = append(s.nbr, rj)
					s.nsim = append(s.nsim, sim[k])
				}
			}
		}
		s.nptr[r+1] = int32(len(s.nbr))
	}
}

func (s *snapshot) buildRegions(c *catalog, a *artefact, toReg []int32) {
	s.regionIndex = map[string]int32{}
	for _, st := range c.stores {
		if _, ok := s.regionIndex[st.Region]; ok || st.Region == "" {
			continue
		}
		r := regionView{name: st.Region}
		if g, ok := a.Regions.Index(st.Region); ok {
			items, scores := a.RegionPop.Top(g)
			for k, m := range items {
				if i := lookup(toReg, m); i >= 0 {
					r.top = append(r.top, i)
					r.score = append(r.score, scores[k])
				}
			}
		}
		s.regionIndex[st.Region] = int32(len(s.regions))
		s.regions = append(s.regions, r)
	}
}

func (s *snapshot) buildStores(c *catalog, a *artefact, toReg []int32, global []float32, prepBudget int64) {
	s.stores = make(map[string]*storeView, len(c.stores))
	own := make([]float32, len(s.items))
	region := make([]float32, len(s.items))
	for _, st := range c.stores {
		v := &storeView{id: st.ID, region: -1, stock: newBitset(len(s.items))}
		if r, ok := s.regionIndex[st.Region]; ok {
			v.region = r
		}
		var stocked []int32
		for _, id := range c.stock[st.ID] {
			if i := s.item(id); i >= 0 && s.items[i].active && !v.stock.has(i) {
				v.stock.set(i)
				stocked = append(stocked, i)
			}
		}
		if g, ok := a.Stores.Index(st.ID); ok {
			items, scores := a.StorePop.Top(g)
			for k, m := range items {
				if i := lookup(toReg, m); i >= 0 {
					own[i] = scores[k]
				}
			}
		}
		if v.region >= 0 {
			rv := s.regions[v.region]
			for k, i := range rv.top {
				region[i] = rv.score[k]
			}
		}
		if s.learned != nil {
			v.modelStock = make([]int32, 0, len(stocked))
			for _, i := range stocked {
				if m := s.toModel[i]; m >= 0 {
					v.modelStock = append(v.modelStock, m)
				}
			}
			slices.Sort(v.modelStock)
			if ps, ok := s.learned.(model.PreparedScorer); ok && s.prepared.bytes < prepBudget {
				var n int
				if v.modelPrep, n = ps.PrepareSubset(v.modelStock); v.modelPrep != nil {
					s.prepared.stores++
					s.prepared.bytes += int64(n)
				}
			}
		}
		v.rank(stocked, own, region, global)
		v.groupByCategory(s.items)
		for _, i := range stocked {
			own[i], region[i] = 0, 0
		}
		if v.region >= 0 {
			for _, i := range s.regions[v.region].top {
				region[i] = 0
			}
		}
		s.stores[st.ID] = v
	}
}

// rank orders the store's stocked items by their static score.
func (v *storeView) rank(stocked []int32, own, region, global []float32) {
	var maxOwn, maxRegion, maxGlobal float32
	for _, i := range stocked {
		maxOwn, maxRegion, maxGlobal = max(maxOwn, own[i]), max(maxRegion, region[i]), max(maxGlobal, global[i])
	}
	norm := func(x, m float32) float32 {
		if m <= 0 {
			return 0
		}
		return x / m
	}
	type entry struct {
		item  int32
		score float32
		why   uint8
	}
	entries := make([]entry, len(stocked))
	for k, i := range stocked {
		o := norm(own[i], maxOwn)
		r := staticRegionWeight * norm(region[i], maxRegion)
		g := staticGlobalWeight * norm(global[i], maxGlobal)
		e := entry{item: i, score: o + r + g}
		switch {
		case e.score == 0:
			e.why = whyStock
		case o >= r && o >= g:
			e.why = whyStore
		case r >= g:
			e.why = whyRegion
		default:
			e.why = whyGlobal
		}
		entries[k] = e
	}
	slices.SortFunc(entries, func(a, b entry) int {
		if a.score != b.score {
			return cmp.Compare(b.score, a.score)
		}
		return cmp.Compare(a.item, b.item)
	})
	top := float32(1)
	if len(entries) > 0 && entries[0].score > 0 {
		top = entries[0].score
	}
	v.ranked = make([]int32, len(entries))
	v.score = make([]float32, len(entries))
	v.why = make([]uint8, len(entries))
	for k, e := range entries {
		v.ranked[k], v.score[k], v.why[k] = e.item, e.score/top, e.why
	}
}

// groupByCategory lists the ranked items of each leaf category, best first.
func (v *storeView) groupByCategory(items []itemInfo) {
	order := slices.Clone(v.ranked)
	// Stable: within a category the store's ranking order is kept.
	slices.SortStableFunc(order, func(a, b int32) int { return cmp.Compare(items[a].cat, items[b].cat) })
	v.byCat = map[int32][]int32{}
	for k := 0; k < len(order); {
		c, start := items[order[k]].cat, k
		for k < len(order) && items[order[k]].cat == c {
			k++
		}
		v.byCat[c] = order[start:k:k]
	}
}
