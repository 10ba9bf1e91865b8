package model

import (
	"slices"
	"sync"
)

// seqMemoBytes bounds what a Sequential remembers of the histories it scored. An entry is
// the history's latest steps and, for every item its rows touched, the sum of the
// transition, two-step and similarity scores: 8 bytes an item, about 2,000 items (16 KB)
// for a 50-step history over a 100,000-item catalogue.
const seqMemoBytes = 32 << 20

// maxSeenOnce bounds the hashes a seqMemo keeps of histories asked for once; past it they
// are forgotten together (8 bytes each and a map's overhead: about 1 MB).
const maxSeenOnce = 1 << 15

// seqMemo remembers, for the latest histories scored, the part of score that does not
// depend on the subset: the flushed sums of the accumulation phases. A visitor asks for
// several rankings between two of their events, each for another store's stock; from the
// second on, the accumulation (about five adds per item it touches) becomes one write per
// item. The sums are the same floats score adds up, in the same order, so a hit is exact.
// Entries are replaced oldest first.
type seqMemo struct {
	mu      sync.Mutex
	index   map[uint64]*seqEntry
	seen    map[uint64]struct{} // hashes asked for once, without an entry
	order   []*seqEntry         // oldest first
	bytes   int
	maxSize int
}

type seqEntry struct {
	hash   uint64
	steps  []int32 // the history's steps the phases read
	idx    []int32 // every item touched, in the order first touched
	val    []float32
	scored bool // some transition or similarity row touched an item
}

func (e *seqEntry) size() int { return 4*len(e.steps) + 8*len(e.idx) + 64 }

func newSeqMemo(maxSize int) *seqMemo {
	return &seqMemo{index: make(map[uint64]*seqEntry), seen: make(map[uint64]struct{}), maxSize: maxSize}
}

func stepsHash(steps []int32) uint64 {
	h := uint64(len(steps))
	for _, i := range steps {
		h = mix64(h, uint64(uint32(i)), 0x5eb)
	}
	return h
}

// get returns the entry of steps, or nil; again reports whether the hash was asked for
// before without an entry (the first time is noted).
func (f *seqMemo) get(h uint64, steps []int32) (e *seqEntry, again bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if e := f.index[h]; e != nil {
		if slices.Equal(e.steps, steps) {
			return e, false // entries are never changed once in: readers share them
		}
		return nil, false // another history has the hash's entry
	}
	if _, ok := f.seen[h]; ok {
		delete(f.seen, h)
		return nil, true
	}
	if len(f.seen) >= maxSeenOnce {
		clear(f.seen)
	}
	f.seen[h] = struct{}{}
	return nil, false
}

// put adds e unless its hash is taken, dropping the oldest entries to stay in budget.
func (f *seqMemo) put(e *seqEntry) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.index[e.hash]; ok || e.size() > f.maxSize {
		return
	}
	drop := 0
	for f.bytes+e.size() > f.maxSize {
		old := f.order[drop]
		delete(f.index, old.hash)
		f.bytes -= old.size()
		drop++
	}
	clear(f.order[:drop])
	f.order = append(f.order[drop:], e)
	f.index[e.hash] = e
	f.bytes += e.size()
}
