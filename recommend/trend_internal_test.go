package recommend

import (
	"cmp"
	"math/rand/v2"
	"slices"
	"testing"
)

// The selection keeps exactly the items a full sort would keep, ties going to the lower
// item, whatever the order the map handed them over in.
func TestSelectStrongest_KeepsWhatASortKeeps(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	for trial := range 500 {
		n := 1 + rng.IntN(300)
		items := make([]trendItem, n)
		for k := range items {
			// Few distinct values, so ties are common.
			items[k] = trendItem{item: int32(k), v: float32(rng.IntN(1 + trial%20))}
		}
		rng.Shuffle(n, func(a, b int) { items[a], items[b] = items[b], items[a] })
		keep := rng.IntN(n + 2)
		want := slices.Clone(items)
		slices.SortFunc(want, func(a, b trendItem) int {
			if a.v != b.v {
				return cmp.Compare(b.v, a.v)
			}
			return cmp.Compare(a.item, b.item)
		})
		want = want[:min(keep, n)]
		got := slices.Clone(items)
		selectStrongest(got, keep)
		got = got[:min(keep, n)]
		slices.SortFunc(got, func(a, b trendItem) int { return cmp.Compare(a.item, b.item) })
		slices.SortFunc(want, func(a, b trendItem) int { return cmp.Compare(a.item, b.item) })
		if !slices.Equal(got, want) {
			t.Fatalf("trial %d: n %d keep %d: kept %v, want %v", trial, n, keep, got, want)
		}
	}
}

// A table over its limit keeps the strongest half, decayed to its newest count.
func TestTrendTable_PrunesToTheStrongestHalf(t *testing.T) {
	tt := &trendTable{counts: map[int32]trendCount{}}
	const limit, hl = 8, 3600.0
	// Items 0–7 at time 0 with weight 1+item, then item 8 one half-life later with weight 5.
	for i := range int32(8) {
		tt.add(i, float32(1+i), 0, hl, limit)
	}
	tt.add(8, 5, 3600, hl, limit) // 9 entries > 8: prune to 4
	if len(tt.counts) != 4 {
		t.Fatalf("%d counters after the prune, want 4", len(tt.counts))
	}
	// Decayed to t=3600: item i is worth (1+i)/2, so 7 → 4, 6 → 3.5, 5 → 3, 8 → 5.
	for _, i := range []int32{5, 6, 7, 8} {
		if _, ok := tt.counts[i]; !ok {
			t.Errorf("item %d was pruned; kept %v", i, tt.counts)
		}
	}
}

// BenchmarkTrendTable_Add counts events over 4,000 items into one table of the default cap,
// as a busy region's table does: it prunes every 512 additions.
func BenchmarkTrendTable_Add(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	items := make([]int32, 1<<16)
	for k := range items {
		items[k] = int32(rng.IntN(4000))
	}
	limit := DefaultEngineConfig().TrendingCap
	tt := &trendTable{counts: map[int32]trendCount{}}
	b.ReportAllocs()
	for k := 0; b.Loop(); k++ {
		tt.add(items[k&(len(items)-1)], 1, int64(k/64), 86400, limit)
	}
}
