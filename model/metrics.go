package model

import "math"

// The ranking metrics below take a ranked list of distinct items and the set of relevant
// (held-out) items, and look at the first k of the ranking. They return 0 when relevant is
// empty or k <= 0.

// NDCG returns the normalised discounted cumulative gain at k with binary relevance: the
// DCG of the hits, Σ 1/log2(rank+1) over 1-based ranks, divided by the DCG of an ideal
// ranking of min(k, |relevant|) hits.
func NDCG(ranked, relevant []int32, k int) float64 {
	if len(relevant) == 0 || k <= 0 {
		return 0
	}
	isRel := relevance(relevant)
	var dcg, idcg float64
	for p, item := range ranked[:min(k, len(ranked))] {
		if isRel(item) {
			dcg += 1 / math.Log2(float64(p)+2)
		}
	}
	for p := 0; p < min(k, len(relevant)); p++ {
		idcg += 1 / math.Log2(float64(p)+2)
	}
	return dcg / idcg
}

// Recall returns the share of relevant items found in the first k: hits / |relevant|.
func Recall(ranked, relevant []int32, k int) float64 {
	if len(relevant) == 0 || k <= 0 {
		return 0
	}
	return float64(hits(ranked, relevant, k)) / float64(len(relevant))
}

// HitRate returns 1 if any relevant item is in the first k, else 0.
func HitRate(ranked, relevant []int32, k int) float64 {
	if len(relevant) == 0 || k <= 0 || hits(ranked, relevant, k) == 0 {
		return 0
	}
	return 1
}

// MRR returns the reciprocal rank of the first relevant item in the first k, 0 if none.
func MRR(ranked, relevant []int32, k int) float64 {
	if len(relevant) == 0 || k <= 0 {
		return 0
	}
	isRel := relevance(relevant)
	for p, item := range ranked[:min(k, len(ranked))] {
		if isRel(item) {
			return 1 / float64(p+1)
		}
	}
	return 0
}

func hits(ranked, relevant []int32, k int) int {
	isRel := relevance(relevant)
	n := 0
	for _, item := range ranked[:min(k, len(ranked))] {
		if isRel(item) {
			n++
		}
	}
	return n
}

// relevance returns a membership test: a scan for small sets, a map for large ones.
func relevance(relevant []int32) func(int32) bool {
	if len(relevant) <= 16 {
		return func(item int32) bool {
			for _, r := range relevant {
				if r == item {
					return true
				}
			}
			return false
		}
	}
	set := make(map[int32]struct{}, len(relevant))
	for _, r := range relevant {
		set[r] = struct{}{}
	}
	return func(item int32) bool { _, ok := set[item]; return ok }
}
