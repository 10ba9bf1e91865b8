package sim

import (
	"maps"
	"math"
	"math/rand/v2"
	"slices"
	"strings"

	"github.com/qianmian/qianmian"
)

// personaInfo is a persona compiled against the leaves and days of a world.
type personaInfo struct {
	spec    personaSpec
	leafW   []float64 // interest per leaf, summing to 1
	hourCum [2][]float64
	locs    [2][24]locMix
	dayCum  []float64
}

// leafFloor is every persona's interest in every leaf, before normalising: people look
// beyond their main interests now and then.
const leafFloor = 0.08

func (g *generator) buildPersonas() {
	for _, s := range personaSpecs() {
		p := personaInfo{spec: s, leafW: make([]float64, len(g.leaves))}
		for i := range p.leafW {
			p.leafW[i] = leafFloor
		}
		// Sorted keys: float sums must not depend on map order.
		for _, prefix := range slices.Sorted(maps.Keys(s.interests)) {
			var match []int
			for i, l := range g.leaves {
				if l.spec.key == prefix || strings.HasPrefix(l.spec.key, prefix+"/") {
					match = append(match, i)
				}
			}
			for _, i := range match {
				p.leafW[i] += s.interests[prefix] / float64(len(match))
			}
		}
		normalize(p.leafW)
		for wk := range 2 {
			hw := make([]float64, 24)
			for h := range hw {
				hw[h] = 0.04
				p.locs[wk][h] = home()
			}
			for _, sl := range s.slots {
				if sl.weekend != (wk == 1) {
					continue
				}
				for h := sl.from; h < sl.to; h++ {
					hw[h], p.locs[wk][h] = sl.weight, sl.locs
				}
			}
			p.hourCum[wk] = cumulative(hw)
		}
		dw := make([]float64, len(g.days))
		for i, d := range g.days {
			dw[i] = 1
			if d.weekend {
				dw[i] = s.weekend
			}
		}
		p.dayCum = cumulative(dw)
		g.personas = append(g.personas, p)
	}
}

func (g *generator) personaIndex(name string) int {
	for i, p := range g.personas {
		if p.spec.name == name {
			return i
		}
	}
	return -1
}

// sampleTime draws a moment in [lo, hi) that follows the persona's weekly and daily rhythm;
// offline moments fall in opening hours (9:00–21:00). It reports false if it found none.
func (g *generator) sampleTime(r *rand.Rand, p *personaInfo, lo, hi int64, offline bool) (int64, bool) {
	for range 32 {
		d := g.days[pickCum(r, p.dayCum)]
		wk := 0
		if d.weekend {
			wk = 1
		}
		h := pickCum(r, p.hourCum[wk])
		if offline && (h < 9 || h >= 21) {
			h = 10 + r.IntN(10)
		}
		t := d.midnight + int64(h)*3600 + r.Int64N(3600)
		if t >= lo && t < hi {
			return t, true
		}
	}
	return 0, false
}

// location draws where a consumer of persona p is at local time t.
func (g *generator) location(r *rand.Rand, p *personaInfo, t int64) uint8 {
	lt := localTime(t)
	wk := 0
	if wd := lt.Weekday(); wd == 0 || wd == 6 {
		wk = 1
	}
	m := p.locs[wk][lt.Hour()]
	return uint8(pick(r, []float64{m.Home, m.Office, m.Mall, m.Transit, m.Unknown}))
}

// Persona is a kind of consumer, as the generator uses it: ground truth for profiling.
type Persona struct {
	Name  string `json:"name"`
	Label string `json:"label"`
	// Categories is the persona's interest per leaf category key ("beauty/fragrance/perfume"),
	// summing to 1: the share of browsing that goes to the category.
	Categories map[string]float64 `json:"categories"`
	// Tiers is the preference for price tiers (budget, mid, premium, luxury).
	Tiers map[string]float64 `json:"tiers"`
	// Channels is the share of sessions per channel (offline only where a store is offline).
	Channels        map[qianmian.Channel]float64 `json:"channels"`
	SessionsPerWeek float64                      `json:"sessions_per_week"`
	WeekendFactor   float64                      `json:"weekend_factor"`
	SearchRate      float64                      `json:"search_rate"`
	CartRate        float64                      `json:"cart_rate"`
	PurchaseRate    float64                      `json:"purchase_rate"`
	FemaleShare     float64                      `json:"female_share"`
	MinAge          int                          `json:"min_age"`
	MaxAge          int                          `json:"max_age"`
}

func (g *generator) personaTruth(p *personaInfo) Persona {
	s := p.spec
	out := Persona{
		Name: s.name, Label: s.label, Categories: map[string]float64{}, Tiers: map[string]float64{},
		Channels:        map[qianmian.Channel]float64{},
		SessionsPerWeek: s.sessionsPerWeek * g.cfg.ActivityScale, WeekendFactor: s.weekend,
		SearchRate: s.search, CartRate: s.cart, PurchaseRate: s.purchase,
		FemaleShare: s.female, MinAge: s.minAge, MaxAge: s.maxAge,
	}
	for i, w := range p.leafW {
		out.Categories[g.leaves[i].spec.key] = round4(w)
	}
	for t, w := range s.tiers {
		out.Tiers[tierNames()[t]] = w
	}
	for c, w := range s.channels {
		out.Channels[channels()[c]] = w
	}
	return out
}

func round4(x float64) float64 { return math.Round(x*1e4) / 1e4 }
