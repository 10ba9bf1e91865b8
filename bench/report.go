package bench

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"
)

// WriteTable writes r as a readable table.
func (r *Result) WriteTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	row := func(k, format string, args ...any) { fmt.Fprintf(tw, "%s\t"+format+"\n", append([]any{k}, args...)...) }
	mode := fmt.Sprintf("closed loop, %d workers", r.Concurrency)
	if r.Mode == "open" {
		mode = fmt.Sprintf("open loop at %g requests/s, up to %d in flight", r.Rate, r.Concurrency)
	}
	row("scenario", "%s (%s)", r.Scenario, mode)
	row("subjects", "%d users, %d stores, %d items", r.Users, r.Stores, r.Items)
	row("duration", "%.2f s", r.DurationS)
	row("requests", "%d (%.1f/s)", r.Requests, r.RequestsPerS)
	latency := "latency ms"
	if r.Scenario == Freshness {
		latency = "freshness ms"
	}
	row(latency, "p50 %.3f  p95 %.3f  p99 %.3f  max %.3f  mean %.3f", r.P50Ms, r.P95Ms, r.P99Ms, r.MaxMs, r.MeanMs)
	if r.Reflections != nil {
		row("reflections", "%d measured, %d timed out, %d visitors skipped (not personalised)", *r.Reflections, *r.ReflectionTimeouts, *r.Skipped)
		row("http ms", "p50 %.3f  p99 %.3f  max %.3f", *r.HTTPP50Ms, *r.HTTPP99Ms, *r.HTTPMaxMs)
	}
	row("hiccups ms", "p50 %.3f  p99 %.3f  max %.3f; %d of %d sleeps over 5 ms (how late 1 ms sleeps in the generator woke: stalls any latency above may include)",
		r.HiccupP50Ms, r.HiccupP99Ms, r.HiccupMaxMs, r.HiccupOver5ms, r.HiccupSleeps)
	if r.CacheHits != nil {
		rate := "-"
		if r.CacheHitRate != nil {
			rate = fmt.Sprintf("%.1f%%", 100**r.CacheHitRate)
		}
		row("server cache", "%s hits (%d hits, %d misses on the server during the run)", rate, *r.CacheHits, *r.CacheMisses)
	}
	if r.EventsPerS != nil {
		row("events", "%d accepted (%.1f/s) in batches of %d; %d rejected, %d duplicates", *r.Events, *r.EventsPerS, r.Batch, *r.EventsRejected, *r.EventsDuplicate)
	}
	for _, name := range slices.Sorted(maps.Keys(r.ByOp)) {
		o := r.ByOp[name]
		row("  "+name, "%d requests, %d errors, ms p50 %.3f  p95 %.3f  p99 %.3f  max %.3f", o.Requests, o.Errors, o.P50Ms, o.P95Ms, o.P99Ms, o.MaxMs)
	}
	if r.Scheduled != nil {
		behind := "kept"
		if *r.Behind {
			behind = "FELL BEHIND"
		}
		row("timetable", "%s: %d scheduled, %d unsent, %.1f/s sent; send lag p99 %.3f ms, max %.3f ms",
			behind, *r.Scheduled, *r.Unsent, *r.AchievedRateS, *r.SendLagP99Ms, *r.SendLagMaxMs)
	}
	errs := "0"
	if r.Errors > 0 {
		var parts []string
		for _, k := range slices.Sorted(maps.Keys(r.ErrorsByStatus)) {
			parts = append(parts, fmt.Sprintf("%s: %d", k, r.ErrorsByStatus[k]))
		}
		errs = fmt.Sprintf("%d (%s)", r.Errors, strings.Join(parts, ", "))
	}
	row("errors", "%s", errs)
	row("healthz", "%.1f/s (ceiling of the HTTP stack: %d workers for %.2f s)", r.HealthzPerS, r.HealthzConcurrency, r.HealthzS)
	return tw.Flush()
}
