package recommend

import (
	"slices"
	"sync"
	"time"

	"github.com/qianmian/qianmian/model"
)

// trendTable counts recent interest in items of one store or region, decaying with
// EngineConfig.TrendingHalfLife. Its best items are cached for trendRefresh, so requests
// pay for the decay arithmetic a few times a second rather than on every call.
type trendTable struct {
	mu      sync.Mutex
	counts  map[int32]trendCount
	top     []trendItem
	topAt   time.Time // wall clock, for the cache only
	changes int
}

type trendCount struct {
	v  float32 // as of at
	at int64   // Unix seconds
}

type trendItem struct {
	item int32
	v    float32
}

const (
	trendRefresh = 250 * time.Millisecond
	trendTop     = 64
)

// add counts w for item at time at, pruning to the strongest half when over limit.
func (t *trendTable) add(item int32, w float32, at int64, halfLife float64, limit int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	c, ok := t.counts[item]
	switch {
	case !ok:
		c = trendCount{w, at}
	case at >= c.at:
		c = trendCount{c.v*float32(halve(float64(at-c.at), halfLife)) + w, at}
	default:
		c.v += w * float32(halve(float64(c.at-at), halfLife))
	}
	t.counts[item] = c
	t.changes++
	if len(t.counts) > limit {
		t.prune(limit/2, halfLife)
	}
}

// prune keeps the keep strongest counters, decayed to the newest time among them (ties
// to the lower item), and deletes the rest. A table prunes once per limit/2 additions,
// and a region's busy table does so every few hundred events, so the strongest are
// selected rather than sorted.
func (t *trendTable) prune(keep int, halfLife float64) {
	var newest int64
	for _, c := range t.counts {
		newest = max(newest, c.at)
	}
	all := make([]trendItem, 0, len(t.counts))
	for i, c := range t.counts {
		all = append(all, trendItem{i, c.v * float32(halve(float64(newest-c.at), halfLife))})
	}
	selectStrongest(all, keep)
	for _, x := range all[min(keep, len(all)):] {
		delete(t.counts, x.item)
	}
}

// stronger orders trend items by value, highest first, then by item.
func stronger(a, b trendItem) bool {
	return a.v > b.v || a.v == b.v && a.item < b.item
}

// selectStrongest reorders items so that its first k hold its k strongest (see stronger),
// in no particular order: Hoare's selection, expected linear time.
func selectStrongest(items []trendItem, k int) {
	lo, hi := 0, len(items)-1
	for lo < hi && k > lo && k <= hi {
		// Median of three as the pivot, moved to lo.
		mid := lo + (hi-lo)/2
		if stronger(items[mid], items[lo]) {
			items[mid], items[lo] = items[lo], items[mid]
		}
		if stronger(items[hi], items[lo]) {
			items[hi], items[lo] = items[lo], items[hi]
		}
		if stronger(items[hi], items[mid]) {
			items[hi], items[mid] = items[mid], items[hi]
		}
		// items[lo] is now the strongest of the three, items[mid] the median.
		items[lo], items[mid] = items[mid], items[lo]
		pivot := items[lo]
		// Partition items[lo+1:hi+1] into those stronger than the pivot, then the rest.
		p := lo
		for j := lo + 1; j <= hi; j++ {
			if stronger(items[j], pivot) {
				p++
				items[p], items[j] = items[j], items[p]
			}
		}
		items[lo], items[p] = items[p], items[lo]
		// items[:p] (from lo) are stronger than the pivot, now at p; the rest are weaker.
		switch {
		case p == k || p == k-1:
			return
		case p > k:
			hi = p - 1
		default:
			lo = p + 1
		}
	}
}

// best appends the trending items, strongest first, to dst.
func (t *trendTable) best(dst []trendItem, now int64, halfLife float64, wall time.Time) []trendItem {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.changes > 0 && (t.top == nil || wall.Sub(t.topAt) >= trendRefresh || wall.Before(t.topAt)) {
		t.refresh(now, halfLife)
		t.topAt, t.changes = wall, 0
	}
	return append(dst, t.top...)
}

func (t *trendTable) refresh(now int64, halfLife float64) {
	items := make([]int32, 0, len(t.counts))
	for i := range t.counts {
		items = append(items, i)
	}
	slices.Sort(items) // a fixed order, so ties break the same way every time
	scores := make([]float32, len(items))
	for k, i := range items {
		c := t.counts[i]
		scores[k] = c.v * float32(halve(float64(now-c.at), halfLife))
	}
	top := model.TopK(make([]int32, 0, trendTop), scores, trendTop)
	t.top = t.top[:0]
	for _, k := range top {
		if scores[k] > 0 {
			t.top = append(t.top, trendItem{items[k], scores[k]})
		}
	}
}
