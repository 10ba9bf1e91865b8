package model

import (
	"math"
	"runtime"
	"sync"
	"sync/atomic"

	"gonum.org/v1/gonum/blas/gonum"
)

// ialsGramChunks is the fixed number of row ranges a Gram matrix is summed over. Fixing it,
// rather than using one range per worker, keeps the float64 summation order, and so the
// fitted factors, independent of the number of workers.
const ialsGramChunks = 16

// ialsSolver solves one side of the alternation given the other.
type ialsSolver struct {
	c     IALSConfig
	parts []float64 // ialsGramChunks partial Gram matrices
}

func newIALSSolver(c IALSConfig) *ialsSolver {
	if c.Workers <= 0 {
		c.Workers = runtime.GOMAXPROCS(0)
	}
	return &ialsSolver{c: c}
}

// gram returns fᵀf, k×k and full, for the row-major factors f.
func (s *ialsSolver) gram(f []float32) []float64 {
	k := s.c.Factors
	n := len(f) / max(k, 1)
	if len(s.parts) != ialsGramChunks*k*k {
		s.parts = make([]float64, ialsGramChunks*k*k)
	}
	ialsParallel(ialsGramChunks, 1, s.c.Workers, func(_, c, _ int) {
		g := s.parts[c*k*k : (c+1)*k*k]
		clear(g)
		for r := n * c / ialsGramChunks; r < n*(c+1)/ialsGramChunks; r++ {
			y := f[r*k : (r+1)*k]
			for a, ya := range y {
				if ya == 0 {
					continue
				}
				ga, y64 := g[a*k:(a+1)*k], float64(ya)
				for b := a; b < k; b++ {
					ga[b] += y64 * float64(y[b])
				}
			}
		}
	})
	g := make([]float64, k*k)
	for c := 0; c < ialsGramChunks; c++ {
		for j, v := range s.parts[c*k*k : (c+1)*k*k] {
			g[j] += v
		}
	}
	for a := 0; a < k; a++ {
		for b := a + 1; b < k; b++ {
			g[b*k+a] = g[a*k+b]
		}
	}
	return g
}

// solve updates every row of dst, the side being solved, given the fixed other side. Each
// row depends only on fixed, its own interactions and its previous value, so rows are
// solved in any order by any number of goroutines with the same result.
func (s *ialsSolver) solve(dst, fixed []float32, rows *ialsRows, regs []float32) {
	k, steps := s.c.Factors, s.c.CGSteps
	g := s.gram(fixed)
	g32 := make([]float32, len(g))
	for j, v := range g {
		g32[j] = float32(v)
	}
	scratch := make([][]float64, s.c.Workers)
	scratch32 := make([][]float32, s.c.Workers)
	ialsParallel(len(regs), 32, s.c.Workers, func(w, lo, hi int) {
		if steps > 0 && scratch32[w] == nil {
			scratch32[w] = make([]float32, 3*k)
		}
		if steps == 0 && scratch[w] == nil {
			scratch[w] = make([]float64, k*k+2*k)
		}
		for r := lo; r < hi; r++ {
			a, b := rows.ptr[r], rows.ptr[r+1]
			x := dst[r*k : (r+1)*k]
			idx, cm1, cp := rows.idx[a:b], rows.cm1[a:b], rows.cp[a:b]
			if steps > 0 {
				ialsCG(x, fixed, idx, cm1, cp, regs[r], g32, steps, scratch32[w])
			} else {
				ialsExact(x, fixed, idx, cm1, cp, regs[r], g, scratch[w])
			}
		}
	})
}

// ialsCG runs steps of conjugate gradient on (G + Σ(c−1)·y·yᵀ + reg·I)·x = Σ c·p·y from the
// current x (Takács, Pilászy and Tikk 2011).
func ialsCG(x, fixed []float32, idx []int32, cm1, cp []float32, reg float32, g []float32, steps int, buf []float32) {
	k := len(x)
	r, p, ap := buf[:k], buf[k:2*k], buf[2*k:3*k]
	ialsApply(ap, x, fixed, idx, cm1, reg, g)
	clear(r)
	for q, j := range idx {
		if cp[q] != 0 {
			ialsAxpy(cp[q], fixed[int(j)*k:int(j+1)*k], r)
		}
	}
	for a := range r {
		r[a] -= ap[a]
	}
	copy(p, r)
	rs := ialsDot(r, r)
	for range steps {
		if rs < 1e-20 {
			return
		}
		ialsApply(ap, p, fixed, idx, cm1, reg, g)
		pap := ialsDot(p, ap)
		if pap <= 0 {
			return
		}
		alpha := rs / pap
		ialsAxpy(alpha, p, x)
		ialsAxpy(-alpha, ap, r)
		next := ialsDot(r, r)
		beta := next / rs
		for a := range p {
			p[a] = r[a] + beta*p[a]
		}
		rs = next
	}
}

// ialsApply sets out = (G + Σ(c−1)·y·yᵀ + reg·I)·v without forming the matrix.
func ialsApply(out, v, fixed []float32, idx []int32, cm1 []float32, reg float32, g []float32) {
	k := len(v)
	for a := range out {
		out[a] = ialsDot(g[a*k:(a+1)*k], v) + reg*v[a]
	}
	for q, j := range idx {
		if cm1[q] == 0 {
			continue
		}
		y := fixed[int(j)*k : int(j+1)*k]
		ialsAxpy(cm1[q]*ialsDot(y, v), y, out)
	}
}

// ialsExact solves the row's normal equations by Cholesky in float64.
func ialsExact(x, fixed []float32, idx []int32, cm1, cp []float32, reg float32, g []float64, buf []float64) {
	k := len(x)
	a, b, y64 := buf[:k*k], buf[k*k:k*k+k], buf[k*k+k:k*k+2*k]
	copy(a, g)
	clear(b)
	for q, j := range idx {
		y := fixed[int(j)*k : int(j+1)*k]
		ialsAddOuter(a, y, float64(cm1[q]), y64)
		for t, v := range y {
			b[t] += float64(cp[q]) * float64(v)
		}
	}
	for t := 0; t < k; t++ {
		a[t*k+t] += float64(reg)
	}
	if !ialsCholeskySolve(a, b, k) {
		return
	}
	for t, v := range b {
		x[t] = float32(v)
	}
}

// ialsAddOuter adds w·y·yᵀ to the lower triangle of the k×k matrix a; y64 is scratch of
// length k.
func ialsAddOuter(a []float64, y []float32, w float64, y64 []float64) {
	if w == 0 {
		return
	}
	k := len(y)
	for i, v := range y {
		y64[i] = float64(v)
	}
	for i, yi := range y64 {
		if yi != 0 {
			gonum.Implementation{}.Daxpy(i+1, w*yi, y64, 1, a[i*k:i*k+i+1], 1)
		}
	}
}

// ialsCholeskySolve solves a·x = b in place (x replaces b) using the lower triangle of the
// symmetric positive-definite k×k matrix a, which it overwrites. It reports false if a is
// not positive definite.
func ialsCholeskySolve(a, b []float64, k int) bool {
	for j := 0; j < k; j++ {
		rj := a[j*k : j*k+j]
		d := a[j*k+j]
		for _, v := range rj {
			d -= v * v
		}
		if d <= 0 || math.IsNaN(d) {
			return false
		}
		d = math.Sqrt(d)
		a[j*k+j] = d
		for i := j + 1; i < k; i++ {
			ri := a[i*k : i*k+j]
			s := a[i*k+j]
			for p, v := range ri {
				s -= v * rj[p]
			}
			a[i*k+j] = s / d
		}
	}
	for i := 0; i < k; i++ { // L·z = b
		s := b[i]
		for p, v := range a[i*k : i*k+i] {
			s -= v * b[p]
		}
		b[i] = s / a[i*k+i]
	}
	for i := k - 1; i >= 0; i-- { // Lᵀ·x = z
		s := b[i]
		for p := i + 1; p < k; p++ {
			s -= a[p*k+i] * b[p]
		}
		b[i] = s / a[i*k+i]
	}
	return true
}

// ialsParallel calls fn(w, lo, hi) for consecutive blocks [lo, hi) of [0, n) from at most
// workers goroutines; w numbers the goroutine, for scratch space.
func ialsParallel(n, block, workers int, fn func(w, lo, hi int)) {
	workers = min(workers, (n+block-1)/block)
	if workers <= 1 {
		for lo := 0; lo < n; lo += block {
			fn(0, lo, min(lo+block, n))
		}
		return
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for {
				lo := int(next.Add(int64(block))) - block
				if lo >= n {
					return
				}
				fn(w, lo, min(lo+block, n))
			}
		})
	}
	wg.Wait()
}

// ialsDot returns a·b over len(a), using gonum's pure-Go BLAS, whose level-1 kernels are
// SIMD assembly on amd64: about twice as fast as a plain Go loop for 64 factors. Its
// summation order depends only on the length and the address alignment of the operands,
// which are the same in every run, so fits stay reproducible.
func ialsDot(a, b []float32) float32 { return gonum.Implementation{}.Sdot(len(a), a, 1, b, 1) }

// ialsAxpy adds alpha·x to y.
func ialsAxpy(alpha float32, x, y []float32) {
	gonum.Implementation{}.Saxpy(len(x), alpha, x, 1, y, 1)
}
