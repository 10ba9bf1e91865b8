package model

import (
	"errors"
	"io"
	"time"
)

const (
	hybridMagic   = "QMHYBRD\x00"
	hybridVersion = 1
)

// WriteTo writes what the hybrid learned — the serving settings, the ranker and the report —
// as a versioned artefact. The bases are not included: each is saved with its own WriteTo.
func (m *Hybrid) WriteTo(w io.Writer) (int64, error) {
	r := m.ranker
	if r == nil {
		return 0, errors.New("model: hybrid: not fitted")
	}
	e := newEncoder(w)
	e.header(hybridMagic, hybridVersion)
	c := m.Config.withDefaults()
	e.u32(uint32(c.Candidates))
	e.u32(uint32(c.K))
	e.f32(c.HistoryHalfLife)
	e.i64(int64(c.PopWindow))
	e.u32(uint32(r.kind))
	repeat := uint32(0)
	if m.repeat {
		repeat = 1
	}
	e.u32(repeat)
	e.f32(float32(m.report.RepeatShare))
	e.strings([]string{r.base})
	e.strings(r.names)
	e.float32s(r.mean)
	e.float32s(r.std)
	e.float32s(r.w)
	e.f32(r.scale)
	e.float32s(toFloat32s(r.gain))
	e.length(len(r.trees))
	for _, t := range r.trees {
		e.int32s(t.feat)
		e.float32s(t.thr)
		e.int32s(t.left)
		e.int32s(t.right)
		e.float32s(t.value)
	}
	rep := m.report
	e.strings([]string{rep.Chosen})
	e.u32(uint32(rep.Users))
	var names []string
	var learn, hold, all []float32
	for _, s := range rep.Solutions {
		names = append(names, s.Name)
		learn, hold, all = append(learn, float32(s.Learn)), append(hold, float32(s.Holdout)), append(all, float32(s.All))
	}
	e.strings(names)
	e.float32s(learn)
	e.float32s(hold)
	e.float32s(all)
	return e.finish()
}

// ReadFrom replaces what m learned with an artefact written by WriteTo, reading exactly its
// bytes. Restore the bases and call Bind before ScoreUser.
func (m *Hybrid) ReadFrom(rd io.Reader) (int64, error) {
	d := newDecoder(rd)
	d.header(hybridMagic, hybridVersion)
	c := m.Config
	c.Candidates = int(d.u32())
	c.K = int(d.u32())
	c.HistoryHalfLife = d.f32()
	c.PopWindow = time.Duration(d.i64())
	r := &hybridRanker{kind: int(d.u32())}
	repeat := d.u32() == 1
	share := d.f32()
	if base := d.strings(); len(base) == 1 {
		r.base = base[0]
	}
	r.names = d.strings()
	r.mean, r.std, r.w = d.float32s(), d.float32s(), d.float32s()
	r.scale = d.f32()
	for _, g := range d.float32s() {
		r.gain = append(r.gain, float64(g))
	}
	nt := d.length()
	for k := 0; k < nt && d.err == nil; k++ {
		t := regTree{feat: d.int32s(), thr: d.float32s(), left: d.int32s(), right: d.int32s(), value: d.float32s()}
		r.trees = append(r.trees, t)
	}
	var rep HybridReport
	if chosen := d.strings(); len(chosen) == 1 {
		rep.Chosen = chosen[0]
	}
	rep.Users = int(d.u32())
	names, learn, hold, all := d.strings(), d.float32s(), d.float32s(), d.float32s()
	if n, err := d.finish(); err != nil {
		return n, err
	}
	if err := r.check(); err != nil {
		return d.n, err
	}
	if len(learn) != len(names) || len(hold) != len(names) || len(all) != len(names) {
		return d.n, errors.New("model: hybrid: corrupt report")
	}
	for k, name := range names {
		rep.Solutions = append(rep.Solutions, HybridSolution{name, float64(learn[k]), float64(hold[k]), float64(all[k])})
	}
	rep.K, rep.Trees, rep.Features = c.K, len(r.trees), r.featureWeights()
	rep.Repeat, rep.RepeatShare = repeat, float64(share)
	m.Config, m.ranker, m.report, m.data, m.repeat = c, r, rep, nil, repeat
	return d.n, nil
}

// check verifies that a decoded ranker is consistent, so scoring cannot index out of range
// or loop: every tree's children come after their parent.
func (r *hybridRanker) check() error {
	nf := len(r.names)
	if r.kind < rankPop || r.kind > rankTrees || len(r.mean) != nf || len(r.std) != nf ||
		len(r.w) != nf || len(r.gain) != nf {
		return errors.New("model: hybrid: corrupt ranker")
	}
	for _, t := range r.trees {
		n := len(t.feat)
		if n == 0 || len(t.thr) != n || len(t.left) != n || len(t.right) != n || len(t.value) != n {
			return errors.New("model: hybrid: corrupt tree")
		}
		for k, f := range t.feat {
			if f < 0 {
				continue
			}
			if int(f) >= nf || int(t.left[k]) <= k || int(t.right[k]) <= k || int(t.left[k]) >= n || int(t.right[k]) >= n {
				return errors.New("model: hybrid: corrupt tree")
			}
		}
	}
	return nil
}

func toFloat32s(v []float64) []float32 {
	out := make([]float32, len(v))
	for k, x := range v {
		out[k] = float32(x)
	}
	return out
}
