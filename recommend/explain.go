package recommend

import (
	"crypto/rand"
	"encoding/hex"
	"math"

	"github.com/qianmian/qianmian"
)

// explain turns the picked candidates into the response, with scores made non-increasing
// down the list (diversification and top-up may place a lower score above a higher one).
func (q *query) explain() []qianmian.ScoredItem {
	sc := q.sc
	out := make([]qianmian.ScoredItem, 0, len(sc.picked))
	prev := float32(math.Inf(1))
	for _, k := range sc.picked {
		c := &sc.cands[k]
		score := min(c.final, prev)
		prev = score
		out = append(out, qianmian.ScoredItem{
			ItemID:  q.snap.items[c.item].id,
			Score:   math.Round(float64(score)*1e4) / 1e4,
			Reasons: q.reasons(c),
			Sources: q.sources(c),
		})
		if cat := q.snap.catOf(c.item); cat >= 0 {
			sc.catCount[cat] = 0
		}
	}
	return out
}

// reasons returns up to two reasons a person can read, from the sources that contributed
// most to the candidate's score.
func (q *query) reasons(c *candidate) []string {
	w := [numSources]float32{float32(q.w.Neighbors), float32(q.w.Category), float32(q.w.StorePopular),
		float32(q.w.RegionPopular), float32(q.w.Trending), float32(q.w.Restock), float32(q.w.Model)}
	var order [numSources]int
	n := 0
	for s := range numSources {
		if w[s]*c.src[s] <= 0 {
			continue
		}
		j := n
		for ; j > 0 && w[order[j-1]]*c.src[order[j-1]] < w[s]*c.src[s]; j-- {
			order[j] = order[j-1]
		}
		order[j] = s
		n++
	}
	reasons := make([]string, 0, 2)
	for _, s := range order[:n] {
		if len(reasons) == 2 {
			break
		}
		if r := q.reasonText(c, s); r != "" && (len(reasons) == 0 || reasons[0] != r) {
			reasons = append(reasons, r)
		}
	}
	if len(reasons) == 0 {
		reasons = append(reasons, q.storeReason(c.storeWhy))
	}
	return reasons
}

func (q *query) reasonText(c *candidate, s int) string {
	switch s {
	case srcNeighbors:
		if c.anchor < 0 {
			return ""
		}
		title := q.snap.items[c.anchor].title
		switch c.anchorKind {
		case kindPurchase:
			return "goes with " + title + ", which you bought"
		case kindCart:
			return "similar to " + title + " in your cart"
		case kindFavorite:
			return "similar to your favourite " + title
		}
		return "viewed similar: " + title
	case srcCategory:
		if c.cat >= 0 && q.snap.cats[c.cat].name != "" {
			return "because you like " + q.snap.cats[c.cat].name
		}
	case srcStore:
		return q.storeReason(c.storeWhy)
	case srcRegion:
		return "popular in " + q.snap.regionName(q.st.region) + " this week"
	case srcTrending:
		if c.regionHot {
			return "trending in " + q.snap.regionName(q.st.region)
		}
		return "trending in this store"
	case srcRestock:
		return "bought before — time to restock"
	case srcModel:
		return q.modelReason(c)
	}
	return ""
}

func (q *query) storeReason(why uint8) string {
	switch why {
	case whyStore:
		return "popular in this store this week"
	case whyRegion:
		return "popular in " + q.snap.regionName(q.st.region) + " this week"
	case whyGlobal:
		return "popular across the platform this week"
	}
	return "in stock at this store"
}

func (q *query) sources(c *candidate) []string {
	var out []string
	for s := range numSources {
		if c.src[s] > 0 {
			out = append(out, sourceNames[s])
		}
	}
	if out == nil {
		out = []string{sourceNames[srcStore]}
	}
	return out
}

// newRecID returns a random 96-bit id in hex.
func newRecID() string {
	var b [12]byte
	rand.Read(b[:]) // never fails: crypto/rand panics rather than return an error
	return hex.EncodeToString(b[:])
}
