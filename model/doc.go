// Package model holds qianmian's pure recommender algorithms: the dense Dataset, item-to-item
// co-occurrence (ItemKNN), time-decayed popularity per group, repurchase rates, implicit ALS,
// EASE, a sequence-aware next-item model, content similarity, a learned hybrid ranker, TopK
// and the ranking metrics. Every model implements Model; those that can score a live
// history implement HistoryScorer.
//
// Everything here is deterministic for its inputs, config and seed, does no I/O beyond the
// WriteTo/ReadFrom streams of trained artefacts, and imports the standard library and gonum
// (dense linear algebra for EASE, BLAS kernels for ALS) only, never qianmian. Ids are dense
// int32 indexes; the mapping from string ids belongs to IDMap and Dataset, so models never
// see strings. Times are Unix seconds.
package model
