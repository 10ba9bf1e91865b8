package persona

import (
	"cmp"
	"math"
	"slices"
)

// AUC returns the area under the ROC curve of scores for the positives marked in pos: the
// probability that a random positive scores above a random negative, ties counting one
// half (the Mann–Whitney U statistic over average ranks). It is NaN when either class is
// empty.
func AUC(scores []float64, pos []bool) float64 {
	n := len(scores)
	order := make([]int, n)
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(scores[a], scores[b]) })
	var rankSum float64
	var nPos int
	for lo := 0; lo < n; {
		hi := lo + 1
		for hi < n && scores[order[hi]] == scores[order[lo]] {
			hi++
		}
		avg := float64(lo+hi+1) / 2 // mean of the 1-based ranks lo+1 … hi
		for _, i := range order[lo:hi] {
			if pos[i] {
				rankSum += avg
				nPos++
			}
		}
		lo = hi
	}
	nNeg := n - nPos
	if nPos == 0 || nNeg == 0 {
		return math.NaN()
	}
	return (rankSum - float64(nPos)*float64(nPos+1)/2) / (float64(nPos) * float64(nNeg))
}

// MacroAUC returns the mean over classes of the one-vs-rest AUC of probs[i][c] for class c,
// skipping classes absent from y or present in every row.
func MacroAUC(probs [][]float64, y []int, k int) float64 {
	var sum float64
	var used int
	scores := make([]float64, len(y))
	pos := make([]bool, len(y))
	for c := 0; c < k; c++ {
		for i := range y {
			scores[i], pos[i] = probs[i][c], y[i] == c
		}
		if a := AUC(scores, pos); !math.IsNaN(a) {
			sum += a
			used++
		}
	}
	if used == 0 {
		return math.NaN()
	}
	return sum / float64(used)
}

// Accuracy returns the share of rows whose most probable class (the lowest index among
// ties) is y.
func Accuracy(probs [][]float64, y []int) float64 {
	if len(y) == 0 {
		return math.NaN()
	}
	var hit int
	for i, p := range probs {
		if argmax(p) == y[i] {
			hit++
		}
	}
	return float64(hit) / float64(len(y))
}

// Brier returns the multiclass Brier score, the mean over rows of Σ_c (p_c − [y = c])²: 0 is
// perfect; a binary problem scores twice the usual binary Brier score.
func Brier(probs [][]float64, y []int) float64 {
	if len(y) == 0 {
		return math.NaN()
	}
	var s float64
	for i, p := range probs {
		for c, v := range p {
			if c == y[i] {
				v -= 1
			}
			s += v * v
		}
	}
	return s / float64(len(y))
}

// LogLoss returns the mean negative log probability of the true class (probabilities are
// clipped at 1e-15).
func LogLoss(probs [][]float64, y []int) float64 {
	if len(y) == 0 {
		return math.NaN()
	}
	var s float64
	for i, p := range probs {
		s -= math.Log(max(p[y[i]], 1e-15))
	}
	return s / float64(len(y))
}

// ECE returns the expected calibration error of the top-class confidence over bins equal
// bins of [0, 1]: Σ_b (n_b/n) |accuracy_b − mean confidence_b|.
func ECE(probs [][]float64, y []int, bins int) float64 {
	if len(y) == 0 || bins < 1 {
		return math.NaN()
	}
	count := make([]int, bins)
	conf := make([]float64, bins)
	hit := make([]float64, bins)
	for i, p := range probs {
		c := argmax(p)
		b := min(int(p[c]*float64(bins)), bins-1)
		count[b]++
		conf[b] += p[c]
		if c == y[i] {
			hit[b]++
		}
	}
	var e float64
	for b := range count {
		if count[b] > 0 {
			e += math.Abs(hit[b]-conf[b]) / float64(len(y))
		}
	}
	return e
}

// argmax returns the index of the largest value, the lowest among ties.
func argmax(p []float64) int {
	best := 0
	for c, v := range p {
		if v > p[best] {
			best = c
		}
	}
	return best
}
