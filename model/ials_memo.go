package model

import (
	"math"
	"slices"
	"sync"
)

// foldMemoSize is how many folded-in histories an IALS remembers. A visitor asks for
// several rankings between two of their events (pages, stores, "more like this"), each
// folding the same history in again; the memo answers those from the first fold. At k = 64
// an entry is its 256-byte vector plus its history at 16 bytes an event: a few MB in all.
const foldMemoSize = 4096

// foldMemo remembers the vectors of the latest histories folded in, by their content: a
// history folds to the same vector every time (foldInto is a function of the items, weights
// and times and of the fitted item vectors, which never change after Fit), so a hit is
// exact. Entries are replaced oldest first.
type foldMemo struct {
	mu      sync.Mutex
	index   map[uint64]int32 // history hash → entry
	entries []foldEntry
	next    int // the entry replaced next, once full
}

type foldEntry struct {
	hash    uint64
	items   []int32
	weights []float32
	times   []int64
	x       []float32
}

func newFoldMemo() *foldMemo {
	return &foldMemo{index: make(map[uint64]int32, foldMemoSize)}
}

// historyHash hashes a history's items, weights (their bits) and times.
func historyHash(items []int32, weights []float32, times []int64) uint64 {
	h := uint64(len(items))
	for q, i := range items {
		h = mix64(h, uint64(uint32(i))|uint64(math.Float32bits(weights[q]))<<32, uint64(times[q]))
	}
	return h
}

// get copies the vector of the history into x and reports whether it was there.
func (f *foldMemo) get(h uint64, items []int32, weights []float32, times []int64, x []float32) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	k, ok := f.index[h]
	if !ok {
		return false
	}
	e := &f.entries[k]
	if !slices.Equal(e.items, items) || !sameBits(e.weights, weights) || !slices.Equal(e.times, times) {
		return false // another history with the same hash
	}
	copy(x, e.x)
	return true
}

// put remembers x as the vector of the history, copying both.
func (f *foldMemo) put(h uint64, items []int32, weights []float32, times []int64, x []float32) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.index[h]; ok {
		return // a concurrent fold of the same history, or a colliding one: keep the first
	}
	var e *foldEntry
	if len(f.entries) < foldMemoSize {
		f.entries = append(f.entries, foldEntry{})
		e = &f.entries[len(f.entries)-1]
		f.index[h] = int32(len(f.entries) - 1)
	} else {
		e = &f.entries[f.next]
		delete(f.index, e.hash)
		f.index[h] = int32(f.next)
		f.next = (f.next + 1) % foldMemoSize
	}
	e.hash = h
	e.items = append(e.items[:0], items...)
	e.weights = append(e.weights[:0], weights...)
	e.times = append(e.times[:0], times...)
	e.x = append(e.x[:0], x...)
}

// sameBits reports whether a and b hold the same float32s bit for bit (so NaN matches NaN
// and 0 does not match −0, as a fold would tell them apart).
func sameBits(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for k := range a {
		if math.Float32bits(a[k]) != math.Float32bits(b[k]) {
			return false
		}
	}
	return true
}
