package bench

import (
	"math"
	"math/bits"
	"time"
)

// The histogram is log-linear, in the manner of HdrHistogram: values below 2·subCount
// nanoseconds have a bucket each, and every further power of two is split into subCount
// equal buckets. A bucket is at most 1/subCount of its lower bound wide, and a percentile is
// answered with the bucket's midpoint, so it is within 1/(2·subCount) ≈ 0.4% of an exact
// nearest-rank percentile of the recorded values.
const (
	subBits    = 7
	subCount   = 1 << subBits
	maxBits    = 37 // values are clamped below 2^37 ns, about 137 s
	numBuckets = 2*subCount + (maxBits-subBits-1)*subCount
	maxValue   = 1<<maxBits - 1
)

// Histogram records durations in nanoseconds in fixed memory: recording never allocates.
// The zero value is empty and ready to use. It is not safe for concurrent use; give each
// goroutine its own and Merge them.
type Histogram struct {
	counts   [numBuckets]uint64
	n        uint64
	min, max int64
	sum      float64
}

// bucketOf returns the bucket index of v, 0 <= v <= maxValue.
func bucketOf(v int64) int {
	if v < 2*subCount {
		return int(v)
	}
	shift := bits.Len64(uint64(v)) - (subBits + 1) // >= 1
	top := int(v >> shift)                         // in [subCount, 2·subCount)
	return 2*subCount + (shift-1)*subCount + top - subCount
}

// bucketBounds returns the lowest value of bucket i and its width.
func bucketBounds(i int) (lo, width int64) {
	if i < 2*subCount {
		return int64(i), 1
	}
	j := i - 2*subCount
	shift := j/subCount + 1
	top := int64(j%subCount + subCount)
	return top << shift, 1 << shift
}

// Record adds one value in nanoseconds; negative values count as 0 and values beyond
// about 137 s as 137 s.
func (h *Histogram) Record(ns int64) {
	ns = min(max(ns, 0), maxValue)
	h.counts[bucketOf(ns)]++
	if h.n == 0 || ns < h.min {
		h.min = ns
	}
	if ns > h.max {
		h.max = ns
	}
	h.n++
	h.sum += float64(ns)
}

// RecordDuration adds one duration.
func (h *Histogram) RecordDuration(d time.Duration) { h.Record(int64(d)) }

// Merge adds every value of o (nil counts as empty).
func (h *Histogram) Merge(o *Histogram) {
	if o == nil || o.n == 0 {
		return
	}
	for i, c := range o.counts {
		h.counts[i] += c
	}
	if h.n == 0 || o.min < h.min {
		h.min = o.min
	}
	h.max = max(h.max, o.max)
	h.n += o.n
	h.sum += o.sum
}

// Count returns the number of values recorded.
func (h *Histogram) Count() uint64 { return h.n }

// Max returns the largest value recorded, exactly; 0 when empty.
func (h *Histogram) Max() int64 { return h.max }

// Min returns the smallest value recorded, exactly; 0 when empty.
func (h *Histogram) Min() int64 { return h.min }

// Mean returns the mean of the values recorded; 0 when empty.
func (h *Histogram) Mean() float64 {
	if h.n == 0 {
		return 0
	}
	return h.sum / float64(h.n)
}

// Percentile returns the nearest-rank p-th percentile (0 < p <= 100) of the values
// recorded, within 0.4% (exact below 256 ns, and exact for p = 100); 0 when empty.
func (h *Histogram) Percentile(p float64) int64 {
	if h.n == 0 {
		return 0
	}
	if p >= 100 {
		return h.max
	}
	rank := uint64(math.Ceil(p / 100 * float64(h.n)))
	rank = min(max(rank, 1), h.n)
	var seen uint64
	for i, c := range h.counts {
		seen += c
		if seen >= rank {
			lo, width := bucketBounds(i)
			return min(max(lo+width/2, h.min), h.max)
		}
	}
	return h.max
}

// ms converts nanoseconds to milliseconds rounded to the microsecond.
func ms(ns int64) float64 { return math.Round(float64(ns)/1e3) / 1e3 }
