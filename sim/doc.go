// Package sim generates a synthetic S2b2c world with ground truth: suppliers and their
// brands, a catalogue in a three-level category tree, stores in five regions with different
// audiences and assortments, consumers drawn from personas, and weeks of their behaviour
// (searches, view → cart → purchase funnels, favourites, reviews, returns, offline visits,
// repeat purchases, emerging trends, unmet demand, anonymous devices and membership cards
// that are later linked to accounts).
//
// Everything is a pure function of Config: the same Config (seed, sizes and End) gives the
// same world, byte for byte, whatever Workers and MaxBufferedEvents are.
//
//	w, err := sim.Generate(sim.DefaultConfig())  // entities and Truth, in a fraction of a second
//	for e := range w.Events() { ... }             // the history, time-ordered, regenerated per call
//	files, err := sim.WriteFiles(w, dir)          // *.ndjson and truth.json
//
// Generate builds the entities (World.Suppliers, Stores, Items, Assortments, Users) and the
// Truth. The events are not stored in the World: World.Events regenerates them on demand,
// each consumer's history from its own random stream, so a large world streams without
// being held in memory. Truth.Sample names the ids the demo shows.
package sim
