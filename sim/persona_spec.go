package sim

// The personas consumers are drawn from: what they like, what they pay, where and when they
// shop. Store kinds mix them (place_spec.go); the generator turns them into behaviour.

// locMix weighs the kinds of place a consumer is in.
type locMix struct{ Home, Office, Mall, Transit, Unknown float64 }

// slot is a stretch of the day with its relative shopping activity per hour and where the
// consumer is meanwhile. There is no "campus" location type: dorms count as home and
// lecture halls report unknown.
type slot struct {
	weekend  bool
	from, to int // local hours [from, to); to may be 24
	weight   float64
	locs     locMix
}

type personaSpec struct {
	name, label     string
	interests       map[string]float64 // category prefix → weight, spread evenly over its leaves
	tiers           [numTiers]float64
	channels        [4]float64 // app, miniprogram, web, offline
	sessionsPerWeek float64
	weekend         float64 // activity on a weekend day relative to a weekday
	search          float64 // share of online sessions that start with a search
	cart            float64 // chance a viewed item that fits is carted
	purchase        float64 // chance a carted item is bought
	female          float64
	minAge, maxAge  int
	slots           []slot
}

func home() locMix { return locMix{Home: 1} }

func personaSpecs() []personaSpec {
	return []personaSpec{
		{name: "white_collar_woman", label: "urban white-collar woman",
			interests: map[string]float64{"beauty": 6, "beauty/fragrance": 5, "beauty/skincare": 2, "fashion/women": 6,
				"food/beverage/coffee": 2, "food/snacks": 1, "food/western": 1.5, "home/living": 1.5,
				"health/supplements/vitamins": 1, "sports/fitness/yoga": 1, "grocery": 0.8, "books/fiction": 0.5},
			tiers: [numTiers]float64{0.1, 0.35, 0.4, 0.15}, channels: [4]float64{0.5, 0.3, 0.1, 0.1},
			sessionsPerWeek: 0.7, weekend: 1.25, search: 0.45, cart: 0.16, purchase: 0.55, female: 1, minAge: 24, maxAge: 38,
			slots: []slot{
				{false, 7, 9, 1, locMix{Transit: 0.7, Home: 0.3}}, {false, 9, 12, 0.3, locMix{Office: 1}},
				{false, 12, 14, 2, locMix{Office: 1}}, {false, 14, 18, 0.5, locMix{Office: 1}},
				{false, 18, 20, 1, locMix{Transit: 0.6, Home: 0.2, Mall: 0.2}}, {false, 20, 24, 2.5, home()}, {false, 0, 1, 0.6, home()},
				{true, 9, 12, 1.2, home()}, {true, 12, 18, 1.5, locMix{Mall: 0.5, Home: 0.5}},
				{true, 18, 20, 1, locMix{Mall: 0.4, Home: 0.6}}, {true, 20, 24, 2.2, home()}, {true, 0, 1, 0.8, home()},
			}},
		{name: "student", label: "university student",
			interests: map[string]float64{"books/textbook": 5, "electronics/phone": 2, "electronics/audio": 2, "electronics/gaming": 1.5,
				"food/snacks": 4, "food/instant": 3, "food/beverage/tea": 1.5, "fashion": 2, "beauty/makeup": 1.5,
				"beauty/skincare": 1, "sports": 1},
			tiers: [numTiers]float64{0.5, 0.4, 0.09, 0.01}, channels: [4]float64{0.45, 0.4, 0.1, 0.05},
			sessionsPerWeek: 0.82, weekend: 1.05, search: 0.5, cart: 0.11, purchase: 0.45, female: 0.5, minAge: 18, maxAge: 23,
			slots: []slot{
				{false, 8, 12, 0.6, locMix{Unknown: 0.6, Transit: 0.2, Home: 0.2}}, {false, 12, 14, 1.5, locMix{Home: 0.5, Unknown: 0.5}},
				{false, 14, 18, 0.6, locMix{Unknown: 0.7, Home: 0.3}}, {false, 18, 22, 2, locMix{Home: 0.8, Unknown: 0.2}},
				{false, 22, 24, 2.5, home()}, {false, 0, 2, 1.2, home()},
				{true, 10, 13, 1.2, home()}, {true, 13, 18, 1.5, locMix{Mall: 0.4, Home: 0.4, Transit: 0.2}},
				{true, 18, 24, 2.2, locMix{Home: 0.8, Mall: 0.2}}, {true, 0, 2, 1.5, home()},
			}},
		{name: "young_parent", label: "young parent",
			interests: map[string]float64{"baby": 9, "baby/care/diapers": 3, "baby/feeding/formula": 2, "grocery": 5, "food/western": 1,
				"food/snacks": 1, "home/kitchen": 2, "home/living": 1.5, "health/supplements": 1, "books/children": 2,
				"beauty/skincare": 1, "fashion/women": 0.5},
			tiers: [numTiers]float64{0.2, 0.5, 0.25, 0.05}, channels: [4]float64{0.4, 0.35, 0.05, 0.2},
			sessionsPerWeek: 0.7, weekend: 1.45, search: 0.4, cart: 0.2, purchase: 0.65, female: 0.7, minAge: 26, maxAge: 38,
			slots: []slot{
				{false, 6, 8, 0.8, home()}, {false, 8, 9, 0.6, locMix{Transit: 1}}, {false, 9, 12, 0.4, locMix{Office: 0.8, Home: 0.2}},
				{false, 12, 14, 1.5, locMix{Office: 0.7, Home: 0.3}}, {false, 14, 18, 0.5, locMix{Office: 0.6, Home: 0.4}},
				{false, 18, 21, 0.7, home()}, {false, 21, 24, 2.5, home()},
				{true, 7, 11, 1.5, home()}, {true, 11, 18, 1.4, locMix{Mall: 0.5, Home: 0.5}},
				{true, 18, 21, 0.8, home()}, {true, 21, 24, 2, home()},
			}},
		{name: "retiree", label: "retiree",
			interests: map[string]float64{"health": 6, "grocery": 4, "food/beverage/tea": 2, "food/snacks/nuts": 1, "home/kitchen": 2,
				"home/living": 1, "books/fiction": 1, "baby/toys": 0.5, "books/children": 0.5, "sports/fitness": 0.5},
			tiers: [numTiers]float64{0.4, 0.45, 0.12, 0.03}, channels: [4]float64{0.15, 0.45, 0.05, 0.35},
			sessionsPerWeek: 0.6, weekend: 1, search: 0.25, cart: 0.14, purchase: 0.6, female: 0.55, minAge: 58, maxAge: 75,
			slots: []slot{
				{false, 6, 9, 1.5, home()}, {false, 9, 11, 1.4, locMix{Home: 0.6, Mall: 0.4}}, {false, 11, 14, 0.6, home()},
				{false, 14, 17, 1.3, home()}, {false, 19, 21, 1.5, home()},
				{true, 6, 9, 1.5, home()}, {true, 9, 11, 1.4, locMix{Home: 0.6, Mall: 0.4}}, {true, 11, 14, 0.6, home()},
				{true, 14, 17, 1.3, home()}, {true, 19, 21, 1.5, home()},
			}},
		{name: "gamer", label: "gamer",
			interests: map[string]float64{"electronics/gaming": 9, "electronics/audio": 2, "electronics/phone": 1.5, "food/snacks": 3,
				"food/instant": 2.5, "food/beverage/coffee": 1, "fashion/men": 1, "books/fiction": 0.5},
			tiers: [numTiers]float64{0.25, 0.45, 0.25, 0.05}, channels: [4]float64{0.45, 0.15, 0.35, 0.05},
			sessionsPerWeek: 0.88, weekend: 1.45, search: 0.5, cart: 0.13, purchase: 0.5, female: 0.15, minAge: 16, maxAge: 30,
			slots: []slot{
				{false, 12, 14, 1, locMix{Office: 0.4, Unknown: 0.3, Home: 0.3}}, {false, 18, 20, 1, locMix{Transit: 0.4, Home: 0.6}},
				{false, 20, 24, 3, home()}, {false, 0, 2, 2, home()},
				{true, 11, 14, 1.2, home()}, {true, 14, 24, 2.5, locMix{Home: 0.9, Mall: 0.1}}, {true, 0, 3, 2.5, home()},
			}},
		{name: "fitness_enthusiast", label: "fitness enthusiast",
			interests: map[string]float64{"sports": 7, "health/supplements/protein": 4, "health/supplements/vitamins": 1.5,
				"food/beverage": 1, "grocery/dairy": 1.5, "fashion/men": 0.5, "fashion/women": 0.5, "electronics/audio/earbuds": 1.5},
			tiers: [numTiers]float64{0.15, 0.5, 0.3, 0.05}, channels: [4]float64{0.55, 0.25, 0.05, 0.15},
			sessionsPerWeek: 0.74, weekend: 1.2, search: 0.45, cart: 0.15, purchase: 0.55, female: 0.45, minAge: 22, maxAge: 40,
			slots: []slot{
				{false, 6, 8, 1.2, home()}, {false, 8, 9, 0.6, locMix{Transit: 1}}, {false, 12, 14, 1.3, locMix{Office: 1}},
				{false, 14, 18, 0.4, locMix{Office: 1}}, {false, 18, 19, 0.6, locMix{Transit: 1}}, {false, 20, 23, 2, home()},
				{true, 7, 11, 1.5, locMix{Home: 0.7, Mall: 0.3}}, {true, 11, 18, 1.2, locMix{Mall: 0.5, Home: 0.5}}, {true, 19, 23, 1.8, home()},
			}},
		{name: "young_professional_man", label: "young professional man",
			interests: map[string]float64{"fashion/men": 6, "electronics/audio": 2.5, "electronics/phone": 2, "electronics/gaming": 1.5,
				"food/beverage/coffee": 2, "home/kitchen/appliance": 1, "beauty/fragrance": 1, "books/fiction": 1, "sports/running": 1.5},
			tiers: [numTiers]float64{0.15, 0.45, 0.3, 0.1}, channels: [4]float64{0.5, 0.2, 0.2, 0.1},
			sessionsPerWeek: 0.7, weekend: 1.15, search: 0.5, cart: 0.13, purchase: 0.55, female: 0, minAge: 24, maxAge: 35,
			slots: []slot{
				{false, 7, 9, 1, locMix{Transit: 0.8, Home: 0.2}}, {false, 9, 12, 0.4, locMix{Office: 1}},
				{false, 12, 14, 1.8, locMix{Office: 1}}, {false, 14, 18, 0.5, locMix{Office: 1}},
				{false, 18, 20, 1, locMix{Transit: 0.6, Mall: 0.2, Home: 0.2}}, {false, 20, 24, 2.3, home()}, {false, 0, 1, 0.8, home()},
				{true, 10, 13, 1.2, home()}, {true, 13, 19, 1.5, locMix{Mall: 0.5, Home: 0.5}}, {true, 19, 24, 2, home()}, {true, 0, 1, 0.8, home()},
			}},
	}
}
