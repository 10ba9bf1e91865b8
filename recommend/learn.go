package recommend

import (
	"context"
	"fmt"
	"math"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/qianmian/qianmian"
	"github.com/qianmian/qianmian/model"
)

// The validation protocol, published with the metrics so a reader knows what the numbers mean.
const validationProtocol = "temporal: each subject's last 20% of item interactions (at least 1; subjects with 3+) held out; " +
	"full ranking over the catalogue from the subject's latest 48 training events, as the engine scores a live history; " +
	"items met in training excluded unless in a rebuy category; positive-weight held-out items are relevant"

// learnReport is what choosing the learned model found, published in the model's metrics.
type learnReport struct {
	Protocol string       `json:"protocol"`
	Subjects int          `json:"subjects"` // validation subjects scored
	Models   []modelScore `json:"models"`   // baselines first, then the learned candidates
	Chosen   string       `json:"chosen"`   // the learned model published, "" for none
	// RefitSeconds is the chosen model's fit on every interaction; Seconds the whole choice.
	RefitSeconds float64 `json:"refit_seconds"`
	Seconds      float64 `json:"seconds"`
}

// modelScore is one model's validation result.
type modelScore struct {
	Name         string  `json:"name"`
	Config       string  `json:"config,omitempty"`
	NDCG         float64 `json:"ndcg@10"`
	HR           float64 `json:"hr@10"`
	TrainSeconds float64 `json:"train_seconds"`
	Skipped      string  `json:"skipped,omitempty"` // why it was not fitted
}

// validK is the cut-off of the validation metrics.
const validK = 10

// newCandidate returns the unfitted default configuration of a learned family.
func newCandidate(name string, features *model.ItemFeatures) (learnedModel, error) {
	switch name {
	case "seq":
		return &model.Sequential{Config: model.DefaultSequentialConfig()}, nil
	case "ials":
		return &model.IALS{Config: model.DefaultIALSConfig()}, nil
	case "content":
		return &model.Content{Config: model.DefaultContentConfig(), Features: features}, nil
	case "ease":
		return &model.EASE{Config: model.DefaultEASEConfig()}, nil
	}
	return nil, fmt.Errorf("unknown learned model %q", name)
}

// hybridName is the learned ranker over the other candidates (LearnConfig.Models).
const hybridName = "hybrid"

// fitLearned fits the learned candidates on a temporal validation split of d, measures them
// against popularity and co-occurrence, refits the best on all of d and returns it ("" and
// nil when no candidate beats popularity on validation). repeatable marks the items of
// rebuy categories, which stay rankable although met before.
//
// With "hybrid" among the candidates, the others are fitted as its bases: the hybrid
// learns its ranker on a further split of the training part, then refits the bases on the
// whole training part, where each base is measured alone and the hybrid over them. If the
// hybrid wins, its bases are refitted on all of d under the ranker it learned.
func (f *fitter) fitLearned(ctx context.Context, d *model.Dataset, features *model.ItemFeatures, repeatable []bool) (learnedModel, string, *learnReport, error) {
	started := time.Now()
	c := f.cfg.Learn
	rep := &learnReport{Protocol: validationProtocol}
	sp := splitValidation(d, c, repeatable)
	rep.Subjects = len(sp.users)
	if len(sp.users) == 0 {
		return nil, "", rep, nil
	}
	ev := &evaluator{sp: sp, n: d.NumItems(), history: c.History, repeatable: repeatable}

	pop := itemPopularity(sp.train)
	popScore := ev.run(func(_ []int32, _ []float32, _ []int64, dst []float32) { copy(dst, pop) })
	rep.Models = append(rep.Models, modelScore{Name: "popularity", Config: "users per item", NDCG: popScore.ndcg, HR: popScore.hr})

	t0 := time.Now()
	kc := f.cfg.Neighbors
	kc.Now = f.now
	knn := &model.ItemKNN{Config: kc}
	if err := knn.Fit(ctx, sp.train); err != nil {
		return nil, "", nil, fmt.Errorf("co-occurrence on validation: %w", err)
	}
	secs := time.Since(t0).Seconds()
	r := ev.run(func(items []int32, w []float32, t []int64, dst []float32) { cooccurrenceScores(knn, items, w, t, dst) })
	rep.Models = append(rep.Models, modelScore{Name: "cooccurrence", Config: "engine anchors, 50 neighbours", NDCG: r.ndcg, HR: r.hr, TrainSeconds: secs})

	// The candidates to fit, each scored on validation as a model of its own.
	var fitted []learnedModel
	var names []string
	hybrid := slices.Contains(c.Models, hybridName)
	for _, name := range c.Models {
		s := modelScore{Name: name}
		switch {
		case name == hybridName:
			continue
		case name == "ease" && d.NumItems() > c.MaxEASEItems:
			s.Skipped = fmt.Sprintf("%d items > %d", d.NumItems(), c.MaxEASEItems)
		case !hybrid && time.Since(started) > c.Budget:
			s.Skipped = fmt.Sprintf("budget %s spent", c.Budget)
		}
		if s.Skipped != "" {
			rep.Models = append(rep.Models, s)
			f.logger.Info("learned model skipped", "model", name, "why", s.Skipped)
			continue
		}
		m, err := newCandidate(name, features)
		if err != nil {
			return nil, "", nil, err
		}
		fitted, names = append(fitted, m), append(names, name)
	}
	var h *model.Hybrid
	var hybridScore modelScore
	if hybrid && len(fitted) > 0 {
		bases := make([]model.Model, len(fitted))
		for k, m := range fitted {
			bases[k] = m.(model.Model)
		}
		h = &model.Hybrid{Config: c.Hybrid, Bases: bases, Features: features}
		t0 := time.Now()
		if err := h.Fit(ctx, sp.train); err != nil {
			return nil, "", nil, fmt.Errorf("fit hybrid on validation: %w", err)
		}
		hybridScore = modelScore{Name: hybridName, Config: h.Describe(), TrainSeconds: time.Since(t0).Seconds()}
		f.logger.Info("hybrid learned", "seconds", hybridScore.TrainSeconds, "chosen", h.Report().Chosen)
		fitted, names = fitted[:0], names[:0] // as the hybrid holds them, content added or not
		for _, b := range h.Bases {
			lm, ok := b.(learnedModel)
			if !ok {
				return nil, "", nil, fmt.Errorf("hybrid base %s cannot be served", b.Name())
			}
			fitted, names = append(fitted, lm), append(names, b.Name())
		}
	}
	best, bestNDCG := "", popScore.ndcg
	var bestModel learnedModel
	for k, m := range fitted {
		s := modelScore{Name: names[k]}
		if h == nil {
			t0 := time.Now()
			if err := m.(model.Model).Fit(ctx, sp.train); err != nil {
				return nil, "", nil, fmt.Errorf("fit %s on validation: %w", names[k], err)
			}
			s.TrainSeconds = time.Since(t0).Seconds()
		}
		s.Config = m.(model.Model).Describe()
		r := ev.run(m.ScoreHistory)
		s.NDCG, s.HR = r.ndcg, r.hr
		rep.Models = append(rep.Models, s)
		f.logger.Info("learned model validated", "model", s.Name, "ndcg@10", s.NDCG, "hr@10", s.HR, "train_seconds", s.TrainSeconds)
		if s.NDCG > bestNDCG {
			best, bestNDCG, bestModel = s.Name, s.NDCG, m
		}
		if err := ctx.Err(); err != nil {
			return nil, "", nil, err
		}
	}
	if h != nil {
		r := ev.run(h.ScoreHistory)
		hybridScore.NDCG, hybridScore.HR = r.ndcg, r.hr
		rep.Models = append(rep.Models, hybridScore)
		f.logger.Info("learned model validated", "model", hybridName, "ndcg@10", r.ndcg, "hr@10", r.hr, "train_seconds", hybridScore.TrainSeconds)
		if r.ndcg > bestNDCG {
			best, bestNDCG, bestModel = hybridName, r.ndcg, servedHybrid{h}
		}
	}
	if best == "" {
		rep.Seconds = time.Since(started).Seconds()
		return nil, "", rep, nil
	}
	t0 = time.Now()
	var err error
	if best == hybridName {
		err = h.Refit(ctx, d, true) // nothing reads d's sequences after this
	} else {
		err = bestModel.(model.Model).Fit(ctx, d)
	}
	if err != nil {
		return nil, "", nil, fmt.Errorf("refit %s: %w", best, err)
	}
	rep.Chosen, rep.RefitSeconds = best, time.Since(t0).Seconds()
	rep.Seconds = time.Since(started).Seconds()
	return bestModel, best, rep, nil
}

// validSplit is a temporal validation split of a dataset.
type validSplit struct {
	train   *model.Dataset // every subject's earlier interactions, same id maps
	users   []int32        // the sampled validation subjects
	targets [][]int32      // their relevant held-out items
}

// splitValidation holds out each subject's last share of interactions by time. The
// relevant items are the held-out ones with a positive weight, less those met in training
// unless repeatable. Up to c.ValidUsers subjects with relevant items are kept, evenly spread.
func splitValidation(d *model.Dataset, c LearnConfig, repeatable []bool) *validSplit {
	b := &model.DatasetBuilder{Users: d.Users, Items: d.Items}
	stamp := make([]int32, d.NumItems()) // u+1 when met in u's training part
	taken := make([]int32, d.NumItems()) // u+1 when already a target of u
	var users []int32
	var targets [][]int32
	for u := range int32(d.NumUsers()) {
		items, w, t := d.Sequence(u)
		n, cut := len(items), len(items)
		if n >= 3 {
			cut = n - max(1, int(c.ValidFraction*float64(n)))
		}
		for k := range cut {
			b.AddIndex(u, items[k], w[k], t[k])
			stamp[items[k]] = u + 1
		}
		var rel []int32
		for k := cut; k < n; k++ {
			i := items[k]
			if w[k] <= 0 || taken[i] == u+1 || stamp[i] == u+1 && !repeatable[i] {
				continue
			}
			taken[i] = u + 1
			rel = append(rel, i)
		}
		if len(rel) > 0 {
			users, targets = append(users, u), append(targets, rel)
		}
	}
	sp := &validSplit{train: b.Build()}
	step := max(1, float64(len(users))/float64(max(c.ValidUsers, 1)))
	for x := 0.0; int(x) < len(users); x += step {
		sp.users = append(sp.users, users[int(x)])
		sp.targets = append(sp.targets, targets[int(x)])
	}
	return sp
}

// itemPopularity returns each item's number of subjects with a positive interaction.
func itemPopularity(d *model.Dataset) []float32 {
	pop := make([]float32, d.NumItems())
	for u := range int32(d.NumUsers()) {
		items, w, _ := d.Row(u)
		for k, i := range items {
			if w[k] > 0 {
				pop[i]++
			}
		}
	}
	return pop
}

// cooccurrenceScores scores as the engine's co-occurrence source does: the neighbours of
// the latest maxAnchors distinct items, each weighted by its event weight and recency.
func cooccurrenceScores(knn *model.ItemKNN, items []int32, w []float32, t []int64, dst []float32) {
	clear(dst)
	if len(items) == 0 {
		return
	}
	now := t[len(t)-1]
	hour, week := time.Hour.Seconds(), (7 * 24 * time.Hour).Seconds()
	var seen []int32
	for k := len(items) - 1; k >= 0 && len(seen) < maxAnchors; k-- {
		if w[k] <= 0 {
			continue
		}
		found := false
		for _, s := range seen {
			found = found || s == items[k]
		}
		if !found {
			seen = append(seen, items[k])
		}
		age := float64(now - t[k])
		a := w[k] * float32(halve(age, hour)+0.25*halve(age, week))
		nbr, sim := knn.Neighbors(items[k])
		for q, j := range nbr {
			dst[j] += a * sim[q]
		}
	}
}

// evaluator scores the validation subjects of a split with one model at a time.
type evaluator struct {
	sp         *validSplit
	n          int
	history    int
	repeatable []bool
}

type validResult struct{ ndcg, hr float64 }

// run returns the mean NDCG@10 and HR@10 of score over the validation subjects, scoring
// each from their latest history events and ranking every item not excluded.
func (ev *evaluator) run(score func(items []int32, w []float32, t []int64, dst []float32)) validResult {
	workers := runtime.GOMAXPROCS(0)
	var next atomic.Int64
	var mu sync.Mutex
	var total validResult
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			dst := make([]float32, ev.n)
			var top []int32
			var sum validResult
			for {
				q := int(next.Add(1) - 1)
				if q >= len(ev.sp.users) {
					break
				}
				u := ev.sp.users[q]
				items, w, t := ev.sp.train.Sequence(u)
				lo := max(0, len(items)-ev.history)
				score(items[lo:], w[lo:], t[lo:], dst)
				seen, _, _ := ev.sp.train.Row(u)
				for _, i := range seen {
					if !ev.repeatable[i] {
						dst[i] = float32(math.NaN())
					}
				}
				top = model.TopK(top[:0], dst, validK)
				sum.ndcg += model.NDCG(top, ev.sp.targets[q], validK)
				sum.hr += model.HitRate(top, ev.sp.targets[q], validK)
			}
			mu.Lock()
			total.ndcg, total.hr = total.ndcg+sum.ndcg, total.hr+sum.hr
			mu.Unlock()
		}()
	}
	wg.Wait()
	n := float64(len(ev.sp.users))
	return validResult{total.ndcg / n, total.hr / n}
}

// itemFeatures builds the content features of the catalogue over the dataset's items.
func itemFeatures(items *model.IDMap, catalogue []*qianmian.Item) *model.ItemFeatures {
	b := model.NewItemFeaturesBuilder(items)
	for _, it := range catalogue {
		b.Add(it.ID, it.Category, it.Brand, it.Price, it.Attributes, it.Title)
		if len(it.Tags) > 0 {
			b.AddTokens(it.ID, model.FeatureAttr, it.Tags)
		}
	}
	return b.Build()
}
