package eval_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/qianmian/qianmian/eval"
	"github.com/qianmian/qianmian/model"
)

// zipfLog returns users who each meet perUser items drawn from a skewed distribution (low
// item numbers are popular), so that popularity predicts the held-out items.
func zipfLog(users, items, perUser int, seed uint64) []eval.Interaction {
	rng := rand.New(rand.NewPCG(seed, 1))
	var out []eval.Interaction
	for u := range users {
		for k := range perUser {
			i := int(float64(items) * rng.Float64() * rng.Float64() * rng.Float64())
			out = append(out, eval.Interaction{User: fmt.Sprintf("u%d", u), Item: fmt.Sprintf("i%d", i),
				Time: int64(1_700_000_000 + u*100 + k), Weight: float32(1 + rng.IntN(3))})
		}
	}
	return out
}

// antiPop ranks the least popular items first: a bad model.
type antiPop struct{ model.PopularityModel }

func (m *antiPop) ScoreUser(u int32, dst []float32) {
	m.PopularityModel.ScoreUser(u, dst)
	for i := range dst {
		dst[i] = -dst[i]
	}
}

// slowModel takes d to fit, or until ctx is done.
type slowModel struct {
	antiPop
	d time.Duration
}

func (m *slowModel) Describe() string { return "slow " + m.d.String() }
func (m *slowModel) Fit(ctx context.Context, ds *model.Dataset) error {
	select {
	case <-time.After(m.d):
	case <-ctx.Done():
		return ctx.Err()
	}
	return m.antiPop.Fit(ctx, ds)
}

func TestHarness_TunesOnValidation(t *testing.T) {
	t.Parallel()
	train, test := eval.Temporal{Frac: 0.2}.Split(zipfLog(200, 100, 10, 1))
	fam := model.Family{Name: "toy", Configs: func(n int, _ uint64) []model.Model {
		return []model.Model{&antiPop{}, &model.PopularityModel{HalfLife: 24 * time.Hour}, &antiPop{}}[:min(n, 3)]
	}}
	for _, tt := range []struct {
		budget time.Duration
		config string
		trials int
	}{
		{0, "half_life=off weighted=false", 0},        // no tuning: the default, anti-popularity
		{time.Hour, "half_life=1d weighted=false", 3}, // every config tried, popularity wins
	} {
		h := eval.NewHarness()
		h.Budget = tt.budget
		rep, err := h.Run(context.Background(), []model.Family{fam}, train, test)
		if err != nil {
			t.Fatal(err)
		}
		res := rep.Results[0]
		if res.Config != tt.config || res.Trials != tt.trials {
			t.Errorf("budget %s: chose %q after %d trials, want %q after %d", tt.budget, res.Config, res.Trials, tt.config, tt.trials)
		}
	}
}

func TestHarness_BudgetCutsLaterTrials(t *testing.T) {
	t.Parallel()
	train, test := eval.Temporal{Frac: 0.2}.Split(zipfLog(50, 40, 10, 2))
	fam := model.Family{Name: "slow", Configs: func(int, uint64) []model.Model {
		return []model.Model{&slowModel{d: 300 * time.Millisecond}, &model.PopularityModel{}, &slowModel{d: time.Hour}}
	}}
	h := eval.NewHarness()
	h.Budget = 100 * time.Millisecond // less than the first trial: it still runs to the end
	start := time.Now()
	rep, err := h.Run(context.Background(), []model.Family{fam}, train, test)
	if err != nil {
		t.Fatal(err)
	}
	if res := rep.Results[0]; res.Trials != 1 || res.Config != "slow 300ms" {
		t.Fatalf("%d trials, chose %q; want only the default", res.Trials, res.Config)
	}
	if d := time.Since(start); d > 30*time.Second {
		t.Fatalf("took %s", d)
	}
}

func TestReport_JSON(t *testing.T) {
	t.Parallel()
	rep := &eval.Report{K: 5, Best: "b", Results: []eval.Result{
		{Name: "a", Config: "x=1", NDCG: 0.25},
		{Name: "b", Config: "y=2", NDCG: 0.5, TrainSeconds: 1.5, PeakMB: 3},
	}}
	var buf bytes.Buffer
	if err := rep.WriteJSON(&buf); err != nil {
		t.Fatal(err)
	}
	var got struct {
		Models []map[string]any `json:"models"`
		Best   string           `json:"best"`
	}
	if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
		t.Fatalf("%v: %s", err, buf.String())
	}
	want := "config coverage hr@5 mrr@5 name ndcg@5 peak_mb recall@5 train_seconds"
	for _, m := range got.Models {
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		if got := strings.Join(keys, " "); got != want {
			t.Fatalf("keys %s, want %s", got, want)
		}
	}
	if got.Best != "b" || got.Models[1]["ndcg@5"] != 0.5 || got.Models[1]["train_seconds"] != 1.5 {
		t.Fatalf("got %+v", got)
	}
}

func TestMarkers_Replace(t *testing.T) {
	t.Parallel()
	m := eval.ResultsMarkers
	doc := "intro\n" + m.Begin + "\nold\n" + m.End + "\noutro\n"
	got, err := m.Replace(doc, "new\n")
	if err != nil {
		t.Fatal(err)
	}
	if want := "intro\n" + m.Begin + "\nnew\n" + m.End + "\noutro\n"; got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
	if _, err := m.Replace("no markers", "x"); err == nil {
		t.Fatal("want an error without markers")
	}
}

func TestFamilies(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for _, f := range eval.Families(new(eval.Items).Features()) {
		if f.Name == "" || seen[f.Name] {
			t.Fatalf("family name %q empty or repeated", f.Name)
		}
		seen[f.Name] = true
		ms := f.Configs(3, 1)
		if len(ms) == 0 || len(ms) > 3 {
			t.Fatalf("%s: Configs(3) gave %d models", f.Name, len(ms))
		}
		if ms[0].Name() != f.Name {
			t.Fatalf("%s: default model is named %q", f.Name, ms[0].Name())
		}
	}
	if _, err := eval.SelectFamilies("pop,nope", nil); err == nil || !strings.Contains(err.Error(), "nope") {
		t.Fatalf("err=%v, want it to name nope", err)
	}
	if fs, err := eval.SelectFamilies("itemknn, pop", nil); err != nil || len(fs) != 2 || fs[0].Name != "itemknn" {
		t.Fatalf("SelectFamilies = %v, %v", fs, err)
	}
}

// failingModel cannot fit anything.
type failingModel struct{ antiPop }

func (m *failingModel) Fit(context.Context, *model.Dataset) error { return errors.New("too big") }

func TestHarness_FailingFamilyDoesNotStopTheOthers(t *testing.T) {
	t.Parallel()
	train, test := eval.Temporal{Frac: 0.2}.Split(zipfLog(50, 40, 10, 3))
	fams := []model.Family{
		{Name: "broken", Configs: func(int, uint64) []model.Model { return []model.Model{&failingModel{}} }},
		model.PopularityFamily(),
	}
	h := eval.NewHarness()
	h.Budget = time.Second
	rep, err := h.Run(context.Background(), fams, train, test)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Results) != 1 || rep.Results[0].Name != "pop" || len(rep.Failed) != 1 || !strings.Contains(rep.Failed[0].Err, "too big") {
		t.Fatalf("results %+v, failed %+v", rep.Results, rep.Failed)
	}
}
