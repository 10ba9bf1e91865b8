package model

import (
	"math"
	"slices"
)

// maxKeyedK is the largest k that TopK ranks with a heap of packed keys (see topKey) held in
// an array on its own stack: 129 keys are about 1 KiB, small enough to declare on every
// call. The serving shapes (k of 30 to 100) all fit; a larger k falls back to a heap of
// bare indexes in the tail of dst, which needs no scratch memory at all.
const maxKeyedK = 128

// TopK appends to dst the indexes of the k highest scores, highest first, and returns the
// extended slice. Ties go to the lower index; NaN scores are never chosen (±Inf are
// ordinary values, and −0 ties with +0); fewer than k indexes are appended when scores has
// fewer usable entries. It allocates nothing when dst has room for k more entries. scores
// must have fewer than 2³¹ entries, as the int32 indexes imply.
//
// It keeps a bounded min-heap of the best k seen so far, whose root is the worst of them:
// most scores of a long list fail a single comparison with that root and cost nothing more.
func TopK(dst []int32, scores []float32, k int) []int32 {
	if k <= 0 {
		return dst
	}
	k = min(k, len(scores))
	base := len(dst)
	dst = slices.Grow(dst, k)
	if k > maxKeyedK {
		return topKByIndex(dst, base, scores, k)
	}

	// The heap holds keys rather than indexes, so that ranking two entries is a single
	// integer comparison instead of two loads through scores and a compound score-then-index
	// test. One slot more than k holds a sentinel (see keyHeap.down).
	var buf [maxKeyedK + 1]uint64
	h := keyHeap(buf[:0])
	i := 0
	for ; i < len(scores) && len(h) < k; i++ {
		if s := scores[i]; s == s { // not NaN
			h = append(h, topKey(s, i))
		}
	}
	n := len(h)
	h = h[:n+1]
	h[n] = math.MaxUint64
	for j := n/2 - 1; j >= 0; j-- {
		h.down(j, n, h[j])
	}
	// Scores not yet seen compete with the root. Indexes only grow, so an equal score loses
	// its tie to every kept one: only a strictly higher score enters, and a float comparison
	// (false for NaN) decides it without building a key. When fewer than k scores are usable
	// the fill above has consumed them all and this loop does not run.
	worst := keyScore(h[0])
	for ; i < len(scores); i++ {
		if s := scores[i]; s > worst {
			h.down(0, n, topKey(s, i))
			worst = keyScore(h[0])
		}
	}
	// Heap-sort into dst: the root is the worst left, so fill from the back.
	out := dst[base : base+n]
	for m := n - 1; m >= 0; m-- {
		out[m] = keyIndex(h[0])
		v := h[m]
		h[m] = math.MaxUint64
		h.down(0, m, v)
	}
	return dst[:base+n]
}

// topKey packs score s at index i into a key that orders exactly as TopK ranks: the higher
// key is the higher score, or on equal scores the lower index. The high 32 bits are the
// score's bits mapped so that unsigned order is float order (set the sign bit of a positive
// number, flip every bit of a negative one), after adding +0, which turns −0 into +0 so
// that the two zeros tie as they compare equal; the low 32 bits are the inverted index.
// s must not be NaN.
func topKey(s float32, i int) uint64 {
	b := math.Float32bits(s + 0)
	b ^= uint32(int32(b)>>31) | 1<<31
	return uint64(b)<<32 | uint64(^uint32(i))
}

// keyScore is the score packed in a topKey (+0 for −0).
func keyScore(key uint64) float32 {
	b := uint32(key >> 32)
	b ^= uint32(int32(^b)>>31) | 1<<31
	return math.Float32frombits(b)
}

// keyIndex is the index packed in a topKey.
func keyIndex(key uint64) int32 { return int32(^uint32(key)) }

// keyHeap is a min-heap of topKeys whose root is the worst kept entry.
type keyHeap []uint64

// down fills the hole at j of the heap h[:n] with key v, moving smaller children up. h[n]
// must be a sentinel no smaller than any key, so a left child always has a right sibling to
// compare with. The child choice is a plain branch: a branch-free select measured about
// twice as slow, as it puts each level's load on the critical path where a predicted branch
// lets the next one start early.
func (h keyHeap) down(j, n int, v uint64) {
	for {
		c := 2*j + 1
		if c >= n {
			break
		}
		if h[c+1] < h[c] {
			c++
		}
		if v <= h[c] {
			break
		}
		h[j] = h[c]
		j = c
	}
	h[j] = v
}

// topKByIndex is TopK for k beyond maxKeyedK, given dst already grown by k from length base:
// a heap of indexes in the tail of dst itself, which needs no other memory.
func topKByIndex(dst []int32, base int, scores []float32, k int) []int32 {
	h := topHeap{scores: scores}
	h.idx = dst[base : base : base+k]
	var worst float32 // the root's score once the heap is full
	for i, s := range scores {
		if s != s { // NaN
			continue
		}
		if len(h.idx) < k {
			h.idx = append(h.idx, int32(i))
			h.up(len(h.idx) - 1)
			worst = scores[h.idx[0]]
			continue
		}
		// As in TopK, only a strictly higher score enters.
		if s > worst {
			h.idx[0] = int32(i)
			h.down(0, len(h.idx))
			worst = scores[h.idx[0]]
		}
	}
	// Heap-sort in place: repeatedly move the worst to the end, leaving the best first.
	for end := len(h.idx) - 1; end > 0; end-- {
		h.idx[0], h.idx[end] = h.idx[end], h.idx[0]
		h.down(0, end)
	}
	return dst[:base+len(h.idx)]
}

// topHeap is a min-heap of indexes whose root is the worst kept score.
type topHeap struct {
	scores []float32
	idx    []int32
}

// better reports whether index a ranks above index b.
func (h *topHeap) better(a, b int32) bool {
	sa, sb := h.scores[a], h.scores[b]
	return sa > sb || (sa == sb && a < b)
}

func (h *topHeap) up(j int) {
	for j > 0 {
		p := (j - 1) / 2
		if !h.better(h.idx[p], h.idx[j]) {
			break
		}
		h.idx[p], h.idx[j] = h.idx[j], h.idx[p]
		j = p
	}
}

func (h *topHeap) down(j, n int) {
	for {
		c := 2*j + 1
		if c >= n {
			return
		}
		if r := c + 1; r < n && h.better(h.idx[c], h.idx[r]) {
			c = r
		}
		if !h.better(h.idx[j], h.idx[c]) {
			return
		}
		h.idx[j], h.idx[c] = h.idx[c], h.idx[j]
		j = c
	}
}
