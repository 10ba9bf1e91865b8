package persona

import (
	"context"
	"errors"
	"math"
	"slices"
)

// Event is one thing a consumer did with an item.
type Event struct {
	Item string
	// Weight is how much the event says: a rating (1–5), a quantity, or 1 when every
	// event counts the same.
	Weight float64
	// Time is in Unix seconds; 0 when unknown (time-of-day features then ignore the event).
	Time int64
	// Amount is the money spent, 0 when unknown or not a purchase.
	Amount float64
	// Tokens are the event's own context ("store=309", "channel=app"), counted with the
	// item's attribute tokens.
	Tokens []string
}

// History is one consumer's events, in any order.
type History []Event

// Catalog maps an item id to its attribute tokens ("genre=Comedy", "department=GROCERY",
// "label=Private", "price=high"): what the attribute aggregates count.
type Catalog map[string][]string

// FeatureConfig chooses the feature blocks of a Featurizer and their weights. Each block is
// normalised to about unit norm per consumer and then multiplied by its weight, so one L2
// penalty suits them all and a weight says how cheaply the classifier may use a block;
// 0 leaves a block out.
type FeatureConfig struct {
	// Items: the items a consumer met, log(1+events) (or, with ItemWeights, the mean
	// weight of their events, e.g. the rating) × IDF^IDFPower, the smoothed IDF over the
	// training consumers (IDFPower 0 means 1), L2-normalised. A power above 1 leans on the
	// rarer items, which say more about who a consumer is than the blockbusters do.
	Items       float64
	ItemWeights bool
	IDFPower    float64
	// Signed: each item's mean weight minus the consumer's own mean weight (liked above
	// their average, disliked below), L2-normalised; for ratings. Zero when weights are
	// constant.
	Signed float64
	// Attrs: the share of the consumer's events per token (the item's attributes and the
	// event's context), and with SignedAttrs the mean centred weight per token; scaled by
	// their spread over the training consumers (not centred, so rows stay sparse).
	Attrs       float64
	SignedAttrs bool
	// SVD: the Items row projected on the top SVDDims right singular vectors of the
	// training consumers' Items matrix (a low-dimensional taste embedding), standardised.
	SVD     float64
	SVDDims int
	// Activity: log events, log distinct items, mean and spread of the weights, log active
	// days, mean IDF of the items (mainstream or niche taste), share of events on items
	// outside the vocabulary, log mean and log total amount spent; standardised.
	Activity float64
	// Time: the share of events in each four-hour slot of the day and each weekday, in the
	// time zone TZOffset seconds east of UTC, standardised.
	Time     float64
	TZOffset int
	// MinUsers drops items and tokens met by fewer training consumers; 0 means 2.
	MinUsers int
	// Seed makes the SVD deterministic.
	Seed uint64
}

// DefaultFeatureConfig returns the blocks and weights for retail behaviour, as tuned on the
// dunnhumby baskets: what a consumer buys (items at half weight), the departments,
// categories, labels, price tiers and stores they buy from (the strongest block for
// income and kids), a 32-dimensional SVD of the items, activity, and when they shop (the
// strongest block for age) in UTC.
func DefaultFeatureConfig() FeatureConfig {
	return FeatureConfig{Items: 0.5, Attrs: 1, SVD: 0.3, SVDDims: 32, Activity: 0.3, Time: 0.5, MinUsers: 2, Seed: 1}
}

const (
	activityDims = 9
	timeDims     = 6 + 7
)

// Featurizer turns a consumer's history into a sparse feature vector. Fit learns what it
// needs from the training consumers only (vocabulary, IDF, SVD, standardisation), so in
// cross-validation it is fitted per fold. Transform is safe for concurrent use once fitted.
type Featurizer struct {
	Config FeatureConfig

	items     []string
	itemIndex map[string]int32
	idf       []float64
	attrs     []string
	attrIndex map[string]int32
	itemAttrs map[string][]int32 // catalogue items with at least one known token
	svd       []float64          // len(items) × svdDims, row-major
	svdDims   int
	// mean and scale standardise the dense columns (attributes, SVD, activity, time):
	// value = (raw − mean) · scale, scale already folding in the block weight.
	mean, scale []float64
}

// Fit learns the vocabulary, IDF, SVD and standardisation from hs and the catalogue.
func (f *Featurizer) Fit(ctx context.Context, hs []History, cat Catalog) error {
	c := f.Config
	if c.MinUsers <= 0 {
		c.MinUsers = 2
	}
	f.Config = c
	if len(hs) == 0 {
		return errors.New("persona: no histories to fit features on")
	}
	f.fitVocabulary(hs, cat)
	f.svdDims = 0
	f.svd = nil
	rows := make([]Vector, len(hs))
	A := NewMatrix(len(f.items))
	for i, h := range hs {
		rows[i] = f.itemRow(h)
		A.AppendRow(rows[i])
	}
	if c.SVD > 0 && c.SVDDims > 0 && len(f.items) > 0 {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		f.svd, _ = truncatedSVD(A, c.SVDDims, c.Seed)
		f.svdDims = len(f.svd) / len(f.items)
	}
	nd := f.denseDims()
	f.mean, f.scale = make([]float64, nd), make([]float64, nd)
	sum, sq := make([]float64, nd), make([]float64, nd)
	for i, h := range hs {
		for j, v := range f.denseRaw(h, rows[i]) {
			sum[j] += v
			sq[j] += v * v
		}
	}
	n := float64(len(hs))
	for j := range sum {
		mu := sum[j] / n
		sd := math.Sqrt(max(sq[j]/n-mu*mu, 0))
		if j >= f.attrCols() { // small dense blocks are centred; attribute shares stay sparse
			f.mean[j] = mu
		}
		if sd > 1e-9 {
			f.scale[j] = f.blockWeightOfDense(j) / sd
		}
	}
	return ctx.Err()
}

// fitVocabulary keeps the items and tokens met by at least MinUsers consumers, sorted, and
// the smoothed IDF of the items: log((1+n)/(1+df)) + 1.
func (f *Featurizer) fitVocabulary(hs []History, cat Catalog) {
	itemDF, tokDF := map[string]int{}, map[string]int{}
	seen, seenTok := map[string]bool{}, map[string]bool{}
	for _, h := range hs {
		clear(seen)
		clear(seenTok)
		for _, e := range h {
			for _, t := range e.Tokens {
				if !seenTok[t] {
					seenTok[t] = true
					tokDF[t]++
				}
			}
			if seen[e.Item] {
				continue
			}
			seen[e.Item] = true
			itemDF[e.Item]++
			for _, t := range cat[e.Item] {
				if !seenTok[t] {
					seenTok[t] = true
					tokDF[t]++
				}
			}
		}
	}
	keep := func(df map[string]int) ([]string, map[string]int32) {
		var ids []string
		for id, n := range df {
			if n >= f.Config.MinUsers {
				ids = append(ids, id)
			}
		}
		slices.Sort(ids)
		index := make(map[string]int32, len(ids))
		for k, id := range ids {
			index[id] = int32(k)
		}
		return ids, index
	}
	f.items, f.itemIndex = keep(itemDF)
	f.idf = make([]float64, len(f.items))
	for k, id := range f.items {
		f.idf[k] = math.Log(float64(1+len(hs))/float64(1+itemDF[id])) + 1
	}
	f.attrs, f.attrIndex = nil, nil
	f.itemAttrs = map[string][]int32{}
	if f.Config.Attrs > 0 {
		f.attrs, f.attrIndex = keep(tokDF)
		for id, toks := range cat {
			var ks []int32
			for _, t := range toks {
				if k, ok := f.attrIndex[t]; ok && !slices.Contains(ks, k) {
					ks = append(ks, k)
				}
			}
			if len(ks) > 0 {
				slices.Sort(ks)
				f.itemAttrs[id] = ks
			}
		}
	}
}

// Dims returns the number of feature columns.
func (f *Featurizer) Dims() int { return f.itemCols() + f.signedCols() + f.denseDims() }

func (f *Featurizer) itemCols() int {
	if f.Config.Items > 0 {
		return len(f.items)
	}
	return 0
}

func (f *Featurizer) signedCols() int {
	if f.Config.Signed > 0 {
		return len(f.items)
	}
	return 0
}

func (f *Featurizer) attrCols() int {
	n := len(f.attrs)
	if f.Config.SignedAttrs {
		n *= 2
	}
	return n
}

func (f *Featurizer) activityCols() int {
	if f.Config.Activity > 0 {
		return activityDims
	}
	return 0
}

func (f *Featurizer) timeCols() int {
	if f.Config.Time > 0 {
		return timeDims
	}
	return 0
}

func (f *Featurizer) denseDims() int {
	return f.attrCols() + f.svdDims + f.activityCols() + f.timeCols()
}

// blockWeightOfDense returns the weight of dense column j's block over the square root of
// the block's width, so that a standardised block has about its weight as norm.
func (f *Featurizer) blockWeightOfDense(j int) float64 {
	c := f.Config
	for _, b := range []struct {
		n int
		w float64
	}{{f.attrCols(), c.Attrs}, {f.svdDims, c.SVD}, {f.activityCols(), c.Activity}, {f.timeCols(), c.Time}} {
		if j < b.n {
			return b.w / math.Sqrt(float64(b.n))
		}
		j -= b.n
	}
	return 0
}

// itemRow returns the consumer's L2-normalised TF-IDF row over the item vocabulary.
func (f *Featurizer) itemRow(h History) Vector {
	var b vectorBuilder
	for _, e := range h {
		if k, ok := f.itemIndex[e.Item]; ok {
			b.add(k, 1)
		}
	}
	v := b.vector()
	var sum vectorBuilder
	if f.Config.ItemWeights {
		for _, e := range h {
			if k, ok := f.itemIndex[e.Item]; ok {
				sum.add(k, e.Weight)
			}
		}
	}
	s := sum.vector()
	p := f.Config.IDFPower
	if p == 0 {
		p = 1
	}
	for t, k := range v.Index {
		x := math.Log1p(v.Value[t])
		if f.Config.ItemWeights {
			x = 0
			if i, ok := slices.BinarySearch(s.Index, k); ok {
				x = s.Value[i] / v.Value[t]
			}
		}
		v.Value[t] = x * math.Pow(f.idf[k], p)
	}
	scaleToNorm(v.Value, 1)
	return v
}

// signedRow returns each known item's mean weight minus the consumer's mean weight,
// L2-normalised, times w.
func (f *Featurizer) signedRow(h History, w float64) Vector {
	mu := meanWeight(h)
	var sum, cnt vectorBuilder
	for _, e := range h {
		if k, ok := f.itemIndex[e.Item]; ok {
			sum.add(k, e.Weight-mu)
			cnt.add(k, 1)
		}
	}
	s, n := sum.vector(), cnt.vector()
	out := Vector{}
	for t, k := range n.Index {
		if i, ok := slices.BinarySearch(s.Index, k); ok {
			if v := s.Value[i] / n.Value[t]; math.Abs(v) > 1e-12 {
				out.Index = append(out.Index, k)
				out.Value = append(out.Value, v)
			}
		}
	}
	scaleToNorm(out.Value, w)
	return out
}

func meanWeight(h History) float64 {
	if len(h) == 0 {
		return 0
	}
	var s float64
	for _, e := range h {
		s += e.Weight
	}
	return s / float64(len(h))
}

// scaleToNorm scales v to L2 norm w (leaving a zero vector alone).
func scaleToNorm(v []float64, w float64) {
	var s float64
	for _, x := range v {
		s += x * x
	}
	if s == 0 {
		return
	}
	k := w / math.Sqrt(s)
	for i := range v {
		v[i] *= k
	}
}

// Transform returns the feature vector of h; items and tokens unknown to the fit are
// ignored. It panics if f was neither fitted nor read.
func (f *Featurizer) Transform(h History) Vector {
	var out Vector
	off := int32(0)
	x := f.itemRow(h)
	if f.Config.Items > 0 {
		out.Index = append(out.Index, x.Index...)
		for _, v := range x.Value {
			out.Value = append(out.Value, v*f.Config.Items)
		}
		off += int32(len(f.items))
	}
	if f.Config.Signed > 0 {
		v := f.signedRow(h, f.Config.Signed)
		for t, k := range v.Index {
			out.Index = append(out.Index, off+k)
			out.Value = append(out.Value, v.Value[t])
		}
		off += int32(len(f.items))
	}
	for j, raw := range f.denseRaw(h, x) {
		if v := (raw - f.mean[j]) * f.scale[j]; v != 0 {
			out.Index = append(out.Index, off+int32(j))
			out.Value = append(out.Value, v)
		}
	}
	return out
}

// TransformAll returns the feature rows of hs.
func (f *Featurizer) TransformAll(hs []History) *Matrix {
	X := NewMatrix(f.Dims())
	for _, h := range hs {
		X.AppendRow(f.Transform(h))
	}
	return X
}

// denseRaw returns the unstandardised dense columns of h, whose item row is x: attribute
// shares (and centred weights), SVD coordinates, activity and time of day.
func (f *Featurizer) denseRaw(h History, x Vector) []float64 {
	out := make([]float64, 0, f.denseDims())
	mu := meanWeight(h)
	if na := len(f.attrs); na > 0 {
		share := make([]float64, na)
		signed := make([]float64, na)
		cnt := make([]float64, na)
		for _, e := range h {
			for _, k := range f.itemAttrs[e.Item] {
				cnt[k]++
				signed[k] += e.Weight - mu
			}
			for _, t := range e.Tokens {
				if k, ok := f.attrIndex[t]; ok {
					cnt[k]++
					signed[k] += e.Weight - mu
				}
			}
		}
		for k := range share {
			if len(h) > 0 {
				share[k] = cnt[k] / float64(len(h))
			}
			if cnt[k] > 0 {
				signed[k] /= cnt[k]
			}
		}
		out = append(out, share...)
		if f.Config.SignedAttrs {
			out = append(out, signed...)
		}
	}
	if f.svdDims > 0 {
		u := make([]float64, f.svdDims)
		for t, k := range x.Index {
			axpy(x.Value[t], f.svd[int(k)*f.svdDims:int(k+1)*f.svdDims], u)
		}
		out = append(out, u...)
	}
	if f.Config.Activity > 0 {
		out = append(out, f.activity(h, mu)...)
	}
	if f.Config.Time > 0 {
		out = append(out, timeShares(h, f.Config.TZOffset)...)
	}
	return out
}

// activity returns the Activity columns of h, whose mean weight is mu.
func (f *Featurizer) activity(h History, mu float64) []float64 {
	items, days := map[string]bool{}, map[int64]bool{}
	var v2, idf, amount float64
	var known int
	for _, e := range h {
		items[e.Item] = true
		if e.Time != 0 {
			days[(e.Time+int64(f.Config.TZOffset))/86400] = true
		}
		v2 += (e.Weight - mu) * (e.Weight - mu)
		if k, ok := f.itemIndex[e.Item]; ok {
			idf += f.idf[k]
			known++
		}
		amount += max(e.Amount, 0)
	}
	n := float64(max(len(h), 1))
	out := []float64{math.Log1p(float64(len(h))), math.Log1p(float64(len(items))), mu,
		math.Sqrt(v2 / n), math.Log1p(float64(len(days))), 0, 1 - float64(known)/n,
		math.Log1p(amount / n), math.Log1p(amount)}
	if known > 0 {
		out[5] = idf / float64(known)
	}
	return out
}

// timeShares returns the shares of the timed events in six four-hour slots and seven
// weekdays (Monday first), local time being Unix time plus offset seconds.
func timeShares(h History, offset int) []float64 {
	out := make([]float64, timeDims)
	var n float64
	for _, e := range h {
		if e.Time == 0 {
			continue
		}
		t := e.Time + int64(offset)
		sec := ((t % 86400) + 86400) % 86400
		day := int64(math.Floor(float64(t) / 86400))
		out[sec/(4*3600)]++
		out[6+int(((day+3)%7+7)%7)]++ // 1970-01-01 was a Thursday: +3 puts Monday at 0
		n++
	}
	if n > 0 {
		for i := range out {
			out[i] /= n
		}
	}
	return out
}
