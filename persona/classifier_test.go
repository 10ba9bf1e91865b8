package persona

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"
)

// synthetic draws n rows of d standard normal features (every feature present) labelled by
// a logistic model with weights w and intercept b; it returns the rows, labels and the
// true probabilities of class 1.
func synthetic(n int, w []float64, b float64, seed uint64) (*Matrix, []int, []float64) {
	rng := rand.New(rand.NewPCG(seed, 3))
	X := NewMatrix(len(w))
	y := make([]int, n)
	p := make([]float64, n)
	for i := range n {
		v := Vector{}
		z := b
		for j := range w {
			x := rng.NormFloat64()
			v.Index = append(v.Index, int32(j))
			v.Value = append(v.Value, x)
			z += w[j] * x
		}
		X.AppendRow(v)
		p[i] = sigmoid(z)
		if rng.Float64() < p[i] {
			y[i] = 1
		}
	}
	return X, y, p
}

func TestLogistic_RecoversKnownWeights(t *testing.T) {
	t.Parallel()
	w := []float64{2, -1, 0, 0.5, 0}
	X, y, _ := synthetic(5000, w, -0.5, 1)
	m := newSoftmax(len(w), 2)
	initIntercepts(m, y)
	o := &objective{X: X, y: y, k: 2, lambda: 1e-5}
	if err := o.fit(context.Background(), m, 500); err != nil {
		t.Fatal(err)
	}
	for j, want := range w {
		got := m.w[2*j+1] - m.w[2*j]
		if math.Abs(got-want) > 0.12 {
			t.Errorf("weight %d: %.3f, want %.3f ± 0.12", j, got, want)
		}
	}
	if b := m.w[2*len(w)+1] - m.w[2*len(w)]; math.Abs(b+0.5) > 0.1 {
		t.Errorf("intercept %.3f, want −0.5 ± 0.1", b)
	}
}

// TestLogistic_BinaryMatchesSoftmax checks that the two-class shortcut solves the softmax
// objective: its solution has a vanishing softmax gradient.
func TestLogistic_BinaryMatchesSoftmax(t *testing.T) {
	t.Parallel()
	X, y, _ := synthetic(500, []float64{1, -2, 0.3}, 0.2, 2)
	m := newSoftmax(3, 2)
	o := &objective{X: X, y: y, k: 2, lambda: 0.01}
	if err := o.fit(context.Background(), m, 500); err != nil {
		t.Fatal(err)
	}
	g := make([]float64, len(m.w))
	o.eval(m.w, g)
	if n := normInf(g); n > 1e-4 {
		t.Errorf("softmax gradient at the binary solution: %g", n)
	}
	// Three classes go through the full softmax and also converge.
	y3 := make([]int, len(y))
	for i := range y {
		y3[i] = (y[i] + i%2) % 3
	}
	m3 := newSoftmax(3, 3)
	o3 := &objective{X: X, y: y3, k: 3, lambda: 0.01}
	if err := o3.fit(context.Background(), m3, 500); err != nil {
		t.Fatal(err)
	}
	g3 := make([]float64, len(m3.w))
	o3.eval(m3.w, g3)
	if n := normInf(g3); n > 1e-4 {
		t.Errorf("softmax gradient at the three-class solution: %g", n)
	}
}

func TestClassifier_SeparatesAndCalibrates(t *testing.T) {
	t.Parallel()
	w := []float64{1.5, -1, 0.5, 0, 0, 0}
	X, y, _ := synthetic(3000, w, -0.3, 4)
	clf := &Classifier{Config: Config{Seed: 1}}
	if err := clf.Fit(context.Background(), X, y, []string{"no", "yes"}); err != nil {
		t.Fatal(err)
	}
	// On fresh rows, the predicted probabilities follow the true ones.
	Xt, yt, pt := synthetic(4000, w, -0.3, 5)
	var absErr float64
	probs := make([][]float64, len(yt))
	scores := make([]float64, len(yt))
	pos := make([]bool, len(yt))
	for i := range yt {
		class, p := clf.Predict(Xt.Row(i))
		if (class == "yes") != (p[1] > p[0]) || math.Abs(p[0]+p[1]-1) > 1e-12 {
			t.Fatalf("row %d: class %s with probabilities %v", i, class, p)
		}
		probs[i], scores[i], pos[i] = p, p[1], yt[i] == 1
		absErr += math.Abs(p[1]-pt[i]) / float64(len(yt))
	}
	if absErr > 0.03 {
		t.Errorf("mean |p̂ − p| %.4f, want ≤ 0.03", absErr)
	}
	if e := ECE(probs, yt, 10); e > 0.04 {
		t.Errorf("ECE %.4f, want ≤ 0.04", e)
	}
	// The Bayes AUC of this model is about 0.86; the fitted one must come close.
	bayes := AUC(pt, pos)
	if got := AUC(scores, pos); got < bayes-0.01 {
		t.Errorf("AUC %.4f, Bayes %.4f", got, bayes)
	}
}

// TestClassifier_PlattFixesOverconfidence gives the classifier scores that a strong
// penalty shrinks: calibration must stretch them back to the true probabilities.
func TestClassifier_PlattFixesOverconfidence(t *testing.T) {
	t.Parallel()
	w := []float64{2, -2}
	X, y, _ := synthetic(2000, w, 0, 6)
	clf := &Classifier{Config: Config{Lambdas: []float64{1}, Seed: 1}}
	if err := clf.Fit(context.Background(), X, y, []string{"a", "b"}); err != nil {
		t.Fatal(err)
	}
	if clf.Scale < 2 {
		t.Errorf("calibration scale %.2f: a heavily penalised model needs stretching", clf.Scale)
	}
	Xt, _, pt := synthetic(2000, w, 0, 7)
	var absErr float64
	for i := range pt {
		absErr += math.Abs(clf.Probabilities(Xt.Row(i))[1]-pt[i]) / float64(len(pt))
	}
	if absErr > 0.05 {
		t.Errorf("mean |p̂ − p| %.4f after calibration, want ≤ 0.05", absErr)
	}
}

func TestClassifier_DeterministicWhateverTheWorkers(t *testing.T) {
	t.Parallel()
	X, y, _ := synthetic(400, []float64{1, 0.5, -0.5}, 0, 8)
	var ref []float64
	for _, workers := range []int{1, 3} {
		clf := &Classifier{Config: Config{Seed: 9, Workers: workers}}
		if err := clf.Fit(context.Background(), X, y, []string{"a", "b"}); err != nil {
			t.Fatal(err)
		}
		p := clf.Probabilities(X.Row(0))
		if ref == nil {
			ref = p
		} else if p[0] != ref[0] {
			t.Errorf("workers %d: %v, workers 1: %v", workers, p, ref)
		}
	}
}

func TestClassifier_RejectsBadInput(t *testing.T) {
	t.Parallel()
	X, y, _ := synthetic(10, []float64{1}, 0, 1)
	for name, fit := range map[string]func() error{
		"one class": func() error { return (&Classifier{}).Fit(context.Background(), X, y, []string{"a"}) },
		"labels":    func() error { return (&Classifier{}).Fit(context.Background(), X, y[:5], []string{"a", "b"}) },
		"range": func() error {
			bad := append([]int{2}, y[1:]...)
			return (&Classifier{}).Fit(context.Background(), X, bad, []string{"a", "b"})
		},
	} {
		if err := fit(); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	big, by, _ := synthetic(200, []float64{1, 1}, 0, 2)
	if err := (&Classifier{}).Fit(ctx, big, by, []string{"a", "b"}); err == nil {
		t.Error("cancelled context: no error")
	}
}
