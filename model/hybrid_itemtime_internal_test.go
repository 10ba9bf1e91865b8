package model

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// itemTime returns, for item i seen from a user whose latest interaction is at t: the log
// of 1 + the item's interactions within the window around t, and the signed log(1+days)
// from the item's first and from its last interaction to t (negative when after t).
// It is the one-item definition, searching with the standard library, that the tests hold
// itemTimes to.
func (h *hybridData) itemTime(i int32, t int64) (near, since, idle float32) {
	lo, hi := h.tptr[i], h.tptr[i+1]
	if hi == lo {
		return 0, 0, 0
	}
	first, last := h.ends[2*i], h.ends[2*i+1]
	ts := h.times[lo:hi]
	a, b := 0, len(ts)
	if first < t-h.window {
		a, _ = slices.BinarySearch(ts, h.timeOffset(t-h.window))
	}
	if last >= t+h.window+1 {
		b, _ = slices.BinarySearch(ts[a:], h.timeOffset(t+h.window+1))
		b += a
	}
	return log1pCount(b - a), signedLogDays(t - first), signedLogDays(t - last)
}

// itemTimes, and itemTime item by item, count an item's interactions within the window
// around t as a count over every interaction would, whichever ends of the window fall
// inside the item's times.
func TestHybridData_ItemTimeCountsTheWindow(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(5, 5))
	const base = 1_700_000_000 // times are kept as offsets from the earliest
	h := &hybridData{window: 50, tptr: []int64{0}, timeBase: base}
	var lists [][]int64
	// 40 items with few times, and busy ones with many equal times.
	counts := []int{64, 65, 100, 400, 1000, 3000}
	for range 40 {
		counts = append(counts, rng.IntN(30))
	}
	for _, c := range counts {
		ts := make([]int64, c)
		for k := range ts {
			ts[k] = base + int64(rng.IntN(400))
		}
		slices.Sort(ts)
		lists = append(lists, ts)
		for _, x := range ts {
			h.times = append(h.times, uint32(x-base))
		}
		h.tptr = append(h.tptr, int64(len(h.times)))
	}
	h.ni, h.pop = len(lists), make([]float32, len(lists))
	h.sortPop()
	cases := 0
	all := make([]int32, len(lists))
	for i := range all {
		all[i] = int32(len(all) - 1 - i) // any order, as candidates come
	}
	var s candScratch
	for tu := int64(base - 120); tu < base+520; tu += 7 {
		// The searches in lockstep give what itemTime gives, item by item.
		h.itemTimes(all, tu, &s)
		for r, i := range all {
			near, since, idle := h.itemTime(i, tu)
			if s.near[r] != near || s.since[r] != since || s.idle[r] != idle {
				t.Fatalf("item %d, t %d: itemTimes %g %g %g, itemTime %g %g %g", i, tu,
					s.near[r], s.since[r], s.idle[r], near, since, idle)
			}
		}
	}
	for i, ts := range lists {
		for tu := int64(base - 120); tu < base+520; tu += 7 {
			near, since, idle := h.itemTime(int32(i), tu)
			n := 0
			for _, x := range ts {
				if x >= tu-h.window && x <= tu+h.window {
					n++
				}
			}
			if want := float32(math.Log1p(float64(n))); near != want {
				t.Fatalf("item %d (times %v), t %d: near %g, want %g (%d within)", i, ts, tu, near, want, n)
			}
			if len(ts) == 0 {
				if near != 0 || since != 0 || idle != 0 {
					t.Fatalf("item %d without times: %g %g %g", i, near, since, idle)
				}
				continue
			}
			if since != signedLogDays(tu-ts[0]) || idle != signedLogDays(tu-ts[len(ts)-1]) {
				t.Fatalf("item %d, t %d: since %g idle %g", i, tu, since, idle)
			}
			cases++
		}
	}
	if cases < 1000 {
		t.Fatalf("only %d cases", cases)
	}
}

// The table of log(1+n) gives the float32 the computation gives, inside the table and
// past it.
func TestLog1pCount_MatchesLog1p(t *testing.T) {
	t.Parallel()
	for n := range 3 * len(log1pCounts) {
		if got, want := log1pCount(n), float32(math.Log1p(float64(n))); math.Float32bits(got) != math.Float32bits(want) {
			t.Fatalf("log1pCount(%d) = %g, want %g", n, got, want)
		}
	}
}

// BenchmarkHybridData_ItemTime computes pop.near, item.since and item.idle for 300
// candidates drawn by popularity from 100,000 items with 8 million interaction times over
// six weeks (the large world's shape), for users whose latest time is anywhere in them.
func BenchmarkHybridData_ItemTime(b *testing.B) {
	const items, span = 100_000, 42 * 86400
	const base = 1_700_000_000
	rng := rand.New(rand.NewPCG(9, 9))
	h := &hybridData{window: span / 16, tptr: make([]int64, items+1), timeBase: base, ni: items}
	for i := range items {
		h.tptr[i+1] = h.tptr[i] + int64(8_000_000/(i+40)/3) // a long tail: 66,666 to 2 times
	}
	h.times = make([]uint32, h.tptr[items])
	for i := range items {
		ts := h.times[h.tptr[i]:h.tptr[i+1]]
		for k := range ts {
			ts[k] = uint32(rng.IntN(span))
		}
		slices.Sort(ts)
	}
	h.pop = make([]float32, items)
	h.sortPop()
	// Each request's 300 candidates are new ones, mostly popular.
	cands := make([]int32, 300*1024)
	for k := range cands {
		cands[k] = int32(float64(items) * math.Pow(rng.Float64(), 3))
	}
	var sink float32
	var s candScratch
	r := 0
	for b.Loop() {
		t := int64(base + rng.IntN(span))
		r = (r + 1) % 1024
		h.itemTimes(cands[300*r:300*(r+1)], t, &s)
		sink += s.near[0] + s.since[0] + s.idle[0]
	}
	_ = sink
}
