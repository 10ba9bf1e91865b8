package model

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// itemTime counts an item's interactions within the window around t as a count over every
// interaction would, whichever ends of the window fall inside the item's times.
func TestHybridData_ItemTimeCountsTheWindow(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(5, 5))
	const base = 1_700_000_000 // times are kept as offsets from the earliest
	h := &hybridData{window: 50, tptr: []int64{0}, timeBase: base}
	var lists [][]int64
	for range 40 {
		ts := make([]int64, rng.IntN(30))
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
