package model

import (
	"context"
	"io"
	"math"
	"runtime"
	"slices"
	"sync"
	"time"
)

// ItemKNNConfig holds the hyperparameters of ItemKNN. Start from DefaultItemKNNConfig.
type ItemKNNConfig struct {
	// K is the number of neighbours kept per item.
	K int
	// Shrink damps similarities resting on few users: sim × n/(n+Shrink), n the number of
	// users who interacted with both items.
	Shrink float32
	// Alpha is the exponent of the asymmetric cosine: dot / (|i|^(2α) · |j|^(2(1-α))).
	// 0.5 is the plain cosine.
	Alpha float32
	// HalfLife halves an interaction's weight for every HalfLife it lies before Now;
	// 0 disables time decay.
	HalfLife time.Duration
	// Now is the moment decay is measured from, in Unix seconds.
	Now int64
	// MaxUserItems caps how many of a user's most recent items count, which bounds the
	// quadratic cost of very active users (and crawlers).
	MaxUserItems int
	// MinCommon drops pairs with fewer common users.
	MinCommon int
	// Workers is the number of goroutines; 0 means GOMAXPROCS. The result does not depend on it.
	Workers int
}

// DefaultItemKNNConfig returns the defaults: 50 neighbours, shrinkage 10, cosine, a 60-day
// half-life, at most 200 items per user.
func DefaultItemKNNConfig() ItemKNNConfig {
	return ItemKNNConfig{K: 50, Shrink: 10, Alpha: 0.5, HalfLife: 60 * 24 * time.Hour,
		MaxUserItems: 200, MinCommon: 1}
}

// ItemKNN is item-to-item co-occurrence: two items are similar when the same users interact
// with both. Each user's interaction weight w (decayed by age) counts as log(1+w), users are
// down-weighted by 1/log2(1+items) (an inverse user frequency, so a user who touched
// everything says little about any pair), and only positive weights count.
type ItemKNN struct {
	Config ItemKNNConfig

	ptr []int32 // neighbours of item i are [ptr[i], ptr[i+1])
	nbr []int32
	sim []float32
}

// NumItems returns the number of items the model was fitted on.
func (m *ItemKNN) NumItems() int { return max(len(m.ptr)-1, 0) }

// Neighbors returns item i's neighbours, most similar first, and their similarities. Items
// outside the model have none. The slices alias the model and must not be modified.
func (m *ItemKNN) Neighbors(i int32) ([]int32, []float32) {
	if i < 0 || int(i) >= m.NumItems() {
		return nil, nil
	}
	lo, hi := m.ptr[i], m.ptr[i+1]
	return m.nbr[lo:hi], m.sim[lo:hi]
}

// knnMatrix is the weighted interaction matrix in both orientations.
type knnMatrix struct {
	uptr  []int64 // user rows
	uitem []int32
	uval  []float32
	iptr  []int64 // item columns
	iuser []int32
	ival  []float32 // value × the user's inverse frequency
	powA  []float32 // |i|^(2α)
	powB  []float32 // |i|^(2(1-α))
}

// Fit computes every item's top-K neighbours on d, sharding items over Workers goroutines
// and checking ctx as it goes.
func (m *ItemKNN) Fit(ctx context.Context, d *Dataset) error {
	c := m.Config
	if c.K <= 0 {
		c.K = DefaultItemKNNConfig().K
	}
	if c.Workers <= 0 {
		c.Workers = runtime.GOMAXPROCS(0)
	}
	mat := buildKNNMatrix(d, c)
	ni := d.NumItems()
	slots := make([]int32, ni*c.K)
	sims := make([]float32, ni*c.K)
	counts := make([]int32, ni)

	var wg sync.WaitGroup
	errs := make([]error, c.Workers)
	for w := 0; w < c.Workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[w] = mat.neighbours(ctx, c, w, c.Workers, slots, sims, counts)
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	m.ptr = make([]int32, ni+1)
	for i := 0; i < ni; i++ {
		m.ptr[i+1] = m.ptr[i] + counts[i]
	}
	m.nbr = make([]int32, 0, m.ptr[ni])
	m.sim = make([]float32, 0, m.ptr[ni])
	for i := 0; i < ni; i++ {
		m.nbr = append(m.nbr, slots[i*c.K:i*c.K+int(counts[i])]...)
		m.sim = append(m.sim, sims[i*c.K:i*c.K+int(counts[i])]...)
	}
	return nil
}

// buildKNNMatrix keeps each user's positive interactions (their most recent MaxUserItems),
// turns weights into values and transposes.
func buildKNNMatrix(d *Dataset, c ItemKNNConfig) *knnMatrix {
	nu, ni := d.NumUsers(), d.NumItems()
	mat := &knnMatrix{uptr: make([]int64, nu+1)}
	iuf := make([]float32, nu)
	var order []int
	for u := 0; u < nu; u++ {
		items, weights, times := d.Row(int32(u))
		order = order[:0]
		for k, w := range weights {
			if w > 0 {
				order = append(order, k)
			}
		}
		if c.MaxUserItems > 0 && len(order) > c.MaxUserItems {
			slices.SortStableFunc(order, func(a, b int) int { return -compareInt64(times[a], times[b]) })
			order = order[:c.MaxUserItems]
			slices.Sort(order)
		}
		for _, k := range order {
			v := float32(math.Log1p(float64(weights[k]) * decay(c.HalfLife, c.Now, times[k])))
			mat.uitem = append(mat.uitem, items[k])
			mat.uval = append(mat.uval, v)
		}
		mat.uptr[u+1] = int64(len(mat.uitem))
		if n := len(order); n > 0 {
			iuf[u] = float32(1 / math.Log2(1+float64(n)))
		}
	}
	// Transpose into item columns, users in increasing order.
	mat.iptr = make([]int64, ni+1)
	for _, i := range mat.uitem {
		mat.iptr[i+1]++
	}
	for i := 0; i < ni; i++ {
		mat.iptr[i+1] += mat.iptr[i]
	}
	mat.iuser = make([]int32, len(mat.uitem))
	mat.ival = make([]float32, len(mat.uitem))
	next := slices.Clone(mat.iptr[:ni])
	norm2 := make([]float64, ni)
	for u := 0; u < nu; u++ {
		for k := mat.uptr[u]; k < mat.uptr[u+1]; k++ {
			i, v := mat.uitem[k], mat.uval[k]
			mat.iuser[next[i]] = int32(u)
			mat.ival[next[i]] = v * iuf[u]
			next[i]++
			norm2[i] += float64(v) * float64(v) * float64(iuf[u])
		}
	}
	mat.powA = make([]float32, ni)
	mat.powB = make([]float32, ni)
	for i, n2 := range norm2 {
		mat.powA[i] = float32(math.Pow(n2, float64(c.Alpha)))
		mat.powB[i] = float32(math.Pow(n2, float64(1-c.Alpha)))
	}
	return mat
}

// neighbours fills the slots of items w, w+stride, … Each item's result depends only on
// the data, so the output is the same for any number of workers.
func (mat *knnMatrix) neighbours(ctx context.Context, c ItemKNNConfig, w, stride int, slots []int32, sims []float32, counts []int32) error {
	ni := len(mat.powA)
	acc := make([]float32, ni)
	cnt := make([]int32, ni)
	var touched []int32
	var scores []float32
	top := make([]int32, 0, c.K)
	for i, n := w, 0; i < ni; i, n = i+stride, n+1 {
		if n%256 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		touched = touched[:0]
		for k := mat.iptr[i]; k < mat.iptr[i+1]; k++ {
			u, f := mat.iuser[k], mat.ival[k]
			for q := mat.uptr[u]; q < mat.uptr[u+1]; q++ {
				j := mat.uitem[q]
				if j == int32(i) {
					continue
				}
				if cnt[j] == 0 {
					touched = append(touched, j)
				}
				acc[j] += f * mat.uval[q]
				cnt[j]++
			}
		}
		scores = scores[:0]
		for _, j := range touched {
			s := float32(math.NaN())
			if int(cnt[j]) >= c.MinCommon {
				if den := mat.powA[i] * mat.powB[j]; den > 0 {
					n := float32(cnt[j])
					s = acc[j] / den * n / (n + c.Shrink)
				}
			}
			scores = append(scores, s)
			acc[j], cnt[j] = 0, 0
		}
		top = TopK(top[:0], scores, c.K)
		base := i * c.K
		kept := int32(0)
		for _, t := range top {
			if scores[t] <= 0 {
				continue
			}
			slots[base+int(kept)] = touched[t]
			sims[base+int(kept)] = scores[t]
			kept++
		}
		counts[i] = kept
	}
	return nil
}

func compareInt64(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// decay returns 2^(-(now-at)/halfLife), or 1 when halfLife is 0 or at is not before now.
func decay(halfLife time.Duration, now, at int64) float64 {
	if halfLife <= 0 || at >= now {
		return 1
	}
	return math.Exp2(-float64(now-at) / halfLife.Seconds())
}

const (
	knnMagic   = "QMITKNN\x00"
	knnVersion = 1
)

// WriteTo writes the fitted neighbour lists as a versioned artefact.
func (m *ItemKNN) WriteTo(w io.Writer) (int64, error) {
	e := newEncoder(w)
	e.header(knnMagic, knnVersion)
	e.u32(uint32(m.Config.K))
	e.f32(m.Config.Shrink)
	e.f32(m.Config.Alpha)
	e.i64(int64(m.Config.HalfLife))
	e.i64(m.Config.Now)
	e.int32s(m.ptr)
	e.int32s(m.nbr)
	e.float32s(m.sim)
	return e.finish()
}

// ReadFrom replaces m with an artefact written by WriteTo, reading exactly its bytes.
func (m *ItemKNN) ReadFrom(r io.Reader) (int64, error) {
	d := newDecoder(r)
	d.header(knnMagic, knnVersion)
	var c ItemKNNConfig
	c.K = int(d.u32())
	c.Shrink = d.f32()
	c.Alpha = d.f32()
	c.HalfLife = time.Duration(d.i64())
	c.Now = d.i64()
	ptr, nbr, sim := d.int32s(), d.int32s(), d.float32s()
	if n, err := d.finish(); err != nil {
		return n, err
	}
	if err := checkSparse(ptr, nbr, len(sim), len(ptr)-1); err != nil {
		return d.n, err
	}
	m.Config, m.ptr, m.nbr, m.sim = c, ptr, nbr, sim
	return d.n, nil
}
