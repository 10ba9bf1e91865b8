// Package recommend is qianmian's online engine and its trainer.
//
// Trainer streams the event log into a model.Dataset, fits item-to-item co-occurrence,
// time-decayed store, region and global popularity and per-category repurchase rates, and
// publishes them as one artefact through qianmian.ModelStore.
//
// Engine implements qianmian.Recommender. It serves from an immutable snapshot (catalogue,
// each store's in-stock assortment, the remapped model) that Reload swaps atomically, and
// from live state (each visitor's recent events, category affinity and purchases; per store
// and per region trending counters) that one goroutine keeps current from the event bus.
// A request runs the ranking pipeline of ARCHITECTURE.md: candidate sources (co-occurrence
// neighbours of recent items, favourite categories, store and region popularity, trending,
// restock) → filters (assortment, stock, already bought, disliked) → a blended score →
// diversification by leaf category → top-up from store popularity → readable reasons.
//
// The package imports qianmian and model only, and reaches storage through qianmian's
// interfaces.
package recommend
