package model

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"time"
)

// ItemKNNModel scores items by their similarity to the items a user met: Σ v_i · sim(i, j)
// over the user's items i with a positive weight, where v_i = log(1 + w_i · decay) and, when
// UserDecay < 1, each step back in the user's history multiplies v_i by UserDecay. Items no
// neighbour reaches rank below every reached item, by popularity, so a user whose items have
// no neighbours still gets a sensible list.
type ItemKNNModel struct {
	Config ItemKNNConfig
	// UserDecay in (0, 1] weights a user's items by recency of position: the latest counts 1,
	// the one before UserDecay, then UserDecay², … 1 (or 0) weighs the whole history alike.
	UserDecay float32

	knn   ItemKNN
	d     *Dataset
	prior []float32 // popularity in [0, 1), the fallback order
}

// Name returns "itemknn".
func (m *ItemKNNModel) Name() string { return "itemknn" }

// Describe returns the configuration in a line.
func (m *ItemKNNModel) Describe() string {
	c := m.Config
	return fmt.Sprintf("k=%d shrink=%g alpha=%g half_life=%s max_user_items=%d user_decay=%g",
		c.K, c.Shrink, c.Alpha, describeHalfLife(c.HalfLife), c.MaxUserItems, m.userDecay())
}

func (m *ItemKNNModel) userDecay() float32 {
	if m.UserDecay <= 0 || m.UserDecay > 1 {
		return 1
	}
	return m.UserDecay
}

// Fit computes the neighbours on d, with decay measured from d's latest interaction when
// Config.Now is 0.
func (m *ItemKNNModel) Fit(ctx context.Context, d *Dataset) error {
	m.knn = ItemKNN{Config: m.Config}
	if m.knn.Config.Now == 0 {
		m.knn.Config.Now = latestInteraction(d)
	}
	if err := m.knn.Fit(ctx, d); err != nil {
		return err
	}
	pop := PopularityModel{}
	if err := pop.Fit(ctx, d); err != nil {
		return err
	}
	top := float32(0)
	for _, s := range pop.scores {
		top = max(top, s)
	}
	m.prior = pop.scores
	for i, s := range m.prior {
		if top > 0 {
			m.prior[i] = max(s, 0) / top * 0.999
		}
	}
	m.d = d
	return nil
}

// ScoreUser writes the scores of every item for user u into dst: neighbour scores, which are
// positive, and for items no neighbour reaches, popularity shifted below zero.
func (m *ItemKNNModel) ScoreUser(u int32, dst []float32) {
	items, weights, times := m.d.Row(u)
	m.ScoreHistory(items, weights, times, dst)
}

// ScoreHistory scores every item for any history, as ScoreUser does for a fitted user.
func (m *ItemKNNModel) ScoreHistory(items []int32, weights []float32, times []int64, dst []float32) {
	for i := range dst {
		dst[i] = 0
	}
	c := m.knn.Config
	decayStep := m.userDecay()
	var rank []int // positions in items from the most recent, when UserDecay is on
	if decayStep < 1 {
		rank = recencyRanks(times)
	}
	for k, i := range items {
		w := weights[k]
		if w <= 0 {
			continue
		}
		v := float32(math.Log1p(float64(w) * decay(c.HalfLife, c.Now, times[k])))
		if rank != nil {
			v *= float32(math.Pow(float64(decayStep), float64(rank[k])))
		}
		if int(i) >= m.knn.NumItems() {
			continue
		}
		nbr, sim := m.knn.Neighbors(i)
		for q, j := range nbr {
			dst[j] += v * sim[q]
		}
	}
	for j, s := range dst {
		switch {
		case s > 0:
		case j < len(m.prior):
			dst[j] = m.prior[j] - 1
		default: // an item added after Fit: no neighbours, no popularity yet
			dst[j] = -1
		}
	}
}

// recencyRanks returns, for each entry of a row, how many entries are more recent (ties by
// position in the row, so the order is total).
func recencyRanks(times []int64) []int {
	order := make([]int, len(times))
	for k := range order {
		order[k] = k
	}
	slices.SortStableFunc(order, func(a, b int) int { return -compareInt64(times[a], times[b]) })
	rank := make([]int, len(times))
	for r, k := range order {
		rank[k] = r
	}
	return rank
}

// ItemKNNFamily returns the item-kNN family: the defaults first, then a few variations that
// often pay off (more neighbours, less shrinkage, recency), then random draws from a grid.
func ItemKNNFamily() Family {
	return Family{Name: "itemknn", Configs: func(n int, seed uint64) []Model {
		def := DefaultItemKNNConfig()
		with := func(f func(c *ItemKNNConfig, ud *float32)) Model {
			c, ud := def, float32(1)
			f(&c, &ud)
			return &ItemKNNModel{Config: c, UserDecay: ud}
		}
		out := []Model{
			with(func(*ItemKNNConfig, *float32) {}),
			with(func(c *ItemKNNConfig, _ *float32) { c.K = 100 }),
			with(func(c *ItemKNNConfig, _ *float32) { c.K = 200; c.Shrink = 50 }),
			with(func(_ *ItemKNNConfig, ud *float32) { *ud = 0.9 }),
			with(func(c *ItemKNNConfig, _ *float32) { c.K = 20; c.Shrink = 0 }),
			with(func(c *ItemKNNConfig, _ *float32) { c.Alpha = 0.7 }),
			with(func(c *ItemKNNConfig, _ *float32) { c.HalfLife = 0 }),
			with(func(c *ItemKNNConfig, ud *float32) { c.K = 100; *ud = 0.7 }),
		}
		rng := rand.New(rand.NewPCG(seed, 0x6b6e6e))
		day := 24 * time.Hour
		for len(out) < n {
			out = append(out, with(func(c *ItemKNNConfig, ud *float32) {
				c.K = knnPick(rng, []int{10, 20, 50, 100, 200, 400})
				c.Shrink = knnPick(rng, []float32{0, 5, 10, 25, 50, 100})
				c.Alpha = knnPick(rng, []float32{0.3, 0.5, 0.6, 0.7, 0.9})
				c.HalfLife = knnPick(rng, []time.Duration{0, 30 * day, 60 * day, 180 * day})
				*ud = knnPick(rng, []float32{1, 0.95, 0.9, 0.7, 0.5})
			}))
		}
		return out[:min(n, len(out))]
	}}
}

func knnPick[T any](rng *rand.Rand, xs []T) T { return xs[rng.IntN(len(xs))] }
