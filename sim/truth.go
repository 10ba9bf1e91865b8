package sim

import (
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/qianmian/qianmian"
)

// Truth is what the generator knows and the engine must discover: who is which persona,
// whom each store serves, what people rebuy, what they look for in vain, what is catching
// on where, and which anonymous identities belong to whom.
type Truth struct {
	Seed  uint64    `json:"seed"`
	Start time.Time `json:"start"` // the first moment of the history
	End   time.Time `json:"end"`   // every event is strictly before End

	Personas         []Persona             `json:"personas"`
	Users            map[string]UserTruth  `json:"users"`  // by user id
	Stores           map[string]StoreTruth `json:"stores"` // by store id
	RepeatCategories []RepeatCategory      `json:"repeat_categories"`
	UnmetQueries     []UnmetQuery          `json:"unmet_queries"`
	Trends           []Trend               `json:"trends"`
	Identities       []IdentityTruth       `json:"identities"`
	Sample           Sample                `json:"sample"`
}

// UserTruth is a consumer's hidden side.
type UserTruth struct {
	Persona     string `json:"persona"`
	Region      string `json:"region"`
	HomeStore   string `json:"home_store"`
	SecondStore string `json:"second_store,omitempty"`
	// Activity scales the persona's sessions per week for this consumer (mean 1, heavy tail).
	Activity float64 `json:"activity"`
}

// StoreTruth is whom a store serves.
type StoreTruth struct {
	Kind     string             `json:"kind"`     // campus, cbd, suburban_family, community, mall, tech
	Audience map[string]float64 `json:"audience"` // persona name → expected share of its consumers
}

// RepeatCategory is a leaf category people rebuy, about every IntervalDays.
type RepeatCategory struct {
	Category     string  `json:"category"`
	IntervalDays float64 `json:"interval_days"`
}

// UnmetQuery is a search for something the catalogue does not carry.
type UnmetQuery struct {
	Query    string   `json:"query"`
	Category string   `json:"category"` // where it would sit in the tree
	Personas []string `json:"personas"` // who searches for it
}

// Trend is an item whose popularity rises in one region from Start to the end of the history.
type Trend struct {
	ItemID   string    `json:"item_id"`
	Title    string    `json:"title"`
	Category string    `json:"category"`
	Region   string    `json:"region"`
	Start    time.Time `json:"start"`
	// Strength is the chance, at the end of the history, that a session of a consumer in the
	// region includes the item; it rises linearly from 0 at Start.
	Strength float64 `json:"strength"`
}

// IdentityTruth is an identity a consumer uses in some events instead of their user id.
// LinkedAt is the first event that carries both, nil if none does.
type IdentityTruth struct {
	UserID   string               `json:"user_id"`
	Identity qianmian.IdentityRef `json:"identity"`
	LinkedAt *time.Time           `json:"linked_at,omitempty"`
}

// Sample names ids the demo shows: the busiest store with an online shop, the busiest
// such store in another region, the supplier with most items in the first store, and the
// most active consumer of the first store who consented to personalisation and never
// browsed anonymously.
type Sample struct {
	StoreID      string `json:"store_id"`
	OtherStoreID string `json:"other_store_id"`
	SupplierID   string `json:"supplier_id"`
	UserID       string `json:"user_id"`
}

// PersonaOf returns the persona name of a user id, "" if unknown.
func (t *Truth) PersonaOf(userID string) string { return t.Users[userID].Persona }

// IsRepeatCategory reports whether the category key ("grocery/dairy/milk") is one people rebuy.
func (t *Truth) IsRepeatCategory(key string) bool {
	for _, c := range t.RepeatCategories {
		if c.Category == key {
			return true
		}
	}
	return false
}

// trendInfo is an emerging trend in compact form.
type trendInfo struct {
	item     int32
	region   int
	start    int64
	strength float64
}

// pickTrends chooses up to cfg.Trends items, each in its own region that has stores, from
// categories that catch on, preferring recent launches.
func (g *generator) pickTrends(r *rand.Rand) {
	counts := regionCounts(regionSpecs(), g.cfg.Stores)
	var regions []int
	for i, n := range counts {
		if n > 0 {
			regions = append(regions, i)
		}
	}
	r.Shuffle(len(regions), func(i, j int) { regions[i], regions[j] = regions[j], regions[i] })
	leaves := trendLeaves()
	r.Shuffle(len(leaves), func(i, j int) { leaves[i], leaves[j] = leaves[j], leaves[i] })
	start := g.endUnix - min(14*86400, (g.endUnix-g.startUnix)/2)
	for k := 0; k < g.cfg.Trends && k < len(regions) && k < len(leaves); k++ {
		var w []float64
		var cands []int32
		for li := range g.leaves {
			if g.leaves[li].spec.key != leaves[k] {
				continue
			}
			for _, it := range g.leaves[li].items {
				info := &g.items[it]
				if info.discontinued != 0 || info.launch >= start || info.tier == tierLuxury {
					continue
				}
				recent := 1.0
				if start-info.launch < 90*86400 {
					recent = 10
				}
				cands, w = append(cands, it), append(w, recent)
			}
		}
		if len(cands) == 0 {
			continue
		}
		g.trends = append(g.trends, trendInfo{item: cands[pick(r, w)], region: regions[k], start: start, strength: 0.2})
	}
}

// truth assembles the ground truth of a built world.
func (g *generator) truth(w *World) *Truth {
	regions := regionSpecs()
	t := &Truth{Seed: g.cfg.Seed, Start: g.start, End: g.end,
		Users: make(map[string]UserTruth, len(g.users)), Stores: make(map[string]StoreTruth, len(g.stores))}
	for i := range g.personas {
		t.Personas = append(t.Personas, g.personaTruth(&g.personas[i]))
	}
	for i, p := range g.users {
		ut := UserTruth{Persona: g.personas[p.persona].spec.name, Region: regions[g.stores[p.home].region].name,
			HomeStore: g.storeIDs[p.home], Activity: round4(p.activity)}
		if p.second >= 0 {
			ut.SecondStore = g.storeIDs[p.second]
		}
		t.Users[g.userIDs[i]] = ut
	}
	for i, s := range g.stores {
		st := StoreTruth{Kind: storeKinds()[s.kind].name, Audience: map[string]float64{}}
		for pi, share := range s.mix {
			st.Audience[g.personas[pi].spec.name] = round4(share)
		}
		t.Stores[g.storeIDs[i]] = st
	}
	for _, l := range g.leaves {
		if l.spec.repeat > 0 {
			t.RepeatCategories = append(t.RepeatCategories, RepeatCategory{l.spec.key, l.spec.repeat})
		}
	}
	for _, u := range g.unmet {
		t.UnmetQueries = append(t.UnmetQueries, UnmetQuery{u.query, u.category, u.personas})
	}
	for _, tr := range g.trends {
		it := w.Items[tr.item]
		t.Trends = append(t.Trends, Trend{ItemID: it.ID, Title: it.Title, Category: it.CategoryKey(),
			Region: regions[tr.region].name, Start: time.Unix(tr.start, 0).UTC(), Strength: tr.strength})
	}
	t.Identities = g.identityTruth()
	t.Sample = g.sample(w)
	return t
}

func (g *generator) identityTruth() []IdentityTruth {
	var out []IdentityTruth
	for i, p := range g.users {
		if p.anon {
			at := time.Unix(p.loginAt, 0).UTC()
			out = append(out, IdentityTruth{UserID: g.userIDs[i], Identity: g.deviceRef(int32(i)), LinkedAt: &at})
		}
		if p.card {
			it := IdentityTruth{UserID: g.userIDs[i], Identity: g.cardRef(int32(i))}
			if p.cardLinkAt != 0 {
				at := time.Unix(p.cardLinkAt, 0).UTC()
				it.LinkedAt = &at
			}
			out = append(out, it)
		}
	}
	return out
}

// deviceRef is the app device consumer u browses from before logging in.
func (g *generator) deviceRef(u int32) qianmian.IdentityRef {
	v := mix64(mix64(g.cfg.Seed^0xde71ce) ^ uint64(u))
	return qianmian.IdentityRef{Channel: qianmian.ChannelApp, Type: qianmian.IdentityDevice,
		Value: "dev-" + strconv.FormatUint(v, 16)}
}

// cardRef is consumer u's offline membership card.
func (g *generator) cardRef(u int32) qianmian.IdentityRef {
	v := mix64(mix64(g.cfg.Seed^0xca4d) ^ uint64(u))
	return qianmian.IdentityRef{Channel: qianmian.ChannelOffline, Type: qianmian.IdentityMembership,
		Value: "mc-" + strconv.FormatUint(v, 10)}
}

// sample picks the ids the demo shows (see Sample).
func (g *generator) sample(w *World) Sample {
	score := make([]float64, len(g.stores))
	for _, p := range g.users {
		score[p.home] += p.activity
	}
	best := func(ok func(s *storeInfo) bool) int {
		b := -1
		for i := range g.stores {
			if g.stores[i].online && ok(&g.stores[i]) && (b < 0 || score[i] > score[b]) {
				b = i
			}
		}
		return b
	}
	si := best(func(*storeInfo) bool { return true })
	if si < 0 {
		si = 0
	}
	oi := best(func(s *storeInfo) bool { return s.region != g.stores[si].region })
	if oi < 0 {
		oi = (si + 1) % len(g.stores)
	}
	out := Sample{StoreID: g.storeIDs[si], OtherStoreID: g.storeIDs[oi]}
	bestUser := -1
	for i, p := range g.users {
		if int(p.home) == si && !p.anon && w.Users[i].Consent.Personalization &&
			(bestUser < 0 || p.activity > g.users[bestUser].activity) {
			bestUser = i
		}
	}
	if bestUser >= 0 {
		out.UserID = g.userIDs[bestUser]
	}
	perSupplier := map[int]int{}
	topSupplier := 0
	for _, e := range g.stores[si].entries {
		s := g.brands[g.items[e.item].brand].supplier
		perSupplier[s]++
		if perSupplier[s] > perSupplier[topSupplier] || perSupplier[s] == perSupplier[topSupplier] && s < topSupplier {
			topSupplier = s
		}
	}
	out.SupplierID = id("sup", topSupplier, g.cfg.Suppliers)
	return out
}
