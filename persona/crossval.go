package persona

import (
	"context"
	"errors"
	"fmt"
	"math"
	"runtime"
	"sync"
)

// Task is one attribute to infer: its class names and, for each consumer, the index of the
// declared class or −1 when the consumer did not declare it.
type Task struct {
	Target  string
	Classes []string
	Labels  []int
}

// CVConfig sets a cross-validation.
type CVConfig struct {
	// Folds is the number of stratified outer folds; 0 means 5.
	Folds int
	// Seed makes the folds (outer and inner) and the SVD deterministic.
	Seed uint64
	// Workers is how many outer folds run at once; 0 means GOMAXPROCS. The result does
	// not depend on it.
	Workers    int
	Features   FeatureConfig
	Classifier Config
	// Progress, if set, is called as each fold starts (from several goroutines at once).
	Progress func(target string, fold, folds int)
}

// CVResult is the out-of-fold performance of a task: every labelled consumer is predicted
// exactly once, by a model (features included) fitted without them, and every figure is
// computed on the pooled predictions.
type CVResult struct {
	Target  string
	Classes []string
	// N is the number of labelled consumers; Counts their number per class.
	N      int
	Counts []int
	// AUC is the ROC AUC of the second class's probability when there are two classes
	// (NaN otherwise); its baseline is 0.5. MacroAUC is the mean one-vs-rest AUC.
	AUC, MacroAUC float64
	// Accuracy of the most probable class, and Majority, the accuracy of predicting each
	// training fold's most frequent class.
	Accuracy, Majority float64
	// Brier is the multiclass Brier score; BrierBaseline that of predicting each training
	// fold's class frequencies. ECE is the expected calibration error of the top class (10
	// bins); LogLoss the mean negative log probability of the true class.
	Brier, BrierBaseline, ECE, LogLoss float64
	// FoldAUC and FoldAccuracy are the per-fold figures, for their spread.
	FoldAUC, FoldAccuracy []float64
	// Lambdas are the L2 strengths chosen in each fold.
	Lambdas []float64
	// Probs are the out-of-fold probabilities of the labelled consumers, and Labels their
	// classes, in the order of the histories.
	Probs  [][]float64
	Labels []int
}

// CrossValidate measures how well task's classes are inferred from hs: stratified folds of
// the labelled consumers; in each, a Featurizer is fitted on the histories outside the test
// fold (the unlabelled consumers' included, since fitting features uses no labels) and a
// Classifier on the labelled ones, and the test fold is predicted.
func CrossValidate(ctx context.Context, hs []History, cat Catalog, task Task, cfg CVConfig) (*CVResult, error) {
	if len(task.Labels) != len(hs) {
		return nil, fmt.Errorf("persona: %d labels for %d histories", len(task.Labels), len(hs))
	}
	k := len(task.Classes)
	if cfg.Folds == 0 {
		cfg.Folds = 5
	}
	if cfg.Folds < 2 {
		return nil, errors.New("persona: need at least two folds")
	}
	if cfg.Workers <= 0 {
		cfg.Workers = runtime.GOMAXPROCS(0)
	}
	folds := StratifiedFolds(task.Labels, k, cfg.Folds, cfg.Seed)
	probs := make([][]float64, len(hs))
	prior := make([][]float64, len(hs))
	res := &CVResult{Target: task.Target, Classes: task.Classes, Counts: make([]int, k),
		FoldAUC: make([]float64, cfg.Folds), FoldAccuracy: make([]float64, cfg.Folds), Lambdas: make([]float64, cfg.Folds)}
	errs := make([]error, cfg.Folds)
	var wg sync.WaitGroup
	sem := make(chan struct{}, cfg.Workers)
	for f := 0; f < cfg.Folds; f++ {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			if cfg.Progress != nil {
				cfg.Progress(task.Target, f+1, cfg.Folds)
			}
			lambda, err := cvFold(ctx, hs, cat, task, folds, f, cfg, probs, prior)
			res.Lambdas[f], errs[f] = lambda, err
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	res.summarise(task, folds, probs, prior, cfg.Folds)
	return res, nil
}

// cvFold fits fold f's features and classifier and fills probs (and the class-frequency
// baseline prior) for its test consumers. It returns the chosen λ.
func cvFold(ctx context.Context, hs []History, cat Catalog, task Task, folds []int, f int, cfg CVConfig,
	probs, prior [][]float64) (float64, error) {
	var fitHs, trainHs []History
	var trainY []int
	for i, h := range hs {
		if folds[i] == f {
			continue
		}
		fitHs = append(fitHs, h) // unlabelled consumers (fold −1) help fit the features
		if folds[i] >= 0 {
			trainHs = append(trainHs, h)
			trainY = append(trainY, task.Labels[i])
		}
	}
	fc := cfg.Features
	fc.Seed = cfg.Seed + uint64(f)
	feat := &Featurizer{Config: fc}
	if err := feat.Fit(ctx, fitHs, cat); err != nil {
		return 0, err
	}
	cc := cfg.Classifier
	cc.Seed, cc.Workers = cfg.Seed+uint64(f), 1
	clf := &Classifier{Config: cc}
	if err := clf.Fit(ctx, feat.TransformAll(trainHs), trainY, task.Classes); err != nil {
		return 0, err
	}
	freq := make([]float64, len(task.Classes))
	for _, c := range trainY {
		freq[c] += 1 / float64(len(trainY))
	}
	for i, h := range hs {
		if folds[i] == f {
			probs[i] = clf.Probabilities(feat.Transform(h))
			prior[i] = freq
		}
	}
	return clf.Lambda, nil
}

// summarise computes the pooled and per-fold figures.
func (r *CVResult) summarise(task Task, folds []int, probs, prior [][]float64, nFolds int) {
	k := len(task.Classes)
	var P, B [][]float64
	var Y []int
	for i, g := range folds {
		if g >= 0 {
			P, B, Y = append(P, probs[i]), append(B, prior[i]), append(Y, task.Labels[i])
			r.Counts[task.Labels[i]]++
		}
	}
	r.N, r.Probs, r.Labels = len(Y), P, Y
	r.AUC = binaryAUC(P, Y, k)
	r.MacroAUC = MacroAUC(P, Y, k)
	r.Accuracy, r.Majority = Accuracy(P, Y), Accuracy(B, Y)
	r.Brier, r.BrierBaseline = Brier(P, Y), Brier(B, Y)
	r.ECE, r.LogLoss = ECE(P, Y, 10), LogLoss(P, Y)
	for f := 0; f < nFolds; f++ {
		var fp [][]float64
		var fy []int
		for i, g := range folds {
			if g == f {
				fp, fy = append(fp, probs[i]), append(fy, task.Labels[i])
			}
		}
		r.FoldAUC[f] = binaryAUC(fp, fy, k)
		r.FoldAccuracy[f] = Accuracy(fp, fy)
	}
}

// binaryAUC returns the AUC of the second class's probability for two classes, else NaN.
func binaryAUC(P [][]float64, y []int, k int) float64 {
	if k != 2 {
		return math.NaN()
	}
	s := make([]float64, len(y))
	pos := make([]bool, len(y))
	for i := range y {
		s[i], pos[i] = P[i][1], y[i] == 1
	}
	return AUC(s, pos)
}
