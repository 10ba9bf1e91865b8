package model

import (
	"context"
	"fmt"
	"time"
)

// PopularityModel recommends the same items to everyone: the most popular in the training
// data, optionally time-decayed. It is the baseline every other model must beat.
type PopularityModel struct {
	// HalfLife halves an interaction's weight for every HalfLife it lies before the latest
	// interaction in the dataset; 0 counts every interaction fully.
	HalfLife time.Duration
	// Weighted sums interaction weights; otherwise each user with a positive weight on an
	// item counts once ("how many people", not "how much").
	Weighted bool

	scores []float32
}

// Name returns "pop".
func (m *PopularityModel) Name() string { return "pop" }

// Describe returns the configuration in a line.
func (m *PopularityModel) Describe() string {
	return fmt.Sprintf("half_life=%s weighted=%t", describeHalfLife(m.HalfLife), m.Weighted)
}

// Fit counts every item's decayed popularity on d through a PopularityCounter, so the
// ranking is the one the serving engine uses.
func (m *PopularityModel) Fit(ctx context.Context, d *Dataset) error {
	c := NewPopularityCounter(PopularityConfig{HalfLife: m.HalfLife, Now: latestInteraction(d)})
	for u := 0; u < d.NumUsers(); u++ {
		if u%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		items, weights, times := d.Row(int32(u))
		for k, i := range items {
			w := weights[k]
			if !m.Weighted {
				if w <= 0 {
					continue
				}
				w = 1
			}
			c.Add(0, i, w, times[k])
		}
	}
	m.scores = make([]float32, d.NumItems())
	items, scores := c.Popularity().Top(0)
	for k, i := range items {
		m.scores[i] = scores[k]
	}
	return nil
}

// ScoreUser writes every item's popularity into dst, whoever u is.
func (m *PopularityModel) ScoreUser(_ int32, dst []float32) { copy(dst, m.scores) }

// ScoreHistory writes the popularity of every item into dst, whatever the history.
func (m *PopularityModel) ScoreHistory(_ []int32, _ []float32, _ []int64, dst []float32) {
	copy(dst, m.scores)
}

// PopularityFamily returns the popularity family: counts of users first, then decayed and
// weighted variants.
func PopularityFamily() Family {
	return Family{Name: "pop", Configs: func(n int, _ uint64) []Model {
		day := 24 * time.Hour
		var out []Model
		for _, hl := range []time.Duration{0, 30 * day, 7 * day, 90 * day, 1 * day, 180 * day} {
			for _, weighted := range []bool{false, true} {
				out = append(out, &PopularityModel{HalfLife: hl, Weighted: weighted})
			}
		}
		return out[:min(n, len(out))]
	}}
}

// latestInteraction returns the latest interaction time in d, the moment decay is measured from.
func latestInteraction(d *Dataset) int64 {
	var at int64
	for _, t := range d.times {
		at = max(at, t)
	}
	return at
}

// describeHalfLife prints a half-life in days, or "off" for none.
func describeHalfLife(hl time.Duration) string {
	if hl <= 0 {
		return "off"
	}
	return fmt.Sprintf("%gd", hl.Hours()/24)
}
