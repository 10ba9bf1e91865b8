package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/qianmian/qianmian"
)

// errHelp is returned when -h was asked for; the flag package has printed the usage.
var errHelp = flag.ErrHelp

func parseFlags(fs *flag.FlagSet, args []string, stderr io.Writer) error {
	fs.SetOutput(stderr)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return errHelp
		}
		return usagef("%v", err)
	}
	return nil
}

// runServe serves until ctx is cancelled (SIGINT, SIGTERM), then shuts down gracefully.
func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	m := NewMain(stderr)
	fs := flag.NewFlagSet("qianmian serve", flag.ContinueOnError)
	m.Config.serveFlags(fs)
	if err := parseFlags(fs, args, stderr); err != nil {
		return err
	}
	m.Logger = m.Config.newLogger(stderr)
	defer m.Close()
	if err := m.OpenStorage(ctx); err != nil {
		return err
	}
	if err := m.OpenServing(ctx); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "qianmian serving at %s\n", m.Server.URL())
	<-ctx.Done()
	m.Logger.Info("shutting down")
	return m.Close()
}

// runImport loads files through the same validation as the API and prints a summary.
func runImport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	m := NewMain(stderr)
	fs := flag.NewFlagSet("qianmian import", flag.ContinueOnError)
	m.Config.storageFlags(fs)
	kind := fs.String("kind", "", "kind of records in every file: "+strings.Join(kinds, ", ")+" (default: from each file's name)")
	asJSON := fs.Bool("json", false, "print the summary as JSON")
	if err := parseFlags(fs, args, stderr); err != nil {
		return err
	}
	files := fs.Args()
	if len(files) == 0 {
		return usagef("import: name at least one file")
	}
	if *kind != "" && !isKind(*kind) {
		return usagef("import: --kind must be one of %s, not %q", strings.Join(kinds, ", "), *kind)
	}
	kindFor := func(f string) string {
		if *kind != "" {
			return *kind
		}
		return kindOf(f)
	}
	for _, f := range files {
		if kindFor(f) == "" {
			return usagef("import: cannot tell what %s holds from its name; use --kind", f)
		}
		if _, err := os.Stat(f); err != nil {
			return usagef("import: %v", err)
		}
	}
	sortByKind(files, kindFor)
	m.Logger = m.Config.newLogger(stderr)
	defer m.Close()
	if err := m.OpenStorage(ctx); err != nil {
		return err
	}
	l := m.loader(stderr)
	var sums []*loadSummary
	for _, f := range files {
		sum, err := l.LoadFile(ctx, f, kindFor(f))
		if err != nil {
			return fmt.Errorf("import %s: %w", f, err)
		}
		sums = append(sums, sum)
	}
	if *asJSON {
		return json.NewEncoder(stdout).Encode(sums)
	}
	printSummaries(stdout, sums)
	return m.Close()
}

func isKind(k string) bool {
	for _, x := range kinds {
		if x == k {
			return true
		}
	}
	return false
}

func printSummaries(w io.Writer, sums []*loadSummary) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "FILE\tKIND\tRECORDS\tACCEPTED\tDUPLICATES\tREJECTED\tSECONDS")
	for _, s := range sums {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%d\t%.1f\n", s.File, s.Kind, s.Records, s.Accepted, s.Duplicates, s.Rejected, s.Seconds)
	}
	tw.Flush()
	for _, s := range sums {
		if len(s.Reasons) == 0 {
			continue
		}
		fmt.Fprintf(w, "\nrejected in %s, by reason:\n", s.File)
		reasons := make([]string, 0, len(s.Reasons))
		for r := range s.Reasons {
			reasons = append(reasons, r)
		}
		sort.Slice(reasons, func(i, j int) bool { return s.Reasons[reasons[i]] > s.Reasons[reasons[j]] })
		for _, r := range reasons {
			fmt.Fprintf(w, "  %7d  %s\n", s.Reasons[r], r)
		}
	}
}

// runTrain trains once, publishes the model and prints its version and validation metrics.
func runTrain(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	m := NewMain(stderr)
	fs := flag.NewFlagSet("qianmian train", flag.ContinueOnError)
	m.Config.storageFlags(fs)
	fs.StringVar(&m.Config.DebugAddr, "debug-addr", envOr("QIANMIAN_DEBUG_ADDR", m.Config.DebugAddr),
		"listen address of the Go profiler (/debug/pprof/, heap profiles of a training run); empty serves none (env QIANMIAN_DEBUG_ADDR)")
	if err := parseFlags(fs, args, stderr); err != nil {
		return err
	}
	m.Logger = m.Config.newLogger(stderr)
	defer m.Close()
	if err := m.openDebug(); err != nil {
		return err
	}
	if err := m.OpenStorage(ctx); err != nil {
		return err
	}
	blob, err := m.newTrainer().TrainOnce(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "published model %s version %d\n", blob.Name, blob.Version)
	if blob.Metrics != "" {
		fmt.Fprintf(stdout, "metrics: %s\n", blob.Metrics)
		printValidation(stdout, blob.Metrics)
	}
	return m.Close()
}

// trainMetrics is the part of a model's metrics the validation table shows.
type trainMetrics struct {
	Seconds    float64 `json:"seconds"`
	Learned    string  `json:"learned"`
	Validation *struct {
		Protocol string `json:"protocol"`
		Subjects int    `json:"subjects"`
		Models   []struct {
			Name         string  `json:"name"`
			Config       string  `json:"config"`
			NDCG         float64 `json:"ndcg@10"`
			HR           float64 `json:"hr@10"`
			TrainSeconds float64 `json:"train_seconds"`
			Skipped      string  `json:"skipped"`
		} `json:"models"`
		RefitSeconds float64 `json:"refit_seconds"`
	} `json:"validation"`
}

// printValidation prints the validation table of a model's metrics, if it has one.
func printValidation(w io.Writer, metrics string) {
	var tm trainMetrics
	if json.Unmarshal([]byte(metrics), &tm) != nil || tm.Validation == nil {
		return
	}
	v := tm.Validation
	fmt.Fprintf(w, "\nvalidation on %d subjects (%s)\n", v.Subjects, v.Protocol)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "MODEL\tNDCG@10\tHR@10\tTRAIN_S\tCONFIG")
	for _, r := range v.Models {
		if r.Skipped != "" {
			fmt.Fprintf(tw, "%s\t-\t-\t-\tskipped: %s\n", r.Name, r.Skipped)
			continue
		}
		mark := ""
		if r.Name == tm.Learned {
			mark = " *"
		}
		fmt.Fprintf(tw, "%s%s\t%.4f\t%.4f\t%.1f\t%s\n", r.Name, mark, r.NDCG, r.HR, r.TrainSeconds, r.Config)
	}
	tw.Flush()
	if tm.Learned == "" {
		fmt.Fprintln(w, "no learned model beat popularity: serving co-occurrence and popularity only")
	} else {
		fmt.Fprintf(w, "* published: %s, refitted on all interactions in %.1f s; training took %.1f s in all\n", tm.Learned, v.RefitSeconds, tm.Seconds)
	}
}

// runKeys issues an API key and prints the secret, which is shown only this once.
func runKeys(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "create" {
		return usagef("keys: usage: qianmian keys create --role operator|supplier|store|consumer [--id ID]")
	}
	m := NewMain(stderr)
	fs := flag.NewFlagSet("qianmian keys create", flag.ContinueOnError)
	m.Config.storageFlags(fs)
	role := fs.String("role", "", "operator, supplier, store or consumer")
	id := fs.String("id", "", "the supplier, store or consumer the key speaks for (not for operator)")
	asJSON := fs.Bool("json", false, "print the key as JSON")
	if err := parseFlags(fs, args[1:], stderr); err != nil {
		return err
	}
	p := qianmian.Principal{Role: qianmian.Role(*role), ID: *id}
	if err := p.Validate(); err != nil {
		return usagef("keys create: --%s: %s", qianmian.ErrorField(err), qianmian.ErrorMessage(err))
	}
	m.Logger = m.Config.newLogger(stderr)
	defer m.Close()
	if err := m.OpenStorage(ctx); err != nil {
		return err
	}
	if err := checkPrincipalExists(ctx, m, p); err != nil {
		return err
	}
	key, token, err := m.Keys.CreateKey(ctx, p)
	if err != nil {
		return err
	}
	if *asJSON {
		return json.NewEncoder(stdout).Encode(map[string]any{"id": key.ID, "role": p.Role, "principal_id": p.ID, "token": token})
	}
	fmt.Fprintln(stdout, token)
	return m.Close()
}

// checkPrincipalExists refuses keys for a store or supplier that does not exist, a likely typo.
func checkPrincipalExists(ctx context.Context, m *Main, p qianmian.Principal) error {
	var err error
	switch p.Role {
	case qianmian.RoleStore:
		_, err = m.Stores.FindStoreByID(ctx, p.ID)
	case qianmian.RoleSupplier:
		_, err = m.Suppliers.FindSupplierByID(ctx, p.ID)
	}
	if qianmian.ErrorCode(err) == qianmian.ENOTFOUND {
		return usagef("keys create: --id: no %s %q", p.Role, p.ID)
	}
	return err
}

// runMigrate creates or upgrades the database and exits.
func runMigrate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	m := NewMain(stderr)
	fs := flag.NewFlagSet("qianmian migrate", flag.ContinueOnError)
	m.Config.storageFlags(fs)
	if err := parseFlags(fs, args, stderr); err != nil {
		return err
	}
	m.Logger = m.Config.newLogger(stderr)
	defer m.Close()
	if err := m.OpenStorage(ctx); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "database %s is up to date\n", m.Config.DSN)
	return m.Close()
}
