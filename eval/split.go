package eval

import (
	"fmt"
	"math"
	"slices"
)

// Protocol splits a log into train and test. The harness applies the same protocol to the
// train part to carve the validation split it tunes on, so tuning never sees the test.
type Protocol interface {
	// Name is the protocol as a flag value and in reports ("temporal", "leave-one-out").
	Name() string
	// Split returns the train and test interactions, each sorted by user and (time, item id).
	Split(log []Interaction) (train, test []Interaction)
}

// Temporal orders each user's interactions by (time, item id) and holds out the last
// floor(Frac·n) of their n interactions: the MovieLens protocol with Frac 0.2. A user with
// fewer than 1/Frac interactions keeps them all in train.
type Temporal struct{ Frac float64 }

// Name returns "temporal".
func (Temporal) Name() string { return "temporal" }

// Split holds out the latest floor(Frac·n) interactions of each user.
func (p Temporal) Split(log []Interaction) (train, test []Interaction) {
	byUser(log, func(rows []Interaction) {
		// The epsilon keeps floor(0.2·5) at 1 whatever the rounding of 0.2·5.
		n := int(math.Floor(p.Frac*float64(len(rows)) + 1e-9))
		cut := len(rows) - max(0, min(n, len(rows)))
		train = append(train, rows[:cut]...)
		test = append(test, rows[cut:]...)
	})
	return train, test
}

// LeaveOneOut holds out each user's last interaction by (time, item id). A user with a
// single interaction keeps it in train: there is nothing to predict it from.
type LeaveOneOut struct{}

// Name returns "leave-one-out".
func (LeaveOneOut) Name() string { return "leave-one-out" }

// Split holds out the last interaction of every user with at least two.
func (LeaveOneOut) Split(log []Interaction) (train, test []Interaction) {
	byUser(log, func(rows []Interaction) {
		if len(rows) < 2 {
			train = append(train, rows...)
			return
		}
		train = append(train, rows[:len(rows)-1]...)
		test = append(test, rows[len(rows)-1])
	})
	return train, test
}

// LastWeeks holds out every interaction in the last Weeks calendar weeks of the log, for
// everyone at once: a global temporal split, as a retailer would deploy a model trained up
// to a date. Users who only appear in those weeks have no train rows.
type LastWeeks struct {
	Weeks int
	// Starts are the start times of the calendar weeks, ascending; an interaction belongs to
	// the last week that starts at or before it. Nil means weeks of seven days counted back
	// from the latest interaction.
	Starts []int64
}

// Name returns "last-N-weeks".
func (p LastWeeks) Name() string { return fmt.Sprintf("last-%d-weeks", p.Weeks) }

// Split holds out the interactions of the last Weeks weeks present in log.
func (p LastWeeks) Split(log []Interaction) (train, test []Interaction) {
	if len(log) == 0 {
		return nil, nil
	}
	latest := log[0].Time
	for _, x := range log {
		latest = max(latest, x.Time)
	}
	week := func(t int64) int64 {
		if p.Starts == nil {
			return -((latest - t) / (7 * 86400))
		}
		i, found := slices.BinarySearch(p.Starts, t)
		if !found {
			i--
		}
		return int64(i)
	}
	first := week(latest) - int64(p.Weeks) + 1
	byUser(log, func(rows []Interaction) {
		for _, x := range rows {
			if week(x.Time) >= first {
				test = append(test, x)
			} else {
				train = append(train, x)
			}
		}
	})
	return train, test
}
