package model

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
)

const (
	hybridServingMagic   = "QMHYSRV\x00"
	hybridServingVersion = 1
)

// WriteServing writes a self-contained serving artefact: what the hybrid learned (as
// WriteTo), the summary of the training data its features read (each item's popularity
// and interaction times, the activity mean, the items' category, brand and price band),
// and every base model under its name. ReadServing restores a hybrid that scores any
// history with ScoreHistory without the training Dataset. Every base must be one of this
// package's savable models (seq, ials, ease, content).
func (m *Hybrid) WriteServing(w io.Writer) (int64, error) {
	if m.ranker == nil || m.data == nil {
		return 0, errors.New("model: hybrid: not fitted")
	}
	writers := make([]io.WriterTo, len(m.Bases))
	for b, base := range m.Bases {
		wt, ok := base.(io.WriterTo)
		if _, err := newServingBase(base.Name()); !ok || err != nil {
			return 0, fmt.Errorf("model: hybrid: base %q cannot be saved for serving", base.Name())
		}
		writers[b] = ServingWriter(wt)
	}
	n, err := m.WriteTo(w)
	if err != nil {
		return n, err
	}
	e := newEncoder(w)
	e.header(hybridServingMagic, hybridServingVersion)
	h := m.data
	e.u32(uint32(h.ni))
	e.float32s(h.pop)
	counts := make([]int32, h.ni)
	for i := range counts {
		counts[i] = int32(h.tptr[i+1] - h.tptr[i])
	}
	e.int32s(counts)
	e.i64(h.timeBase)
	off := make([]int32, len(h.times))
	for k, t := range h.times {
		off[k] = int32(t)
	}
	e.int32s(off)
	e.i64(h.window)
	e.i64(h.now)
	e.f32(h.actMean)
	if a := h.attrs; a != nil {
		e.u32(1)
		e.u32(uint32(a.ncat))
		e.u32(uint32(a.nbrand))
		e.int32s(a.cat)
		e.int32s(a.brand)
		e.int32s(a.band)
	} else {
		e.u32(0)
	}
	names := baseNames(m.Bases)
	e.strings(names)
	k, err := e.finish()
	n += k
	if err != nil {
		return n, err
	}
	for b, wt := range writers {
		k, err := wt.WriteTo(w)
		n += k
		if err != nil {
			return n, fmt.Errorf("model: hybrid: write base %s: %w", names[b], err)
		}
	}
	return n, nil
}

// ServingWriter returns what serving needs written of the fitted model m: m itself, except
// that iALS leaves out its fitted users' vectors (WithoutUsers), since serving folds every
// visitor's live history in. The engine's artefact and the hybrid's bases both go through it.
func ServingWriter(m io.WriterTo) io.WriterTo {
	if ials, ok := m.(*IALS); ok {
		return ials.WithoutUsers()
	}
	return m
}

// newServingBase returns an empty model of a savable base family, to read one into.
func newServingBase(name string) (interface {
	Model
	io.ReaderFrom
}, error) {
	switch name {
	case "seq":
		return new(Sequential), nil
	case "ials":
		return new(IALS), nil
	case "ease":
		return new(EASE), nil
	case "content":
		return new(Content), nil
	}
	return nil, fmt.Errorf("model: hybrid: no serving codec for base %q", name)
}

// ReadServing replaces m with a serving artefact written by WriteServing, reading exactly
// its bytes. The result scores histories (ScoreHistory) and, for users, only popularity:
// call Bind with a dataset to score its users by index.
func (m *Hybrid) ReadServing(r io.Reader) (int64, error) {
	n, err := m.ReadFrom(r)
	if err != nil {
		return n, err
	}
	d := newDecoder(r)
	d.header(hybridServingMagic, hybridServingVersion)
	ni := int(d.u32())
	h := &hybridData{ni: ni}
	h.pop = d.float32s()
	counts := d.int32s()
	lo := d.i64()
	off := d.int32s()
	h.window, h.now, h.actMean = d.i64(), d.i64(), d.f32()
	var attrs *hybridAttrs
	if d.u32() == 1 {
		attrs = &hybridAttrs{ncat: int(d.u32()), nbrand: int(d.u32())}
		attrs.cat, attrs.brand, attrs.band = d.int32s(), d.int32s(), d.int32s()
	}
	names := d.strings()
	k, err := d.finish()
	n += k
	if err != nil {
		return n, err
	}
	if len(h.pop) != ni || len(counts) != ni {
		return n, errors.New("model: hybrid: corrupt serving data: item counts differ")
	}
	h.tptr = make([]int64, ni+1)
	for i, c := range counts {
		if c < 0 {
			return n, errors.New("model: hybrid: corrupt serving data: negative count")
		}
		h.tptr[i+1] = h.tptr[i] + int64(c)
	}
	if h.tptr[ni] != int64(len(off)) {
		return n, errors.New("model: hybrid: corrupt serving data: times do not match counts")
	}
	h.timeBase, h.times = lo, make([]uint32, len(off))
	for k, o := range off {
		h.times[k] = uint32(o)
	}
	if attrs != nil {
		if len(attrs.cat) != ni || len(attrs.brand) != ni || len(attrs.band) != ni {
			return n, errors.New("model: hybrid: corrupt serving data: attribute lengths")
		}
		for i := range ni {
			if attrs.cat[i] >= int32(attrs.ncat) || attrs.brand[i] >= int32(attrs.nbrand) {
				return n, errors.New("model: hybrid: corrupt serving data: attribute out of range")
			}
		}
		h.attrs = attrs
	}
	h.sortPop()
	bases := make([]Model, len(names))
	for b, name := range names {
		base, err := newServingBase(name)
		if err != nil {
			return n, err
		}
		k, err := base.ReadFrom(r)
		n += k
		if err != nil {
			return n, fmt.Errorf("model: hybrid: read base %s: %w", name, err)
		}
		bases[b] = base
	}
	if err := m.ranker.bind(names); err != nil {
		return n, err
	}
	nb := len(bases)
	m.Bases, m.data = bases, h
	m.pool = sync.Pool{New: func() any { return newCandScratch(nb, ni) }}
	return n, nil
}

// Refit fits the bases again on d, keeping the learned ranker, and binds d: what Fit does
// after learning, for a hybrid learned on an earlier split of the same data. What the bases
// learned before, and the data they were bound to, are let go first, so the earlier fit and
// the new one are never held at once. With releaseSequences, d's time-ordered sequences are
// released too (Dataset.ReleaseSequences) as soon as no base left to refit reads them: for a
// caller that has no further use for them.
func (m *Hybrid) Refit(ctx context.Context, d *Dataset, releaseSequences bool) error {
	if m.ranker == nil {
		return errors.New("model: hybrid: not fitted")
	}
	return m.refitBases(ctx, d, releaseSequences)
}

// refitBases releases the bases' fitted state and the bound data, fits every base on d and
// binds d.
func (m *Hybrid) refitBases(ctx context.Context, d *Dataset, releaseSequences bool) error {
	m.data, m.pool = nil, sync.Pool{}
	for _, b := range m.Bases {
		if r, ok := b.(releaser); ok {
			r.release()
		}
	}
	last := -1 // the last base that reads sequences
	for k, b := range m.Bases {
		if _, ok := b.(sequenceReader); ok {
			last = k
		}
	}
	if releaseSequences && last < 0 {
		d.ReleaseSequences()
	}
	for k, b := range m.Bases {
		if err := b.Fit(ctx, d); err != nil {
			return fmt.Errorf("hybrid: refit %s: %w", b.Name(), err)
		}
		if releaseSequences && k == last {
			d.ReleaseSequences()
		}
	}
	return m.Bind(d, m.Bases)
}

// releaser is a model that can let go of what it learned, so a new fit does not hold the
// old one alongside; it is unfitted afterwards.
type releaser interface{ release() }

// sequenceReader marks models whose Fit reads Dataset.Sequence.
type sequenceReader interface{ readsSequences() }

func (m *IALS) release() { *m = IALS{Config: m.Config} }

func (m *Sequential) release() { *m = Sequential{Config: m.Config} }

func (m *Sequential) readsSequences() {}

func (m *Content) release() { *m = Content{Config: m.Config, Features: m.Features} }
