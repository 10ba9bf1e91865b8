package model

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"sync"
)

// ContentConfig holds the hyperparameters of Content. Start from DefaultContentConfig.
type ContentConfig struct {
	// K is the number of neighbours kept per item.
	K int
	// The weights of each kind of token, multiplying its TF-IDF weight.
	CategoryWeight, BrandWeight, PriceWeight, AttrWeight, TitleWeight float32
	// MaxDF leaves tokens carried by more than this share of items out of the neighbour
	// search (they still count in the norms): they say little (idf < ln 2 at 0.5) and would
	// make the search quadratic.
	MaxDF float32
	// HalfLife halves a history item's weight for every HalfLife more recent items the user
	// has; 0 weighs the history uniformly.
	HalfLife float32
	// MaxHistory is the number of a user's most recent items that are scored.
	MaxHistory int
	// PopPrior adds PopPrior × log(1+n)/log(1+max n), n an item's number of users, to every
	// score: it breaks ties between equally similar items and ranks items like none of the
	// history by popularity.
	PopPrior float32
	// Workers is the number of goroutines; 0 means GOMAXPROCS. The result does not depend on it.
	Workers int
}

// DefaultContentConfig returns the defaults: 50 neighbours; category, brand and attributes
// weigh 1, title words and price bands 0.5; a 10-item history half-life over the last 100.
func DefaultContentConfig() ContentConfig {
	return ContentConfig{K: 50, CategoryWeight: 1, BrandWeight: 1, PriceWeight: 0.5, AttrWeight: 1,
		TitleWeight: 0.5, MaxDF: 0.5, HalfLife: 10, MaxHistory: 100, PopPrior: 0.01}
}

func (c ContentConfig) kindWeights() [numFeatureKinds]float32 {
	return [numFeatureKinds]float32{c.CategoryWeight, c.BrandWeight, c.PriceWeight, c.AttrWeight, c.TitleWeight}
}

// Content recommends items whose attributes resemble those of the user's history. Items are
// sparse TF-IDF vectors over their tokens (see ItemFeatures); each item keeps its K nearest
// by cosine, and a user's score for an item is the recency-weighted sum of its similarities
// to the items in their history. Interactions play no part in similarity, so an item nobody
// has met yet has neighbours and is recommended like any other.
type Content struct {
	Config   ContentConfig
	Features *ItemFeatures

	ptr []int32 // neighbours of item i are [ptr[i], ptr[i+1])
	nbr []int32
	sim []float32
	pop []float32 // log(1+users)/log(1+max users), the prior
	d   *Dataset
}

// ContentFamily returns the content family over features; its models align them to the
// dataset they are fitted on by item id.
func ContentFamily(features *ItemFeatures) Family {
	return Family{Name: "content", Configs: func(n int, seed uint64) []Model {
		return contentConfigs(features, n, seed)
	}}
}

func contentConfigs(features *ItemFeatures, n int, seed uint64) []Model {
	rng := rand.New(rand.NewPCG(seed, 0xc0))
	var out []Model
	for k := 0; k < n; k++ {
		c := DefaultContentConfig()
		switch k {
		case 0:
		case 1:
			c.HalfLife = 3
		case 2:
			c.HalfLife = 0
		case 3:
			c.K = 200
		case 4:
			c.TitleWeight, c.BrandWeight = 1, 2
		default:
			c.K = []int{20, 50, 100, 200}[rng.IntN(4)]
			c.HalfLife = []float32{0, 2, 5, 10, 30}[rng.IntN(5)]
			c.BrandWeight = []float32{0.5, 1, 2}[rng.IntN(3)]
			c.TitleWeight = []float32{0, 0.5, 1}[rng.IntN(3)]
			c.PriceWeight = []float32{0, 0.5, 1}[rng.IntN(3)]
		}
		out = append(out, &Content{Config: c, Features: features})
	}
	return out
}

// Name returns "content".
func (m *Content) Name() string { return "content" }

// Describe returns the configuration in a line.
func (m *Content) Describe() string {
	c := m.Config
	return fmt.Sprintf("k=%d weights=c%g,b%g,p%g,a%g,t%g halflife=%g maxdf=%g", c.K,
		c.CategoryWeight, c.BrandWeight, c.PriceWeight, c.AttrWeight, c.TitleWeight, c.HalfLife, c.MaxDF)
}

// NumItems returns the number of items the model was fitted on.
func (m *Content) NumItems() int { return max(len(m.ptr)-1, 0) }

// Neighbors returns item i's neighbours, most similar first, and their cosine similarities.
// The slices alias the model and must not be modified.
func (m *Content) Neighbors(i int32) ([]int32, []float32) {
	if i < 0 || int(i) >= m.NumItems() {
		return nil, nil
	}
	lo, hi := m.ptr[i], m.ptr[i+1]
	return m.nbr[lo:hi], m.sim[lo:hi]
}

// Bind sets the dataset whose users ScoreUser scores, for a model read with ReadFrom.
func (m *Content) Bind(d *Dataset) { m.d = d }

// contentIndex is the TF-IDF matrix: item rows and the token postings used in the search.
type contentIndex struct {
	iptr  []int32 // item rows over all tokens
	itok  []int32
	ival  []float32
	norm  []float32
	tptr  []int32 // token postings, only for searched tokens
	titem []int32
	tval  []float32
}

// Fit computes every item's K nearest neighbours by attribute, sharding items over Workers
// goroutines and checking ctx as it goes. d supplies the item count, the popularity prior
// and, for ScoreUser, the users' histories.
func (m *Content) Fit(ctx context.Context, d *Dataset) error {
	if m.Features == nil {
		return errors.New("model: content: no item features")
	}
	c := m.Config
	if c.K <= 0 {
		c.K = DefaultContentConfig().K
	}
	if c.Workers <= 0 {
		c.Workers = runtime.GOMAXPROCS(0)
	}
	ni := d.NumItems()
	m.pop = itemPopularityPrior(d)
	ix := buildContentIndex(m.Features.Align(d.Items), ni, c)
	slots := make([]int32, ni*c.K)
	sims := make([]float32, ni*c.K)
	counts := make([]int32, ni)
	var wg sync.WaitGroup
	errs := make([]error, c.Workers)
	for w := 0; w < c.Workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[w] = ix.neighbours(ctx, c.K, m.pop, w, c.Workers, slots, sims, counts)
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
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
	m.d = d
	return nil
}

// itemPopularityPrior returns log(1+n)/log(1+max n) per item, n its number of users with a
// positive interaction.
func itemPopularityPrior(d *Dataset) []float32 {
	cnt := make([]float64, d.NumItems())
	for _, i := range positiveItems(d) {
		cnt[i]++
	}
	top := slices.Max(append(cnt, 0))
	out := make([]float32, len(cnt))
	if top > 0 {
		for i, n := range cnt {
			out[i] = float32(math.Log1p(n) / math.Log1p(top))
		}
	}
	return out
}

// positiveItems returns the item of every interaction with positive weight, in row order.
func positiveItems(d *Dataset) []int32 {
	out := make([]int32, 0, len(d.items))
	for k, i := range d.items {
		if d.weights[k] > 0 {
			out = append(out, i)
		}
	}
	return out
}

// buildContentIndex weighs every token by kind weight × tf × ln(N/df), N the number of
// items with features, and transposes the searchable tokens.
func buildContentIndex(f *ItemFeatures, ni int, c ContentConfig) *contentIndex {
	kw := c.kindWeights()
	nf := min(ni, f.NumItems())
	nt := f.Tokens.Len()
	df := make([]int32, nt)
	withFeatures := 0
	for i := 0; i < nf; i++ {
		toks, _ := f.Row(int32(i))
		if len(toks) > 0 {
			withFeatures++
		}
		for _, t := range toks {
			df[t]++
		}
	}
	ix := &contentIndex{iptr: make([]int32, ni+1), norm: make([]float32, ni), tptr: make([]int32, nt+1)}
	maxDF := int32(float64(c.MaxDF) * float64(withFeatures))
	if c.MaxDF <= 0 {
		maxDF = math.MaxInt32
	}
	searched := func(t int32) bool { return df[t] >= 2 && df[t] <= maxDF }
	for i := 0; i < ni; i++ {
		toks, tf := f.Row(int32(i)) // nil past the features
		var n2 float64
		for k, t := range toks {
			v := kw[f.Kind(t)] * tf[k] * float32(math.Log(float64(withFeatures)/float64(df[t])))
			if v <= 0 {
				continue
			}
			ix.itok = append(ix.itok, t)
			ix.ival = append(ix.ival, v)
			n2 += float64(v) * float64(v)
			if searched(t) {
				ix.tptr[t+1]++
			}
		}
		ix.iptr[i+1] = int32(len(ix.itok))
		ix.norm[i] = float32(math.Sqrt(n2))
	}
	for t := 0; t < nt; t++ {
		ix.tptr[t+1] += ix.tptr[t]
	}
	ix.titem = make([]int32, ix.tptr[nt])
	ix.tval = make([]float32, ix.tptr[nt])
	next := slices.Clone(ix.tptr[:nt])
	for i := 0; i < ni; i++ {
		for k := ix.iptr[i]; k < ix.iptr[i+1]; k++ {
			if t := ix.itok[k]; searched(t) {
				ix.titem[next[t]] = int32(i)
				ix.tval[next[t]] = ix.ival[k] / ix.norm[i]
				next[t]++
			}
		}
	}
	return ix
}

// neighbours fills the slots of items w, w+stride, … Each item's result depends only on
// the data, so the output is the same for any number of workers. Near-ties (within 0.1%)
// go to the more popular item, then to the lower index.
func (ix *contentIndex) neighbours(ctx context.Context, k int, pop []float32, w, stride int, slots []int32, sims []float32, counts []int32) error {
	ni := len(ix.norm)
	acc := make([]float32, ni)
	var touched []int32
	var keys []float32
	top := make([]int32, 0, k)
	for i, n := w, 0; i < ni; i, n = i+stride, n+1 {
		if n%256 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		touched = touched[:0]
		if ix.norm[i] > 0 {
			for q := ix.iptr[i]; q < ix.iptr[i+1]; q++ {
				t, v := ix.itok[q], ix.ival[q]/ix.norm[i]
				for p := ix.tptr[t]; p < ix.tptr[t+1]; p++ {
					j := ix.titem[p]
					if j == int32(i) {
						continue
					}
					if acc[j] == 0 {
						touched = append(touched, j)
					}
					acc[j] += v * ix.tval[p]
				}
			}
		}
		keys = keys[:0]
		for _, j := range touched {
			keys = append(keys, acc[j]*(1+1e-3*pop[j]))
		}
		top = TopK(top[:0], keys, k)
		kept := int32(0)
		for _, t := range top {
			j := touched[t]
			if acc[j] <= 0 {
				continue
			}
			slots[i*k+int(kept)] = j
			sims[i*k+int(kept)] = min(acc[j], 1)
			kept++
		}
		for _, j := range touched {
			acc[j] = 0
		}
		counts[i] = kept
	}
	return nil
}

// ScoreUser writes the content score of every item for user u of the fitted dataset.
func (m *Content) ScoreUser(u int32, dst []float32) {
	var items []int32
	var weights []float32
	var times []int64
	if m.d != nil && u >= 0 && int(u) < m.d.NumUsers() {
		items, weights, times = m.d.Row(u)
	}
	m.ScoreHistory(items, weights, times, dst)
}

// ScoreHistory writes into dst the score of every item for a history given explicitly
// (items with their weights and times, in any order), such as a session or the live state
// of a user the dataset does not know yet. Non-positive weights are ignored.
func (m *Content) ScoreHistory(items []int32, weights []float32, times []int64, dst []float32) {
	for j := range dst {
		if j < len(m.pop) {
			dst[j] = m.Config.PopPrior * m.pop[j]
		} else {
			dst[j] = 0
		}
	}
	m.addNeighbors(items, weights, times, dst)
}

// ScoreHistorySubset is ScoreHistory for the items of subset: the prior is set on the
// subset alone, then the history's neighbour lists are added as for the whole catalogue
// (entries outside the subset may hold anything).
func (m *Content) ScoreHistorySubset(items []int32, weights []float32, times []int64, subset []int32, dst []float32) {
	for _, j := range subset {
		switch {
		case j < 0 || int(j) >= len(dst):
		case int(j) < len(m.pop):
			dst[j] = m.Config.PopPrior * m.pop[j]
		default:
			dst[j] = 0
		}
	}
	m.addNeighbors(items, weights, times, dst)
}

// addNeighbors adds the neighbours of the history's most recent positive items to dst.
func (m *Content) addNeighbors(items []int32, weights []float32, times []int64, dst []float32) {
	order := recentPositive(items, weights, times, m.Config.MaxHistory)
	for pos, k := range order {
		w := float32(1)
		if m.Config.HalfLife > 0 {
			w = float32(math.Exp2(-float64(pos) / float64(m.Config.HalfLife)))
		}
		nbr, sim := m.Neighbors(items[k])
		for q, j := range nbr {
			if int(j) < len(dst) {
				dst[j] += w * sim[q]
			}
		}
	}
}

// recentPositive returns the positions of the positive-weight entries, most recent first
// (ties: higher item first, as rows are sorted by item), at most limit of them (0: all).
func recentPositive(items []int32, weights []float32, times []int64, limit int) []int {
	order := make([]int, 0, len(items))
	for k, w := range weights {
		if w > 0 {
			order = append(order, k)
		}
	}
	slices.SortStableFunc(order, func(a, b int) int {
		if c := compareInt64(times[b], times[a]); c != 0 {
			return c
		}
		return int(items[b]) - int(items[a])
	})
	if limit > 0 && len(order) > limit {
		order = order[:limit]
	}
	return order
}

const (
	contentMagic   = "QMCONTN\x00"
	contentVersion = 1
)

// WriteTo writes the configuration, neighbour lists and popularity prior as a versioned
// artefact. The features and dataset are not included.
func (m *Content) WriteTo(w io.Writer) (int64, error) {
	e := newEncoder(w)
	e.header(contentMagic, contentVersion)
	c := m.Config
	e.u32(uint32(c.K))
	for _, v := range []float32{c.CategoryWeight, c.BrandWeight, c.PriceWeight, c.AttrWeight,
		c.TitleWeight, c.MaxDF, c.HalfLife, c.PopPrior} {
		e.f32(v)
	}
	e.u32(uint32(c.MaxHistory))
	e.int32s(m.ptr)
	e.int32s(m.nbr)
	e.float32s(m.sim)
	e.float32s(m.pop)
	return e.finish()
}

// ReadFrom replaces m's configuration and neighbours with an artefact written by WriteTo,
// reading exactly its bytes. Call Bind before ScoreUser.
func (m *Content) ReadFrom(r io.Reader) (int64, error) {
	d := newDecoder(r)
	d.header(contentMagic, contentVersion)
	var c ContentConfig
	c.K = int(d.u32())
	for _, p := range []*float32{&c.CategoryWeight, &c.BrandWeight, &c.PriceWeight, &c.AttrWeight,
		&c.TitleWeight, &c.MaxDF, &c.HalfLife, &c.PopPrior} {
		*p = d.f32()
	}
	c.MaxHistory = int(d.u32())
	ptr, nbr, sim, pop := d.int32s(), d.int32s(), d.float32s(), d.float32s()
	if n, err := d.finish(); err != nil {
		return n, err
	}
	if err := checkSparse(ptr, nbr, len(sim), len(ptr)-1); err != nil {
		return d.n, err
	}
	if len(pop) != len(ptr)-1 {
		return d.n, errors.New("model: content: corrupt popularity prior")
	}
	c.Workers = m.Config.Workers
	m.Config = c
	m.ptr, m.nbr, m.sim, m.pop = ptr, nbr, sim, pop
	return d.n, nil
}
