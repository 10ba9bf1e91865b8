package persona

import (
	"context"
	"errors"
	"fmt"
	"io"
)

// Model infers several attributes of a consumer from their history: one Featurizer shared
// by a calibrated Classifier per target. Predict is safe for concurrent use.
type Model struct {
	Features    *Featurizer
	Targets     []string
	Classifiers []*Classifier // parallel to Targets
}

// Prediction is one inferred attribute: the most probable class, its calibrated
// probability, and every class's probability in the order of Classes.
type Prediction struct {
	Target     string
	Class      string
	Confidence float64
	Classes    []string
	Probs      []float64
}

// Train fits a Model on hs: the features on every history (the unlabelled ones included,
// since that uses no labels), then each task's classifier on the consumers who declared it
// (Labels ≥ 0). A task with fewer than two declared classes is an error.
func Train(ctx context.Context, hs []History, cat Catalog, tasks []Task, fc FeatureConfig, cc Config) (*Model, error) {
	feat := &Featurizer{Config: fc}
	if err := feat.Fit(ctx, hs, cat); err != nil {
		return nil, err
	}
	m := &Model{Features: feat}
	X := feat.TransformAll(hs)
	for _, t := range tasks {
		if len(t.Labels) != len(hs) {
			return nil, fmt.Errorf("persona: %s: %d labels for %d histories", t.Target, len(t.Labels), len(hs))
		}
		var rows, y []int
		for i, c := range t.Labels {
			if c >= 0 {
				rows, y = append(rows, i), append(y, c)
			}
		}
		clf := &Classifier{Config: cc}
		if err := clf.Fit(ctx, X.Subset(rows), y, t.Classes); err != nil {
			return nil, fmt.Errorf("persona: %s: %w", t.Target, err)
		}
		m.Targets = append(m.Targets, t.Target)
		m.Classifiers = append(m.Classifiers, clf)
	}
	return m, nil
}

// Predict returns the inferred value of every target for h, in the order of m.Targets.
func (m *Model) Predict(h History) []Prediction {
	x := m.Features.Transform(h)
	out := make([]Prediction, len(m.Targets))
	for t, clf := range m.Classifiers {
		class, p := clf.Predict(x)
		out[t] = Prediction{Target: m.Targets[t], Class: class, Confidence: p[argmax(p)], Classes: clf.Classes, Probs: p}
	}
	return out
}

// WriteTo writes the model as one versioned artefact: the featurizer and each target's
// classifier.
func (m *Model) WriteTo(w io.Writer) (int64, error) {
	if m.Features == nil || len(m.Targets) != len(m.Classifiers) {
		return 0, errors.New("persona: model not trained")
	}
	e := newEncoder(w)
	e.header(modelMagic, modelVersion)
	m.Features.encode(e)
	e.strs(m.Targets)
	for _, c := range m.Classifiers {
		if c.m == nil {
			return 0, errors.New("persona: classifier not fitted")
		}
		c.encode(e)
	}
	return e.finish()
}

// ReadFrom replaces m with a model written by WriteTo, reading exactly its bytes.
func (m *Model) ReadFrom(r io.Reader) (int64, error) {
	d := &decoder{r: r}
	d.header(modelMagic, modelVersion)
	feat := decodeFeaturizer(d)
	targets := d.strs()
	clfs := make([]*Classifier, 0, len(targets))
	for range targets {
		if d.err != nil {
			break
		}
		c := decodeClassifier(d)
		if d.err == nil && c.m.d != feat.Dims() {
			d.fail("model: classifier over %d features, featurizer makes %d", c.m.d, feat.Dims())
		}
		clfs = append(clfs, c)
	}
	if d.err != nil {
		return d.n, d.err
	}
	*m = Model{Features: feat, Targets: targets, Classifiers: clfs}
	return d.n, nil
}
