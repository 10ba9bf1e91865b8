package persona

import (
	"math"
	"testing"
)

func TestAUC_HandMadeRankings(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name   string
		scores []float64
		pos    []bool
		want   float64
	}{
		// One positive (0.35) below one negative (0.4): 3 of 4 pairs ordered.
		{"classic", []float64{0.1, 0.4, 0.35, 0.8}, []bool{false, false, true, true}, 0.75},
		{"perfect", []float64{1, 2, 3, 4}, []bool{false, false, true, true}, 1},
		{"reversed", []float64{4, 3, 2, 1}, []bool{false, false, true, true}, 0},
		// Pairs: 3>2, 3>1, 2=2 (½), 2>1 → 3.5/4.
		{"one tie", []float64{3, 2, 2, 1}, []bool{true, true, false, false}, 0.875},
		// Positives {1, 2} against negatives {1, 2}: ½ + 0 + 1 + ½ over 4.
		{"tied pairs", []float64{1, 1, 2, 2}, []bool{false, true, false, true}, 0.5},
		{"all tied", []float64{5, 5, 5}, []bool{true, false, false}, 0.5},
	} {
		if got := AUC(c.scores, c.pos); math.Abs(got-c.want) > 1e-12 {
			t.Errorf("%s: AUC %v, want %v", c.name, got, c.want)
		}
	}
	if got := AUC([]float64{1, 2}, []bool{true, true}); !math.IsNaN(got) {
		t.Errorf("one class: AUC %v, want NaN", got)
	}
}

func TestMetrics_HandMade(t *testing.T) {
	t.Parallel()
	probs := [][]float64{{0.8, 0.2}, {0.4, 0.6}, {0.7, 0.3}, {0.1, 0.9}}
	y := []int{0, 1, 1, 1}
	if got := Accuracy(probs, y); got != 0.75 {
		t.Errorf("accuracy %v, want 0.75", got)
	}
	// Σ_c (p_c − y_c)² per row: 0.08, 0.32, 0.98, 0.02 → mean 0.35.
	if got := Brier(probs, y); math.Abs(got-0.35) > 1e-12 {
		t.Errorf("Brier %v, want 0.35", got)
	}
	// −(ln .8 + ln .6 + ln .3 + ln .9)/4.
	want := -(math.Log(0.8) + math.Log(0.6) + math.Log(0.3) + math.Log(0.9)) / 4
	if got := LogLoss(probs, y); math.Abs(got-want) > 1e-12 {
		t.Errorf("log loss %v, want %v", got, want)
	}
	// Top-class confidences 0.8 (hit), 0.6 (hit), 0.7 (miss), 0.9 (hit) in bins 8, 6, 7, 9:
	// (|1−.8| + |1−.6| + |0−.7| + |1−.9|)/4 = 0.35.
	if got := ECE(probs, y, 10); math.Abs(got-0.35) > 1e-12 {
		t.Errorf("ECE %v, want 0.35", got)
	}
	// Class 1's AUC: positives .6 .3 .9 against negative .2 → 1; class 0's mirrors it.
	if got := MacroAUC(probs, y, 2); math.Abs(got-1) > 1e-12 {
		t.Errorf("macro AUC %v, want 1", got)
	}
	// A class absent from y is skipped.
	p3 := [][]float64{{0.6, 0.3, 0.1}, {0.2, 0.7, 0.1}}
	if got := MacroAUC(p3, []int{0, 1}, 3); math.Abs(got-1) > 1e-12 {
		t.Errorf("macro AUC with an absent class %v, want 1", got)
	}
}
