package model

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"runtime"
	"slices"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/lapack/lapack64"
)

// EASEConfig holds the hyperparameters of EASE. Start from DefaultEASEConfig.
type EASEConfig struct {
	// Lambda is the L2 penalty on the item–item weights, added to the diagonal of XᵀX.
	// When Relative is set it is a multiple of the mean of that diagonal (an item's average
	// interaction mass), so one value suits datasets of any density.
	Lambda   float64
	Relative bool
	// MaxItems refuses larger catalogues: fitting needs about 12·n² bytes and n³ work.
	MaxItems int
	// LogWeight counts an interaction of weight w as log(1+w) rather than 1.
	LogWeight bool
	// HistoryHalfLife weights a user's items by recency when scoring: the k-th most recent
	// (k = 0 for the latest) counts 2^(−k/HistoryHalfLife). The next thing a person picks
	// resembles what they picked last far more than what they picked long ago; 0 counts
	// every item alike. B itself is fitted on the unweighted X.
	HistoryHalfLife float64
	// Workers is the number of goroutines; 0 means GOMAXPROCS. The result does not depend on it.
	Workers int
}

// DefaultEASEConfig returns the defaults, tuned on MovieLens 100K (temporal split,
// validation carved from train): λ = 16 × the mean item mass (≈ 615 there), binary
// interactions, a recency half-life of 5 items, at most 20,000 items.
func DefaultEASEConfig() EASEConfig {
	return EASEConfig{Lambda: 16, Relative: true, HistoryHalfLife: 5, MaxItems: 20_000}
}

// EASE is the embarrassingly shallow autoencoder of Steck 2019: an item–item weight matrix
// B with a zero diagonal that best reconstructs X from X·B under an L2 penalty, in closed
// form: with P = (XᵀX + λI)⁻¹, B = I − P·diag(1/diag(P)). A user's score for item j is
// Σ x_ui·B_ij over their items i. Negative weights (returns) are left out of X.
type EASE struct {
	Config EASEConfig

	n      int
	b      []float32 // n×n row-major: row i is what item i adds to every item's score
	ptr    []int32   // the fitted users' rows of X: user u is [ptr[u], ptr[u+1])
	items  []int32
	values []float32
	lambda float64 // the absolute penalty used
}

// ErrTooManyItems is returned by EASE.Fit for a catalogue above EASEConfig.MaxItems.
var ErrTooManyItems = errors.New("model: too many items for EASE")

// Name returns "ease".
func (m *EASE) Name() string { return "ease" }

// Describe returns the configuration in a line.
func (m *EASE) Describe() string {
	c := m.Config
	s := fmt.Sprintf("lambda=%g", c.Lambda)
	if c.Relative {
		s = fmt.Sprintf("lambda=%g×mean", c.Lambda)
		if m.lambda > 0 {
			s += fmt.Sprintf("(=%.4g)", m.lambda)
		}
	}
	if c.LogWeight {
		s += " weight=log"
	}
	if c.HistoryHalfLife > 0 {
		s += fmt.Sprintf(" halflife=%g", c.HistoryHalfLife)
	}
	return s
}

// NumItems returns the number of items the model was fitted on.
func (m *EASE) NumItems() int { return m.n }

// Weights returns row i of B, what item i adds to every item's score, or nil for an item
// outside the model. The slice aliases the model and must not be modified.
func (m *EASE) Weights(i int32) []float32 {
	if i < 0 || int(i) >= m.n {
		return nil
	}
	return m.b[int(i)*m.n : int(i+1)*m.n]
}

// Fit computes B for d. It refuses catalogues above MaxItems with ErrTooManyItems and checks
// ctx between its stages. On error m is left as it was.
func (m *EASE) Fit(ctx context.Context, d *Dataset) error {
	c := m.Config
	if c.Workers <= 0 {
		c.Workers = runtime.GOMAXPROCS(0)
	}
	n := d.NumItems()
	if c.MaxItems > 0 && n > c.MaxItems {
		return fmt.Errorf("%w: %d items, MaxItems is %d (needs about %d MB)", ErrTooManyItems, n, c.MaxItems, 12*n*n>>20)
	}
	if c.Lambda <= 0 || math.IsNaN(c.Lambda) {
		return fmt.Errorf("ease: lambda must be positive, got %g", c.Lambda)
	}
	if d.NumInteractions() > math.MaxInt32 {
		return fmt.Errorf("ease: %d interactions, at most %d", d.NumInteractions(), math.MaxInt32)
	}
	x := newEASERows(d, c.LogWeight)
	g := x.gram(n, c.Workers)
	scored := x.decayed(d, c.HistoryHalfLife)
	var mean float64
	for i := 0; i < n; i++ {
		mean += g[i*n+i]
	}
	lambda := c.Lambda
	if c.Relative && n > 0 {
		lambda *= max(mean/float64(n), 1e-9)
	}
	for i := 0; i < n; i++ {
		g[i*n+i] += lambda
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	// Cholesky, then the inverse from it, both in place in the lower triangle.
	t, ok := lapack64.Potrf(blas64.Symmetric{Uplo: blas.Lower, N: n, Stride: max(n, 1), Data: g})
	if !ok {
		return errors.New("ease: XᵀX + λI is not positive definite")
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if _, ok := lapack64.Potri(t); !ok {
		return errors.New("ease: cannot invert XᵀX + λI")
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	m.n, m.lambda = n, lambda
	m.b = easeWeights(g, n, c.Workers)
	m.ptr, m.items, m.values = scored.ptr, scored.items, scored.values
	return nil
}

// easeRows is X in user rows.
type easeRows struct {
	ptr    []int32
	items  []int32
	values []float32
}

func newEASERows(d *Dataset, logWeight bool) *easeRows {
	nu := d.NumUsers()
	x := &easeRows{ptr: make([]int32, nu+1)}
	for u := 0; u < nu; u++ {
		items, weights, _ := d.Row(int32(u))
		for q, i := range items {
			w := weights[q]
			if w < 0 {
				continue
			}
			v := float32(1)
			if logWeight {
				v = float32(math.Log1p(float64(w)))
				if v == 0 {
					continue
				}
			}
			x.items = append(x.items, i)
			x.values = append(x.values, v)
		}
		x.ptr[u+1] = int32(len(x.items))
	}
	return x
}

// decayed returns x with every user's values weighted by recency (see HistoryHalfLife).
func (x *easeRows) decayed(d *Dataset, half float64) *easeRows {
	if half <= 0 {
		return x
	}
	y := &easeRows{ptr: x.ptr, items: x.items, values: make([]float32, len(x.values))}
	var decay []float32
	var times []int64
	for u := 0; u+1 < len(x.ptr); u++ {
		lo, hi := x.ptr[u], x.ptr[u+1]
		times = easeTimes(times[:0], d, int32(u), x.items[lo:hi])
		decay = HistoryDecay(decay[:0], x.items[lo:hi], times, half)
		for q, v := range x.values[lo:hi] {
			y.values[int(lo)+q] = v * decay[q]
		}
	}
	return y
}

// easeTimes appends the times of d's row u for the given subset of its items (both sorted).
func easeTimes(dst []int64, d *Dataset, u int32, items []int32) []int64 {
	all, _, times := d.Row(u)
	q := 0
	for p, i := range all {
		if q < len(items) && items[q] == i {
			dst = append(dst, times[p])
			q++
		}
	}
	return dst
}

// HistoryDecay appends to dst, for every entry of a history, 2^(−k/half) where k is the
// entry's rank by recency: 0 for the latest time, ties going to the higher item index (the
// later in (time, item) order). half <= 0 appends 1s.
func HistoryDecay(dst []float32, items []int32, times []int64, half float64) []float32 {
	base := len(dst)
	for range items {
		dst = append(dst, 1)
	}
	if half <= 0 {
		return dst
	}
	order := make([]int, len(items))
	for q := range order {
		order[q] = q
	}
	slices.SortFunc(order, func(a, b int) int {
		return cmp.Or(cmp.Compare(times[b], times[a]), cmp.Compare(items[b], items[a]))
	})
	for k, q := range order {
		dst[base+q] = float32(math.Exp2(-float64(k) / half))
	}
	return dst
}

// gram returns the lower triangle of XᵀX as an n×n row-major float64 matrix. Row i is summed
// by one goroutine over the users of item i in order, so the result does not depend on the
// number of workers.
func (x *easeRows) gram(n, workers int) []float64 {
	// Columns of X: the users of every item and their values.
	cptr := make([]int32, n+1)
	for _, i := range x.items {
		cptr[i+1]++
	}
	for i := 0; i < n; i++ {
		cptr[i+1] += cptr[i]
	}
	cuser := make([]int32, len(x.items))
	cval := make([]float32, len(x.items))
	next := make([]int32, n)
	copy(next, cptr[:n])
	for u := 0; u+1 < len(x.ptr); u++ {
		for q := x.ptr[u]; q < x.ptr[u+1]; q++ {
			i := x.items[q]
			cuser[next[i]], cval[next[i]] = int32(u), x.values[q]
			next[i]++
		}
	}
	g := make([]float64, n*n)
	ialsParallel(n, 16, workers, func(_, lo, hi int) {
		for i := lo; i < hi; i++ {
			row := g[i*n : i*n+i+1]
			for p := cptr[i]; p < cptr[i+1]; p++ {
				u, xi := cuser[p], float64(cval[p])
				for q := x.ptr[u]; q < x.ptr[u+1]; q++ {
					j := x.items[q]
					if int(j) > i { // rows are sorted by item
						break
					}
					row[j] += xi * float64(x.values[q])
				}
			}
		}
	})
	return g
}

// easeWeights turns the lower triangle of P = (XᵀX + λI)⁻¹ into B: B_ij = −P_ij/P_jj off the
// diagonal, 0 on it. It mirrors P into its upper triangle first, tile by tile, so that
// every row of B reads one row of P.
func easeWeights(p []float64, n, workers int) []float32 {
	const tile = 64
	tiles := (n + tile - 1) / tile
	ialsParallel(tiles, 1, workers, func(_, ti, _ int) {
		for tj := 0; tj <= ti; tj++ {
			for i := ti * tile; i < min((ti+1)*tile, n); i++ {
				for j := tj * tile; j < min((tj+1)*tile, i); j++ {
					p[j*n+i] = p[i*n+j]
				}
			}
		}
	})
	inv := make([]float64, n)
	for j := range inv {
		inv[j] = -1 / p[j*n+j]
	}
	b := make([]float32, n*n)
	ialsParallel(n, 16, workers, func(_, lo, hi int) {
		for i := lo; i < hi; i++ {
			row, prow := b[i*n:(i+1)*n], p[i*n:(i+1)*n]
			for j, pij := range prow {
				row[j] = float32(pij * inv[j])
			}
			row[i] = 0
		}
	})
	return b
}

// ScoreUser writes Σ x_ui·B_i over user u's fitted items into dst (recency-weighted with
// HistoryHalfLife); a user outside the model scores 0.
func (m *EASE) ScoreUser(u int32, dst []float32) {
	if u < 0 || int(u)+1 >= len(m.ptr) {
		clear(dst)
		return
	}
	lo, hi := m.ptr[u], m.ptr[u+1]
	m.scoreValues(m.items[lo:hi], m.values[lo:hi], dst)
}

// ScoreHistory writes into dst the scores of a user with the given history (items of the
// model with their weights and times, as in a Dataset row), whether or not they were in
// the fitted dataset: the way to serve a history that changed after Fit. Items outside the
// model are ignored.
func (m *EASE) ScoreHistory(items []int32, weights []float32, times []int64, dst []float32) {
	values := HistoryDecay(make([]float32, 0, len(items)), items, times, m.Config.HistoryHalfLife)
	for q, w := range weights {
		switch {
		case w < 0:
			values[q] = 0
		case m.Config.LogWeight:
			values[q] *= float32(math.Log1p(float64(w)))
		}
	}
	m.scoreValues(items, values, dst)
}

// scoreValues writes Σ values[q]·B_{items[q]} into dst.
func (m *EASE) scoreValues(items []int32, values []float32, dst []float32) {
	clear(dst)
	dst = dst[:min(len(dst), m.n)]
	for q, i := range items {
		row := m.Weights(i)
		if row == nil || values[q] == 0 {
			continue
		}
		ialsAxpy(values[q], row[:len(dst)], dst)
	}
}

const (
	easeMagic   = "QMEASE\x00\x00"
	easeVersion = 1
)

// WriteTo writes B and the fitted users' rows as a versioned artefact.
func (m *EASE) WriteTo(w io.Writer) (int64, error) {
	e := newEncoder(w)
	e.header(easeMagic, easeVersion)
	c := m.Config
	e.i64(int64(math.Float64bits(c.Lambda)))
	e.u32(easeFlags(c))
	e.u32(uint32(c.MaxItems))
	e.i64(int64(math.Float64bits(c.HistoryHalfLife)))
	e.i64(int64(math.Float64bits(m.lambda)))
	e.u32(uint32(m.n))
	e.float32s(m.b)
	e.int32s(m.ptr)
	e.int32s(m.items)
	e.float32s(m.values)
	return e.finish()
}

func easeFlags(c EASEConfig) uint32 {
	var f uint32
	if c.Relative {
		f |= 1
	}
	if c.LogWeight {
		f |= 2
	}
	return f
}

// ReadFrom replaces m with an artefact written by WriteTo, reading exactly its bytes.
func (m *EASE) ReadFrom(r io.Reader) (int64, error) {
	d := newDecoder(r)
	d.header(easeMagic, easeVersion)
	var c EASEConfig
	c.Lambda = math.Float64frombits(uint64(d.i64()))
	flags := d.u32()
	c.Relative, c.LogWeight = flags&1 != 0, flags&2 != 0
	c.MaxItems = int(d.u32())
	c.HistoryHalfLife = math.Float64frombits(uint64(d.i64()))
	lambda := math.Float64frombits(uint64(d.i64()))
	n := int(d.u32())
	b := d.float32s()
	ptr, items, values := d.int32s(), d.int32s(), d.float32s()
	if k, err := d.finish(); err != nil {
		return k, err
	}
	if n > 1<<20 || len(b) != n*n {
		return d.n, errors.New("model: corrupt ease weights")
	}
	if err := checkSparse(ptr, items, len(values), n); err != nil {
		return d.n, err
	}
	c.Workers = m.Config.Workers
	m.Config, m.n, m.lambda, m.b = c, n, lambda, b
	m.ptr, m.items, m.values = ptr, items, values
	return d.n, nil
}

// EASEFamily returns EASE with the default first, then λ over a log grid around it (as a
// multiple of the mean item mass, so the grid follows the data's density) crossed with
// recency half-lives, nearest the default first. EASE is deterministic, so seed is unused.
func EASEFamily() Family {
	return Family{Name: "ease", Configs: func(n int, _ uint64) []Model {
		var out []Model
		add := func(lambda, half float64) {
			c := DefaultEASEConfig()
			c.Lambda, c.HistoryHalfLife = lambda, half
			for _, m := range out {
				if m.(*EASE).Config == c {
					return
				}
			}
			out = append(out, &EASE{Config: c})
		}
		def := DefaultEASEConfig()
		add(def.Lambda, def.HistoryHalfLife)
		// Steps of ×2 in λ, alternating below and above, each with the default half-life,
		// no recency, and shorter and longer half-lives.
		for step := 1; len(out) < n && step <= 8; step++ {
			for _, lambda := range []float64{def.Lambda / math.Exp2(float64(step)), def.Lambda * math.Exp2(float64(step))} {
				add(lambda, def.HistoryHalfLife)
			}
			if step == 1 {
				for _, half := range []float64{0, 3, 10} {
					add(def.Lambda, half)
				}
			}
			for _, lambda := range []float64{def.Lambda / math.Exp2(float64(step-1)), def.Lambda * math.Exp2(float64(step-1))} {
				for _, half := range []float64{0, 3, 10, 25} {
					add(lambda, half)
				}
			}
		}
		return out[:min(n, len(out))]
	}}
}
