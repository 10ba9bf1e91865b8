package persona

import (
	"context"
	"math"
)

// softmax holds the parameters of a multinomial logistic regression over d features and k
// classes: W is feature-major (W[j*k+c] is feature j's weight for class c), followed by the
// k intercepts. A binary problem is the case k = 2; with the L2 penalty on both weight
// vectors it is ordinary logistic regression on their difference with half the penalty.
type softmax struct {
	d, k int
	w    []float64 // d*k weights then k intercepts
}

func newSoftmax(d, k int) *softmax { return &softmax{d: d, k: k, w: make([]float64, d*k+k)} }

// logits writes the k class scores of x into z.
func (m *softmax) logits(x Vector, z []float64) {
	k := m.k
	copy(z, m.w[m.d*k:])
	for t, j := range x.Index {
		if int(j) >= m.d {
			continue
		}
		v := x.Value[t]
		row := m.w[int(j)*k : int(j)*k+k]
		for c := range z {
			z[c] += v * row[c]
		}
	}
}

// softmaxInPlace turns scores into probabilities and returns log Σ exp(z).
func softmaxInPlace(z []float64) float64 {
	mx := math.Inf(-1)
	for _, v := range z {
		mx = max(mx, v)
	}
	var s float64
	for c, v := range z {
		z[c] = math.Exp(v - mx)
		s += z[c]
	}
	for c := range z {
		z[c] /= s
	}
	return mx + math.Log(s)
}

// objective is the penalised mean log loss of a softmax model on (X, y):
//
//	L(W, b) = −(1/n) Σ_i log p(y_i | x_i) + (λ/2) ‖W‖²
//
// The intercepts are not penalised.
type objective struct {
	X      *Matrix
	y      []int
	k      int
	lambda float64
}

// eval returns L at w and writes its gradient into g.
func (o *objective) eval(w, g []float64) float64 {
	d, k := o.X.Cols, o.k
	clear(g)
	z := make([]float64, k)
	m := softmax{d: d, k: k, w: w}
	var loss float64
	n := o.X.Rows()
	for i := 0; i < n; i++ {
		x := o.X.Row(i)
		m.logits(x, z)
		softmaxInPlace(z)
		loss -= math.Log(max(z[o.y[i]], 1e-300))
		z[o.y[i]] -= 1 // z is now p − onehot(y)
		for t, j := range x.Index {
			v := x.Value[t]
			row := g[int(j)*k : int(j)*k+k]
			for c := range row {
				row[c] += v * z[c]
			}
		}
		gb := g[d*k:]
		for c := range gb {
			gb[c] += z[c]
		}
	}
	inv := 1 / float64(n)
	loss *= inv
	var pen float64
	for j := 0; j < d*k; j++ {
		g[j] = g[j]*inv + o.lambda*w[j]
		pen += w[j] * w[j]
	}
	for c := d * k; c < len(g); c++ {
		g[c] *= inv
	}
	return loss + 0.5*o.lambda*pen
}

// fit minimises the objective from m's current parameters (a warm start) with L-BFGS.
// Two classes are fitted as one weight vector v on the score difference, with penalty
// (λ/4)‖v‖²: at the softmax optimum W₀ = −W₁ = −v/2, so the result is the same at half the
// work.
func (o *objective) fit(ctx context.Context, m *softmax, maxIter int) error {
	if o.k != 2 {
		return lbfgs(ctx, o.eval, m.w, maxIter, 1e-5)
	}
	d := o.X.Cols
	v := make([]float64, d+1)
	for j := 0; j < d; j++ {
		v[j] = m.w[2*j+1] - m.w[2*j]
	}
	v[d] = m.w[2*d+1] - m.w[2*d]
	err := lbfgs(ctx, o.evalBinary, v, maxIter, 1e-5)
	for j := 0; j < d; j++ {
		m.w[2*j], m.w[2*j+1] = -v[j]/2, v[j]/2
	}
	m.w[2*d], m.w[2*d+1] = -v[d]/2, v[d]/2
	return err
}

// evalBinary is eval for two classes in the parametrisation of fit: the score of class 1
// over class 0 is v·x + v[d].
func (o *objective) evalBinary(v, g []float64) float64 {
	d := o.X.Cols
	clear(g)
	var loss float64
	n := o.X.Rows()
	for i := 0; i < n; i++ {
		x := o.X.Row(i)
		z := v[d]
		for t, j := range x.Index {
			z += x.Value[t] * v[j]
		}
		// −log σ(±z), stably; r = σ(z) − y.
		var r float64
		if o.y[i] == 1 {
			loss += softplus(-z)
			r = -sigmoid(-z)
		} else {
			loss += softplus(z)
			r = sigmoid(z)
		}
		for t, j := range x.Index {
			g[j] += r * x.Value[t]
		}
		g[d] += r
	}
	inv := 1 / float64(n)
	var pen float64
	for j := 0; j < d; j++ {
		g[j] = g[j]*inv + 0.5*o.lambda*v[j]
		pen += v[j] * v[j]
	}
	g[d] *= inv
	return loss*inv + 0.25*o.lambda*pen
}

// softplus returns log(1 + eˣ) without overflow.
func softplus(x float64) float64 {
	if x > 30 {
		return x
	}
	return math.Log1p(math.Exp(x))
}

func sigmoid(x float64) float64 {
	if x >= 0 {
		return 1 / (1 + math.Exp(-x))
	}
	e := math.Exp(x)
	return e / (1 + e)
}

// lbfgs minimises f from x in place with limited-memory BFGS (10 pairs) and a backtracking
// Armijo line search; f returns the value and writes the gradient. It stops when the
// largest gradient component falls below gtol, the value stops decreasing (relative change
// below 1e-10), after maxIter iterations, or when ctx is done (returning its error).
func lbfgs(ctx context.Context, f func(x, g []float64) float64, x []float64, maxIter int, gtol float64) error {
	const mem = 10
	n := len(x)
	g := make([]float64, n)
	fx := f(x, g)
	s := make([][]float64, 0, mem)
	y := make([][]float64, 0, mem)
	rho := make([]float64, 0, mem)
	alpha := make([]float64, mem)
	dir := make([]float64, n)
	xNew := make([]float64, n)
	gNew := make([]float64, n)
	for iter := 0; iter < maxIter; iter++ {
		if normInf(g) <= gtol {
			return nil
		}
		if iter%8 == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		// Two-loop recursion: dir = −H g.
		for i := range dir {
			dir[i] = -g[i]
		}
		for h := len(s) - 1; h >= 0; h-- {
			alpha[h] = rho[h] * dot(s[h], dir)
			axpy(-alpha[h], y[h], dir)
		}
		gamma := 1 / math.Max(normInf(g), 1) // first step: at most unit length per coordinate
		if len(s) > 0 {
			last := len(s) - 1
			gamma = dot(s[last], y[last]) / dot(y[last], y[last])
		}
		for i := range dir {
			dir[i] *= gamma
		}
		for h := range s {
			beta := rho[h] * dot(y[h], dir)
			axpy(alpha[h]-beta, s[h], dir)
		}
		slope := dot(g, dir)
		if slope >= 0 { // not a descent direction: restart from steepest descent
			for i := range dir {
				dir[i] = -g[i] / math.Max(normInf(g), 1)
			}
			slope = dot(g, dir)
			s, y, rho = s[:0], y[:0], rho[:0]
		}
		step, fNew := 1.0, 0.0
		for ls := 0; ; ls++ {
			for i := range x {
				xNew[i] = x[i] + step*dir[i]
			}
			fNew = f(xNew, gNew)
			if fNew <= fx+1e-4*step*slope && !math.IsNaN(fNew) {
				break
			}
			if ls == 40 {
				return nil // no progress possible along dir: as good as it gets
			}
			step *= 0.5
		}
		var sv, yv []float64
		if len(s) == mem {
			sv, yv = s[0], y[0]
			s, y, rho = s[1:], y[1:], rho[1:]
		} else {
			sv, yv = make([]float64, n), make([]float64, n)
		}
		for i := range x {
			sv[i] = xNew[i] - x[i]
			yv[i] = gNew[i] - g[i]
		}
		if sy := dot(sv, yv); sy > 1e-12 {
			s, y, rho = append(s, sv), append(y, yv), append(rho, 1/sy)
		}
		copy(x, xNew)
		copy(g, gNew)
		done := fx-fNew <= 1e-9*math.Max(math.Abs(fNew), 1)
		fx = fNew
		if done {
			return nil
		}
	}
	return nil
}

func dot(a, b []float64) float64 {
	var s float64
	for i, v := range a {
		s += v * b[i]
	}
	return s
}

func axpy(a float64, x, y []float64) {
	for i, v := range x {
		y[i] += a * v
	}
}

func normInf(v []float64) float64 {
	var m float64
	for _, x := range v {
		m = max(m, math.Abs(x))
	}
	return m
}
