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

// IALSConfig holds the hyperparameters of IALS. Start from DefaultIALSConfig.
type IALSConfig struct {
	// Factors is the dimension of the user and item vectors.
	Factors int
	// Epochs is the number of alternating passes (users, then items).
	Epochs int
	// CGSteps is the number of conjugate-gradient steps per row and half-epoch, warm-started
	// from the previous factors (Takács, Pilászy and Tikk 2011): (CGSteps+1)·(k² + 2·n·k)
	// work for a row with n interactions. 0 solves every row exactly by Cholesky instead
	// (k³/3 + n·k² per row): slower, and only worth it for tests and small k.
	CGSteps int
	// Reg is the L2 penalty on every factor vector.
	Reg float32
	// RegExp ν scales a row's Reg by (1 + Σ(c−1)/n)^ν, its confidence mass relative to an
	// empty row of n cells: the frequency-scaled regularisation of Rendle et al. 2021,
	// "Revisiting the performance of iALS". 0 keeps Reg the same for every row.
	RegExp float32
	// Alpha turns an interaction's weight w into the confidence c = 1 + Alpha·|w|. Every
	// cell without an interaction has confidence 1 and preference 0.
	Alpha float32
	// HistoryHalfLife, when positive, replaces every user's fitted vector by one folded in
	// (see FoldIn) from their history weighted by recency: the k-th most recent item (k = 0
	// for the latest) has its weight scaled by 2^(−k/HistoryHalfLife). The item vectors
	// keep what the whole history taught them; only the user side leans to the present.
	HistoryHalfLife float32
	// HistoryAlpha replaces Alpha when folding in a history; 0 means Alpha.
	HistoryAlpha float32
	// InitStd is the standard deviation of the random initial factors; 0 means 0.1/√Factors.
	InitStd float32
	// Seed draws the initial factors.
	Seed uint64
	// Workers is the number of goroutines; 0 means GOMAXPROCS. The result does not depend on it.
	Workers int
}

// DefaultIALSConfig returns the defaults, tuned on MovieLens 100K (temporal split,
// validation carved from train): 64 factors, 10 epochs of 3 CG steps, reg 20
// frequency-scaled with ν = 1, alpha 2, and users folded in over their recency-weighted
// history (half-life 3 items, alpha 64).
func DefaultIALSConfig() IALSConfig {
	return IALSConfig{Factors: 64, Epochs: 10, CGSteps: 3, Reg: 20, RegExp: 1, Alpha: 2,
		HistoryHalfLife: 3, HistoryAlpha: 64}
}

// IALS is implicit-feedback matrix factorisation (Hu, Koren and Volinsky 2008): it fits user
// vectors x and item vectors y so that x·y is near the preference p of every cell of the
// user × item matrix, each cell weighted by its confidence c, by alternating least squares.
// A positive weight w means p = 1 with c = 1 + Alpha·w; a negative one (a return, a bad
// review) means p = 0 with c = 1 + Alpha·|w|, so it pushes the score down harder than a cell
// never touched; a zero weight is an interaction with no extra confidence (p = 1, c = 1).
// Factors are float32; the shared Gram matrices are summed in float64.
type IALS struct {
	Config IALSConfig

	k        int
	users    []float32  // row-major, k per user
	items    []float32  // row-major, k per item
	gram     []float64  // itemsᵀ·items, for folding in histories
	basis    *ialsBasis // gram's eigenbasis, for folding in short histories; nil: solve directly
	numUsers int
	numItems int
	memo     *foldMemo // the latest histories folded in for scoring; nil remembers none
}

// Name returns "ials".
func (m *IALS) Name() string { return "ials" }

// Describe returns the configuration in a line.
func (m *IALS) Describe() string {
	c := m.Config
	s := fmt.Sprintf("factors=%d epochs=%d cg=%d reg=%g regexp=%g alpha=%g",
		c.Factors, c.Epochs, c.CGSteps, c.Reg, c.RegExp, c.Alpha)
	if c.HistoryHalfLife > 0 {
		s += fmt.Sprintf(" halflife=%g", c.HistoryHalfLife)
		if c.HistoryAlpha > 0 {
			s += fmt.Sprintf(" halpha=%g", c.HistoryAlpha)
		}
	}
	return s + fmt.Sprintf(" seed=%d", c.Seed)
}

// NumFactors returns the dimension of the fitted vectors.
func (m *IALS) NumFactors() int { return m.k }

// UserFactors returns user u's vector, or nil for a user outside the model. The slice
// aliases the model and must not be modified.
func (m *IALS) UserFactors(u int32) []float32 {
	if u < 0 || int(u) >= m.numUsers {
		return nil
	}
	return m.users[int(u)*m.k : int(u+1)*m.k]
}

// ItemFactors returns item i's vector, or nil for an item outside the model. The slice
// aliases the model and must not be modified. A user's score for i is the dot product of
// their vectors, so these can feed a maximum-inner-product index.
func (m *IALS) ItemFactors(i int32) []float32 {
	if i < 0 || int(i) >= m.numItems {
		return nil
	}
	return m.items[int(i)*m.k : int(i+1)*m.k]
}

// ialsRows is the interaction matrix in one orientation, as the solver needs it.
type ialsRows struct {
	ptr  []int64
	idx  []int32
	cm1  []float32 // c − 1
	cp   []float32 // c · p
	mass []float32 // Σ (c − 1) per row
}

// Fit trains m on d, checking ctx between half-epochs. On error m is left as it was.
func (m *IALS) Fit(ctx context.Context, d *Dataset) error {
	c := m.Config
	if c.Factors <= 0 || c.Epochs < 0 || c.CGSteps < 0 || c.Reg < 0 || c.Alpha < 0 {
		return fmt.Errorf("ials: invalid config %s", m.Describe())
	}
	if c.Workers <= 0 {
		c.Workers = runtime.GOMAXPROCS(0)
	}
	k, nu, ni := c.Factors, d.NumUsers(), d.NumItems()
	byUser := newIALSRows(d, c.Alpha)
	byItem := byUser.transpose(ni)
	users := make([]float32, nu*k)
	items := make([]float32, ni*k)
	std := c.InitStd
	if std == 0 {
		std = 0.1 / float32(math.Sqrt(float64(k)))
	}
	rng := rand.New(rand.NewPCG(c.Seed, 0x1a15))
	for _, f := range [][]float32{users, items} {
		for j := range f {
			f[j] = float32(rng.NormFloat64()) * std
		}
	}
	s := newIALSSolver(c)
	userReg := byUser.regs(c, ni)
	itemReg := byItem.regs(c, nu)
	for range c.Epochs {
		if err := ctx.Err(); err != nil {
			return err
		}
		s.solve(users, items, byUser, userReg)
		if err := ctx.Err(); err != nil {
			return err
		}
		s.solve(items, users, byItem, itemReg)
	}
	fitted := &IALS{Config: m.Config, k: k, numUsers: nu, numItems: ni, users: users, items: items,
		gram: s.gram(items)}
	fitted.basis = newIALSBasis(fitted.gram, items, k, c.Workers)
	fitted.memo = newFoldMemo()
	if c.HistoryHalfLife > 0 {
		if err := ctx.Err(); err != nil {
			return err
		}
		fitted.foldInAll(d, c.Workers)
	}
	*m = *fitted
	return nil
}

// foldInAll replaces every user's vector by the fold-in of their recency-weighted history.
func (m *IALS) foldInAll(d *Dataset, workers int) {
	k := m.k
	ialsParallel(m.numUsers, 16, workers, func(_, lo, hi int) {
		s := ialsFoldPool.Get().(*ialsFold)
		defer ialsFoldPool.Put(s)
		for u := lo; u < hi; u++ {
			items, weights, times := d.Row(int32(u))
			m.foldInto(m.users[u*k:(u+1)*k], items, weights, times, s)
		}
	})
}

// newIALSRows turns d's rows into confidences and preferences.
func newIALSRows(d *Dataset, alpha float32) *ialsRows {
	nu, nnz := d.NumUsers(), d.NumInteractions()
	r := &ialsRows{ptr: make([]int64, nu+1), idx: make([]int32, 0, nnz),
		cm1: make([]float32, 0, nnz), cp: make([]float32, 0, nnz), mass: make([]float32, nu)}
	for u := 0; u < nu; u++ {
		items, weights, _ := d.Row(int32(u))
		for q, i := range items {
			cm1, cp := ialsConfidence(weights[q], alpha)
			r.idx = append(r.idx, i)
			r.cm1 = append(r.cm1, cm1)
			r.cp = append(r.cp, cp)
			r.mass[u] += cm1
		}
		r.ptr[u+1] = int64(len(r.idx))
	}
	return r
}

// ialsConfidence returns c − 1 and c·p for an interaction of weight w.
func ialsConfidence(w, alpha float32) (cm1, cp float32) {
	if w < 0 {
		return alpha * -w, 0
	}
	return alpha * w, 1 + alpha*w
}

// transpose returns the same matrix with n rows indexed by column.
func (r *ialsRows) transpose(n int) *ialsRows {
	t := &ialsRows{ptr: make([]int64, n+1), idx: make([]int32, len(r.idx)),
		cm1: make([]float32, len(r.idx)), cp: make([]float32, len(r.idx)), mass: make([]float32, n)}
	for _, i := range r.idx {
		t.ptr[i+1]++
	}
	for i := 0; i < n; i++ {
		t.ptr[i+1] += t.ptr[i]
	}
	next := make([]int64, n)
	copy(next, t.ptr[:n])
	for u := 0; u+1 < len(r.ptr); u++ {
		for q := r.ptr[u]; q < r.ptr[u+1]; q++ {
			i := r.idx[q]
			p := next[i]
			t.idx[p], t.cm1[p], t.cp[p] = int32(u), r.cm1[q], r.cp[q]
			t.mass[i] += r.cm1[q]
			next[i]++
		}
	}
	return t
}

// regs returns every row's L2 penalty; cols is the number of cells in a row.
func (r *ialsRows) regs(c IALSConfig, cols int) []float32 {
	reg := make([]float32, len(r.mass))
	for u, mass := range r.mass {
		reg[u] = ialsReg(c, float64(mass), cols)
	}
	return reg
}

func ialsReg(c IALSConfig, mass float64, cols int) float32 {
	if c.RegExp == 0 || cols == 0 {
		return c.Reg
	}
	return c.Reg * float32(math.Pow(1+mass/float64(cols), float64(c.RegExp)))
}

// ScoreUser writes x_u·y_i for every item i into dst; a user outside the model scores 0.
func (m *IALS) ScoreUser(u int32, dst []float32) {
	x := m.UserFactors(u)
	if x == nil {
		clear(dst)
		return
	}
	m.scoreVector(x, dst)
}

func (m *IALS) scoreVector(x, dst []float32) {
	k := m.k
	for i := range min(len(dst), m.numItems) {
		dst[i] = ialsDot(x, m.items[i*k:(i+1)*k])
	}
	clear(dst[min(len(dst), m.numItems):])
}

// FoldIn returns the vector of a user with the given history (items of the model with
// their weights and times, as in a Dataset row), solved exactly against the fitted item
// vectors with the recency weighting of HistoryHalfLife. It serves a user who arrived, or
// whose history changed, after Fit; items outside the model are ignored.
func (m *IALS) FoldIn(items []int32, weights []float32, times []int64) []float32 {
	x := make([]float32, m.k)
	s := ialsFoldPool.Get().(*ialsFold)
	m.foldInto(x, items, weights, times, s)
	ialsFoldPool.Put(s)
	return x
}

// ialsFold is a fold-in's scratch: the k×k system, its right-hand side and a row, in
// float64, and the history's decay. A fold-in at the default k = 64 needs 34 KB of it, so it is
// reused: the fit folds every user in, and serving folds in one per request.
type ialsFold struct {
	buf     []float64
	decay   []float32
	x       []float32 // ScoreHistorySubset's user vector
	cm1, cp []float32 // the history's confidences − 1 and preferences × confidence
	wbuf    []float64 // foldWoodbury's
}

var ialsFoldPool = sync.Pool{New: func() any { return new(ialsFold) }}

// foldInto writes FoldIn's vector into x (length k), with s as scratch.
func (m *IALS) foldInto(x []float32, items []int32, weights []float32, times []int64, s *ialsFold) {
	k := m.k
	alpha := m.Config.Alpha
	if m.Config.HistoryHalfLife > 0 && m.Config.HistoryAlpha > 0 {
		alpha = m.Config.HistoryAlpha
	}
	s.decay = HistoryDecay(s.decay[:0], items, times, float64(m.Config.HistoryHalfLife))
	// Each item's confidence − 1 and preference × confidence (0 for items outside the
	// model), and the penalty they set: both solves below read them.
	s.cm1, s.cp = s.cm1[:0], s.cp[:0]
	var mass float64
	for q, i := range items {
		var cm1, cp float32
		if i >= 0 && int(i) < m.numItems {
			cm1, cp = ialsConfidence(weights[q]*s.decay[q], alpha)
			mass += float64(cm1)
		}
		s.cm1, s.cp = append(s.cm1, cm1), append(s.cp, cp)
	}
	reg := float64(ialsReg(m.Config, mass, m.numItems))
	if m.basis != nil && m.foldWoodbury(x[:k], items, s.cm1, s.cp, reg, s) {
		return
	}
	if cap(s.buf) < k*k+2*k {
		s.buf = make([]float64, k*k+2*k)
	}
	buf := s.buf[:k*k+2*k]
	a, b, y64 := buf[:k*k], buf[k*k:k*k+k], buf[k*k+k:]
	copy(a, m.gram)
	clear(b)
	for q, i := range items {
		y := m.ItemFactors(i)
		if y == nil {
			continue
		}
		ialsAddOuter(a, y, float64(s.cm1[q]), y64)
		for j, v := range y {
			b[j] += float64(s.cp[q]) * float64(v)
		}
	}
	for j := 0; j < k; j++ {
		a[j*k+j] += reg
	}
	x = x[:k]
	if !ialsCholeskySolve(a, b, k) {
		clear(x)
		return
	}
	for j, v := range b {
		x[j] = float32(v)
	}
}

// ScoreHistory writes into dst the score of every item for a user with the given history,
// folding it in first (see FoldIn).
func (m *IALS) ScoreHistory(items []int32, weights []float32, times []int64, dst []float32) {
	s := m.foldScratch(items, weights, times)
	m.scoreVector(s.x, dst)
	ialsFoldPool.Put(s)
}

// ScoreHistorySubset scores the items of subset only: one fold-in and a dot product per
// item, so a store's few thousand items cost a fraction of the catalogue.
func (m *IALS) ScoreHistorySubset(items []int32, weights []float32, times []int64, subset []int32, dst []float32) {
	s := m.foldScratch(items, weights, times)
	m.scoreRows(s.x, subset, dst)
	ialsFoldPool.Put(s)
}

// foldScratch folds the history in on a pooled scratch, whose x is then the vector: no
// allocation per request, and no fold at all for a history the memo holds. Put it back when
// done with x.
func (m *IALS) foldScratch(items []int32, weights []float32, times []int64) *ialsFold {
	s := ialsFoldPool.Get().(*ialsFold)
	s.x = slices.Grow(s.x[:0], m.k)[:m.k]
	if m.memo == nil {
		m.foldInto(s.x, items, weights, times, s)
		return s
	}
	h := historyHash(items, weights, times)
	if !m.memo.get(h, items, weights, times, s.x) {
		m.foldInto(s.x, items, weights, times, s)
		m.memo.put(h, items, weights, times, s.x)
	}
	return s
}

// scoreRows writes x's score of every item of subset into dst, reading each item's vector
// where it lies.
func (m *IALS) scoreRows(x []float32, subset []int32, dst []float32) {
	k := m.k
	for _, i := range subset {
		switch {
		case i < 0 || int(i) >= len(dst):
		case int(i) < m.numItems:
			dst[i] = ialsDot(x, m.items[int(i)*k:(int(i)+1)*k])
		default:
			dst[i] = 0
		}
	}
}

// ialsPacked is a subset's item vectors in the subset's order, k each (zeros for an index
// outside the model).
type ialsPacked struct{ vecs []float32 }

// PrepareSubset packs the vectors of subset's items together: scoring a store's 800 items
// out of 100,000 then streams 200 KB instead of gathering 800 rows, about 4× faster
// (BenchmarkIALS_ScoreSubset).
func (m *IALS) PrepareSubset(subset []int32) (any, int) {
	k := m.k
	p := &ialsPacked{vecs: make([]float32, len(subset)*k)}
	for j, i := range subset {
		if i >= 0 && int(i) < m.numItems {
			copy(p.vecs[j*k:(j+1)*k], m.items[int(i)*k:(int(i)+1)*k])
		}
	}
	return p, 4 * len(p.vecs)
}

// ScorePrepared scores subset from its packed vectors and extra from the catalogue's.
func (m *IALS) ScorePrepared(items []int32, weights []float32, times []int64, subset []int32, prep any, extra []int32, dst []float32) {
	p, ok := prep.(*ialsPacked)
	k := m.k
	if !ok || len(p.vecs) != len(subset)*k {
		m.ScoreHistorySubset(items, weights, times, subset, dst)
		m.ScoreHistorySubset(items, weights, times, extra, dst)
		return
	}
	s := m.foldScratch(items, weights, times)
	for j, i := range subset {
		if i >= 0 && int(i) < len(dst) {
			dst[i] = ialsDot(s.x, p.vecs[j*k:(j+1)*k])
		}
	}
	m.scoreRows(s.x, extra, dst)
	ialsFoldPool.Put(s)
}

const (
	ialsMagic   = "QMIALS\x00\x00"
	ialsVersion = 1
)

// WriteTo writes the fitted factors as a versioned artefact.
func (m *IALS) WriteTo(w io.Writer) (int64, error) {
	e := newEncoder(w)
	e.header(ialsMagic, ialsVersion)
	c := m.Config
	e.u32(uint32(c.Factors))
	e.u32(uint32(c.Epochs))
	e.u32(uint32(c.CGSteps))
	e.f32(c.Reg)
	e.f32(c.RegExp)
	e.f32(c.Alpha)
	e.f32(c.InitStd)
	e.f32(c.HistoryHalfLife)
	e.f32(c.HistoryAlpha)
	e.i64(int64(c.Seed))
	e.u32(uint32(m.k))
	e.float32s(m.users)
	e.float32s(m.items)
	return e.finish()
}

// WithoutUsers returns m without its fitted users' vectors, sharing the item vectors: what
// serving needs, since it folds every visitor's live history in (FoldIn, ScoreHistory) and
// never scores a fitted user by index. In the large world the users' vectors are 273 MB of
// a 589 MB artefact. ScoreUser of the copy scores 0 for every user, as for one outside the model.
func (m *IALS) WithoutUsers() *IALS {
	c := *m
	c.users, c.numUsers = nil, 0
	return &c
}

// ReadFrom replaces m with an artefact written by WriteTo, reading exactly its bytes.
func (m *IALS) ReadFrom(r io.Reader) (int64, error) {
	d := newDecoder(r)
	d.header(ialsMagic, ialsVersion)
	var c IALSConfig
	c.Factors = int(d.u32())
	c.Epochs = int(d.u32())
	c.CGSteps = int(d.u32())
	c.Reg = d.f32()
	c.RegExp = d.f32()
	c.Alpha = d.f32()
	c.InitStd = d.f32()
	c.HistoryHalfLife = d.f32()
	c.HistoryAlpha = d.f32()
	c.Seed = uint64(d.i64())
	k := int(d.u32())
	users, items := d.float32s(), d.float32s()
	if n, err := d.finish(); err != nil {
		return n, err
	}
	if k <= 0 || k > 1<<16 || k != c.Factors || len(users)%k != 0 || len(items)%k != 0 {
		return d.n, errors.New("model: corrupt ials factors")
	}
	c.Workers = m.Config.Workers
	m.Config, m.k, m.users, m.items = c, k, users, items
	m.numUsers, m.numItems = len(users)/k, len(items)/k
	m.gram = newIALSSolver(c).gram(items)
	m.basis = newIALSBasis(m.gram, items, k, c.Workers)
	m.memo = newFoldMemo()
	return d.n, nil
}

// IALSFamily returns IALS with the default first, then single changes to it in the order
// they paid off on MovieLens 100K (regularisation and the two confidences first, then
// recency and size), then random draws around the default. Every config uses seed.
func IALSFamily() Family {
	return Family{Name: "ials", Configs: func(n int, seed uint64) []Model {
		def := DefaultIALSConfig()
		def.Seed = seed
		out := []Model{&IALS{Config: def}}
		add := func(c IALSConfig) {
			for _, m := range out {
				if m.(*IALS).Config == c {
					return
				}
			}
			out = append(out, &IALS{Config: c})
		}
		// Single departures from the default, most promising first.
		changes := []func(*IALSConfig){
			func(c *IALSConfig) { c.Reg *= 2 },
			func(c *IALSConfig) { c.Reg /= 2 },
			func(c *IALSConfig) { c.HistoryAlpha *= 2 },
			func(c *IALSConfig) { c.Alpha *= 2 },
			func(c *IALSConfig) { c.Alpha /= 2 },
			func(c *IALSConfig) { c.HistoryAlpha /= 2 },
			func(c *IALSConfig) { c.HistoryHalfLife = 0 },
			func(c *IALSConfig) { c.Factors = 128 },
			func(c *IALSConfig) { c.HistoryHalfLife *= 2 },
			func(c *IALSConfig) { c.Reg *= 4 },
			func(c *IALSConfig) { c.Reg /= 4 },
			func(c *IALSConfig) { c.Factors = 32 },
			func(c *IALSConfig) { c.Epochs = 20 },
			func(c *IALSConfig) { c.Factors = 256 },
			func(c *IALSConfig) { c.RegExp = 0 },
		}
		for _, change := range changes {
			if len(out) >= n {
				break
			}
			c := def
			change(&c)
			add(c)
		}
		rng := rand.New(rand.NewPCG(seed, 0x1a15f))
		for tries := 0; len(out) < n && tries < 100*n; tries++ {
			c := def
			c.Factors = []int{32, 64, 128, 256}[rng.IntN(4)]
			c.Reg = def.Reg * float32(math.Exp2(float64(rng.IntN(7)-3)))
			c.Alpha = def.Alpha * float32(math.Exp2(float64(rng.IntN(5)-2)))
			c.HistoryHalfLife = []float32{0, 3, 5, 10}[rng.IntN(4)]
			c.HistoryAlpha = def.HistoryAlpha * float32(math.Exp2(float64(rng.IntN(3)-1)))
			c.Epochs = []int{10, 15}[rng.IntN(2)]
			add(c)
		}
		return out[:min(n, len(out))]
	}}
}
