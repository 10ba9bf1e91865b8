package profile

// DefaultRules returns the rule set qianmian ships: one rule per persona of the synthetic
// world (package sim), written over traits any deployment has: category affinities, the
// hours and channels people shop in, and declared gender. The thresholds were chosen on a
// synthetic world of another seed (3,000 consumers, six weeks) to balance precision and
// recall; docs/profiles.md gives the recovery they reach. Each rule's Confidence is the
// precision it reached there.
func DefaultRules() []Rule {
	return []Rule{
		{Tag: "white_collar_woman", Label: "urban white-collar woman", Confidence: 0.79,
			When: []string{
				"affinity(beauty) + affinity(fashion/women) + affinity(food/western) >= 0.25",
				"affinity(fashion/men) + affinity(electronics) < 0.25",
			},
			Unless: []string{"gender == male"}},
		{Tag: "student", Label: "university student", Confidence: 0.58,
			When: []string{
				"affinity(books/textbook) + affinity(food/snacks) + affinity(food/instant) + affinity(beauty/makeup) + affinity(food/beverage/tea) >= 0.55",
				"affinity(electronics/gaming) < 0.15",
				"channel_share(web) < 0.3",
			}},
		{Tag: "young_parent", Label: "young parent", Confidence: 0.91,
			When: []string{"affinity(baby) >= 0.15"}},
		{Tag: "retiree", Label: "retiree", Confidence: 0.67,
			When: []string{
				"affinity(health) + affinity(grocery) + affinity(food/beverage/tea) >= 0.4",
				"hour_share(6, 11) + channel_share(offline) >= 0.4",
			}},
		{Tag: "gamer", Label: "gamer", Confidence: 0.76,
			When: []string{
				"affinity(electronics/gaming) + 0.5 * affinity(food/instant) >= 0.15",
				"affinity(books/textbook) < 0.05",
			}},
		{Tag: "fitness_enthusiast", Label: "fitness enthusiast", Confidence: 0.68,
			When: []string{
				"affinity(sports) + affinity(health/supplements/protein) >= 0.35",
				"affinity(baby) < 0.2",
			}},
		{Tag: "young_professional_man", Label: "young professional man", Confidence: 0.74,
			When: []string{
				"affinity(fashion/men) + affinity(electronics/audio) + affinity(electronics/phone) + affinity(food/beverage/coffee) >= 0.5",
				"affinity(electronics/gaming) < 0.55",
				"affinity(beauty) < 0.6",
			},
			Unless: []string{"gender == female"}},
	}
}
