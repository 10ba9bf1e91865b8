package main

import (
	"encoding/json"
	"math"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

func TestBench_BadFlags(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	notDemo := writeFile(t, dir, "demo.json", `{"url":"x"}`)
	target := []string{"--url", "http://127.0.0.1:1", "--key", "k"}
	with := func(args ...string) []string { return append(append([]string{"bench"}, args...), target...) }
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"bench"}, "bench: name a scenario: recommend, ingest, mixed, freshness"},
		{with("soak"), `bench: scenario must be one of recommend, ingest, mixed, freshness, not "soak"`},
		{[]string{"bench", "recommend", "--key", "k"}, "bench: --url is required"},
		{[]string{"bench", "recommend", "--url", "http://127.0.0.1:1"}, "bench: --key is required"},
		{[]string{"bench", "recommend", "--url", "localhost:8080", "--key", "k"}, `bench: --url must be an http:// or https:// base URL, not "localhost:8080"`},
		{with("recommend", "--rate", "100", "--concurrency", "4"), "bench: --rate and --concurrency exclude each other"},
		{with("recommend", "--concurrency", "0"), "bench: --concurrency must be at least 1, not 0"},
		{with("recommend", "--rate", "0"), "bench: --rate must be a positive number of requests a second, not 0"},
		{with("recommend", "--rate", "-5"), "bench: --rate must be a positive number"},
		{with("recommend", "--duration", "0s"), "bench: --duration must be positive, not 0s"},
		{with("recommend", "--duration", "soon"), `invalid value "soon" for flag -duration`},
		{with("recommend", "--requests", "-1"), "bench: --requests must not be negative"},
		{with("recommend", "--users", "0"), "bench: --users must be at least 1, not 0"},
		{with("recommend", "--stores", "0"), "bench: --stores must be at least 1, not 0"},
		{with("freshness", "--rate", "10"), "bench: --rate does not apply to freshness"},
		{with("recommend", "--batch", "10"), "bench: --batch applies to ingest and mixed only, not recommend"},
		{with("ingest", "--batch", "20000"), "bench: --batch must be between 1 and 10000 events, not 20000"},
		{with("ingest", "--batch", "0"), "bench: --batch must be between 1 and 10000 events, not 0"},
		{with("recommend", "extra"), `bench: unexpected argument "extra"`},
		{with("recommend", "--log-level", "loud"), "bench: --log-level must be debug, info, warn or error"},
		{[]string{"bench", "recommend", "--demo", filepath.Join(dir, "missing.json")}, "bench: --demo: open"},
		{[]string{"bench", "recommend", "--demo", notDemo}, "is not a demo.json with base_url and keys.operator"},
	} {
		code, out, errOut := run(t, c.args...)
		if code != 2 || !strings.Contains(errOut, c.want) || out != "" {
			t.Errorf("%v: exit %d, stderr %q, stdout %q; want exit 2 and %q", c.args[1:], code, errOut, out, c.want)
		}
	}
}

func TestBench_FlagsBeforeTheScenario(t *testing.T) {
	t.Parallel()
	// Parsed alike: the run gets as far as discovery, which finds nobody listening.
	code, _, errOut := run(t, "bench", "--url", "http://127.0.0.1:1", "--key", "k", "--duration", "1s", "recommend", "--concurrency", "2")
	if code != 1 || !strings.Contains(errOut, "discovery: GET /v1/stores") {
		t.Errorf("exit %d, stderr %q; want 1 and a discovery error", code, errOut)
	}
}

// TestBench_AgainstTheDemo runs every scenario for a second against the small demo,
// served in-process on 127.0.0.1:0.
func TestBench_AgainstTheDemo(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and serves the demo")
	}
	d := mustRunDemo(t)
	target := []string{"--url", d.info.BaseURL, "--key", d.info.Keys.Operator}
	demoFile := []string{"--demo", filepath.Join(d.dir, "demo.json")}
	for _, c := range []struct {
		name string
		args []string
	}{
		{"recommend", append([]string{"recommend", "--concurrency", "4"}, target...)},
		{"recommend-open", append([]string{"recommend", "--rate", "200"}, target...)},
		{"ingest", append([]string{"ingest", "--batch", "200"}, target...)},
		{"mixed", append([]string{"mixed"}, demoFile...)},
		{"freshness", append([]string{"freshness", "--concurrency", "2"}, target...)},
	} {
		t.Run(c.name, func(t *testing.T) {
			code, out, errOut := run(t, append(append([]string{"bench"}, c.args...), "--duration", "1s", "--json")...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			if !strings.Contains(errOut, "level=INFO msg=starting") {
				t.Errorf("no log of the start on stderr: %s", errOut)
			}
			var res map[string]any
			if err := json.Unmarshal([]byte(out), &res); err != nil {
				t.Fatalf("stdout is not one JSON object: %v\n%s", err, out)
			}
			for _, k := range []string{"scenario", "requests", "requests_per_s", "p50_ms", "p95_ms", "p99_ms", "max_ms",
				"errors", "errors_by_status", "healthz_per_s", "concurrency", "duration_s"} {
				if _, ok := res[k]; !ok {
					t.Errorf("no %q in %s", k, out)
				}
			}
			num := func(k string) float64 { v, _ := res[k].(float64); return v }
			scenario := strings.TrimSuffix(c.name, "-open")
			if res["scenario"] != scenario {
				t.Errorf("scenario = %v, want %s", res["scenario"], scenario)
			}
			if num("requests") <= 0 || num("requests_per_s") <= 0 {
				t.Errorf("requests %v at %v/s", num("requests"), num("requests_per_s"))
			}
			if num("errors") != 0 {
				t.Errorf("%v errors: %v", num("errors"), res["errors_by_status"])
			}
			if num("healthz_per_s") <= 0 {
				t.Errorf("healthz_per_s = %v", num("healthz_per_s"))
			}
			if p50, p95, p99, mx := num("p50_ms"), num("p95_ms"), num("p99_ms"), num("max_ms"); !(p50 > 0 && p50 <= p95 && p95 <= p99 && p99 <= mx) {
				t.Errorf("percentiles p50 %v p95 %v p99 %v max %v", p50, p95, p99, mx)
			}
			switch c.name {
			case "ingest", "mixed":
				if num("events_per_s") <= 0 || num("events_rejected") != 0 || num("events_duplicate") != 0 {
					t.Errorf("events_per_s %v, rejected %v, duplicates %v", num("events_per_s"), num("events_rejected"), num("events_duplicate"))
				}
			case "freshness":
				if num("reflections") < 1 || num("reflection_timeouts") != 0 {
					t.Errorf("reflections %v, timeouts %v", num("reflections"), num("reflection_timeouts"))
				}
			case "recommend":
				// Every ranking the run asked for went through the server's response cache,
				// and the run read the server's counters of it.
				hits, misses := num("cache_hits"), num("cache_misses")
				if _, ok := res["cache_hits"]; !ok || hits+misses < num("requests") {
					t.Errorf("cache hits %v + misses %v < %v requests", hits, misses, num("requests"))
				}
				if r := num("cache_hit_rate"); r < 0 || r > 1 || math.Abs(r-hits/(hits+misses)) > 0.001 {
					t.Errorf("cache_hit_rate %v with %v hits and %v misses", r, hits, misses)
				}
			case "recommend-open":
				if res["mode"] != "open" || num("rate") != 200 || num("scheduled") != 200 {
					t.Errorf("mode %v rate %v scheduled %v, want an open loop of 200 requests", res["mode"], num("rate"), num("scheduled"))
				}
			}
		})
	}
	t.Run("table", func(t *testing.T) {
		code, out, errOut := run(t, append([]string{"bench", "recommend", "--requests", "50", "--duration", "1s"}, target...)...)
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		for _, re := range []string{`(?m)^requests\s+50 \(`, `(?m)^latency ms\s+p50 [0-9.]+  p95`, `(?m)^errors\s+0$`, `(?m)^healthz\s+[0-9.]+/s`} {
			if !regexp.MustCompile(re).MatchString(out) {
				t.Errorf("table does not match %s:\n%s", re, out)
			}
		}
	})
}
