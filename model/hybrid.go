package model

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"
)

// HybridConfig holds the settings of Hybrid. Start from DefaultHybridConfig.
type HybridConfig struct {
	// ValidFraction holds out the most recent max(1, floor(ValidFraction·n)) of each user's
	// n interactions (Dataset.Sequence) for validation; ValidLast > 0 holds out exactly that
	// many instead. Users with fewer than MinHistory interactions stay whole.
	ValidFraction float64
	ValidLast     int
	MinHistory    int
	// Candidates is the number of items each base model and popularity contribute to a
	// user's candidates; the ranker orders their union.
	Candidates int
	// K is the cut-off of the NDCG the ranker is chosen and trained on.
	K int
	// MaxQueries caps the validation users the ranker learns from (a deterministic sample);
	// Holdout is the share of them set aside to choose among the solutions.
	MaxQueries int
	Holdout    float64
	// Tune is the number of configurations of each base family fitted and compared on
	// validation; the best is kept. 1 takes each family's default.
	Tune int
	// Rounds bounds the passes of coordinate ascent over the linear weights.
	Rounds int
	// Trees bounds the LambdaMART trees boosted on top of the linear blend (0: linear only),
	// of depth Depth and at least MinLeaf rows per leaf, shrunk by Rate; early stopping on the
	// holdout picks their number.
	Trees   int
	Depth   int
	MinLeaf int
	Rate    float32
	// HistoryHalfLife is the recency half-life, in items, of the category/brand/price
	// affinity features.
	HistoryHalfLife float32
	// PopWindow is how far either side of a user's latest interaction the pop.near feature
	// counts an item's interactions; 0 means 1/16 of the data's time span.
	PopWindow time.Duration
	// Repeat says whether items a user already met may be recommended to them again.
	Repeat RepeatMode
	// Seed drives the sample of validation users, the holdout and the base configurations.
	Seed uint64
	// Workers is the number of goroutines; 0 means GOMAXPROCS. The result does not depend on it.
	Workers int
}

// RepeatMode says whether the hybrid recommends items a user already met.
type RepeatMode uint8

// The repeat modes.
const (
	// RepeatAuto allows repeats when at least RepeatAutoShare of the validation items are
	// items their user met before (groceries, consumables, re-viewed products), and not
	// otherwise (films, books).
	RepeatAuto RepeatMode = iota
	RepeatNever
	RepeatAllowed
)

// RepeatAutoShare is the share of repeated validation items from which RepeatAuto allows
// repeats.
const RepeatAutoShare = 0.05

// DefaultHybridConfig returns the defaults: the last 20% of each history (at least one item)
// for validation, 100 candidates per source, NDCG@10, up to 5,000 learning users of which
// 30% choose the solution, up to 150 depth-3 trees over the linear blend.
func DefaultHybridConfig() HybridConfig {
	return HybridConfig{ValidFraction: 0.2, MinHistory: 3, Candidates: 100, K: 10,
		MaxQueries: 5000, Holdout: 0.3, Tune: 1, Rounds: 5, Trees: 150, Depth: 3, MinLeaf: 50,
		Rate: 0.1, HistoryHalfLife: 10, Seed: 1}
}

func (c HybridConfig) withDefaults() HybridConfig {
	def := DefaultHybridConfig()
	if c.ValidFraction <= 0 && c.ValidLast <= 0 {
		c.ValidFraction = def.ValidFraction
	}
	if c.Candidates <= 0 {
		c.Candidates = def.Candidates
	}
	if c.K <= 0 {
		c.K = def.K
	}
	if c.MaxQueries <= 0 {
		c.MaxQueries = math.MaxInt32
	}
	c.Tune = max(c.Tune, 1)
	c.Depth = max(c.Depth, 1)
	c.MinLeaf = max(c.MinLeaf, 1)
	if c.Rate <= 0 {
		c.Rate = def.Rate
	}
	if c.Workers <= 0 {
		c.Workers = runtime.GOMAXPROCS(0)
	}
	return c
}

// Hybrid ranks the candidates of several base models with a ranker learned on validation.
// Fit carves the most recent interactions of each user off the training data, fits (and,
// with Tune > 1, tunes) the bases on the rest, gathers every validation user's candidates —
// the union of each base's and popularity's top Candidates — with features (base scores
// and ranks, popularity overall and around the user's time, item age, user activity,
// category/brand/price affinity, past interactions; see hybridFeatureNames), and learns to
// order them: coordinate ascent of a linear blend on NDCG@K, then LambdaMART trees on top.
// On the holdout part of validation it keeps the best of popularity alone, each base
// alone, the blend and the boosted blend, so it never does worse on validation than
// popularity or than its best base. Finally it refits the bases on all of d. ScoreUser
// ranks a user's candidates with what it learned and gives every other item −Inf; when
// popularity or one base alone won, it serves that model's scores unchanged.
//
// To serve a fitted Hybrid elsewhere: save it with WriteTo and each base with its own
// WriteTo; load them, set Features, and call Bind with the dataset and the bases in the
// order of Bases.
type Hybrid struct {
	Config HybridConfig
	// Families are the base models to tune and fit. When nil, Bases are fitted as given.
	Families []Family
	// Bases are the base models; after Fit, the chosen configurations fitted on all the data.
	Bases []Model
	// Features, when set, adds the content family as a base (unless one named "content" is
	// there) and feeds the affinity features. They are aligned to the dataset by item id.
	Features *ItemFeatures

	ranker *hybridRanker
	repeat bool // learned with, and serving, the user's own items as candidates
	data   *hybridData
	report HybridReport
	pool   sync.Pool // *candScratch
}

// HybridFamily returns the hybrid over the given base families and optional features. Its
// first configuration is the default; the next ones tune the bases (Tune 3), stop at the
// linear blend, and widen the candidates.
func HybridFamily(bases []Family, features *ItemFeatures) Family {
	return Family{Name: "hybrid", Configs: func(n int, seed uint64) []Model {
		var out []Model
		for k := 0; k < n && k < 4; k++ {
			c := DefaultHybridConfig()
			c.Seed = seed
			switch k {
			case 1:
				c.Tune = 3
			case 2:
				c.Trees = 0
			case 3:
				c.Candidates = 200
			}
			out = append(out, &Hybrid{Config: c, Families: bases, Features: features})
		}
		return out
	}}
}

// HybridReport is what a Hybrid learned: the NDCG@K on validation of every solution it
// considered (on the users it learned from, the holdout that chose, and all of them), the
// one it chose, and the weight and tree gain of each feature.
type HybridReport struct {
	Chosen string
	K      int
	Users  int // sampled validation users
	Trees  int
	// Repeat tells whether the user's own items are recommended again; RepeatShare is the
	// share of validation items their user had met before, which decides it under RepeatAuto.
	Repeat      bool
	RepeatShare float64
	Solutions   []HybridSolution
	Features    []FeatureWeight
}

// HybridSolution is one solution's NDCG@K on the learning, holdout and all validation users.
type HybridSolution struct {
	Name                string
	Learn, Holdout, All float64
}

// FeatureWeight is one feature's linear weight, per standard deviation of the feature with
// Σ|w| = 1, and its share of the trees' split gain.
type FeatureWeight struct {
	Name   string
	Weight float32
	Gain   float64
}

// Name returns "hybrid".
func (m *Hybrid) Name() string { return "hybrid" }

// Report returns what Fit learned; the zero report before Fit.
func (m *Hybrid) Report() HybridReport { return m.report }

// Describe returns the bases and, once fitted, the chosen solution, the validation NDCG of
// every solution and the heaviest features.
func (m *Hybrid) Describe() string {
	var names []string
	for _, f := range m.Families {
		names = append(names, f.Name)
	}
	if m.Families == nil || m.ranker != nil {
		names = baseNames(m.Bases)
	}
	c := m.Config
	s := fmt.Sprintf("bases=%s cand=%d tune=%d trees<=%d", strings.Join(names, ","), c.Candidates, c.Tune, c.Trees)
	r := m.report
	if r.Chosen == "" {
		return s
	}
	s += fmt.Sprintf(" | chosen=%s trees=%d users=%d repeat=%t(%.2f) ndcg@%d learn/holdout/all:",
		r.Chosen, r.Trees, r.Users, r.Repeat, r.RepeatShare, r.K)
	for _, sol := range r.Solutions {
		s += fmt.Sprintf(" %s=%.4f/%.4f/%.4f", sol.Name, sol.Learn, sol.Holdout, sol.All)
	}
	fw := slices.Clone(r.Features)
	slices.SortStableFunc(fw, func(a, b FeatureWeight) int {
		return -cmp.Compare(math.Abs(float64(a.Weight))+a.Gain, math.Abs(float64(b.Weight))+b.Gain)
	})
	s += " | w/gain:"
	for _, f := range fw[:min(8, len(fw))] {
		s += fmt.Sprintf(" %s=%+.3f/%.2f", f.Name, f.Weight, f.Gain)
	}
	return s
}

// Fit learns the ranker on a validation split of d, then refits the bases on all of d.
func (m *Hybrid) Fit(ctx context.Context, d *Dataset) error {
	c := m.Config.withDefaults()
	train, valid := splitValidation(d, c)
	share := repeatShare(train, valid)
	repeat := c.Repeat == RepeatAllowed || c.Repeat == RepeatAuto && share >= RepeatAutoShare
	if !repeat {
		valid = dropSeen(train, valid)
	}
	qs := sampleQueries(valid, c)
	p := candParams{m: c.Candidates, repeat: repeat, halfLife: c.HistoryHalfLife}
	bases, err := m.fitBases(ctx, train, valid, qs, p, c)
	if err != nil {
		return err
	}
	names := baseNames(bases)
	rd, err := collectRankData(ctx, newHybridData(train, m.features(), c), bases, valid, qs, p, c)
	if err != nil {
		return err
	}
	ranker, report, err := learnRanker(ctx, rd, names, c)
	if err != nil {
		return err
	}
	report.Repeat, report.RepeatShare = repeat, share
	m.Bases, m.ranker, m.report, m.repeat = bases, ranker, report, repeat
	return m.refitBases(ctx, d, false)
}

// Bind sets the dataset whose users ScoreUser scores and the fitted bases, in the order
// they had when the ranker was learned (as after Fit, or after ReadFrom with each base
// restored on its own). Set Features first if the hybrid was fitted with them.
func (m *Hybrid) Bind(d *Dataset, bases []Model) error {
	if m.ranker == nil {
		return errors.New("model: hybrid: not fitted")
	}
	if err := m.ranker.bind(baseNames(bases)); err != nil {
		return err
	}
	c := m.Config.withDefaults()
	m.Bases, m.data = bases, newHybridData(d, m.features(), c)
	m.pool = sync.Pool{New: func() any { return newCandScratch(len(bases), d.NumItems()) }}
	return nil
}

// features returns Features, or nil when there are none (a catalogue without attributes).
func (m *Hybrid) features() *ItemFeatures {
	if m.Features == nil || m.Features.Tokens.Len() == 0 {
		return nil
	}
	return m.Features
}

// fitBases fits the base models on train, choosing among Tune configurations of each family
// by validation NDCG@K, and adds the content model when features are set.
func (m *Hybrid) fitBases(ctx context.Context, train *Dataset, valid [][]int32, qs []query, p candParams, c HybridConfig) ([]Model, error) {
	var choices [][]Model
	if m.Families != nil {
		for _, f := range m.Families {
			choices = append(choices, f.Configs(c.Tune, c.Seed))
		}
	} else {
		for _, b := range m.Bases {
			choices = append(choices, []Model{b})
		}
	}
	if m.features() != nil && !slices.ContainsFunc(choices, func(ms []Model) bool {
		return len(ms) > 0 && ms[0].Name() == "content"
	}) {
		choices = append(choices, contentConfigs(m.Features, c.Tune, c.Seed))
	}
	var bases []Model
	for _, ms := range choices {
		var best Model
		bestV := math.Inf(-1)
		for _, b := range ms {
			if err := b.Fit(ctx, train); err != nil {
				return nil, fmt.Errorf("hybrid: fit %s: %w", b.Name(), err)
			}
			if len(ms) == 1 {
				best = b
				break
			}
			if v := validNDCG(b, train, valid, qs, p.repeat, c); v > bestV {
				best, bestV = b, v
			}
		}
		if best != nil {
			bases = append(bases, best)
		}
	}
	return bases, nil
}

// validNDCG returns m's mean NDCG@K over the sampled validation users, ranking every item,
// or only those the user did not meet in train unless repeat.
func validNDCG(m Model, train *Dataset, valid [][]int32, qs []query, repeat bool, c HybridConfig) float64 {
	vals := make([]float64, len(qs))
	bufs := make([][]float32, c.Workers)
	parallelForW(len(qs), c.Workers, func(w, k int) {
		u := qs[k].user
		if bufs[w] == nil {
			bufs[w] = make([]float32, train.NumItems())
		}
		sc := bufs[w]
		m.ScoreUser(u, sc)
		if !repeat {
			items, _, _ := train.Row(u)
			for _, i := range items {
				sc[i] = float32(math.NaN())
			}
		}
		vals[k] = NDCG(TopK(nil, sc, c.K), valid[u], c.K)
	})
	total := 0.0
	for _, v := range vals {
		total += v
	}
	return total / float64(max(len(qs), 1))
}

// query is a sampled validation user and whether they belong to the holdout.
type query struct {
	user int32
	hold bool
}

// sampleQueries returns up to MaxQueries validation users, drawn by a seeded hash, in user
// order, each marked for the holdout with probability Holdout.
func sampleQueries(valid [][]int32, c HybridConfig) []query {
	type keyed struct {
		user int32
		key  uint64
	}
	var all []keyed
	for u, v := range valid {
		if len(v) > 0 {
			all = append(all, keyed{int32(u), mix64(c.Seed, uint64(u), 1)})
		}
	}
	if len(all) > c.MaxQueries {
		slices.SortFunc(all, func(a, b keyed) int { return cmp.Compare(a.key, b.key) })
		all = all[:c.MaxQueries]
		slices.SortFunc(all, func(a, b keyed) int { return int(a.user - b.user) })
	}
	qs := make([]query, len(all))
	for k, a := range all {
		h := mix64(c.Seed, uint64(a.user), 2)
		qs[k] = query{a.user, float64(h>>11)/(1<<53) < c.Holdout}
	}
	return qs
}

// mix64 hashes (seed, x, salt) with the splitmix64 finaliser: a fixed function, so samples
// drawn with it are the same on every run and machine.
func mix64(seed, x, salt uint64) uint64 {
	z := seed*0x9e3779b97f4a7c15 ^ x*0xbf58476d1ce4e5b9 ^ salt*0x94d049bb133111eb
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}
