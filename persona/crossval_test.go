package persona

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
)

// tasteWorld makes n labelled consumers (and 40 unlabelled ones) whose class sets their
// taste: class c buys from items c·20 … c·20+19 four times out of five, from anything
// otherwise. Items carry a "shelf" token per block of ten.
func tasteWorld(n, classes int, seed uint64) ([]History, Catalog, []int) {
	rng := rand.New(rand.NewPCG(seed, 11))
	cat := Catalog{}
	for i := 0; i < 20*classes; i++ {
		cat["i"+strconv.Itoa(i)] = []string{"shelf=" + strconv.Itoa(i/10)}
	}
	var hs []History
	var y []int
	for u := 0; u < n+40; u++ {
		c := rng.IntN(classes)
		var h History
		for range 12 {
			item := rng.IntN(20 * classes)
			if rng.Float64() < 0.8 {
				item = 20*c + rng.IntN(20)
			}
			h = append(h, Event{Item: "i" + strconv.Itoa(item), Weight: 1, Time: monday10 + int64(rng.IntN(7*86400))})
		}
		hs = append(hs, h)
		if u >= n {
			c = -1
		}
		y = append(y, c)
	}
	return hs, cat, y
}

func TestCrossValidate_LearnsTaste(t *testing.T) {
	t.Parallel()
	hs, cat, y := tasteWorld(300, 2, 1)
	task := Task{Target: "side", Classes: []string{"left", "right"}, Labels: y}
	var progress []string
	cfg := CVConfig{Folds: 5, Seed: 1, Workers: 1, Features: DefaultFeatureConfig(),
		Progress: func(target string, fold, folds int) {
			progress = append(progress, fmt.Sprintf("%s %d/%d", target, fold, folds))
		}}
	res, err := CrossValidate(context.Background(), hs, cat, task, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if res.N != 300 || res.Counts[0]+res.Counts[1] != 300 || len(res.Probs) != 300 {
		t.Fatalf("n %d, counts %v, %d predictions", res.N, res.Counts, len(res.Probs))
	}
	if res.AUC < 0.97 || res.Accuracy < 0.9 {
		t.Errorf("AUC %.3f, accuracy %.3f: the taste is plain", res.AUC, res.Accuracy)
	}
	if res.Majority < 0.4 || res.Majority > 0.6 {
		t.Errorf("majority baseline %.3f for balanced classes", res.Majority)
	}
	if res.Brier >= res.BrierBaseline || res.ECE > 0.1 {
		t.Errorf("Brier %.3f (baseline %.3f), ECE %.3f", res.Brier, res.BrierBaseline, res.ECE)
	}
	if strings.Join(progress, ",") != "side 1/5,side 2/5,side 3/5,side 4/5,side 5/5" {
		t.Errorf("progress %v", progress)
	}
	// Two workers give the same predictions.
	cfg.Workers, cfg.Progress = 2, nil
	again, err := CrossValidate(context.Background(), hs, cat, task, cfg)
	if err != nil {
		t.Fatal(err)
	}
	for i := range res.Probs {
		if again.Probs[i][1] != res.Probs[i][1] {
			t.Fatalf("consumer %d: %v with two workers, %v with one", i, again.Probs[i], res.Probs[i])
		}
	}
}

func TestCrossValidate_Multiclass(t *testing.T) {
	t.Parallel()
	hs, cat, y := tasteWorld(240, 3, 2)
	res, err := CrossValidate(context.Background(), hs, cat, Task{Target: "t", Classes: []string{"a", "b", "c"}, Labels: y},
		CVConfig{Folds: 3, Seed: 1, Features: DefaultFeatureConfig()})
	if err != nil {
		t.Fatal(err)
	}
	if res.Accuracy < 0.85 || res.MacroAUC < 0.95 || res.Accuracy <= res.Majority {
		t.Errorf("accuracy %.3f (majority %.3f), macro AUC %.3f", res.Accuracy, res.Majority, res.MacroAUC)
	}
}

func TestModel_CodecRoundTrip(t *testing.T) {
	t.Parallel()
	hs, cat, y := tasteWorld(200, 3, 3)
	binary := make([]int, len(y))
	for i, c := range y {
		binary[i] = map[bool]int{true: 1, false: 0}[c == 2]
		if c < 0 {
			binary[i] = -1
		}
	}
	tasks := []Task{{Target: "taste", Classes: []string{"a", "b", "c"}, Labels: y},
		{Target: "third", Classes: []string{"no", "yes"}, Labels: binary}}
	m, err := Train(context.Background(), hs, cat, tasks, DefaultFeatureConfig(), Config{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	n, err := m.WriteTo(&buf)
	if err != nil || n != int64(buf.Len()) {
		t.Fatalf("wrote %d of %d bytes: %v", n, buf.Len(), err)
	}
	blob := buf.Bytes()
	// Two artefacts back to back: each reader takes exactly its own bytes.
	stream := bytes.NewReader(append(append([]byte{}, blob...), blob...))
	for k := 0; k < 2; k++ {
		var got Model
		if r, err := got.ReadFrom(stream); err != nil || r != int64(len(blob)) {
			t.Fatalf("read %d: %d bytes, %v", k, r, err)
		}
		for _, h := range hs[:50] {
			want, have := m.Predict(h), got.Predict(h)
			for t2 := range want {
				if have[t2].Class != want[t2].Class || have[t2].Confidence != want[t2].Confidence {
					t.Fatalf("prediction %+v after reading, %+v before", have[t2], want[t2])
				}
			}
		}
	}
	preds := m.Predict(hs[0])
	if len(preds) != 2 || preds[0].Target != "taste" || len(preds[0].Probs) != 3 || preds[1].Classes[1] != "yes" {
		t.Errorf("predictions %+v", preds)
	}
	for name, corrupt := range map[string]func([]byte) []byte{
		"magic":     func(b []byte) []byte { b[0] = 'X'; return b },
		"version":   func(b []byte) []byte { b[8] = 99; return b },
		"inner":     func(b []byte) []byte { b[13] = 'X'; return b }, // the featurizer's magic
		"truncated": func(b []byte) []byte { return b[:len(b)-9] },
		"empty":     func(b []byte) []byte { return nil },
	} {
		var got Model
		if _, err := got.ReadFrom(bytes.NewReader(corrupt(append([]byte{}, blob...)))); err == nil {
			t.Errorf("%s: read without error", name)
		}
	}
	// A featurizer and a classifier also travel alone.
	var fb, cb bytes.Buffer
	if _, err := m.Features.WriteTo(&fb); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Classifiers[1].WriteTo(&cb); err != nil {
		t.Fatal(err)
	}
	var f2 Featurizer
	var c2 Classifier
	if _, err := f2.ReadFrom(&fb); err != nil {
		t.Fatal(err)
	}
	if _, err := c2.ReadFrom(&cb); err != nil {
		t.Fatal(err)
	}
	x := f2.Transform(hs[7])
	if _, p := c2.Predict(x); p[1] != preds1(m, hs[7]) {
		t.Errorf("featurizer and classifier read alone predict %v", p)
	}
	if _, err := new(Classifier).WriteTo(&cb); err == nil {
		t.Error("an unfitted classifier was written")
	}
}

func preds1(m *Model, h History) float64 { return m.Predict(h)[1].Probs[1] }
