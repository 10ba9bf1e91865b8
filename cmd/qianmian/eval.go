package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/qianmian/qianmian"
	"github.com/qianmian/qianmian/eval"
	"github.com/qianmian/qianmian/model"
	"github.com/qianmian/qianmian/recommend"
	"github.com/qianmian/qianmian/sim"
)

// evalOptions are the flags of qianmian eval.
type evalOptions struct {
	train, test, items      string
	dataset, split, dataDir string
	k                       int
	models                  string
	excludeSeen             bool
	excludeSeenSet          bool
	budget                  time.Duration
	budgetSet               bool
	seed                    uint64
	asJSON, quiet           bool
	interactions            int
	report                  string
	workers                 int
	protocol                eval.Protocol // from --split; nil: the dataset's own
}

// runEval evaluates model families offline: on a train and a test file, on a named public
// dataset, on a synthetic world (--dataset sim), or on every public dataset at once,
// rewriting the results table of a Markdown file (--report). "qianmian eval persona"
// cross-validates the persona classifiers instead (evalpersona.go).
func runEval(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "persona" {
		return runEvalPersona(ctx, args[1:], stdout, stderr)
	}
	o, err := parseEvalFlags(args, stderr)
	if err != nil {
		return err
	}
	logger := slog.New(slog.NewTextHandler(stderr, nil))
	if o.quiet {
		logger = slog.New(slog.DiscardHandler)
	}
	switch {
	case o.report != "":
		return o.runReport(ctx, stdout, logger)
	case o.dataset != "":
		rep, err := o.runDataset(ctx, o.dataset, logger)
		if err != nil {
			return err
		}
		return o.print(stdout, rep)
	}
	rep, err := o.runFiles(ctx, logger)
	if err != nil {
		return err
	}
	return o.print(stdout, rep)
}

func parseEvalFlags(args []string, stderr io.Writer) (*evalOptions, error) {
	o := &evalOptions{}
	fs := flag.NewFlagSet("qianmian eval", flag.ContinueOnError)
	fs.StringVar(&o.train, "train", "", "train interactions CSV: user_id,item_id,timestamp[,event][,weight]")
	fs.StringVar(&o.test, "test", "", "test interactions CSV, same columns")
	fs.StringVar(&o.items, "items", "", "items CSV: item_id and any of title, category_id, brand, price, other attributes")
	fs.StringVar(&o.dataset, "dataset", "", "public dataset instead of files: "+strings.Join(eval.DatasetNames(), ", ")+", or sim (synthetic world)")
	fs.StringVar(&o.split, "split", "", "protocol: temporal or leave-one-out (default: the dataset's own; temporal for files, used to carve validation from --train)")
	fs.StringVar(&o.dataDir, "data-dir", envOr("QIANMIAN_DATA_DIR", ""), "folder of the public datasets (default: the nearest ../shared/data upward from here) (env QIANMIAN_DATA_DIR)")
	fs.IntVar(&o.k, "k", 10, "length of each ranked list")
	fs.StringVar(&o.models, "models", "all", "comma-separated model families, or all: "+strings.Join(eval.FamilyNames(), ", "))
	fs.BoolVar(&o.excludeSeen, "exclude-seen", true, "leave items the user met in train out of the ranking; unset, a dataset picks (false for dunnhumby and diginetica, where people rebuy and re-view)")
	fs.DurationVar(&o.budget, "budget", time.Minute, "tuning time for all models together; 0 fits each model's default config (unset with --dataset sim: 0)")
	fs.Uint64Var(&o.seed, "seed", 1, "seed for the configs tried and the synthetic world")
	fs.BoolVar(&o.asJSON, "json", false, "print the results as JSON")
	fs.BoolVar(&o.quiet, "quiet", false, "no progress on stderr")
	fs.IntVar(&o.interactions, "interactions", 1_000_000, "with --dataset sim: about how many interactions the world has")
	fs.StringVar(&o.report, "report", "", "run every public dataset with the chosen models and rewrite the results table of this Markdown file (docs/quality.md); with --dataset sim, its training-time table")
	fs.IntVar(&o.workers, "workers", 2, "goroutines ranking users")
	if err := parseFlags(fs, args, stderr); err != nil {
		return nil, err
	}
	fs.Visit(func(f *flag.Flag) {
		o.excludeSeenSet = o.excludeSeenSet || f.Name == "exclude-seen"
		o.budgetSet = o.budgetSet || f.Name == "budget"
	})
	return o, o.validate(fs)
}

func (o *evalOptions) validate(fs *flag.FlagSet) error {
	if fs.NArg() > 0 {
		return usagef("eval: unexpected argument %q", fs.Arg(0))
	}
	switch {
	case o.k < 1:
		return usagef("eval: --k must be at least 1, not %d", o.k)
	case o.budget < 0:
		return usagef("eval: --budget must not be negative, not %s", o.budget)
	case o.workers < 1:
		return usagef("eval: --workers must be at least 1, not %d", o.workers)
	case o.interactions < 1000:
		return usagef("eval: --interactions must be at least 1000, not %d", o.interactions)
	}
	var err error
	if _, err = eval.SelectFamilies(o.models, new(eval.Items).Features()); err != nil {
		return usagef("eval: --models: %s", err.Error())
	}
	switch o.split {
	case "":
	case "temporal":
		o.protocol = eval.Temporal{Frac: 0.2}
	case "leave-one-out":
		o.protocol = eval.LeaveOneOut{}
	default:
		return usagef("eval: --split must be temporal or leave-one-out, not %q", o.split)
	}
	files := o.train != "" || o.test != ""
	switch {
	case o.report != "" && (files || (o.dataset != "" && o.dataset != "sim") || o.split != ""):
		return usagef("eval: --report runs every public dataset by its own protocol (or, with --dataset sim, the benchmark): drop --train, --test, --split and other --dataset values")
	case o.dataset != "" && files:
		return usagef("eval: give either --dataset or --train and --test, not both")
	case o.report == "" && o.dataset == "" && (o.train == "" || o.test == ""):
		return usagef("eval: give --train and --test files, or --dataset NAME (%s, sim), or --report FILE", strings.Join(eval.DatasetNames(), ", "))
	case o.items != "" && !files:
		return usagef("eval: --items goes with --train and --test")
	}
	if o.dataset != "" && o.dataset != "sim" && !slices.Contains(eval.DatasetNames(), o.dataset) {
		return usagef("eval: --dataset must be one of %s or sim, not %q", strings.Join(eval.DatasetNames(), ", "), o.dataset)
	}
	return nil
}

// familiesFor returns the families --models names, over the attributes of items (nil when
// there are none).
func (o *evalOptions) familiesFor(items *eval.Items) []model.Family {
	fams, err := eval.SelectFamilies(o.models, items.Features())
	if err != nil {
		panic(err) // validate checked the names
	}
	return fams
}

// harness returns a Harness set up from the flags, for a split judged by protocol whose
// domain excludes seen items or not.
func (o *evalOptions) harness(p eval.Protocol, excludeSeen bool, logger *slog.Logger) *eval.Harness {
	h := eval.NewHarness()
	h.K, h.Budget, h.Seed, h.Workers, h.Logger = o.k, o.budget, o.seed, o.workers, logger
	h.Protocol = p
	h.ExcludeSeen = excludeSeen
	if o.excludeSeenSet {
		h.ExcludeSeen = o.excludeSeen
	}
	return h
}

// runFiles evaluates on --train and --test, carving validation from train with --split.
func (o *evalOptions) runFiles(ctx context.Context, logger *slog.Logger) (*eval.Report, error) {
	train, err := readInteractionsFlag("train", o.train)
	if err != nil {
		return nil, err
	}
	test, err := readInteractionsFlag("test", o.test)
	if err != nil {
		return nil, err
	}
	var items *eval.Items
	if o.items != "" {
		if items, err = readItemsFlag(o.items); err != nil {
			return nil, err
		}
		logger.Info("items read", "items", items.Len())
	}
	p := o.protocol
	if p == nil {
		p = eval.Temporal{Frac: 0.2}
	}
	rep, err := o.harness(p, true, logger).Run(ctx, o.familiesFor(items), train, test)
	if err != nil {
		return nil, err
	}
	rep.Dataset, rep.Protocol = filepath.Base(o.train), "given test file (validation: "+p.Name()+")"
	return rep, nil
}

func readInteractionsFlag(flagName, path string) ([]eval.Interaction, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, usagef("eval: --%s: %v", flagName, err)
	}
	defer f.Close()
	log, err := eval.ReadInteractions(f)
	if err != nil {
		return nil, fileError(flagName, path, err)
	}
	if len(log) == 0 {
		return nil, usagef("eval: --%s %s: no interactions", flagName, path)
	}
	return log, nil
}

func readItemsFlag(path string) (*eval.Items, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, usagef("eval: --items: %v", err)
	}
	defer f.Close()
	items, err := eval.ReadItems(f)
	if err != nil {
		return nil, fileError("items", path, err)
	}
	return items, nil
}

// fileError names the flag, the file and the column of a bad input file.
func fileError(flagName, path string, err error) error {
	if qianmian.ErrorCode(err) == qianmian.EINVALID {
		return usagef("eval: --%s %s: column %s: %s", flagName, path, qianmian.ErrorField(err), qianmian.ErrorMessage(err))
	}
	return fmt.Errorf("eval: --%s %s: %w", flagName, path, err)
}

// runDataset evaluates on a public dataset, or on a synthetic world for "sim".
func (o *evalOptions) runDataset(ctx context.Context, name string, logger *slog.Logger) (*eval.Report, error) {
	var src *eval.Source
	var err error
	if name == "sim" {
		if !o.budgetSet {
			o.budget = 0 // a training-time benchmark: the defaults, fitted once
		}
		src, err = o.simSource(logger)
	} else {
		src, err = o.loadDataset(name, logger)
	}
	if err != nil {
		return nil, err
	}
	if o.protocol != nil {
		src.Protocol = o.protocol
	}
	train, test := src.Protocol.Split(src.Log)
	logger.Info("dataset", "name", src.Name, "interactions", len(src.Log), "protocol", src.Protocol.Name(),
		"train", len(train), "test", len(test), "items_with_attributes", src.Items.Len())
	rep, err := o.harness(src.Protocol, src.ExcludeSeen, logger).Run(ctx, o.familiesFor(src.Items), train, test)
	if err != nil {
		return nil, fmt.Errorf("eval %s: %w", name, err)
	}
	rep.Dataset, rep.Protocol = src.Name, src.Protocol.Name()
	return rep, nil
}

func (o *evalOptions) loadDataset(name string, logger *slog.Logger) (*eval.Source, error) {
	dir := o.dataDir
	if dir == "" {
		dir = findDataDir()
	}
	if dir == "" {
		return nil, usagef("eval: --data-dir: no ../shared/data found upward from here; name the folder of the public datasets")
	}
	if _, err := os.Stat(dir); err != nil {
		return nil, usagef("eval: --data-dir: %v", err)
	}
	logger.Info("reading dataset", "name", name, "dir", dir)
	src, err := eval.LoadDataset(dir, name)
	if err != nil {
		return nil, fmt.Errorf("eval: read %s: %w", name, err)
	}
	return src, nil
}

// findDataDir returns the first shared/data folder beside the working directory or one of
// its parents (the repository sits next to it), or "".
func findDataDir() string {
	dir, err := os.Getwd()
	if err != nil {
		return ""
	}
	for {
		parent := filepath.Dir(dir)
		cand := filepath.Join(parent, "shared", "data")
		if st, err := os.Stat(cand); err == nil && st.IsDir() {
			return cand
		}
		if parent == dir {
			return ""
		}
		dir = parent
	}
}

// simSource grows the synthetic world until it has about o.interactions item interactions:
// a pilot world of 2,000 consumers gives the interactions per consumer, and the world is
// scaled by its number of consumers. Events become interactions with the serving engine's
// event weights; events without an item signal (searches, visits, impressions) are dropped.
func (o *evalOptions) simSource(logger *slog.Logger) (*eval.Source, error) {
	cfg := sim.DefaultConfig()
	cfg.Seed = o.seed
	const pilotUsers = 2000
	cfg.Users = pilotUsers
	pilot, _, err := simInteractions(cfg)
	if err != nil {
		return nil, err
	}
	perUser := float64(len(pilot)) / pilotUsers
	cfg.Users = max(pilotUsers, int(math.Ceil(float64(o.interactions)/perUser)))
	logger.Info("generating synthetic world", "users", cfg.Users, "items", cfg.Items, "weeks", cfg.Weeks,
		"interactions_per_user", round2(perUser), "target_interactions", o.interactions)
	start := time.Now()
	log, items, err := simInteractions(cfg)
	if err != nil {
		return nil, err
	}
	logger.Info("world generated", "interactions", len(log), "seconds", round2(time.Since(start).Seconds()))
	return &eval.Source{Name: fmt.Sprintf("sim-%dk", (len(log)+500)/1000), Log: log, Items: items,
		Protocol: eval.Temporal{Frac: 0.2}, ExcludeSeen: true}, nil
}

// simInteractions generates the world of cfg and returns its interactions and catalogue.
func simInteractions(cfg sim.Config) ([]eval.Interaction, *eval.Items, error) {
	w, err := sim.Generate(cfg)
	if err != nil {
		return nil, nil, fmt.Errorf("generate world: %w", err)
	}
	items := &eval.Items{}
	for _, it := range w.Items {
		attrs := make([]string, 0, len(it.Attributes)+len(it.Tags))
		for _, k := range slices.Sorted(maps.Keys(it.Attributes)) {
			attrs = append(attrs, k+"="+it.Attributes[k])
		}
		for _, t := range it.Tags {
			attrs = append(attrs, "tag="+t)
		}
		items.Add(eval.Item{ID: it.ID, Title: it.Title, Category: it.Category, Brand: it.Brand, Price: it.Price, Attrs: attrs})
	}
	weights := recommend.DefaultEventWeights()
	var log []eval.Interaction
	for e := range w.Events() {
		wt := weights.Of(e)
		if wt == 0 || e.Subject() == "" {
			continue
		}
		log = append(log, eval.Interaction{User: e.Subject(), Item: e.ItemID, Time: e.OccurredAt.Unix(), Weight: wt})
	}
	return log, items, nil
}

func round2(x float64) float64 { return math.Round(x*100) / 100 }

// runReport runs every public dataset (or, with --dataset sim, the synthetic benchmark)
// and rewrites its section of the Markdown file o.report, printing each table as it
// finishes.
func (o *evalOptions) runReport(ctx context.Context, stdout io.Writer, logger *slog.Logger) error {
	doc, err := os.ReadFile(o.report)
	if err != nil {
		return usagef("eval: --report: %v", err)
	}
	names, markers := eval.DatasetNames(), eval.ResultsMarkers
	if o.dataset == "sim" {
		names, markers = []string{"sim"}, eval.SimMarkers
	}
	if _, err := markers.Replace(string(doc), ""); err != nil {
		return usagef("eval: --report %s: %s", o.report, err.Error())
	}
	var reports []*eval.Report
	for k, name := range names {
		logger.Info("report", "dataset", name, "step", fmt.Sprintf("%d/%d", k+1, len(names)))
		rep, err := o.runDataset(ctx, name, logger)
		if err != nil {
			return err
		}
		if err := o.print(stdout, rep); err != nil {
			return err
		}
		reports = append(reports, rep)
	}
	// Read the file again: it may have been edited while the datasets ran.
	if doc, err = os.ReadFile(o.report); err != nil {
		return err
	}
	out, err := markers.Replace(string(doc), o.reportHeader()+eval.Markdown(reports))
	if err != nil {
		return err
	}
	if err := os.WriteFile(o.report, []byte(out), 0o644); err != nil {
		return err
	}
	logger.Info("report written", "file", o.report)
	return nil
}

// reportHeader says when and by which command a report section was generated.
func (o *evalOptions) reportHeader() string {
	var fams []string
	for _, f := range o.familiesFor(nil) {
		fams = append(fams, f.Name)
	}
	cmd := fmt.Sprintf("qianmian eval --report %s --models %s --budget %s --seed %d --k %d",
		o.report, strings.Join(fams, ","), o.budget, o.seed, o.k)
	what := "tuning budget per dataset, shared by the models"
	if o.dataset == "sim" {
		cmd = fmt.Sprintf("qianmian eval --dataset sim --interactions %d --report %s --models %s --budget %s --seed %d --k %d",
			o.interactions, o.report, strings.Join(fams, ","), o.budget, o.seed, o.k)
		what = "each family's default config, fitted once"
	}
	return fmt.Sprintf("Generated %s by `%s` (%s) on a 2-core machine shared with other work: seconds and MB are noisy.\n\n",
		time.Now().UTC().Format(time.DateOnly), cmd, what)
}

func (o *evalOptions) print(w io.Writer, rep *eval.Report) error {
	if o.asJSON {
		return rep.WriteJSON(w)
	}
	return rep.WriteTable(w)
}
