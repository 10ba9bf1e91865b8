package recommend

import (
	"runtime"
	"time"

	"github.com/qianmian/qianmian"
	"github.com/qianmian/qianmian/model"
)

// DefaultModelName is the name the trainer publishes under and the engine loads.
const DefaultModelName = "hybrid-v1"

// EventWeights is how much one event says about a consumer's interest in its item. A
// purchase means more than a cart, a cart more than a favourite, and so on; returns and
// poor reviews count against the item.
type EventWeights struct {
	View, Click, Favorite, Cart, Purchase, Return float32
	// Review is the weight of a review by its rating 1–5; Review[0] is a review with text
	// but no rating.
	Review [6]float32
}

// DefaultEventWeights returns purchase 8 > cart 4 > favorite 3 > click 2 > view 1, a
// return −8, and reviews from −6 (one star) to +5 (five stars).
func DefaultEventWeights() EventWeights {
	return EventWeights{View: 1, Click: 2, Favorite: 3, Cart: 4, Purchase: 8, Return: -8,
		Review: [6]float32{1, -6, -3, 1, 3, 5}}
}

// Of returns the weight of e's item signal: 0 for events without an item and for
// impressions, searches and visits, which say nothing about an item.
func (w EventWeights) Of(e *qianmian.Event) float32 {
	if e.ItemID == "" {
		return 0
	}
	switch e.Type {
	case qianmian.EventView:
		return w.View
	case qianmian.EventClick:
		return w.Click
	case qianmian.EventFavorite:
		return w.Favorite
	case qianmian.EventCart:
		return w.Cart
	case qianmian.EventPurchase:
		return w.Purchase
	case qianmian.EventReturn:
		return w.Return
	case qianmian.EventReview:
		if e.Rating >= 0 && e.Rating < len(w.Review) {
			return w.Review[e.Rating]
		}
	}
	return 0
}

// TrainerConfig holds the trainer's parameters. Start from DefaultTrainerConfig; zero
// fields (except Window, where 0 means every event) take their defaults.
type TrainerConfig struct {
	// ModelName is the name models are saved under.
	ModelName string
	// Window limits training to events of the last Window; 0 uses every event.
	Window time.Duration
	// Weights turns events into interaction weights.
	Weights EventWeights
	// Neighbors configures co-occurrence; its Now is set by each training run.
	Neighbors model.ItemKNNConfig
	// PopularityHalfLife is the half-life of store, region and global popularity
	// (7 days: "popular this week").
	PopularityHalfLife time.Duration
	// PopularityTopK is the number of items kept per store, region and globally.
	PopularityTopK int
	// RebuyThreshold is the repurchase rate above which a leaf category is one people
	// rebuy, so bought items in it may be recommended again.
	RebuyThreshold float64
	// RebuyMinBuyers is the number of buyers a category needs before its rate counts.
	RebuyMinBuyers int
	// RebuyMinGap is how long after a purchase another one in the category counts as a
	// repurchase rather than the same basket.
	RebuyMinGap time.Duration
	// Learn configures the learned model fitted besides co-occurrence and popularity.
	Learn LearnConfig
}

// LearnConfig configures the learned model: the candidates are fitted on a temporal
// validation split, the best by NDCG@10 is refitted on every interaction and published in
// the artefact, where the engine scores each visitor's live history with it.
type LearnConfig struct {
	// Off publishes only co-occurrence, popularity and rebuy rates: the fast artefact a
	// server starts with while the learned model trains.
	Off bool
	// Models are the candidates in the order they are fitted: "seq", "ials", "content",
	// "ease". A candidate is not started once Budget has passed.
	Models []string
	// Budget bounds the fitting of candidates on the validation split; the refit of the
	// chosen one on all data comes on top.
	Budget time.Duration
	// MaxEASEItems skips EASE for larger catalogues: its fit costs n³ and 12·n² bytes.
	MaxEASEItems int
	// ValidFraction holds out each subject's last max(1, floor(ValidFraction·n)) item
	// interactions by time; subjects with fewer than 3 stay whole.
	ValidFraction float64
	// ValidUsers caps the validation subjects scored (an even sample).
	ValidUsers int
	// History is how many of a subject's latest events are scored, as the engine's ring of
	// recent events (EngineConfig.RingSize).
	History int
	// Hybrid configures the learned ranker over the other candidates, fitted when Models
	// holds "hybrid".
	Hybrid model.HybridConfig
}

// DefaultLearnConfig returns the defaults: sequential, iALS, content and EASE (up to 3,000
// items) and the hybrid over them, 20% validation, up to 5,000 validation subjects,
// 48-event histories. The 90 s budget applies when the candidates are fitted one by one
// (without "hybrid"): the hybrid fits its bases together.
func DefaultLearnConfig() LearnConfig {
	return LearnConfig{Models: []string{"seq", "ials", "content", "ease", hybridName}, Budget: 90 * time.Second,
		MaxEASEItems: 3000, ValidFraction: 0.2, ValidUsers: 5000, History: 48, Hybrid: DefaultLearnHybridConfig()}
}

// DefaultLearnHybridConfig returns the hybrid's settings for serving: the model package's
// defaults with 50 candidates per base, up to 2,000 learning users and 50 trees, to keep the
// learning near a minute on two cores at demo scale. On a 1,000-item test world (60 trees)
// they scored 0.1954 NDCG@10 against 0.1949 with 100 candidates, 3,000 users and 100 trees,
// in three quarters of the time; the trees added 0.003 over the linear blend.
func DefaultLearnHybridConfig() model.HybridConfig {
	c := model.DefaultHybridConfig()
	c.Candidates, c.MaxQueries, c.Trees = 50, 2000, 50
	return c
}

// DefaultTrainerConfig returns the defaults: 180 days of events, 50 neighbours per item,
// 7-day popularity, rebuy categories at a 30% repurchase rate among at least 10 buyers.
func DefaultTrainerConfig() TrainerConfig {
	return TrainerConfig{
		ModelName:          DefaultModelName,
		Window:             180 * 24 * time.Hour,
		Weights:            DefaultEventWeights(),
		Neighbors:          model.DefaultItemKNNConfig(),
		PopularityHalfLife: 7 * 24 * time.Hour,
		PopularityTopK:     2000,
		RebuyThreshold:     0.3,
		RebuyMinBuyers:     10,
		RebuyMinGap:        24 * time.Hour,
		Learn:              DefaultLearnConfig(),
	}
}

// withDefaults returns c with every zero field set to its default.
func (c TrainerConfig) withDefaults() TrainerConfig {
	d := DefaultTrainerConfig()
	setDefault(&c.ModelName, d.ModelName)
	if c.Weights == (EventWeights{}) {
		c.Weights = d.Weights
	}
	if c.Neighbors.K == 0 {
		c.Neighbors = d.Neighbors
	}
	setDefault(&c.PopularityHalfLife, d.PopularityHalfLife)
	setDefault(&c.PopularityTopK, d.PopularityTopK)
	setDefault(&c.RebuyThreshold, d.RebuyThreshold)
	setDefault(&c.RebuyMinBuyers, d.RebuyMinBuyers)
	setDefault(&c.RebuyMinGap, d.RebuyMinGap)
	if c.Learn.Models == nil {
		c.Learn.Models = d.Learn.Models
	}
	setDefault(&c.Learn.Budget, d.Learn.Budget)
	setDefault(&c.Learn.MaxEASEItems, d.Learn.MaxEASEItems)
	setDefault(&c.Learn.ValidFraction, d.Learn.ValidFraction)
	setDefault(&c.Learn.ValidUsers, d.Learn.ValidUsers)
	setDefault(&c.Learn.History, d.Learn.History)
	return c
}

// BlendWeights weigh each candidate source's normalised score (0–1) in the final ranking.
type BlendWeights struct {
	Neighbors     float64 // co-occurrence with the visitor's recent items
	Category      float64 // popular in the store within the visitor's favourite categories
	StorePopular  float64 // the store's own ranking (its popularity, then its region's)
	RegionPopular float64 // popular in the store's region
	Trending      float64 // live trending in the store or region
	Restock       float64 // bought before in a category people rebuy
	Model         float64 // the learned model's score of the visitor's live history
}

// EngineConfig holds the engine's parameters. Start from DefaultEngineConfig; zero fields
// take their defaults. The engine reads it once, at Open.
type EngineConfig struct {
	// ModelName is the model loaded from the ModelStore.
	ModelName string
	// Weights turns live events into interest weights.
	Weights EventWeights
	// Blend weighs the candidate sources.
	Blend BlendWeights
	// RingSize is the number of recent item events kept per visitor.
	RingSize int
	// MaxAffinities is the number of leaf categories whose affinity is kept per visitor.
	MaxAffinities int
	// MaxPurchases is the number of purchased items remembered per visitor.
	MaxPurchases int
	// MaxSubjects bounds the visitors in live state; the least recently used are evicted
	// and rebuilt from the event log when they return.
	MaxSubjects int
	// RebuildWindow and RebuildLimit bound the event-log read that rebuilds a returning
	// user's live state.
	RebuildWindow time.Duration
	RebuildLimit  int
	// SessionHalfLife is the half-life of "what the visitor is doing now".
	SessionHalfLife time.Duration
	// HistoryHalfLife is the half-life of longer-term interests.
	HistoryHalfLife time.Duration
	// TrendingHalfLife is the half-life of the live trending counters.
	TrendingHalfLife time.Duration
	// TrendingCap bounds the counters per store and per region.
	TrendingCap int
	// RecentlySeen demotes (halves) items the visitor viewed this recently.
	RecentlySeen time.Duration
	// RestockAfter is how long after a purchase an item in a rebuy category may come back.
	RestockAfter time.Duration
	// MaxCategoryShare caps the share of one leaf category in a ranking when the store has
	// enough other items.
	MaxCategoryShare float64
	// ConsentTTL is how long the live updater trusts a visitor's personalisation consent
	// before reading it again. Requests always read it.
	ConsentTTL time.Duration
	// FallbackWindow is how far back the popularity fallback reads events while no trained
	// model exists.
	FallbackWindow time.Duration
	// CacheSize bounds the response cache (rankings kept); negative disables it.
	// CacheTTL bounds an entry's age: a visitor's own events, a new model and a reloaded
	// catalogue retire entries at once, but other visitors' behaviour (trending) and time
	// decay reach a cached ranking only after CacheTTL (see cache.go).
	CacheSize int
	CacheTTL  time.Duration
	// MaxRanking bounds the rankings computed at once (Recommend, Similar); more wait
	// their turn. Ranking is CPU work: running more at once than there are cores adds no
	// throughput, only a scratch of the catalogue's size each (about 2 MB at 100,000
	// items) and latency. 0 means 4 × GOMAXPROCS.
	MaxRanking int
	// PreparedBytes bounds what the learned model lays out for the stores' stock, so a
	// ranking reads the stock's data in sequence (iALS: the stock's item vectors packed
	// together, 256 bytes per stocked item at 64 factors; at 100,000 items gathering
	// them from the catalogue's rows costs several times the arithmetic). Stores are
	// prepared in catalogue order until the bound is passed; the others are scored from
	// the catalogue's rows. 0 means 256 MiB; negative prepares nothing.
	PreparedBytes int64
	// ReloadEvery, when positive, makes the engine reload the newest model and the
	// catalogue on its own (for nodes that do not train themselves).
	ReloadEvery time.Duration
}

// DefaultEngineConfig returns the defaults.
func DefaultEngineConfig() EngineConfig {
	return EngineConfig{
		ModelName: DefaultModelName,
		Weights:   DefaultEventWeights(),
		Blend: BlendWeights{Neighbors: 1, Category: 0.7, StorePopular: 0.35,
			RegionPopular: 0.1, Trending: 0.25, Restock: 0.6, Model: 0.8},
		RingSize:         48,
		MaxAffinities:    16,
		MaxPurchases:     64,
		MaxSubjects:      200_000,
		RebuildWindow:    30 * 24 * time.Hour,
		RebuildLimit:     1000,
		SessionHalfLife:  time.Hour,
		HistoryHalfLife:  7 * 24 * time.Hour,
		TrendingHalfLife: 6 * time.Hour,
		TrendingCap:      1024,
		RecentlySeen:     10 * time.Minute,
		RestockAfter:     3 * 24 * time.Hour,
		MaxCategoryShare: 0.4,
		ConsentTTL:       time.Minute,
		FallbackWindow:   28 * 24 * time.Hour,
		CacheSize:        100_000,
		CacheTTL:         10 * time.Second,
		PreparedBytes:    256 << 20,
	}
}

// withDefaults returns c with every zero field set to its default.
func (c EngineConfig) withDefaults() EngineConfig {
	d := DefaultEngineConfig()
	if c.ModelName == "" {
		c.ModelName = d.ModelName
	}
	if c.Weights == (EventWeights{}) {
		c.Weights = d.Weights
	}
	if c.Blend == (BlendWeights{}) {
		c.Blend = d.Blend
	}
	setDefault(&c.RingSize, d.RingSize)
	setDefault(&c.MaxAffinities, d.MaxAffinities)
	setDefault(&c.MaxPurchases, d.MaxPurchases)
	setDefault(&c.MaxSubjects, d.MaxSubjects)
	setDefault(&c.RebuildWindow, d.RebuildWindow)
	setDefault(&c.RebuildLimit, d.RebuildLimit)
	setDefault(&c.SessionHalfLife, d.SessionHalfLife)
	setDefault(&c.HistoryHalfLife, d.HistoryHalfLife)
	setDefault(&c.TrendingHalfLife, d.TrendingHalfLife)
	setDefault(&c.TrendingCap, d.TrendingCap)
	setDefault(&c.RecentlySeen, d.RecentlySeen)
	setDefault(&c.RestockAfter, d.RestockAfter)
	setDefault(&c.MaxCategoryShare, d.MaxCategoryShare)
	setDefault(&c.ConsentTTL, d.ConsentTTL)
	setDefault(&c.FallbackWindow, d.FallbackWindow)
	setDefault(&c.CacheSize, d.CacheSize)
	setDefault(&c.CacheTTL, d.CacheTTL)
	setDefault(&c.PreparedBytes, d.PreparedBytes)
	if c.MaxRanking <= 0 {
		c.MaxRanking = 4 * runtime.GOMAXPROCS(0)
	}
	return c
}

func setDefault[T comparable](p *T, d T) {
	var zero T
	if *p == zero {
		*p = d
	}
}
