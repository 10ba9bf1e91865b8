package sim

import (
	"math"
	"math/rand/v2"
	"sort"
)

// Random streams. Each part of the world draws from its own stream so that changing how
// one part is generated does not reshuffle the others; every consumer's history has its
// own stream too, which is what lets histories be generated in any order, in parallel, and
// again for each window of a large world.
const (
	streamCatalog uint64 = iota + 1
	streamStores
	streamUsers
	streamTruth
	streamEvents = 1 << 40 // + user index
)

func newRand(seed, stream uint64) *rand.Rand {
	return rand.New(rand.NewPCG(seed, mix64(stream^0x5851f42d4c957f2d)))
}

// mix64 is the splitmix64 finaliser: a bijection on uint64 that scatters nearby inputs.
func mix64(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}

// hash01 maps a key to [0, 1) deterministically, for per-object details that need no
// stream of their own (a consumer's device model, the offset of their home).
func hash01(seed, key uint64) float64 {
	return float64(mix64(mix64(seed)^key)>>11) / (1 << 53)
}

// pick returns an index with probability proportional to w, or -1 if all weights are 0.
func pick(r *rand.Rand, w []float64) int {
	var sum float64
	for _, x := range w {
		sum += x
	}
	if sum <= 0 {
		return -1
	}
	u := r.Float64() * sum
	for i, x := range w {
		u -= x
		if u < 0 && x > 0 {
			return i
		}
	}
	for i := len(w) - 1; i >= 0; i-- {
		if w[i] > 0 {
			return i
		}
	}
	return -1
}

// cumulative returns the running sums of w.
func cumulative(w []float64) []float64 {
	c := make([]float64, len(w))
	var sum float64
	for i, x := range w {
		sum += x
		c[i] = sum
	}
	return c
}

// pickCum returns an index with probability proportional to its weight, given running sums.
func pickCum(r *rand.Rand, cum []float64) int {
	if len(cum) == 0 || cum[len(cum)-1] <= 0 {
		return -1
	}
	u := r.Float64() * cum[len(cum)-1]
	return sort.SearchFloat64s(cum, math.Nextafter(u, math.Inf(1)))
}

// logNormal returns a draw with median 1 and the given log-scale spread.
func logNormal(r *rand.Rand, sigma float64) float64 { return math.Exp(sigma * r.NormFloat64()) }

// poisson draws from a Poisson distribution with mean lambda.
func poisson(r *rand.Rand, lambda float64) int {
	if lambda <= 0 {
		return 0
	}
	if lambda > 40 {
		n := int(math.Round(lambda + math.Sqrt(lambda)*r.NormFloat64()))
		return max(n, 0)
	}
	l, k, p := math.Exp(-lambda), 0, 1.0
	for {
		p *= r.Float64()
		if p <= l {
			return k
		}
		k++
	}
}

// between returns a uniform draw in [lo, hi).
func between(r *rand.Rand, lo, hi float64) float64 { return lo + (hi-lo)*r.Float64() }

// normalize scales w to sum to 1 (leaves it alone if it sums to 0).
func normalize(w []float64) {
	var sum float64
	for _, x := range w {
		sum += x
	}
	if sum > 0 {
		for i := range w {
			w[i] /= sum
		}
	}
}

// roundCents rounds to 2 decimals.
func roundCents(x float64) float64 { return math.Round(x*100) / 100 }

// listPrice rounds a raw price the way shops do: 12.9, 49.9, 129, 459.
func listPrice(x float64) float64 {
	switch {
	case x < 10:
		return math.Max(1.9, math.Floor(x)+0.9)
	case x < 100:
		return math.Floor(x) + 0.9
	}
	return math.Floor(x/10)*10 + 9
}
