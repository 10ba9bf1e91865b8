package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/qianmian/qianmian/bench"
)

const benchUsage = `Usage: qianmian bench SCENARIO --url BASE_URL --key KEY [--concurrency N | --rate R]
                      [--duration D] [--requests N] [--batch N] [--json]
       qianmian bench SCENARIO --demo DIR/demo.json ...

Drives a running qianmian server over HTTP and reports requests/s, latency percentiles
(p50, p95, p99, max, in ms), errors by status, and GET /healthz/s as the ceiling of the
HTTP stack, measured in the same run: a closed loop at the same concurrency (8 for an open
loop) for min(duration/4, 3s) before the main phase. Before the run it lists, with the
operator key, up to 2,000 users, 1,000 stores and (ingest, mixed) 20,000 items and the
stock of up to 50 stores.
Progress and notes go to stderr; the result to stdout. The run stops by itself: after
--duration (plus a grace of at most 10 s for requests in flight) or --requests.

Scenarios:
  recommend  GET /v1/stores/{store}/recommendations?user={user}&n=10 over random
             (user, store) pairs.
  ingest     POST /v1/events, --batch events a request (default 1000): valid synthetic
             events with fresh ids (never duplicates) of known users, stores and items the
             store stocks. Also reports events/s (accepted by the server).
  mixed      90% recommend, 10% ingest of small batches (--batch, default 10); per-kind
             figures in by_op.
  freshness  A probe takes a visitor whose ranking at a store is personalised, POSTs a
             purchase of the item ranked first, and polls the ranking (every 1 ms) until
             that item is gone: the engine excludes items the visitor bought unless they
             are due for a restock, days later. Freshness is the time from the POST's 2xx
             to the answer of the first GET without the item (so it includes one GET);
             probes give up after 5 s (reflection_timeouts). In this scenario p50_ms …
             max_ms are freshness delays, http_p50_ms … the request latencies, and
             --requests counts probes.

Loops:
  --concurrency N  closed loop: N workers send back to back (default 8).
  --rate R         open loop: R requests/s on a fixed timetable; latency is measured from
                   each request's scheduled time, so a server (or generator) that falls
                   behind shows in the percentiles instead of being hidden; the JSON says
                   behind=true, with unsent requests and the send lag, when the timetable
                   was not kept. Up to R/4 requests (at least 16, at most 512) are in
                   flight, a quarter of a second's worth.

Requests still in flight when the grace after --duration runs out are cancelled and
counted as errors with status "timeout"; requests that got no answer as "transport".

--json prints one JSON object: scenario, mode, concurrency, rate, duration_s, requests,
requests_per_s, p50_ms, p95_ms, p99_ms, max_ms, mean_ms, errors, errors_by_status,
healthz_per_s, hiccup_p50_ms, hiccup_p99_ms, hiccup_max_ms, hiccup_over_5ms and
hiccup_sleeps (how late a 1 ms sleep in the generator woke during the run: stalls of the
machine that any latency may include), and events_per_s (ingest, mixed), reflections
(freshness), by_op (mixed).

Flags:
`

// parseBenchFlags parses the command line of qianmian bench. The scenario may come before
// or after the flags.
func parseBenchFlags(args []string, stderr io.Writer) (bench.Config, bool, Config, error) {
	var cfg bench.Config
	logCfg := Config{LogLevel: "info", LogFormat: "text"}
	fs := flag.NewFlagSet("qianmian bench", flag.ContinueOnError)
	fs.StringVar(&cfg.BaseURL, "url", envOr("QIANMIAN_URL", ""), "base URL of the server, e.g. http://127.0.0.1:8080 (env QIANMIAN_URL)")
	fs.StringVar(&cfg.Key, "key", envOr("QIANMIAN_KEY", ""), "operator API key (env QIANMIAN_KEY)")
	demo := fs.String("demo", "", "read --url and --key (the operator key) from the demo's demo.json")
	fs.IntVar(&cfg.Concurrency, "concurrency", 0, fmt.Sprintf("closed loop of N workers (default %d)", bench.DefaultConcurrency))
	fs.Float64Var(&cfg.Rate, "rate", 0, "open loop at R requests a second instead of a closed loop")
	fs.DurationVar(&cfg.Duration, "duration", bench.DefaultDuration, "how long the main phase runs")
	fs.Int64Var(&cfg.Requests, "requests", 0, "stop after N requests (freshness: N probes); 0: no cap within --duration")
	fs.IntVar(&cfg.Batch, "batch", 0, fmt.Sprintf("events a request: ingest (default %d) and mixed (default %d)", bench.DefaultBatch, bench.DefaultMixedBatch))
	fs.IntVar(&cfg.MaxUsers, "users", bench.DefaultMaxUsers, "list at most this many users to pick visitors from")
	fs.IntVar(&cfg.MaxStores, "stores", bench.DefaultMaxStores, "list at most this many stores to rank and post events at")
	asJSON := fs.Bool("json", false, "print the result as one JSON object")
	logCfg.logFlags(fs)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), benchUsage)
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args, stderr); err != nil {
		return cfg, false, logCfg, err
	}
	if fs.NArg() == 0 {
		return cfg, false, logCfg, usagef("bench: name a scenario: %s", strings.Join(bench.Scenarios, ", "))
	}
	cfg.Scenario = fs.Arg(0)
	if err := parseFlags(fs, fs.Args()[1:], stderr); err != nil {
		return cfg, false, logCfg, err
	}
	if fs.NArg() > 0 {
		return cfg, false, logCfg, usagef("bench: unexpected argument %q: give one scenario", fs.Arg(0))
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	switch {
	case set["concurrency"] && cfg.Concurrency < 1:
		return cfg, false, logCfg, usagef("bench: --concurrency must be at least 1, not %d", cfg.Concurrency)
	case set["rate"] && !(cfg.Rate > 0):
		return cfg, false, logCfg, usagef("bench: --rate must be a positive number of requests a second, not %v", cfg.Rate)
	case cfg.Duration <= 0:
		return cfg, false, logCfg, usagef("bench: --duration must be positive, not %s", cfg.Duration)
	case set["batch"] && cfg.Batch < 1:
		return cfg, false, logCfg, usagef("bench: --batch must be between 1 and %d events, not %d", bench.MaxBatch, cfg.Batch)
	case cfg.MaxUsers < 1:
		return cfg, false, logCfg, usagef("bench: --users must be at least 1, not %d", cfg.MaxUsers)
	case cfg.MaxStores < 1:
		return cfg, false, logCfg, usagef("bench: --stores must be at least 1, not %d", cfg.MaxStores)
	}
	if *demo != "" {
		b, err := os.ReadFile(*demo)
		if err != nil {
			return cfg, false, logCfg, usagef("bench: --demo: %v", err)
		}
		var info demoInfo
		if err := json.Unmarshal(b, &info); err != nil || info.BaseURL == "" || info.Keys.Operator == "" {
			return cfg, false, logCfg, usagef("bench: --demo: %s is not a demo.json with base_url and keys.operator", *demo)
		}
		if !set["url"] {
			cfg.BaseURL = info.BaseURL
		}
		if !set["key"] {
			cfg.Key = info.Keys.Operator
		}
	}
	if err := cfg.Validate(); err != nil {
		var ce *bench.ConfigError
		if errors.As(err, &ce) && ce.Flag == "scenario" {
			return cfg, false, logCfg, usagef("bench: scenario %s", ce.Reason)
		}
		return cfg, false, logCfg, usagef("bench: %v", err)
	}
	if _, err := parseLevel(logCfg.LogLevel); err != nil {
		return cfg, false, logCfg, usagef("bench: --log-level must be debug, info, warn or error, not %q", logCfg.LogLevel)
	}
	if logCfg.LogFormat != "json" && logCfg.LogFormat != "text" {
		return cfg, false, logCfg, usagef("bench: --log-format must be json or text, not %q", logCfg.LogFormat)
	}
	return cfg, *asJSON, logCfg, nil
}

// runBench runs a load scenario against a running server and prints what it measured.
func runBench(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg, asJSON, logCfg, err := parseBenchFlags(args, stderr)
	if err != nil {
		return err
	}
	cfg.Logger = logCfg.newLogger(stderr)
	start := time.Now()
	res, err := bench.Run(ctx, cfg)
	if res == nil {
		if err != nil && !errors.Is(err, context.Canceled) {
			return fmt.Errorf("bench: %w", err)
		}
		return err
	}
	if err != nil {
		cfg.Logger.Warn("interrupted: the figures cover the run so far", "seconds", time.Since(start).Seconds())
	}
	if asJSON {
		if err := json.NewEncoder(stdout).Encode(res); err != nil {
			return err
		}
	} else if err := res.WriteTable(stdout); err != nil {
		return err
	}
	return err
}
