// Package bench is a load generator for a running qianmian server: it drives the HTTP API
// over the network (usually loopback) in a closed loop of N workers or an open loop at a
// fixed rate, for a bounded time and number of requests, and reports throughput, latency
// percentiles, errors by status and, measured in the same run, the rate of GET /healthz as
// the ceiling of the HTTP stack.
//
// It speaks only HTTP and JSON: it imports nothing of the module, so it measures the server
// exactly as any client sees it.
package bench

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Scenarios.
const (
	Recommend = "recommend" // GET recommendations over mixed users and stores
	Ingest    = "ingest"    // POST /v1/events in batches
	Mixed     = "mixed"     // 90% recommend, 10% small ingest batches
	Freshness = "freshness" // time from an event's 2xx to the first ranking reflecting it
)

// Scenarios lists the scenarios.
var Scenarios = []string{Recommend, Ingest, Mixed, Freshness}

// Defaults.
const (
	DefaultConcurrency = 8
	DefaultDuration    = 10 * time.Second
	DefaultBatch       = 1000 // events per request of the ingest scenario
	DefaultMixedBatch  = 10   // events per ingest request of the mixed scenario
	DefaultMaxUsers    = 2000
	DefaultMaxStores   = 1000
	DefaultMaxItems    = 20000
	MaxBatch           = 10000 // the server's limit of events per request

	// FreshnessTimeout bounds how long one freshness probe polls for its event.
	FreshnessTimeout = 5 * time.Second
	// freshnessPoll is the pause between two polls of a freshness probe.
	freshnessPoll = time.Millisecond
	// maxHealthzSlice bounds the healthz phase.
	maxHealthzSlice = 3 * time.Second
	// recommendN is the ranking size asked for.
	recommendN = 10
)

// Config says what to run.
type Config struct {
	Scenario string
	BaseURL  string // e.g. http://127.0.0.1:8080
	Key      string // an operator key: discovery lists users, stores and items

	// Concurrency is the number of workers of a closed loop; 0 means DefaultConcurrency.
	Concurrency int
	// Rate, when positive, runs an open loop instead: requests are sent on a fixed
	// timetable of Rate a second, and latency is measured from each request's scheduled
	// time, so a server that falls behind shows in the percentiles.
	Rate float64
	// Duration of the main phase; 0 means DefaultDuration.
	Duration time.Duration
	// Requests caps the requests of the main phase (for freshness: the probes); 0 means
	// no cap within Duration.
	Requests int64
	// Batch is the number of events a request posts; 0 means DefaultBatch for ingest and
	// DefaultMixedBatch for mixed. Only for ingest and mixed.
	Batch int

	// Discovery caps; 0 means the defaults.
	MaxUsers, MaxStores, MaxItems int

	// Logger receives progress (a line a second) and notes; nil discards them.
	Logger *slog.Logger
	// ProgressEvery is the interval of progress lines; 0 means a second.
	ProgressEvery time.Duration
}

// ConfigError is a bad setting, named by its command-line flag.
type ConfigError struct {
	Flag   string // without dashes
	Reason string
}

func (e *ConfigError) Error() string { return "--" + e.Flag + " " + e.Reason }

func badFlag(flag, format string, args ...any) error {
	return &ConfigError{Flag: flag, Reason: fmt.Sprintf(format, args...)}
}

// Validate reports the first bad setting as a *ConfigError.
func (c *Config) Validate() error {
	known := false
	for _, s := range Scenarios {
		known = known || s == c.Scenario
	}
	switch {
	case c.Scenario == "":
		return badFlag("scenario", "is required: %s", strings.Join(Scenarios, ", "))
	case !known:
		return badFlag("scenario", "must be one of %s, not %q", strings.Join(Scenarios, ", "), c.Scenario)
	case c.BaseURL == "":
		return badFlag("url", "is required: the server's base URL, e.g. http://127.0.0.1:8080 (or give --demo FILE)")
	}
	u, err := url.Parse(c.BaseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return badFlag("url", "must be an http:// or https:// base URL, not %q", c.BaseURL)
	}
	switch {
	case c.Key == "":
		return badFlag("key", "is required: an operator API key (or give --demo FILE)")
	case c.Concurrency < 0:
		return badFlag("concurrency", "must be at least 1, not %d", c.Concurrency)
	case c.Rate < 0 || math.IsNaN(c.Rate) || math.IsInf(c.Rate, 0):
		return badFlag("rate", "must be a positive number of requests a second, not %v", c.Rate)
	case c.Rate > 0 && c.Concurrency > 0:
		return badFlag("rate", "and --concurrency exclude each other: --rate R is an open loop at R requests/s, --concurrency N a closed loop of N workers")
	case c.Rate > 0 && c.Scenario == Freshness:
		return badFlag("rate", "does not apply to freshness, which probes in a closed loop (use --concurrency)")
	case c.Duration < 0:
		return badFlag("duration", "must be positive, not %s", c.Duration)
	case c.Requests < 0:
		return badFlag("requests", "must not be negative, not %d", c.Requests)
	case c.Batch != 0 && c.Scenario != Ingest && c.Scenario != Mixed:
		return badFlag("batch", "applies to ingest and mixed only, not %s", c.Scenario)
	case c.Batch < 0 || c.Batch > MaxBatch:
		return badFlag("batch", "must be between 1 and %d events, not %d", MaxBatch, c.Batch)
	case c.MaxUsers < 0 || c.MaxStores < 0 || c.MaxItems < 0:
		return badFlag("users", "discovery caps must not be negative")
	}
	return nil
}

func (c Config) withDefaults() Config {
	c.BaseURL = strings.TrimRight(c.BaseURL, "/")
	if c.Concurrency == 0 && c.Rate == 0 {
		c.Concurrency = DefaultConcurrency
	}
	if c.Duration == 0 {
		c.Duration = DefaultDuration
	}
	if c.Batch == 0 {
		switch c.Scenario {
		case Ingest:
			c.Batch = DefaultBatch
		case Mixed:
			c.Batch = DefaultMixedBatch
		}
	}
	setDefault := func(p *int, d int) {
		if *p == 0 {
			*p = d
		}
	}
	setDefault(&c.MaxUsers, DefaultMaxUsers)
	setDefault(&c.MaxStores, DefaultMaxStores)
	setDefault(&c.MaxItems, DefaultMaxItems)
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.ProgressEvery <= 0 {
		c.ProgressEvery = time.Second
	}
	return c
}

// openLoopWorkers is the number of senders of an open loop at rate: enough to keep a
// quarter of a second of requests in flight, at least 16 and at most 512.
func openLoopWorkers(rate float64) int {
	return int(min(max(math.Ceil(rate/4), 16), 512))
}

// Result is what a run measured. In the freshness scenario the latency fields (P50Ms …
// MaxMs) are the freshness delays, and the HTTP latencies are in HTTPP50Ms ….
type Result struct {
	Scenario    string  `json:"scenario"`
	Mode        string  `json:"mode"`        // closed or open (loop)
	Concurrency int     `json:"concurrency"` // workers; in an open loop the most requests in flight
	Rate        float64 `json:"rate,omitempty"`
	DurationS   float64 `json:"duration_s"`

	Requests     int64   `json:"requests"`
	RequestsPerS float64 `json:"requests_per_s"`
	P50Ms        float64 `json:"p50_ms"`
	P95Ms        float64 `json:"p95_ms"`
	P99Ms        float64 `json:"p99_ms"`
	MaxMs        float64 `json:"max_ms"`
	MeanMs       float64 `json:"mean_ms"`

	Errors         int64            `json:"errors"`
	ErrorsByStatus map[string]int64 `json:"errors_by_status"`

	HealthzPerS        float64 `json:"healthz_per_s"`
	HealthzRequests    int64   `json:"healthz_requests"`
	HealthzConcurrency int     `json:"healthz_concurrency"`
	HealthzS           float64 `json:"healthz_s"`

	// Hiccups: stalls of the generator itself, measured during the main phase as jHiccup
	// does. A goroutine of the bench process sleeps 1 ms in a loop (HiccupSleeps times) and
	// records how much later than 1 ms each sleep ended: HiccupP50Ms … HiccupMaxMs are
	// percentiles of that oversleep (the p50 is the timer slack of the platform) and
	// HiccupOver5ms counts oversleeps above 5 ms. Whatever stalls the meter (the OS or the
	// hypervisor not running the process, GC pauses, every CPU busy) delays the workers'
	// timestamps alike: latency up to the hiccups of the same percentile may be the
	// machine's, not the server's.
	HiccupP50Ms   float64 `json:"hiccup_p50_ms"`
	HiccupP99Ms   float64 `json:"hiccup_p99_ms"`
	HiccupMaxMs   float64 `json:"hiccup_max_ms"`
	HiccupOver5ms int64   `json:"hiccup_over_5ms"`
	HiccupSleeps  int64   `json:"hiccup_sleeps"`

	// The server's response cache during the run (every client's requests, not only
	// this run's), when it exposes its counters on /metrics.
	CacheHits    *int64   `json:"cache_hits,omitempty"`
	CacheMisses  *int64   `json:"cache_misses,omitempty"`
	CacheHitRate *float64 `json:"cache_hit_rate,omitempty"`

	// Ingest and mixed.
	Events          *int64   `json:"events,omitempty"` // accepted by the server
	EventsPerS      *float64 `json:"events_per_s,omitempty"`
	EventsRejected  *int64   `json:"events_rejected,omitempty"`
	EventsDuplicate *int64   `json:"events_duplicate,omitempty"`
	Batch           int      `json:"batch,omitempty"`

	// Open loop.
	Scheduled     *int64   `json:"scheduled,omitempty"` // requests on the timetable
	Unsent        *int64   `json:"unsent,omitempty"`    // scheduled but not sent before the hard stop
	SendLagP99Ms  *float64 `json:"send_lag_p99_ms,omitempty"`
	SendLagMaxMs  *float64 `json:"send_lag_max_ms,omitempty"`
	Behind        *bool    `json:"behind,omitempty"` // the generator could not keep the timetable
	AchievedRateS *float64 `json:"achieved_rate_per_s,omitempty"`

	// Freshness.
	Reflections        *int64   `json:"reflections,omitempty"`
	ReflectionTimeouts *int64   `json:"reflection_timeouts,omitempty"`
	Skipped            *int64   `json:"skipped,omitempty"` // probes of visitors without a personalised ranking
	HTTPP50Ms          *float64 `json:"http_p50_ms,omitempty"`
	HTTPP99Ms          *float64 `json:"http_p99_ms,omitempty"`
	HTTPMaxMs          *float64 `json:"http_max_ms,omitempty"`

	// Mixed: each kind of request on its own.
	ByOp map[string]*OpStats `json:"by_op,omitempty"`

	Users  int `json:"users"`
	Stores int `json:"stores"`
	Items  int `json:"items,omitempty"`
}

// OpStats are the figures of one kind of request of a mixed run.
type OpStats struct {
	Requests int64   `json:"requests"`
	Errors   int64   `json:"errors"`
	P50Ms    float64 `json:"p50_ms"`
	P95Ms    float64 `json:"p95_ms"`
	P99Ms    float64 `json:"p99_ms"`
	MaxMs    float64 `json:"max_ms"`
}

// Run discovers the subjects, measures GET /healthz for a short slice at the same
// concurrency, then runs the scenario. When ctx is cancelled it returns what was measured
// so far with ctx's error.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	log := cfg.Logger
	workers := cfg.Concurrency
	mode := "closed"
	if cfg.Rate > 0 {
		workers, mode = openLoopWorkers(cfg.Rate), "open"
	}
	tr := newTransport(workers)
	defer tr.CloseIdleConnections()

	log.Info("discovering users, stores and items", "url", cfg.BaseURL)
	withItems := cfg.Scenario == Ingest || cfg.Scenario == Mixed
	subj, err := discover(ctx, &http.Client{Transport: tr}, &cfg, withItems)
	if err != nil {
		return nil, err
	}
	log.Info("discovered", "users", len(subj.Users), "stores", len(subj.Stores), "items", len(subj.Items), "stock_samples", len(subj.Stock))
	env := newEnv(&cfg, tr, subj)

	// The ceiling of the HTTP stack, at the concurrency of the run (an open loop: the
	// default concurrency).
	hc := cfg.Concurrency
	if hc == 0 {
		hc = DefaultConcurrency
	}
	slice := min(cfg.Duration/4, maxHealthzSlice)
	log.Info("healthz phase", "concurrency", hc, "seconds", slice.Seconds())
	hz := runPhase(ctx, &cfg, phaseSpec{name: "healthz", workers: hc, duration: slice, quiet: true, notes: env.notes},
		func(ctx context.Context, _ int) op { return env.healthzOp(ctx) })
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	log.Info("healthz done", "requests", hz.rec.requests, "per_s", round1(hz.perS()), "errors", hz.rec.errors)

	log.Info("starting", "scenario", cfg.Scenario, "mode", mode, "concurrency", workers, "rate", cfg.Rate,
		"duration", cfg.Duration.String(), "requests_cap", cfg.Requests)
	spec := phaseSpec{name: cfg.Scenario, workers: workers, rate: cfg.Rate, duration: cfg.Duration, cap: cfg.Requests,
		hiccups: true, notes: env.notes}
	if cfg.Scenario == Mixed {
		spec.ops = []string{Recommend, Ingest}
	}
	client := &http.Client{Transport: tr}
	before, haveCache := scrapeCache(ctx, client, &cfg)
	main := runPhase(ctx, &cfg, spec, env.newOp)

	res := &Result{
		Scenario: cfg.Scenario, Mode: mode, Concurrency: workers, Rate: cfg.Rate,
		DurationS: round3(main.elapsed.Seconds()),
		Requests:  main.rec.requests, RequestsPerS: round1(main.perS()),
		Errors: main.rec.errors, ErrorsByStatus: main.rec.byStatus,
		HealthzPerS: round1(hz.perS()), HealthzRequests: hz.rec.requests, HealthzConcurrency: hc,
		HealthzS: round3(hz.elapsed.Seconds()),
		Users:    len(subj.Users), Stores: len(subj.Stores), Items: len(subj.Items),
	}
	hic := &main.hiccups.h
	res.HiccupP50Ms, res.HiccupP99Ms, res.HiccupMaxMs = ms(hic.Percentile(50)), ms(hic.Percentile(99)), ms(hic.Max())
	res.HiccupOver5ms, res.HiccupSleeps = main.hiccups.stalls, int64(hic.Count())
	if res.ErrorsByStatus == nil {
		res.ErrorsByStatus = map[string]int64{}
	}
	if after, ok := scrapeCache(context.WithoutCancel(ctx), client, &cfg); haveCache && ok {
		hits, misses := after.hits-before.hits, after.misses-before.misses
		res.CacheHits, res.CacheMisses = ptr(hits), ptr(misses)
		if hits+misses > 0 {
			res.CacheHitRate = ptr(round3(float64(hits) / float64(hits+misses)))
		}
	}
	lat := &main.rec.all
	if cfg.Scenario == Freshness {
		lat = main.rec.fresh
		res.Reflections = ptr(main.rec.reflections)
		res.ReflectionTimeouts = ptr(main.rec.timeouts)
		res.Skipped = ptr(main.rec.skipped)
		res.HTTPP50Ms = ptr(ms(main.rec.all.Percentile(50)))
		res.HTTPP99Ms = ptr(ms(main.rec.all.Percentile(99)))
		res.HTTPMaxMs = ptr(ms(main.rec.all.Max()))
	}
	res.P50Ms, res.P95Ms, res.P99Ms = ms(lat.Percentile(50)), ms(lat.Percentile(95)), ms(lat.Percentile(99))
	res.MaxMs, res.MeanMs = ms(lat.Max()), round3(lat.Mean()/1e6)
	if withItems {
		res.Batch = cfg.Batch
		res.Events = ptr(main.rec.events)
		res.EventsPerS = ptr(round1(float64(main.rec.events) / max(main.elapsed.Seconds(), 1e-9)))
		res.EventsRejected = ptr(main.rec.rejected)
		res.EventsDuplicate = ptr(main.rec.duplicates)
	}
	if cfg.Scenario == Mixed {
		res.ByOp = map[string]*OpStats{}
		for k, name := range spec.ops {
			h := &main.rec.ops[k]
			res.ByOp[name] = &OpStats{Requests: main.rec.opRequests[k], Errors: main.rec.opErrors[k],
				P50Ms: ms(h.Percentile(50)), P95Ms: ms(h.Percentile(95)), P99Ms: ms(h.Percentile(99)), MaxMs: ms(h.Max())}
		}
	}
	if mode == "open" {
		res.Scheduled, res.Unsent = ptr(main.scheduled), ptr(main.scheduled-main.sent)
		lagP99 := main.rec.lag.Percentile(99)
		res.SendLagP99Ms, res.SendLagMaxMs = ptr(ms(lagP99)), ptr(ms(main.rec.lag.Max()))
		res.AchievedRateS = ptr(round1(float64(main.sent) / max(main.elapsed.Seconds(), 1e-9)))
		// Behind: requests were never sent, or one in a hundred left more than 10 ms (or
		// more than one interval, at low rates) after its time.
		tolerance := max(10*time.Millisecond, time.Duration(float64(time.Second)/cfg.Rate))
		behind := main.sent < main.scheduled || time.Duration(lagP99) > tolerance
		res.Behind = ptr(behind)
		if behind {
			log.Warn("the generator fell behind its timetable: requests left late (every sender busy, or no CPU) or never; latencies count the wait from the scheduled times",
				"scheduled", main.scheduled, "sent", main.sent, "send_lag_p99_ms", ms(lagP99))
		}
	}
	if main.rec.errors > 0 {
		log.Warn("requests failed", "errors", main.rec.errors, "by_status", fmt.Sprint(main.rec.byStatus))
	}
	return res, ctx.Err()
}

func ptr[T any](v T) *T { return &v }

func round1(v float64) float64 { return math.Round(v*10) / 10 }
func round3(v float64) float64 { return math.Round(v*1000) / 1000 }

// newTransport returns a keep-alive transport that holds an idle connection for each of
// the workers, so the client is not what limits the run.
func newTransport(workers int) *http.Transport {
	d := &net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}
	return &http.Transport{
		Proxy:                 nil, // loopback benchmarks never go through a proxy
		DialContext:           d.DialContext,
		MaxIdleConns:          0,
		MaxIdleConnsPerHost:   2*workers + 4,
		IdleConnTimeout:       90 * time.Second,
		ResponseHeaderTimeout: 30 * time.Second,
		TLSHandshakeTimeout:   5 * time.Second,
		DisableCompression:    true,
		ForceAttemptHTTP2:     false,
	}
}

// op is one worker's request maker: do sends one request (one probe, for freshness),
// timing it from from, and records what happened in r.
type op interface {
	do(ctx context.Context, r *recorder, from time.Time)
}

// finisher is an op that can run out of work before the phase ends.
type finisher interface{ finished() bool }

// notes logs each kind of anomaly once a run, however many workers meet it.
type notes struct {
	log  *slog.Logger
	mu   sync.Mutex
	seen map[string]bool
}

func (n *notes) warnOnce(key, msg string, args ...any) {
	n.mu.Lock()
	first := !n.seen[key]
	if n.seen == nil {
		n.seen = map[string]bool{}
	}
	n.seen[key] = true
	n.mu.Unlock()
	if first {
		n.log.Warn(msg, args...)
	}
}

// live are the counters progress lines read while a phase runs.
type live struct {
	requests, errors, reflections atomic.Int64
}

// recorder is one worker's measurements; a phase merges them.
type recorder struct {
	live       *live
	notes      *notes
	userCtx    context.Context // cancelled: the user stopped the run, do not count
	hardStop   *atomic.Bool    // set when the phase's grace ran out
	all        Histogram
	ops        []Histogram // per kind of request, in a mixed run
	opRequests []int64
	opErrors   []int64
	lag        *Histogram // open loop: send time minus scheduled time
	fresh      *Histogram // freshness delays
	requests   int64
	errors     int64
	byStatus   map[string]int64

	events, rejected, duplicates int64
	reflections, timeouts        int64
	skipped                      int64
}

// done records a request of kind k that took lat and answered status (or failed with err).
// It reports whether the request succeeded with a 2xx.
func (r *recorder) done(k int, lat time.Duration, status int, err error) bool {
	if err != nil {
		if r.userCtx.Err() != nil {
			return false // stopped by the user: neither a request nor an error
		}
		key := "transport"
		if r.hardStop.Load() {
			key = "timeout" // still in flight when the grace ran out
		} else {
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				key = "timeout"
			}
			r.notes.warnOnce("transport", "a request got no answer", "err", err.Error())
		}
		r.fail(k, key)
		return false
	}
	r.requests++
	r.live.requests.Add(1)
	r.all.RecordDuration(lat)
	if r.ops != nil {
		r.ops[k].RecordDuration(lat)
		r.opRequests[k]++
	}
	if status < 200 || status > 299 {
		r.errors++
		r.live.errors.Add(1)
		r.countStatus(k, fmt.Sprint(status))
		return false
	}
	return true
}

// fail records a request that got no answer.
func (r *recorder) fail(k int, key string) {
	r.requests++
	r.live.requests.Add(1)
	r.errors++
	r.live.errors.Add(1)
	if r.ops != nil {
		r.opRequests[k]++
	}
	r.countStatus(k, key)
}

// bad records an error in the answer of a request already counted.
func (r *recorder) bad(k int, key string) {
	r.errors++
	r.live.errors.Add(1)
	r.countStatus(k, key)
}

func (r *recorder) countStatus(k int, key string) {
	if r.byStatus == nil {
		r.byStatus = map[string]int64{}
	}
	r.byStatus[key]++
	if r.ops != nil {
		r.opErrors[k]++
	}
}

func (r *recorder) merge(o *recorder) {
	r.all.Merge(&o.all)
	for k := range r.ops {
		r.ops[k].Merge(&o.ops[k])
		r.opRequests[k] += o.opRequests[k]
		r.opErrors[k] += o.opErrors[k]
	}
	r.lag.Merge(o.lag)
	r.fresh.Merge(o.fresh)
	r.requests += o.requests
	r.errors += o.errors
	for k, v := range o.byStatus {
		if r.byStatus == nil {
			r.byStatus = map[string]int64{}
		}
		r.byStatus[k] += v
	}
	r.events += o.events
	r.rejected += o.rejected
	r.duplicates += o.duplicates
	r.reflections += o.reflections
	r.timeouts += o.timeouts
	r.skipped += o.skipped
}

// phaseSpec is one phase of a run.
type phaseSpec struct {
	name     string
	workers  int
	rate     float64 // > 0: open loop
	duration time.Duration
	cap      int64    // requests (0: none)
	ops      []string // names of the kinds of request, for per-kind figures
	quiet    bool     // no progress lines
	hiccups  bool     // run a hiccup meter while the workers run
	notes    *notes
}

type phaseResult struct {
	rec       recorder
	elapsed   time.Duration
	scheduled int64        // open loop
	sent      int64        // open loop
	hiccups   *hiccupMeter // stopped; nil unless spec.hiccups
}

func (p *phaseResult) perS() float64 {
	if p.elapsed <= 0 {
		return 0
	}
	return float64(p.rec.requests) / p.elapsed.Seconds()
}

// grace is how long after its duration a phase lets requests in flight (and an open loop's
// backlog) finish before it cancels them.
func grace(d time.Duration) time.Duration {
	return min(max(d/2, 2*time.Second), 10*time.Second)
}

// runPhase runs spec's workers, each with an op from newOp, and merges their measurements.
func runPhase(ctx context.Context, cfg *Config, spec phaseSpec, newOp func(ctx context.Context, worker int) op) *phaseResult {
	log := cfg.Logger
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		lv       live
		hardStop atomic.Bool
		tickets  atomic.Int64
		sent     atomic.Int64
		wg       sync.WaitGroup
	)
	// Build the ops before the clock starts.
	ops := make([]op, spec.workers)
	for w := range ops {
		ops[w] = newOp(runCtx, w)
	}
	recs := make([]*recorder, spec.workers)
	for w := range recs {
		recs[w] = &recorder{live: &lv, notes: spec.notes, userCtx: ctx, hardStop: &hardStop, lag: &Histogram{}, fresh: &Histogram{}}
		if spec.rate <= 0 {
			recs[w].lag = nil // only an open loop has a timetable
		}
		if spec.name != Freshness {
			recs[w].fresh = nil
		}
		if len(spec.ops) > 0 {
			recs[w].ops = make([]Histogram, len(spec.ops))
			recs[w].opRequests = make([]int64, len(spec.ops))
			recs[w].opErrors = make([]int64, len(spec.ops))
		}
	}

	var hiccups *hiccupMeter
	if spec.hiccups {
		hiccups = startHiccupMeter()
	}
	start := time.Now()
	deadline := start.Add(spec.duration)
	stopAt := deadline.Add(grace(spec.duration))
	stopTimer := time.AfterFunc(time.Until(stopAt), func() {
		hardStop.Store(true)
		cancel()
	})
	defer stopTimer.Stop()

	var scheduled int64
	if spec.rate > 0 {
		scheduled = int64(spec.rate * spec.duration.Seconds())
		if spec.cap > 0 {
			scheduled = min(scheduled, spec.cap)
		}
	}
	for w := range spec.workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			o, r := ops[w], recs[w]
			if spec.rate <= 0 {
				closedLoop(runCtx, o, r, deadline, spec.cap, &tickets)
				return
			}
			openLoop(runCtx, o, r, start, spec.rate, scheduled, stopAt, &tickets, &sent)
		}()
	}

	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	if !spec.quiet {
		tick := time.NewTicker(cfg.ProgressEvery)
		prev, prevAt := int64(0), start
	progress:
		for {
			select {
			case <-done:
				break progress
			case now := <-tick.C:
				n := lv.requests.Load()
				attrs := []any{"elapsed", now.Sub(start).Round(100 * time.Millisecond).String(), "requests", n,
					"per_s", round1(float64(n-prev) / now.Sub(prevAt).Seconds()), "errors", lv.errors.Load()}
				if spec.name == Freshness {
					attrs = append(attrs, "reflections", lv.reflections.Load())
				}
				log.Info(spec.name, attrs...)
				prev, prevAt = n, now
			}
		}
		tick.Stop()
	}
	<-done
	end := time.Now()
	if hiccups != nil {
		hiccups.stop()
	}

	res := &phaseResult{scheduled: scheduled, sent: sent.Load(), elapsed: end.Sub(start), hiccups: hiccups}
	res.rec.lag, res.rec.fresh = &Histogram{}, &Histogram{}
	if len(spec.ops) > 0 {
		res.rec.ops = make([]Histogram, len(spec.ops))
		res.rec.opRequests = make([]int64, len(spec.ops))
		res.rec.opErrors = make([]int64, len(spec.ops))
	}
	for _, r := range recs {
		res.rec.merge(r)
	}
	return res
}

// closedLoop sends requests back to back until the deadline or the request cap.
func closedLoop(ctx context.Context, o op, r *recorder, deadline time.Time, cap int64, tickets *atomic.Int64) {
	f, _ := o.(finisher)
	for ctx.Err() == nil && time.Now().Before(deadline) {
		if f != nil && f.finished() {
			return
		}
		if cap > 0 && tickets.Add(1) > cap {
			return
		}
		o.do(ctx, r, time.Now())
	}
}

// openLoop sends the requests of a fixed timetable: request i is due at start + i/rate.
// Workers take the next due request; when all are busy, requests wait, and since latency
// is measured from the scheduled time, the wait counts (no coordinated omission). After
// stopAt, requests not yet sent stay unsent.
func openLoop(ctx context.Context, o op, r *recorder, start time.Time, rate float64, scheduled int64,
	stopAt time.Time, tickets, sent *atomic.Int64) {
	interval := float64(time.Second) / rate
	t := time.NewTimer(time.Hour)
	t.Stop()
	defer t.Stop()
	for ctx.Err() == nil {
		i := tickets.Add(1) - 1
		if i >= scheduled {
			return
		}
		at := start.Add(time.Duration(float64(i) * interval))
		if d := time.Until(at); d > 0 {
			t.Reset(d)
			select {
			case <-t.C:
			case <-ctx.Done():
				return
			}
		}
		now := time.Now()
		if now.After(stopAt) {
			return
		}
		sent.Add(1)
		r.lag.RecordDuration(now.Sub(at))
		o.do(ctx, r, at)
	}
}

// drain reads the rest of body and closes it, so the connection is reused.
func drain(body io.ReadCloser) error {
	_, err := io.Copy(io.Discard, body)
	body.Close()
	return err
}
