package persona

import (
	"context"
	"math"
)

// calibrate fits a temperature and per-class offsets to out-of-fold scores, minimising the
// log loss of softmax(scale·z + shift) (a tiny L2 pull keeps the offsets identifiable).
// With two classes this is Platt scaling of the score difference.
func calibrate(ctx context.Context, scores [][]float64, y []int, k int) (float64, []float64) {
	x := make([]float64, 1+k)
	x[0] = 1
	n := float64(len(y))
	p := make([]float64, k)
	f := func(x, g []float64) float64 {
		clear(g)
		var loss float64
		for i, z := range scores {
			for c := range p {
				p[c] = x[0]*z[c] + x[1+c]
			}
			softmaxInPlace(p)
			loss -= math.Log(max(p[y[i]], 1e-300))
			p[y[i]]--
			for c := range p {
				g[0] += p[c] * z[c] / n
				g[1+c] += p[c] / n
			}
		}
		loss /= n
		for c := 1; c < len(x); c++ {
			loss += 0.5e-6 * x[c] * x[c]
			g[c] += 1e-6 * x[c]
		}
		return loss
	}
	_ = lbfgs(ctx, f, x, 200, 1e-8) // a cancelled context leaves the best point so far
	return x[0], x[1:]
}

// calibratedLogLoss returns the mean log loss of softmax(scale·z + shift) on scores.
func calibratedLogLoss(scores [][]float64, y []int, scale float64, shift []float64) float64 {
	var loss float64
	p := make([]float64, len(shift))
	for i, z := range scores {
		for c := range p {
			p[c] = scale*z[c] + shift[c]
		}
		softmaxInPlace(p)
		loss -= math.Log(max(p[y[i]], 1e-15))
	}
	return loss / float64(len(y))
}
