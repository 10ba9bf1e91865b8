package profile

import (
	"cmp"
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/qianmian/qianmian"
)

// traits computes the consumer's traits as of now, ranked against the population statistics
// st (nil before the first refresh), with their explanations.
func (s *state) traits(userID string, st *stats, now time.Time) (*qianmian.Traits, []qianmian.TraitExplanation) {
	t := &qianmian.Traits{
		Events:           s.events,
		CategoryAffinity: shares(s.cat, s.catSum),
		BrandAffinity:    shares(s.brand, s.brandSum),
		CategoryPrices:   map[string]qianmian.CategoryPrice{},
		ChannelShares:    map[qianmian.Channel]float64{},
		LocationShares:   map[qianmian.LocationType]float64{},
		Stores:           len(s.stores),
		Bought:           s.bought,
		Returned:         s.returned,
		SearchTerms:      map[string]float64{},
	}
	if s.events > 0 {
		t.FirstSeen, t.LastSeen = time.Unix(s.first, 0).UTC(), time.Unix(s.last, 0).UTC()
	}
	n := float64(max(s.events, 1))
	for h, c := range s.hours {
		t.HourShares[h] = round4(float64(c) / n)
	}
	for d, c := range s.days {
		t.WeekdayShares[d] = round4(float64(c) / n)
	}
	for c, k := range s.channels {
		t.ChannelShares[c] = round4(float64(k) / n)
	}
	for l, k := range s.locs {
		t.LocationShares[l] = round4(float64(k) / float64(s.locSum))
	}
	for id, k := range s.stores {
		if k > s.stores[t.TopStore] || k == s.stores[t.TopStore] && id < t.TopStore {
			t.TopStore = id
		}
	}
	if s.storeSum > 0 {
		t.StoreLoyalty = round4(float64(s.stores[t.TopStore]) / float64(s.storeSum))
	}
	if s.bought > 0 {
		t.ReturnRate = round4(min(1, float64(s.returned)/float64(s.bought)))
	}
	fade := math.Exp(s.lambda * float64(s.base-now.Unix()))
	for w, v := range s.terms {
		if x := math.Round(v*fade*100) / 100; x > 0 {
			t.SearchTerms[w] = x
		}
	}
	var own *buyerSummary // userID's purchases as the statistics count them
	if st != nil {
		own = st.buyer(userID)
	}
	s.prices(t, st, own)
	s.rfm(t, st, own, now)
	return t, s.explain(t, st)
}

// shares divides every weight by sum, keeping those of at least 0.1%, rounded.
func shares(w map[string]float64, sum float64) map[string]float64 {
	out := map[string]float64{}
	if sum <= 0 {
		return out
	}
	for k, v := range w {
		if x := round4(v / sum); x >= 0.001 {
			out[k] = x
		}
	}
	return out
}

func round4(x float64) float64 { return math.Round(x*1e4) / 1e4 }

// prices fills the price level per top-level category and overall; own is the consumer in
// st, if st counts them.
func (s *state) prices(t *qianmian.Traits, st *stats, own *buyerSummary) {
	var wsum, psum float64
	for c, sp := range s.spend {
		if sp.units == 0 {
			continue
		}
		mean := sp.amount / float64(sp.units)
		cp := qianmian.CategoryPrice{MeanPrice: math.Round(mean*100) / 100, Units: sp.units}
		if st != nil {
			ownMean, had := st.meanPrice(own, c)
			share, others := rank(st.unitPrices(c), mean, ownMean, had)
			cp.Buyers = others
			if others >= s.cfg.MinBuyers {
				cp.Percentile, cp.Tier = round4(share), quintile(share)
				wsum += sp.amount
				psum += sp.amount * share
			}
		}
		t.CategoryPrices[c] = cp
	}
	if wsum > 0 {
		t.PricePercentile = round4(psum / wsum)
		t.PriceTier = quintile(psum / wsum)
	}
}

// rfm fills recency, frequency and money, scored against the other buyers; own is the
// consumer in st, if st counts them.
func (s *state) rfm(t *qianmian.Traits, st *stats, own *buyerSummary, now time.Time) {
	if s.orders == 0 {
		return
	}
	r := &qianmian.RFM{
		RecencyDays: math.Round(float64(now.Unix()-s.lastBuy)/86400*10) / 10,
		Frequency:   s.orders,
		Monetary:    math.Round(s.monetary*100) / 100,
	}
	t.RFM = r
	if st == nil {
		return
	}
	had := own != nil
	var o buyerSummary
	if had {
		o = *own
	}
	// Recency: the share of others whose last purchase is older scores it.
	rs, n := rank(st.lastBuy, float64(s.lastBuy), float64(o.lastBuy), had)
	if n < s.cfg.MinBuyers {
		return
	}
	fs, _ := rank(st.orders, float64(s.orders), float64(o.orders), had)
	ms, _ := rank(st.monetary, s.monetary, o.monetary, had)
	r.R, r.F, r.M = quintile(rs), quintile(fs), quintile(ms)
}

// explain says each trait in words.
func (s *state) explain(t *qianmian.Traits, st *stats) []qianmian.TraitExplanation {
	var out []qianmian.TraitExplanation
	add := func(trait, format string, args ...any) {
		out = append(out, qianmian.TraitExplanation{Trait: trait, Text: fmt.Sprintf(format, args...)})
	}
	if t.Events == 0 {
		add("events", "no behaviour recorded yet")
		return out
	}
	days := math.Max(1, math.Ceil(t.LastSeen.Sub(t.FirstSeen).Hours()/24))
	add("events", "%d events over %s", t.Events, plural(int(days), "day"))
	if top := topShares(t.CategoryAffinity, 3, func(k string) bool { return !strings.Contains(k, "/") }); len(top) > 0 {
		add("category_affinity", "most interested in %s: time-decayed share of views, carts and purchases (half-life %s)",
			listShares(top), halfLife(s.cfg.HalfLife))
	}
	if top := topShares(t.BrandAffinity, 3, nil); len(top) > 0 {
		add("brand_affinity", "favourite brands: %s", listShares(top))
	}
	s.explainPrice(t, st, add)
	if r := t.RFM; r != nil {
		text := fmt.Sprintf("last purchase %s ago, %s, %.2f spent", daysText(r.RecencyDays), plural(r.Frequency, "purchase"), r.Monetary)
		if r.R > 0 {
			text += fmt.Sprintf(" (recency %d, frequency %d, money %d of 5 among buyers)", r.R, r.F, r.M)
		}
		add("rfm", "%s", text)
	}
	from, share := peakWindow(t.HourShares, 3)
	add("active_hours", "most active %02d:00–%02d:00 (%s of events); %s at weekends",
		from, (from+3)%24, pct(share), pct(t.WeekdayShares[5]+t.WeekdayShares[6]))
	add("channels", "channels: %s", listShares(topShares(stringKeys(t.ChannelShares), 4, nil)))
	if s.locSum > 0 {
		add("locations", "places: %s (of %s with a known place)", listShares(topShares(stringKeys(t.LocationShares), 3, nil)),
			plural(s.locSum, "event"))
	}
	if t.Stores > 0 {
		add("store_loyalty", "%s of store activity at %s (%s)", pct(t.StoreLoyalty), t.TopStore, plural(t.Stores, "store"))
	}
	if t.Bought > 0 {
		add("return_rate", "returned %d of %s bought (%s)", t.Returned, plural(t.Bought, "item"), pct(t.ReturnRate))
	}
	if top := topShares(t.SearchTerms, 5, func(k string) bool { return !strings.Contains(k, " ") }); len(top) > 0 {
		words := make([]string, len(top))
		for i, kv := range top {
			words[i] = kv.key
		}
		add("search_terms", "searched for %s", strings.Join(words, ", "))
	}
	return out
}

// explainPrice says the price tier: the category the consumer spends most in, and overall.
func (s *state) explainPrice(t *qianmian.Traits, st *stats, add func(trait, format string, args ...any)) {
	if len(t.CategoryPrices) == 0 {
		return
	}
	cats := slices.Sorted(maps.Keys(t.CategoryPrices))
	slices.SortStableFunc(cats, func(a, b string) int { return cmp.Compare(s.spend[b].amount, s.spend[a].amount) })
	c := cats[0]
	cp := t.CategoryPrices[c]
	switch {
	case st == nil:
		add("price_tier", "price tier not known yet: spends %.2f per item in %s; buyers not compared yet", cp.MeanPrice, c)
	case cp.Tier == 0:
		add("price_tier", "price tier not known: spends %.2f per item in %s, with too few other buyers there to compare with (%d of %d)",
			cp.MeanPrice, c, cp.Buyers, s.cfg.MinBuyers)
	default:
		text := fmt.Sprintf("price tier %d of 5: spends more per item than %s of buyers in %s", cp.Tier, pct(cp.Percentile), c)
		ranked := 0
		for _, cp := range t.CategoryPrices {
			if cp.Tier > 0 {
				ranked++
			}
		}
		if ranked > 1 {
			text += fmt.Sprintf("; %d of 5 over %d categories", t.PriceTier, ranked)
		}
		add("price_tier", "%s", text)
	}
}

type keyShare struct {
	key   string
	share float64
}

// topShares returns the n largest shares whose key passes keep (nil keeps all), largest
// first, ties by key.
func topShares(m map[string]float64, n int, keep func(string) bool) []keyShare {
	var all []keyShare
	for k, v := range m {
		if v > 0 && (keep == nil || keep(k)) {
			all = append(all, keyShare{k, v})
		}
	}
	slices.SortFunc(all, func(a, b keyShare) int {
		if c := cmp.Compare(b.share, a.share); c != 0 {
			return c
		}
		return cmp.Compare(a.key, b.key)
	})
	return all[:min(n, len(all))]
}

func stringKeys[K ~string](m map[K]float64) map[string]float64 {
	out := make(map[string]float64, len(m))
	for k, v := range m {
		out[string(k)] = v
	}
	return out
}

func listShares(list []keyShare) string {
	parts := make([]string, len(list))
	for i, kv := range list {
		parts[i] = kv.key + " " + pct(kv.share)
	}
	return strings.Join(parts, ", ")
}

// peakWindow returns the first hour of the width-hour window (wrapping past midnight) with
// the largest share of events, and that share. Of windows with the same share, the one
// whose middle hour is busiest wins, so a single busy hour sits in the middle.
func peakWindow(h [24]float64, width int) (from int, share float64) {
	share, best := -1.0, -1.0
	for f := range 24 {
		var s float64
		for k := range width {
			s += h[(f+k)%24]
		}
		if score := s + 1e-6*h[(f+width/2)%24]; score > best+1e-12 {
			from, share, best = f, s, score
		}
	}
	return from, share
}

func pct(x float64) string { return fmt.Sprintf("%.0f%%", math.Round(x*100)) }

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

func daysText(d float64) string {
	if d < 1 {
		return "less than a day"
	}
	return plural(int(math.Round(d)), "day")
}

func halfLife(d time.Duration) string {
	if d%(24*time.Hour) == 0 {
		return plural(int(d/(24*time.Hour)), "day")
	}
	return d.String()
}
