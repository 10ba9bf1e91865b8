package sim

import (
	"cmp"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/qianmian/qianmian"
)

// brandInfo is a brand: a supplier's line of goods in one second-level category.
type brandInfo struct {
	name     string
	group    string
	tier     int
	supplier int
}

// itemInfo is the compact form of an item that histories are generated from.
type itemInfo struct {
	leaf         int16
	brand        int16
	tier         uint8
	typ, desc    uint8
	size         int8 // -1 when the leaf has no sizes
	pop          float64
	price        float64
	launch       int64 // unix seconds; not seen before
	discontinued int64 // unix seconds; not sold from then on (0: never)
}

// buildBrands assigns brands to suppliers in contiguous runs, so that a supplier's brands
// tend to share a root category, and returns the suppliers.
func (g *generator) buildBrands(r *rand.Rand) []*qianmian.Supplier {
	specs := brandSpecs()
	n := len(specs)
	lines := brandLines()
	for k := 0; len(specs) < g.cfg.Suppliers; k++ {
		base := specs[k%n]
		specs = append(specs, brandSpec{base.group, base.name + " " + lines[(k/n)%len(lines)], base.tier})
	}
	s := g.cfg.Suppliers
	regions := regionSpecs()
	suppliers := make([]*qianmian.Supplier, s)
	for i, b := range specs {
		g.brands = append(g.brands, brandInfo{name: b.name, group: b.group, tier: b.tier, supplier: i * s / len(specs)})
	}
	for i := range suppliers {
		first := g.brands[(i*len(specs)+s-1)/s]
		root, _, _ := strings.Cut(first.group, "/")
		reg := regions[r.IntN(len(regions))]
		city := reg.cities[r.IntN(len(reg.cities))]
		suppliers[i] = &qianmian.Supplier{
			ID:        id("sup", i, s),
			Name:      first.name + " " + industry(root) + " (" + city.name + ") Co., Ltd.",
			Region:    reg.name,
			UpdatedAt: g.start.Add(-30 * 24 * time.Hour),
		}
	}
	return suppliers
}

// leafCounts splits n items over the leaves by their shares (largest remainder).
func (g *generator) leafCounts(n int) []int {
	w := make([]float64, len(g.leaves))
	for i, l := range g.leaves {
		w[i] = l.spec.share
	}
	normalize(w)
	counts := make([]int, len(w))
	rem := make([]float64, len(w))
	left := n
	for i, x := range w {
		counts[i] = int(x * float64(n))
		rem[i] = x*float64(n) - float64(counts[i])
		left -= counts[i]
	}
	order := make([]int, len(w))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(rem[b], rem[a]) })
	for i := 0; left > 0; i, left = (i+1)%len(order), left-1 {
		counts[order[i]]++
	}
	return counts
}

// buildItems generates the catalogue leaf by leaf, then shuffles it so that item ids say
// nothing about categories.
func (g *generator) buildItems(r *rand.Rand) []*qianmian.Item {
	byGroup := map[string][]int{}
	for i, b := range g.brands {
		byGroup[b.group] = append(byGroup[b.group], i)
	}
	for li, n := range g.leafCounts(g.cfg.Items) {
		brands := byGroup[g.leaves[li].group]
		bw := make([]float64, len(brands))
		for k, b := range brands {
			bw[k] = [numTiers]float64{1.2, 1.5, 1, 0.5}[g.brands[b].tier]
		}
		for range n {
			g.items = append(g.items, g.newItem(r, li, brands[pick(r, bw)]))
		}
	}
	r.Shuffle(len(g.items), func(i, j int) { g.items[i], g.items[j] = g.items[j], g.items[i] })
	items := make([]*qianmian.Item, len(g.items))
	for i, it := range g.items {
		g.leaves[it.leaf].items = append(g.leaves[it.leaf].items, int32(i))
		g.itemIDs = append(g.itemIDs, id("item", i, len(g.items)))
		items[i] = g.itemEntity(r, i)
	}
	g.tagBestsellers(items)
	return items
}

// newItem draws an item of leaf li and brand b: its variant, price, popularity and life.
func (g *generator) newItem(r *rand.Rand, li, b int) itemInfo {
	spec := &g.leaves[li].spec
	tier := g.brands[b].tier
	it := itemInfo{leaf: int16(li), brand: int16(b), tier: uint8(tier), size: -1}
	it.typ = uint8(r.IntN(len(spec.types)))
	it.desc = uint8(r.IntN(len(spec.desc.values)))
	if len(spec.size.values) > 0 {
		it.size = int8(r.IntN(len(spec.size.values)))
	}
	it.price = listPrice(spec.median * tierPrice()[tier] * logNormal(r, 0.25))
	it.pop = logNormal(r, 1.0) * [numTiers]float64{1.2, 1.1, 0.9, 0.6}[tier]
	h := float64(g.endUnix - g.startUnix)
	switch u := r.Float64(); {
	case u < 0.05: // launched during the history
		it.launch = g.startUnix + int64(h*between(r, 0.05, 0.9))
		it.pop *= 1.5
	default:
		it.launch = g.startUnix - int64(between(r, 1, 330)*86400)
	}
	if r.Float64() < 0.02 && it.launch < g.startUnix {
		it.discontinued = g.startUnix + int64(h*between(r, 0.1, 0.6))
	}
	return it
}

// itemEntity renders item i as a domain Item.
func (g *generator) itemEntity(r *rand.Rand, i int) *qianmian.Item {
	it := &g.items[i]
	leaf := &g.leaves[it.leaf]
	spec := &leaf.spec
	b := g.brands[it.brand]
	desc := spec.desc.values[it.desc]
	title := b.name + " " + desc + " " + spec.types[it.typ]
	attrs := map[string]string{"price_band": tierNames()[it.tier], spec.desc.name: desc, "type": spec.types[it.typ]}
	if it.size >= 0 {
		title += " " + spec.size.values[it.size]
		attrs[spec.size.name] = spec.size.values[it.size]
	}
	for _, a := range spec.extra {
		attrs[a.name] = a.values[r.IntN(len(a.values))]
	}
	var tags []string
	for _, t := range spec.tags {
		if r.Float64() < 0.3 {
			tags = append(tags, t)
		}
	}
	if g.endUnix-it.launch < 30*86400 {
		tags = append(tags, "new")
	}
	item := &qianmian.Item{
		ID:         g.itemIDs[i],
		SupplierID: id("sup", b.supplier, g.cfg.Suppliers),
		Title:      title,
		Category:   slices.Clone(leaf.path),
		Brand:      b.name,
		Price:      it.price,
		Attributes: attrs,
		Tags:       tags,
		Status:     qianmian.ItemActive,
		LaunchedAt: time.Unix(it.launch, 0).UTC(),
		UpdatedAt:  time.Unix(max(it.launch, g.startUnix-86400), 0).UTC(),
	}
	if it.discontinued != 0 {
		item.Status = qianmian.ItemInactive
		item.UpdatedAt = time.Unix(it.discontinued, 0).UTC()
	}
	return item
}

// tagBestsellers tags the most popular 3% of items.
func (g *generator) tagBestsellers(items []*qianmian.Item) {
	pops := make([]float64, len(g.items))
	for i, it := range g.items {
		pops[i] = it.pop
	}
	slices.Sort(pops)
	cut := pops[int(math.Floor(float64(len(pops))*0.97))]
	for i, it := range g.items {
		if it.pop >= cut && it.discontinued == 0 {
			items[i].Tags = append(items[i].Tags, "bestseller")
		}
	}
}
