package sim

import (
	"fmt"
	"time"
)

// Config says how big a world to generate and from which seed. Start from DefaultConfig,
// SmallConfig or LargeConfig and override fields.
type Config struct {
	Seed      uint64
	Suppliers int // at most the number of brands generated (at least 75; more are derived)
	Items     int
	Stores    int // at least 2, so that a store in another region exists
	Users     int
	Weeks     int       // length of the history
	End       time.Time // the history stops strictly before End; the demo passes time.Now()

	// ActivityScale multiplies every persona's sessions per week (1 keeps the calibrated
	// volume of about 20 events per consumer over 6 weeks).
	ActivityScale float64
	// AnonymousShare is the share of consumers who browse the app as an anonymous device
	// before logging in.
	AnonymousShare float64
	// CardShare is the share of consumers holding an offline membership card.
	CardShare float64
	// UnmetShare is the share of searches for things the catalogue lacks.
	UnmetShare float64
	// Trends is the number of emerging trends (at most one item each, in one region).
	Trends int

	// Workers generates consumers' histories in parallel; 0 means GOMAXPROCS. The output
	// does not depend on it.
	Workers int
	// MaxBufferedEvents bounds the compact events (40 bytes each) Events holds to sort
	// them; past it, Events generates the history again for each time window. 0 means 4M.
	MaxBufferedEvents int
}

// DefaultConfig returns the demo world: 40 suppliers, 5,000 items, 100 stores in five
// regions, 20,000 consumers and six weeks of history (about 400k events). End is a fixed
// moment (2026-03-02 10:00 UTC) so that worlds are reproducible; the demo sets it to now.
func DefaultConfig() Config {
	return Config{
		Seed:           20260302,
		Suppliers:      40,
		Items:          5000,
		Stores:         100,
		Users:          20000,
		Weeks:          6,
		End:            time.Date(2026, time.March, 2, 10, 0, 0, 0, time.UTC),
		ActivityScale:  1,
		AnonymousShare: 0.20,
		CardShare:      0.10,
		UnmetShare:     0.05,
		Trends:         2,
	}
}

// SmallConfig returns a world small enough for unit tests: 300 items, 8 stores, 500
// consumers, two weeks.
func SmallConfig() Config {
	c := DefaultConfig()
	c.Suppliers = 12
	c.Items = 300
	c.Stores = 8
	c.Users = 500
	c.Weeks = 2
	return c
}

// LargeConfig returns the benchmark world: 1M consumers, 100k items, 500 stores and about
// 20M events. Stream its events; do not collect them.
func LargeConfig() Config {
	c := DefaultConfig()
	c.Suppliers = 200
	c.Items = 100000
	c.Stores = 500
	c.Users = 1000000
	return c
}

// Validate reports what is wrong with c, if anything.
func (c Config) Validate() error {
	switch {
	case c.Suppliers < 1:
		return fmt.Errorf("sim: Suppliers must be at least 1, not %d", c.Suppliers)
	case c.Items < 50:
		return fmt.Errorf("sim: Items must be at least 50, not %d", c.Items)
	case c.Stores < 2:
		return fmt.Errorf("sim: Stores must be at least 2, not %d", c.Stores)
	case c.Users < 1:
		return fmt.Errorf("sim: Users must be at least 1, not %d", c.Users)
	case c.Users >= 1<<31 || c.Items >= 1<<31:
		return fmt.Errorf("sim: Users and Items must be below 2^31")
	case c.Weeks < 1 || c.Weeks > 520:
		return fmt.Errorf("sim: Weeks must be between 1 and 520, not %d", c.Weeks)
	case c.End.IsZero():
		return fmt.Errorf("sim: End is required")
	case c.ActivityScale <= 0:
		return fmt.Errorf("sim: ActivityScale must be positive, not %g", c.ActivityScale)
	case c.Trends < 0:
		return fmt.Errorf("sim: Trends must not be negative")
	}
	for _, s := range []struct {
		name string
		v    float64
	}{{"AnonymousShare", c.AnonymousShare}, {"CardShare", c.CardShare}, {"UnmetShare", c.UnmetShare}} {
		if !(s.v >= 0 && s.v <= 1) {
			return fmt.Errorf("sim: %s must be between 0 and 1, not %g", s.name, s.v)
		}
	}
	return nil
}
