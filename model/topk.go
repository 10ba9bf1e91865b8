package model

import "slices"

// TopK appends to dst the indexes of the k highest scores, highest first, and returns the
// extended slice. Ties go to the lower index; NaN scores are never chosen; fewer than k
// indexes are appended when scores has fewer usable entries. It allocates nothing when dst
// has room for k more entries: the tail of dst itself holds the heap.
func TopK(dst []int32, scores []float32, k int) []int32 {
	if k <= 0 {
		return dst
	}
	k = min(k, len(scores))
	base := len(dst)
	dst = slices.Grow(dst, k)
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
		// Indexes only grow, so an equal score loses its tie to every kept one: only a
		// strictly higher score enters. Most scores of a long list fail this one comparison.
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
