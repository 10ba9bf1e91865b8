package eval

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/qianmian/qianmian/model"
)

// Harness tunes model families on a validation split and measures the tuned models on a
// test split. Start from NewHarness and set fields before calling Run.
type Harness struct {
	K           int
	ExcludeSeen bool
	// Budget is the tuning time for all families together, shared equally (time a family
	// leaves unused passes to the next). Every family fits at least its default config; 0
	// skips tuning and uses the defaults.
	Budget time.Duration
	// Seed is passed to Family.Configs.
	Seed uint64
	// MaxConfigs is how many configs each family is asked for.
	MaxConfigs int
	// Protocol carves the validation split from train.
	Protocol Protocol
	// Workers is the number of goroutines ranking users.
	Workers int
	// Logger receives progress: tuning trials, fits, evaluation.
	Logger *slog.Logger
}

// NewHarness returns a Harness with the defaults of `qianmian eval`: K 10, seen items
// excluded, 60 s of tuning, seed 1, the MovieLens temporal protocol, 2 workers, no logging.
func NewHarness() *Harness {
	return &Harness{K: 10, ExcludeSeen: true, Budget: time.Minute, Seed: 1, MaxConfigs: 64,
		Protocol: Temporal{Frac: 0.2}, Workers: 2, Logger: slog.New(slog.DiscardHandler)}
}

// Run tunes and tests every family on the train and test logs and returns the report.
// Dataset and Protocol in the report are left for the caller to fill.
func (h *Harness) Run(ctx context.Context, families []model.Family, train, test []Interaction) (*Report, error) {
	if len(families) == 0 {
		return nil, errors.New("eval: no model families to run")
	}
	full := NewSplit(train, test)
	rep := &Report{K: h.K, ExcludeSeen: h.ExcludeSeen, Users: full.Users(),
		UsersNoTest: full.UsersNoTest, UsersNoTrain: full.UsersNoTrain, SeenInTest: full.SeenInTest,
		Items: full.Train.NumItems(), TrainInteractions: full.Train.NumInteractions(), TestItems: full.TestItems()}
	h.Logger.Info("split", "train_users", full.Train.NumUsers(), "items", rep.Items,
		"train_interactions", rep.TrainInteractions, "test_users", rep.Users, "test_items", rep.TestItems,
		"users_without_test", rep.UsersNoTest, "users_without_train", rep.UsersNoTrain, "test_items_seen_in_train", rep.SeenInTest)
	if rep.Users == 0 {
		return nil, errors.New("eval: no user has both train and test interactions")
	}
	var val *Split
	if h.Budget > 0 {
		vt, vv := h.Protocol.Split(train)
		val = NewSplitOver(full.Train.Items, vt, vv)
		rep.ValUsers = val.Users()
		h.Logger.Info("validation split", "protocol", h.Protocol.Name(), "users", val.Users(),
			"train_interactions", val.Train.NumInteractions(), "test_items", val.TestItems())
		if val.Users() == 0 {
			h.Logger.Warn("validation split has no users: using every family's default config")
			val = nil
		}
	}
	var spent time.Duration // on tuning; refitting and testing do not count
	for k, fam := range families {
		share := (h.Budget - spent) / time.Duration(len(families)-k)
		res, tuning, err := h.runFamily(ctx, fam, full, val, share)
		spent += tuning
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if err != nil {
			// One family that cannot fit this dataset (EASE on too large a catalogue) must
			// not cost the others their results.
			h.Logger.Warn("model failed", "model", fam.Name, "err", err)
			rep.Failed = append(rep.Failed, Failure{Name: fam.Name, Err: err.Error()})
			continue
		}
		rep.Results = append(rep.Results, res)
	}
	rep.Best = rep.best()
	return rep, nil
}

// runFamily tunes fam within share (when val is set), refits the chosen config on the full
// train and evaluates it on the test. It returns the time tuning took.
func (h *Harness) runFamily(ctx context.Context, fam model.Family, full, val *Split, share time.Duration) (Result, time.Duration, error) {
	res := Result{Name: fam.Name, ValNDCG: -1}
	chosen := 0
	start := time.Now()
	if val != nil {
		var err error
		chosen, res.Trials, res.ValNDCG, err = h.tune(ctx, fam, val, share)
		if err != nil {
			return res, 0, err
		}
	}
	tuning := time.Since(start)
	configs := fam.Configs(h.MaxConfigs, h.Seed)
	if chosen >= len(configs) {
		return res, tuning, fmt.Errorf("Configs returned %d models, fewer than before", len(configs))
	}
	m := configs[chosen]
	configs = nil
	res.Config = m.Describe()
	h.Logger.Info("fitting on train", "model", fam.Name, "config", res.Config)
	st, err := Fit(ctx, m, full.Train)
	if err != nil {
		return res, tuning, err
	}
	res.TrainSeconds, res.PeakMB = st.Seconds, st.PeakMB
	met, err := h.evaluator(fam.Name+" test").Evaluate(ctx, m, full)
	if err != nil {
		return res, tuning, err
	}
	res.NDCG, res.Recall, res.HR, res.MRR, res.Coverage = met.NDCG, met.Recall, met.HR, met.MRR, met.Coverage
	h.Logger.Info("tested", "model", fam.Name, fmt.Sprintf("ndcg@%d", h.K), round4(res.NDCG),
		fmt.Sprintf("hr@%d", h.K), round4(res.HR), "train_seconds", round4(res.TrainSeconds), "peak_mb", round4(res.PeakMB))
	return res, tuning, nil
}

// tune fits fam's configs on val in order until share runs out (the first always runs to
// the end; later ones are cut at the deadline and discarded) and returns the index of the
// best by validation NDCG@K (the earlier on ties), the number of trials and its NDCG.
func (h *Harness) tune(ctx context.Context, fam model.Family, val *Split, share time.Duration) (best, trials int, bestNDCG float64, err error) {
	configs := fam.Configs(h.MaxConfigs, h.Seed)
	if len(configs) == 0 {
		return 0, 0, 0, errors.New("Configs returned no models")
	}
	start := time.Now()
	deadline := start.Add(share)
	bestNDCG = -1
	h.Logger.Info("tuning", "model", fam.Name, "configs", len(configs), "budget_seconds", round4(max(share, 0).Seconds()),
		"default", configs[0].Describe())
	for k := range configs {
		if k > 0 && !time.Now().Before(deadline) {
			break
		}
		m := configs[k]
		configs[k] = nil // let a fitted model go as soon as it is scored
		tctx, cancel := ctx, context.CancelFunc(func() {})
		if k > 0 {
			tctx, cancel = context.WithDeadline(ctx, deadline)
		}
		t0 := time.Now()
		met, err := h.trial(tctx, m, val)
		cancel()
		switch {
		case err == nil:
		case ctx.Err() != nil:
			return 0, 0, 0, ctx.Err()
		case k == 0:
			return 0, 0, 0, fmt.Errorf("default config (%s): %w", m.Describe(), err)
		case !time.Now().Before(deadline):
			h.Logger.Info("trial cut by the budget", "model", fam.Name, "trial", k+1)
		default:
			h.Logger.Warn("trial failed", "model", fam.Name, "trial", k+1, "config", m.Describe(), "err", err)
			continue
		}
		if err != nil {
			break
		}
		trials++
		h.Logger.Info("trial", "model", fam.Name, "trial", k+1, "config", m.Describe(),
			fmt.Sprintf("val_ndcg@%d", h.K), round4(met.NDCG), "seconds", round4(time.Since(t0).Seconds()))
		if met.NDCG > bestNDCG {
			best, bestNDCG = k, met.NDCG
		}
	}
	h.Logger.Info("tuned", "model", fam.Name, "trials", trials, "chosen", best+1,
		fmt.Sprintf("val_ndcg@%d", h.K), round4(bestNDCG), "seconds", round4(time.Since(start).Seconds()))
	return best, trials, bestNDCG, nil
}

func (h *Harness) trial(ctx context.Context, m model.Model, val *Split) (Metrics, error) {
	if err := m.Fit(ctx, val.Train); err != nil {
		return Metrics{}, err
	}
	return h.evaluator("").Evaluate(ctx, m, val)
}

// evaluator returns an Evaluator that logs progress under label (none when label is empty)
// at each quarter, once evaluation has taken more than two seconds.
func (h *Harness) evaluator(label string) *Evaluator {
	e := &Evaluator{K: h.K, ExcludeSeen: h.ExcludeSeen, Workers: h.Workers}
	if label == "" {
		return e
	}
	start := time.Now()
	last := 0
	var mu sync.Mutex
	e.Progress = func(done, total int) {
		if !mu.TryLock() {
			return // another worker is reporting
		}
		defer mu.Unlock()
		q := done * 4 / max(total, 1)
		if q > last && time.Since(start) > 2*time.Second {
			last = q
			h.Logger.Info("evaluating", "what", label, "done", fmt.Sprintf("%d%%", done*100/max(total, 1)))
		}
	}
	return e
}

func round4(x float64) float64 {
	const p = 1e4
	if x < 0 {
		return -float64(int64(-x*p+0.5)) / p
	}
	return float64(int64(x*p+0.5)) / p
}
