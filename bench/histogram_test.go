package bench

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// exactPercentile is the nearest-rank percentile of sorted.
func exactPercentile(sorted []int64, p float64) int64 {
	rank := int(math.Ceil(p / 100 * float64(len(sorted))))
	return sorted[min(max(rank, 1), len(sorted))-1]
}

func TestHistogram_SmallValuesAreExact(t *testing.T) {
	var h Histogram
	for v := int64(1); v <= 100; v++ {
		h.Record(v)
	}
	for _, c := range []struct {
		p    float64
		want int64
	}{{50, 50}, {95, 95}, {99, 99}, {99.9, 100}, {100, 100}, {1, 1}} {
		if got := h.Percentile(c.p); got != c.want {
			t.Errorf("p%v = %d, want %d", c.p, got, c.want)
		}
	}
	if h.Count() != 100 || h.Min() != 1 || h.Max() != 100 || h.Mean() != 50.5 {
		t.Errorf("count %d min %d max %d mean %v", h.Count(), h.Min(), h.Max(), h.Mean())
	}
}

func TestHistogram_KnownMillisecondData(t *testing.T) {
	// 1 µs … 100 ms in steps of 1 µs: p50 is 50 ms, p99 99 ms.
	var h Histogram
	for us := int64(1); us <= 100_000; us++ {
		h.Record(us * 1000)
	}
	for _, c := range []struct {
		p    float64
		want float64 // ns
	}{{50, 50e6}, {95, 95e6}, {99, 99e6}, {99.9, 99.9e6}} {
		got := float64(h.Percentile(c.p))
		if math.Abs(got-c.want)/c.want > 0.005 {
			t.Errorf("p%v = %.0f ns, want %.0f ±0.5%%", c.p, got, c.want)
		}
	}
	if h.Max() != 100e6 {
		t.Errorf("max = %d, want exactly 100 ms", h.Max())
	}
	if got := ms(h.Percentile(100)); got != 100 {
		t.Errorf("p100 = %v ms, want 100", got)
	}
}

func TestHistogram_WithinOnePercentOfExact(t *testing.T) {
	// Long-tailed latencies (log-normal around 2 ms, some of seconds).
	rng := rand.New(rand.NewPCG(1, 2))
	vals := make([]int64, 200_000)
	var h Histogram
	for i := range vals {
		v := int64(2e6 * math.Exp(rng.NormFloat64()*1.5))
		vals[i] = v
		h.Record(v)
	}
	slices.Sort(vals)
	for _, p := range []float64{1, 10, 50, 90, 95, 99, 99.9, 99.99} {
		want, got := float64(exactPercentile(vals, p)), float64(h.Percentile(p))
		if math.Abs(got-want)/want > 0.01 {
			t.Errorf("p%v = %.0f, exact %.0f: off by %.2f%%", p, got, want, 100*math.Abs(got-want)/want)
		}
	}
	if h.Max() != vals[len(vals)-1] || h.Min() != vals[0] {
		t.Errorf("min/max %d/%d, want %d/%d", h.Min(), h.Max(), vals[0], vals[len(vals)-1])
	}
}

func TestHistogram_MergeEqualsRecordingAll(t *testing.T) {
	var a, b, all Histogram
	rng := rand.New(rand.NewPCG(3, 4))
	for i := range 10_000 {
		v := rng.Int64N(1e9)
		all.Record(v)
		if i%3 == 0 {
			a.Record(v)
		} else {
			b.Record(v)
		}
	}
	var m Histogram
	m.Merge(&a)
	m.Merge(&b)
	m.Merge(nil)
	if m != all {
		t.Fatal("merging two halves differs from recording all")
	}
}

func TestHistogram_BucketsCoverTheRange(t *testing.T) {
	prevLo := int64(-1)
	for i := range numBuckets {
		lo, width := bucketBounds(i)
		if lo <= prevLo {
			t.Fatalf("bucket %d starts at %d, not after %d", i, lo, prevLo)
		}
		if bucketOf(lo) != i || bucketOf(lo+width-1) != i {
			t.Fatalf("bucket %d = [%d, %d) does not map back", i, lo, lo+width)
		}
		if lo >= 2*subCount && float64(width)/float64(lo) > 1.0/subCount {
			t.Fatalf("bucket %d is %d wide at %d: coarser than 1/%d", i, width, lo, subCount)
		}
		prevLo = lo
	}
	var h Histogram
	h.Record(-5)
	h.Record(math.MaxInt64)
	if h.Min() != 0 || h.Max() != maxValue {
		t.Errorf("clamping: min %d max %d", h.Min(), h.Max())
	}
}

func TestHistogram_RecordDoesNotAllocate(t *testing.T) {
	h := &Histogram{}
	v := int64(1)
	if n := testing.AllocsPerRun(1000, func() { v = v*7 + 13; h.Record(v % 1e10) }); n != 0 {
		t.Errorf("Record allocates %v times", n)
	}
}

func TestHistogram_Empty(t *testing.T) {
	var h Histogram
	if h.Percentile(50) != 0 || h.Max() != 0 || h.Mean() != 0 {
		t.Error("an empty histogram answers non-zero")
	}
}
