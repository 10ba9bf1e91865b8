package profile_test

import (
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/qianmian/qianmian"
)

// t0 is 21:00 on Sunday 1 March 2026 in China (13:00 UTC).
var t0 = time.Date(2026, 3, 1, 13, 0, 0, 0, time.UTC)

// seedCatalog stores stores s1 (online) and s2 (offline) and three items: a perfume (p1), a
// serum (p2) and crisps (f1).
func (e *env) seedCatalog(t testing.TB) {
	t.Helper()
	ctx := t.Context()
	must(t, e.stores.UpsertStores(ctx, []*qianmian.Store{
		{ID: "s1", Name: "One", Region: "east", City: "Shanghai", Channel: qianmian.StoreOnline},
		{ID: "s2", Name: "Two", Region: "east", City: "Shanghai", Channel: qianmian.StoreOffline},
	}))
	must(t, e.items.UpsertItems(ctx, []*qianmian.Item{
		{ID: "p1", SupplierID: "sup", Title: "Rose EDP", Category: []string{"beauty", "fragrance", "perfume"}, Brand: "Aurora", Price: 80},
		{ID: "p2", SupplierID: "sup", Title: "Serum", Category: []string{"beauty", "skincare", "serum"}, Brand: "Lumi", Price: 50},
		{ID: "f1", SupplierID: "sup", Title: "Crisps", Category: []string{"food", "snacks", "chips"}, Brand: "Crunch", Price: 10},
	}))
	var entries []*qianmian.Assortment
	for _, s := range []string{"s1", "s2"} {
		for _, i := range []string{"p1", "p2", "f1"} {
			entries = append(entries, &qianmian.Assortment{StoreID: s, ItemID: i, Price: 10, InStock: true})
		}
	}
	must(t, e.assort.UpsertAssortments(ctx, entries))
}

// ev returns an event of user at the store, at t0 plus d.
func ev(id string, typ qianmian.EventType, user, item, store string, ch qianmian.Channel, loc qianmian.LocationType, d time.Duration) *qianmian.Event {
	return &qianmian.Event{ID: id, Type: typ, UserID: user, ItemID: item, StoreID: store, Channel: ch,
		Context: qianmian.EventContext{LocationType: loc}, OccurredAt: t0.Add(d)}
}

func buy(e *qianmian.Event, qty int, amount float64) *qianmian.Event {
	e.Quantity, e.Amount = qty, amount
	return e
}

func search(id, user, query string, d time.Duration) *qianmian.Event {
	e := ev(id, qianmian.EventSearch, user, "", "s1", qianmian.ChannelApp, qianmian.LocationHome, d)
	e.Query = query
	return e
}

const day = 24 * time.Hour

// TestTraits_HandMadeHistory checks every trait, and its explanation, on a history worked out
// by hand: affinities decayed with a 30-day half-life, a price tier against ten other
// buyers spending 10, 20, … 100 per item in beauty, RFM, active hours, channels, places,
// store loyalty, return rate and search terms.
func TestTraits_HandMadeHistory(t *testing.T) {
	t.Parallel()
	now := t0.Add(2 * day)
	e := newEnv(t, func() time.Time { return now })
	e.seedCatalog(t)
	const app, off = qianmian.ChannelApp, qianmian.ChannelOffline
	events := []*qianmian.Event{
		ev("e1", qianmian.EventView, "u1", "p1", "s1", app, qianmian.LocationOffice, -60*day),
		buy(ev("e2", qianmian.EventPurchase, "u1", "p1", "s1", app, qianmian.LocationOffice, -30*day), 1, 75),
		search("e3", "u1", "Rose perfume", -12*time.Hour),
		search("e4", "u1", "rose  PERFUME", -12*time.Hour+time.Minute),
		ev("e5", qianmian.EventView, "u1", "f1", "s1", app, qianmian.LocationHome, 0),
		ev("e6", qianmian.EventCart, "u1", "f1", "s1", app, qianmian.LocationHome, time.Minute),
		buy(ev("e7", qianmian.EventPurchase, "u1", "f1", "s2", off, qianmian.LocationStore, 2*time.Minute), 2, 20),
		buy(ev("e8", qianmian.EventReturn, "u1", "f1", "s2", off, qianmian.LocationStore, day), 1, 10),
		ev("e9", qianmian.EventImpression, "u1", "p2", "s1", app, qianmian.LocationHome, day), // not the consumer's doing
	}
	for k := 1; k <= 10; k++ { // the population: one serum each, 10 … 100
		events = append(events, buy(ev(fmt.Sprintf("b%02d", k), qianmian.EventPurchase, fmt.Sprintf("b%02d", k), "p2", "s1",
			app, qianmian.LocationHome, -10*day), 1, float64(10*k)))
	}
	_, err := e.events.CreateEvents(t.Context(), events)
	must(t, err)
	e.open(t)

	p, err := e.svc.FindProfileByUserID(t.Context(), "u1")
	must(t, err)
	tr := p.Traits
	if tr == nil {
		t.Fatal("no traits")
	}
	near := func(what string, got, want float64) {
		t.Helper()
		if math.Abs(got-want) > 1e-9 {
			t.Errorf("%s = %v, want %v", what, got, want)
		}
	}
	// Beauty: 1·¼ (60 days old) + 5·½ (30 days) = 2.75; food: 1 + 3 + 5 = 9 (minutes old).
	near("affinity(beauty)", tr.CategoryAffinity["beauty"], 0.2340)
	near("affinity(beauty/fragrance/perfume)", tr.CategoryAffinity["beauty/fragrance/perfume"], 0.2340)
	near("affinity(food/snacks)", tr.CategoryAffinity["food/snacks"], 0.7660)
	near("brand_affinity(Crunch)", tr.BrandAffinity["Crunch"], 0.7660)
	if tr.Events != 8 {
		t.Errorf("events = %d, want 8 (the impression does not count)", tr.Events)
	}
	// 75 per item beats 10 … 70 of the ten others: 70%, tier 4. Food has nobody to compare with.
	beauty, food := tr.CategoryPrices["beauty"], tr.CategoryPrices["food"]
	if beauty.Tier != 4 || beauty.Buyers != 10 || beauty.MeanPrice != 75 || food.Tier != 0 || food.MeanPrice != 10 {
		t.Errorf("category prices = %+v", tr.CategoryPrices)
	}
	near("price percentile", tr.PricePercentile, 0.7)
	if tr.PriceTier != 4 {
		t.Errorf("price tier = %d, want 4", tr.PriceTier)
	}
	want := qianmian.RFM{RecencyDays: 2, Frequency: 2, Monetary: 95, R: 5, F: 5, M: 5}
	if tr.RFM == nil || *tr.RFM != want {
		t.Errorf("RFM = %+v, want %+v", tr.RFM, want)
	}
	near("hour share 21:00", tr.HourShares[21], 0.75)
	near("hour share 09:00", tr.HourShares[9], 0.25)
	near("Sunday share", tr.WeekdayShares[6], 0.625)
	near("app share", tr.ChannelShares[app], 0.75)
	near("office share", tr.LocationShares[qianmian.LocationOffice], 0.25)
	near("home share", tr.LocationShares[qianmian.LocationHome], 0.5)
	if tr.TopStore != "s1" || tr.Stores != 2 {
		t.Errorf("top store %q of %d, want s1 of 2", tr.TopStore, tr.Stores)
	}
	near("store loyalty", tr.StoreLoyalty, 0.75)
	near("return rate", tr.ReturnRate, 0.3333)
	// Two searches 60 hours before now: 2·2^(−60/720).
	near("searched(rose)", tr.SearchTerms["rose"], 1.89)
	near("searched(rose perfume)", tr.SearchTerms["rose perfume"], 1.89)

	wantText := map[string]string{
		"events":            "8 events over 61 days",
		"category_affinity": "most interested in food 77%, beauty 23%: time-decayed share of views, carts and purchases (half-life 30 days)",
		"brand_affinity":    "favourite brands: Crunch 77%, Aurora 23%",
		"price_tier":        "price tier 4 of 5: spends more per item than 70% of buyers in beauty",
		"rfm":               "last purchase 2 days ago, 2 purchases, 95.00 spent (recency 5, frequency 5, money 5 of 5 among buyers)",
		"active_hours":      "most active 20:00–23:00 (75% of events); 63% at weekends",
		"channels":          "channels: app 75%, offline 25%",
		"locations":         "places: home 50%, office 25%, store 25% (of 8 events with a known place)",
		"store_loyalty":     "75% of store activity at s1 (2 stores)",
		"return_rate":       "returned 1 of 3 items bought (33%)",
		"search_terms":      "searched for perfume, rose",
	}
	got := map[string]string{}
	for _, x := range p.Explanations {
		got[x.Trait] = x.Text
	}
	for trait, text := range wantText {
		if got[trait] != text {
			t.Errorf("explanation of %s:\n got %q\nwant %q", trait, got[trait], text)
		}
	}
	if len(got) != len(wantText) {
		t.Errorf("explanations %v, want exactly %d", got, len(wantText))
	}

	// Lookup names the same values for segments and rules.
	for _, tt := range []struct {
		name string
		args []string
		want any
	}{
		{"affinity", []string{"beauty"}, 0.2340},
		{"price_tier", nil, 4.0},
		{"price_tier", []string{"beauty"}, 4.0},
		{"hour_share", []string{"20", "23"}, 0.75},
		{"hour_share", []string{"23", "10"}, 0.25},
		{"channel_share", []string{"offline"}, 0.25},
		{"searched", []string{"Perfume"}, 1.89},
		{"return_rate", nil, 0.3333},
		{"frequency", nil, 2.0},
		{"top_store", nil, "s1"},
		{"peak_hour", nil, 21.0},
		{"weekend_share", nil, 0.625},
	} {
		v, ok := p.Lookup(tt.name, tt.args...)
		if !ok || fmt.Sprint(v) != fmt.Sprint(tt.want) {
			t.Errorf("Lookup(%s, %v) = %v, %v; want %v", tt.name, tt.args, v, ok, tt.want)
		}
	}
	if _, ok := p.Lookup("price_tier", "food"); ok {
		t.Error("Lookup(price_tier, food) has a value with nobody to compare with")
	}
	if x, ok := p.LookupNumber("affinity", "food/snacks"); !ok || x != 0.7660 {
		t.Errorf("LookupNumber(affinity, food/snacks) = %v, %v", x, ok)
	}
	if x, ok := p.LookupNumber("affinity", "baby"); !ok || x != 0 {
		t.Errorf("LookupNumber(affinity, baby), never seen, = %v, %v; want 0, true", x, ok)
	}
	for _, name := range []string{"city", "nonsense", "top_store"} {
		if v, ok := p.Lookup(name, "x"); ok {
			t.Errorf("Lookup(%s, x) = %v, true; want no value", name, v)
		}
	}
	bare := *p
	bare.Traits = nil // as when personalisation is off
	if _, ok := bare.Lookup("affinity", "beauty"); ok {
		t.Error("Lookup(affinity) answered without traits")
	}
	if v, ok := bare.Lookup("personalization"); !ok || v != true {
		t.Errorf("Lookup(personalization) = %v, %v", v, ok)
	}
}
