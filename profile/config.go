package profile

import (
	"time"
)

// Config tunes a Service. Start from DefaultConfig; zero fields take its values.
type Config struct {
	// HalfLife is how fast affinities and search terms fade: an event HalfLife old counts
	// half as much as one now.
	HalfLife time.Duration
	// Location is the local time of active hours and weekdays.
	Location *time.Location
	// MaxSubjects bounds the profiles kept in memory; the least recently read go first and
	// are rebuilt from the event log when asked for again.
	MaxSubjects int
	// MaxHistory is how many recent item events per consumer the classifiers see.
	MaxHistory int
	// MaxTrainConsumers bounds how many consumers TrainPersonas fits on, and so the
	// histories it holds at once. When there are more user records, it fits on a
	// deterministic uniform sample of this many of them, chosen by a stable hash of the user
	// id (the same users in every process and every run over the same users).
	MaxTrainConsumers int
	// MaxTerms is how many search terms a profile keeps (the strongest).
	MaxTerms int
	// MinBuyers is how many other buyers a category (or RFM) needs before a consumer is
	// ranked against them.
	MinBuyers int
	// MinConfidence is the calibrated probability a learned tag needs to be shown.
	MinConfidence float64
	// MinDeclared is how many declared consumers a class needs to be learned; rarer
	// classes are left out of training.
	MinDeclared int
	// StatsEvery is how often population statistics are refreshed (and a newer persona model
	// is looked for); negative turns the refresh off after the first.
	StatsEvery time.Duration
	// TrainEvery is how often the persona classifiers are retrained; 0 never (call
	// TrainPersonas), and a service without a model trains once at Open when it is set.
	TrainEvery time.Duration
	// ModelName is the ModelStore name of the persona classifiers.
	ModelName string
}

// china is UTC+8, the local time of the platform's stores and consumers.
var china = time.FixedZone("CST", 8*3600)

// DefaultConfig returns the defaults: a 30-day half-life, China time, 100,000 profiles in
// memory, 500 events per history, persona training on at most 200,000 consumers, 50 search
// terms, 5 buyers to compare with, learned tags from a calibrated probability of 0.7, 20
// declared consumers per class, statistics every 10 minutes, no scheduled retraining.
func DefaultConfig() Config {
	return Config{
		HalfLife:          30 * 24 * time.Hour,
		Location:          china,
		MaxSubjects:       100_000,
		MaxHistory:        500,
		MaxTrainConsumers: 200_000,
		MaxTerms:          50,
		MinBuyers:         5,
		MinConfidence:     0.7,
		MinDeclared:       20,
		StatsEvery:        10 * time.Minute,
		ModelName:         "persona",
	}
}

func (c Config) withDefaults() Config {
	d := DefaultConfig()
	if c.HalfLife <= 0 {
		c.HalfLife = d.HalfLife
	}
	if c.Location == nil {
		c.Location = d.Location
	}
	if c.MaxSubjects <= 0 {
		c.MaxSubjects = d.MaxSubjects
	}
	if c.MaxHistory <= 0 {
		c.MaxHistory = d.MaxHistory
	}
	if c.MaxTrainConsumers <= 0 {
		c.MaxTrainConsumers = d.MaxTrainConsumers
	}
	if c.MaxTerms <= 0 {
		c.MaxTerms = d.MaxTerms
	}
	if c.MinBuyers <= 0 {
		c.MinBuyers = d.MinBuyers
	}
	if c.MinConfidence <= 0 {
		c.MinConfidence = d.MinConfidence
	}
	if c.MinDeclared <= 0 {
		c.MinDeclared = d.MinDeclared
	}
	if c.StatsEvery == 0 {
		c.StatsEvery = d.StatsEvery
	}
	if c.ModelName == "" {
		c.ModelName = d.ModelName
	}
	return c
}
