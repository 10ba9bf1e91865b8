package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/qianmian/qianmian/eval"
	"github.com/qianmian/qianmian/persona"
)

// personaOptions are the flags of qianmian eval persona.
type personaOptions struct {
	dataset, dataDir, targets string
	folds, workers            int
	seed                      uint64
	asJSON, quiet             bool
}

// runEvalPersona cross-validates the persona classifiers on a public dataset with declared
// demographics: every target's AUC and accuracy against its baseline, with calibration.
func runEvalPersona(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	o, err := parsePersonaFlags(args, stderr)
	if err != nil {
		return err
	}
	logger := slog.New(slog.NewTextHandler(stderr, nil))
	if o.quiet {
		logger = slog.New(slog.DiscardHandler)
	}
	dir := o.dataDir
	if dir == "" {
		dir = findDataDir()
	}
	if dir == "" {
		return usagef("eval persona: --data-dir: no ../shared/data found upward from here; name the folder of the public datasets")
	}
	if _, err := os.Stat(dir); err != nil {
		return usagef("eval persona: --data-dir: %v", err)
	}
	start := time.Now()
	logger.Info("reading dataset", "name", o.dataset, "dir", dir)
	src, err := eval.LoadPersonaDataset(dir, o.dataset)
	if err != nil {
		return fmt.Errorf("eval persona: read %s: %w", o.dataset, err)
	}
	rep, err := o.run(ctx, src, logger)
	if err != nil {
		return err
	}
	rep.Seconds = math.Round(time.Since(start).Seconds()*10) / 10
	logger.Info("done", "dataset", o.dataset, "seconds", rep.Seconds)
	if o.asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	return rep.writeTable(stdout)
}

func parsePersonaFlags(args []string, stderr io.Writer) (*personaOptions, error) {
	o := &personaOptions{}
	fs := flag.NewFlagSet("qianmian eval persona", flag.ContinueOnError)
	names := strings.Join(eval.PersonaDatasetNames(), ", ")
	fs.StringVar(&o.dataset, "dataset", "", "dataset with declared demographics: "+names)
	fs.StringVar(&o.dataDir, "data-dir", envOr("QIANMIAN_DATA_DIR", ""), "folder of the public datasets (default: the nearest ../shared/data upward from here) (env QIANMIAN_DATA_DIR)")
	fs.StringVar(&o.targets, "targets", "", "comma-separated targets to run (default: all of the dataset's)")
	fs.IntVar(&o.folds, "folds", 5, "stratified cross-validation folds")
	fs.Uint64Var(&o.seed, "seed", 1, "seed of the folds and the SVD")
	fs.IntVar(&o.workers, "workers", 2, "folds fitted at once")
	fs.BoolVar(&o.asJSON, "json", false, `print {"tasks": [{"target", "metric", "value", "baseline", …}]}`)
	fs.BoolVar(&o.quiet, "quiet", false, "no progress on stderr")
	if err := parseFlags(fs, args, stderr); err != nil {
		return nil, err
	}
	switch {
	case fs.NArg() > 0:
		return nil, usagef("eval persona: unexpected argument %q", fs.Arg(0))
	case o.dataset == "":
		return nil, usagef("eval persona: --dataset is required: one of %s", names)
	case !slices.Contains(eval.PersonaDatasetNames(), o.dataset):
		return nil, usagef("eval persona: --dataset must be one of %s, not %q", names, o.dataset)
	case o.folds < 2 || o.folds > 20:
		return nil, usagef("eval persona: --folds must be between 2 and 20, not %d", o.folds)
	case o.workers < 1:
		return nil, usagef("eval persona: --workers must be at least 1, not %d", o.workers)
	}
	return o, nil
}

// personaFeatures returns the feature blocks for a dataset. MovieLens ratings carry taste:
// the films, weighted by their rating and by IDF^1.5 (rare films say more than
// blockbusters), and a 32-dimensional SVD of them; genres, activity and rating times added
// nothing there. dunnhumby uses the retail defaults, with times in US Central.
func personaFeatures(dataset string) persona.FeatureConfig {
	fc := persona.DefaultFeatureConfig()
	switch dataset {
	case "movielens-100k":
		fc = persona.FeatureConfig{Items: 1, ItemWeights: true, IDFPower: 1.5, SVD: 0.3, SVDDims: 32, MinUsers: 2, Seed: 1}
	case "dunnhumby":
		fc.TZOffset = -5 * 3600 // receipts are stamped in UTC; daylight saving ignored
	}
	return fc
}

// personaReport is what eval persona prints.
type personaReport struct {
	Dataset  string          `json:"dataset"`
	Folds    int             `json:"folds"`
	Seed     uint64          `json:"seed"`
	Features json.RawMessage `json:"features"`
	Seconds  float64         `json:"seconds"`
	Tasks    []personaTask   `json:"tasks"`
}

// personaTask is one figure of one target, with the target's calibration beside it.
type personaTask struct {
	Target        string      `json:"target"`
	Metric        string      `json:"metric"`
	Value         jsonFloat   `json:"value"`
	Baseline      jsonFloat   `json:"baseline"`
	N             int         `json:"n"`
	Classes       []string    `json:"classes"`
	Folds         []jsonFloat `json:"folds"`
	Brier         jsonFloat   `json:"brier"`
	BrierBaseline jsonFloat   `json:"brier_baseline"`
	ECE           jsonFloat   `json:"ece"`
	LogLoss       jsonFloat   `json:"log_loss"`
}

// run cross-validates every target of src.
func (o *personaOptions) run(ctx context.Context, src *eval.PersonaSource, logger *slog.Logger) (*personaReport, error) {
	users, hs := personaHistories(src)
	targets := src.Demographics.Targets
	if o.targets != "" {
		targets = strings.Split(o.targets, ",")
		for _, t := range targets {
			if !slices.Contains(src.Demographics.Targets, t) {
				return nil, usagef("eval persona: --targets: %s has no target %q (it has %s)", src.Name, t, strings.Join(src.Demographics.Targets, ", "))
			}
		}
	}
	fc := personaFeatures(src.Name)
	blob, _ := json.Marshal(fc)
	rep := &personaReport{Dataset: src.Name, Folds: o.folds, Seed: o.seed, Features: blob}
	logger.Info("dataset", "name", src.Name, "consumers", len(users), "interactions", len(src.Log), "items_with_tokens", len(src.Tokens))
	for _, target := range targets {
		task := personaTaskOf(src.Demographics, target, users)
		cfg := persona.CVConfig{Folds: o.folds, Seed: o.seed, Workers: o.workers, Features: fc,
			Progress: func(target string, fold, folds int) {
				logger.Info("persona fold", "dataset", src.Name, "target", target, "fold", fmt.Sprintf("%d/%d", fold, folds))
			}}
		res, err := persona.CrossValidate(ctx, hs, persona.Catalog(src.Tokens), task, cfg)
		if err != nil {
			return nil, fmt.Errorf("eval persona %s %s: %w", src.Name, target, err)
		}
		logger.Info("persona target", "dataset", src.Name, "target", target, "n", res.N, "macro_auc", float64(r4(res.MacroAUC)),
			"accuracy", float64(r4(res.Accuracy)), "majority", float64(r4(res.Majority)), "lambdas", res.Lambdas)
		rep.Tasks = append(rep.Tasks, personaRows(res)...)
	}
	return rep, nil
}

// personaHistories groups the log by consumer, in id order, and adds the declared consumers
// with no interactions as empty histories.
func personaHistories(src *eval.PersonaSource) ([]string, []persona.History) {
	by := map[string]persona.History{}
	for k, x := range src.Log {
		e := persona.Event{Item: x.Item, Weight: float64(x.Weight), Time: x.Time}
		if src.Context != nil {
			e.Tokens = src.Context[k]
		}
		if src.Amount != nil {
			e.Amount = src.Amount[k]
		}
		by[x.User] = append(by[x.User], e)
	}
	for u := range src.Demographics.Labels {
		if _, ok := by[u]; !ok {
			by[u] = nil
		}
	}
	users := make([]string, 0, len(by))
	for u := range by {
		users = append(users, u)
	}
	slices.SortFunc(users, eval.CompareIDs)
	hs := make([]persona.History, len(users))
	for i, u := range users {
		hs[i] = by[u]
	}
	return users, hs
}

// personaTaskOf returns target's task over users: each one's class index, −1 if undeclared.
func personaTaskOf(d *eval.Demographics, target string, users []string) persona.Task {
	classes := d.Classes[target]
	labels := make([]int, len(users))
	for i, u := range users {
		labels[i] = slices.Index(classes, d.Labels[u][target])
	}
	return persona.Task{Target: target, Classes: classes, Labels: labels}
}

// personaRows turns a result into its report rows: AUC and accuracy for two classes,
// accuracy and macro AUC for more.
func personaRows(res *persona.CVResult) []personaTask {
	base := personaTask{Target: res.Target, N: res.N, Classes: res.Classes, Brier: r4(res.Brier),
		BrierBaseline: r4(res.BrierBaseline), ECE: r4(res.ECE), LogLoss: r4(res.LogLoss)}
	auc, acc := base, base
	auc.Metric, auc.Value, auc.Baseline, auc.Folds = "auc", r4(res.AUC), 0.5, r4s(res.FoldAUC)
	acc.Metric, acc.Value, acc.Baseline, acc.Folds = "accuracy", r4(res.Accuracy), r4(res.Majority), r4s(res.FoldAccuracy)
	if len(res.Classes) == 2 {
		return []personaTask{auc, acc}
	}
	auc.Metric, auc.Value, auc.Folds = "macro_auc", r4(res.MacroAUC), nil
	return []personaTask{acc, auc}
}

// jsonFloat is a figure rounded to four decimals that prints as null when undefined (an AUC
// over a fold with one class).
type jsonFloat float64

func (f jsonFloat) MarshalJSON() ([]byte, error) {
	if math.IsNaN(float64(f)) || math.IsInf(float64(f), 0) {
		return []byte("null"), nil
	}
	return json.Marshal(float64(f))
}

func r4(x float64) jsonFloat { return jsonFloat(math.Round(x*1e4) / 1e4) }

func r4s(xs []float64) []jsonFloat {
	out := make([]jsonFloat, len(xs))
	for i, x := range xs {
		out[i] = r4(x)
	}
	return out
}

// writeTable prints the report as an aligned table.
func (r *personaReport) writeTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "dataset\ttarget\tmetric\tvalue\tbaseline\tn\tbrier\tbrier_base\tece")
	for _, t := range r.Tasks {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%.4f\t%.4f\t%d\t%.4f\t%.4f\t%.4f\n", r.Dataset, t.Target, t.Metric,
			t.Value, t.Baseline, t.N, t.Brier, t.BrierBaseline, t.ECE)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintf(w, "%d-fold stratified CV, seed %d, %.1fs\n", r.Folds, r.Seed, r.Seconds)
	return err
}
