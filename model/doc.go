// Package model holds qianmian's pure recommender algorithms: the dense Dataset, item-to-item
// co-occurrence (ItemKNN), time-decayed popularity per group, repurchase rates, TopK and the
// ranking metrics.
//
// Everything here is deterministic for its inputs and config, does no I/O beyond the
// WriteTo/ReadFrom streams of trained artefacts, and imports the standard library only.
// Ids are dense int32 indexes; the mapping from string ids belongs to IDMap and Dataset, so
// models never see strings. Times are Unix seconds.
package model
