package persona

import (
	"context"
	"errors"
	"fmt"
	"math"
	"runtime"
	"slices"
	"sync"
)

// Config sets how a Classifier is trained.
type Config struct {
	// Lambdas are the L2 strengths tried, largest first along a warm-started path; the one
	// with the lowest calibrated log loss in the inner cross-validation wins. Nil means
	// DefaultLambdas.
	Lambdas []float64
	// InnerFolds is the number of stratified folds of the training rows that pick λ and fit
	// the calibration (out-of-fold scores); 0 means 3, and at least 2 are used.
	InnerFolds int
	// MaxIter bounds the L-BFGS iterations of each fit; 0 means 300.
	MaxIter int
	// Seed makes the inner folds, and so the whole fit, deterministic.
	Seed uint64
	// Workers is how many inner folds are fitted at once; 0 means GOMAXPROCS. The result
	// does not depend on it.
	Workers int
}

// DefaultLambdas are the L2 strengths tried when Config.Lambdas is nil: half decades from
// 3 down to 10⁻⁴, for features whose rows have about unit norm per block.
func DefaultLambdas() []float64 {
	return []float64{3, 1, 0.3, 0.1, 0.03, 0.01, 3e-3, 1e-3, 3e-4, 1e-4}
}

func (c Config) withDefaults() Config {
	if c.Lambdas == nil {
		c.Lambdas = DefaultLambdas()
	}
	c.Lambdas = slices.Clone(c.Lambdas)
	slices.SortFunc(c.Lambdas, func(a, b float64) int { return -cmpFloat(a, b) })
	if c.InnerFolds == 0 {
		c.InnerFolds = 3
	}
	c.InnerFolds = max(c.InnerFolds, 2)
	if c.MaxIter <= 0 {
		c.MaxIter = 300
	}
	if c.Workers <= 0 {
		c.Workers = runtime.GOMAXPROCS(0)
	}
	return c
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// Classifier is a calibrated multinomial logistic regression over sparse features: L2
// penalised, its strength chosen by inner cross-validation on the training rows, and its
// scores calibrated on the same out-of-fold predictions (temperature and per-class offsets,
// which for two classes is Platt scaling). Predict is safe for concurrent use once fitted.
type Classifier struct {
	Config Config
	// Classes names the classes; Predict's probabilities follow this order.
	Classes []string
	// Lambda is the L2 strength Fit chose.
	Lambda float64
	// InnerLogLoss is the calibrated out-of-fold log loss of the chosen Lambda.
	InnerLogLoss float64
	// Scale and Shift calibrate the scores: p = softmax(Scale·z + Shift).
	Scale float64
	Shift []float64

	m *softmax
}

// Fit trains c on the rows of X labelled y (indexes into classes, which must have at least
// two names). Cancelling ctx stops it with ctx's error.
func (c *Classifier) Fit(ctx context.Context, X *Matrix, y []int, classes []string) error {
	k := len(classes)
	switch {
	case k < 2:
		return errors.New("persona: need at least two classes")
	case X.Rows() != len(y):
		return fmt.Errorf("persona: %d rows but %d labels", X.Rows(), len(y))
	}
	for i, v := range y {
		if v < 0 || v >= k {
			return fmt.Errorf("persona: label %d of row %d outside [0, %d)", v, i, k)
		}
	}
	cfg := c.Config.withDefaults()
	scores, err := innerScores(ctx, X, y, k, cfg)
	if err != nil {
		return err
	}
	best := -1
	for l := range cfg.Lambdas {
		scale, shift := calibrate(ctx, scores[l], y, k)
		loss := calibratedLogLoss(scores[l], y, scale, shift)
		if best < 0 || loss < c.InnerLogLoss-1e-12 {
			best, c.InnerLogLoss, c.Scale, c.Shift = l, loss, scale, shift
		}
	}
	c.Lambda = cfg.Lambdas[best]
	m := newSoftmax(X.Cols, k)
	initIntercepts(m, y)
	o := &objective{X: X, y: y, k: k, lambda: c.Lambda}
	if err := o.fit(ctx, m, cfg.MaxIter); err != nil {
		return err
	}
	c.Classes = slices.Clone(classes)
	c.m = m
	return nil
}

// innerScores returns, for each λ of cfg, every row's class scores from the model of the
// inner fold that left it out.
func innerScores(ctx context.Context, X *Matrix, y []int, k int, cfg Config) ([][][]float64, error) {
	folds := StratifiedFolds(y, k, cfg.InnerFolds, cfg.Seed)
	scores := make([][][]float64, len(cfg.Lambdas))
	for l := range scores {
		scores[l] = make([][]float64, len(y))
	}
	var wg sync.WaitGroup
	errs := make([]error, cfg.InnerFolds)
	sem := make(chan struct{}, cfg.Workers)
	for f := 0; f < cfg.InnerFolds; f++ {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			errs[f] = lambdaPath(ctx, X, y, k, folds, f, cfg, scores)
		}()
	}
	wg.Wait()
	return scores, errors.Join(errs...)
}

// lambdaPath fits inner fold f's training rows along cfg.Lambdas, each fit warm-started
// from the previous, and stores the held-out rows' scores.
func lambdaPath(ctx context.Context, X *Matrix, y []int, k int, folds []int, f int, cfg Config, scores [][][]float64) error {
	train, test := foldRows(folds, f)
	Xt := X.Subset(train)
	yt := make([]int, len(train))
	for t, i := range train {
		yt[t] = y[i]
	}
	m := newSoftmax(X.Cols, k)
	initIntercepts(m, yt)
	for l, lambda := range cfg.Lambdas {
		o := &objective{X: Xt, y: yt, k: k, lambda: lambda}
		if err := o.fit(ctx, m, cfg.MaxIter); err != nil {
			return err
		}
		for _, i := range test {
			z := make([]float64, k)
			m.logits(X.Row(i), z)
			scores[l][i] = z
		}
	}
	return nil
}

// initIntercepts sets m's intercepts to the log class frequencies of y (smoothed), the
// optimum of a model with no features.
func initIntercepts(m *softmax, y []int) {
	b := m.w[m.d*m.k:]
	counts := make([]float64, m.k)
	for _, c := range y {
		counts[c]++
	}
	for c := range b {
		b[c] = math.Log((counts[c] + 0.5) / (float64(len(y)) + 0.5*float64(m.k)))
	}
}

// Predict returns the most probable class and the calibrated probabilities of every class,
// in the order of c.Classes. It panics if c was never fitted or read.
func (c *Classifier) Predict(x Vector) (string, []float64) {
	p := c.Probabilities(x)
	return c.Classes[argmax(p)], p
}

// Probabilities returns the calibrated class probabilities of x, in the order of c.Classes.
func (c *Classifier) Probabilities(x Vector) []float64 {
	z := make([]float64, c.m.k)
	c.m.logits(x, z)
	for k := range z {
		z[k] = c.Scale*z[k] + c.Shift[k]
	}
	softmaxInPlace(z)
	return z
}
