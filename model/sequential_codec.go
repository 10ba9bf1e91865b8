package model

import (
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"runtime"
	"sync"
)

const (
	seqMagic   = "QMSEQNT\x00"
	seqVersion = 2 // 2 adds the two-step rows; a version 1 artefact gets them computed on reading
)

// WriteTo writes the fitted model (transitions, similarity weights, each fitted user's
// latest items, popularity and the two-step rows) as a versioned artefact.
func (m *Sequential) WriteTo(w io.Writer) (int64, error) {
	e := newEncoder(w)
	e.header(seqMagic, seqVersion)
	c := m.Config
	for _, v := range []int{c.Window, c.History, c.Neighbours, c.SimilarityHistory, c.MaxTransitions, c.MaxUserItems} {
		e.u32(uint32(v))
	}
	for _, v := range []float32{c.GapDecay, c.HistoryDecay, c.TwoStep, c.Similarity, c.Lambda, c.SimilarityDecay, c.Repeat, c.Popularity, m.lambda} {
		e.f32(v)
	}
	e.u32(uint32(m.n))
	for _, x := range []*seqCSR{&m.trans, &m.sim, &m.users} {
		e.int32s(x.ptr)
		e.int32s(x.idx)
		e.float32s(x.val)
	}
	e.float32s(m.scale)
	e.float32s(m.pop)
	e.int32s(m.two.ptr)
	e.int32s(m.two.idx)
	e.float32s(m.two.val)
	return e.finish()
}

// ReadFrom replaces m with an artefact written by WriteTo, reading exactly its bytes.
// Config.Workers is kept. A version 1 artefact, written before the two-step rows were
// saved, gets them computed from its transitions (seconds for 100,000 items).
func (m *Sequential) ReadFrom(r io.Reader) (int64, error) {
	d := newDecoder(r)
	version := d.headerOf(seqMagic, 1, seqVersion)
	var c SequentialConfig
	for _, p := range []*int{&c.Window, &c.History, &c.Neighbours, &c.SimilarityHistory, &c.MaxTransitions, &c.MaxUserItems} {
		*p = int(d.u32())
	}
	var lambda float32
	for _, p := range []*float32{&c.GapDecay, &c.HistoryDecay, &c.TwoStep, &c.Similarity, &c.Lambda, &c.SimilarityDecay, &c.Repeat, &c.Popularity, &lambda} {
		*p = d.f32()
	}
	n := int(d.u32())
	var mats [3]seqCSR
	for k := range mats {
		mats[k].ptr, mats[k].idx, mats[k].val = d.int32s(), d.int32s(), d.float32s()
	}
	scale, pop := d.float32s(), d.float32s()
	var two seqCSR
	if version >= 2 {
		two.ptr, two.idx, two.val = d.int32s(), d.int32s(), d.float32s()
	}
	if k, err := d.finish(); err != nil {
		return k, err
	}
	if n > maxLen || len(scale) != n || len(pop) != n {
		return d.n, errors.New("model: corrupt seq item tables")
	}
	for k := range mats {
		x := &mats[k]
		if k == 2 { // the users' rows carry no values
			x.val = nil
		} else if len(x.ptr) != n+1 || len(x.idx) != len(x.val) {
			return d.n, errors.New("model: corrupt seq item rows")
		}
		if err := checkSparse(x.ptr, x.idx, len(x.idx), n); err != nil {
			return d.n, err
		}
	}
	if version >= 2 && len(two.ptr) > 0 {
		if len(two.ptr) != n+1 || len(two.idx) != len(two.val) {
			return d.n, errors.New("model: corrupt seq two-step rows")
		}
		if err := checkSparse(two.ptr, two.idx, len(two.idx), n); err != nil {
			return d.n, err
		}
	}
	c.Workers = m.Config.Workers
	if version < 2 && c.TwoStep > 0 {
		fc := c
		if fc.Workers <= 0 {
			fc.Workers = runtime.GOMAXPROCS(0)
		}
		var err error
		if two, err = seqTwoSteps(context.Background(), fc, &mats[0], scale); err != nil {
			return d.n, err
		}
	}
	m.Config, m.n, m.lambda = c, n, lambda
	m.trans, m.sim, m.users, m.two = mats[0], mats[1], mats[2], two
	m.scale, m.pop = scale, pop
	m.pool = sync.Pool{}
	return d.n, nil
}

// SequentialFamily returns Sequential with the default first, then one change at a time
// around it, in the order that mattered most on Amazon Beauty (the weight of the
// similarity score, of two-step transitions, the history decay, the penalty, the
// transition window), then random combinations drawn from seed.
func SequentialFamily() Family {
	return Family{Name: "seq", Configs: func(n int, seed uint64) []Model {
		def := DefaultSequentialConfig()
		var out []Model
		add := func(c SequentialConfig) {
			for _, m := range out {
				if m.(*Sequential).Config == c {
					return
				}
			}
			out = append(out, &Sequential{Config: c})
		}
		add(def)
		// Alternatives to each default, the likelier first.
		similarity := []float32{0.6, 2, 0}
		twoStep := []float32{0, 0.6}
		historyDecay := []float32{0.2, 0.5}
		lambda := []float32{1, 10}
		window := []int{2, 10}
		gapDecay := []float32{0.3, 0.9}
		popularity := []float32{0, 0.05}
		repeat := []float32{0, 4, 2}
		for k := 0; k < 3; k++ {
			for _, f := range []func(*SequentialConfig) bool{
				func(c *SequentialConfig) bool { return pick(&c.Similarity, similarity, k) },
				func(c *SequentialConfig) bool { return pick(&c.TwoStep, twoStep, k) },
				func(c *SequentialConfig) bool { return pick(&c.HistoryDecay, historyDecay, k) },
				func(c *SequentialConfig) bool { return pick(&c.Lambda, lambda, k) },
				func(c *SequentialConfig) bool { return pick(&c.Window, window, k) },
				func(c *SequentialConfig) bool { return pick(&c.GapDecay, gapDecay, k) },
				func(c *SequentialConfig) bool { return pick(&c.Popularity, popularity, k) },
				func(c *SequentialConfig) bool { return pick(&c.Repeat, repeat, k) },
			} {
				c := def
				if f(&c) {
					add(c)
				}
			}
		}
		similarity = append(similarity, def.Similarity)
		twoStep = append(twoStep, def.TwoStep)
		historyDecay = append(historyDecay, def.HistoryDecay)
		lambda = append(lambda, def.Lambda)
		window = append(window, def.Window)
		gapDecay = append(gapDecay, def.GapDecay)
		popularity = append(popularity, def.Popularity)
		repeat = append(repeat, def.Repeat)
		rng := rand.New(rand.NewPCG(seed, 0x5e9))
		for tries := 0; len(out) < n && tries < 50*n; tries++ {
			c := def
			c.Similarity = similarity[rng.IntN(len(similarity))]
			c.TwoStep = twoStep[rng.IntN(len(twoStep))]
			c.HistoryDecay = historyDecay[rng.IntN(len(historyDecay))]
			c.Lambda = lambda[rng.IntN(len(lambda))]
			c.Window = window[rng.IntN(len(window))]
			c.GapDecay = gapDecay[rng.IntN(len(gapDecay))]
			c.Popularity = popularity[rng.IntN(len(popularity))]
			c.Repeat = repeat[rng.IntN(len(repeat))]
			add(c)
		}
		return out[:min(n, len(out))]
	}}
}

// pick sets *p to the k-th alternative and reports whether there is one.
func pick[T any](p *T, alternatives []T, k int) bool {
	if k >= len(alternatives) {
		return false
	}
	*p = alternatives[k]
	return true
}
