package bench

import (
	"context"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"
)

func TestHiccupMeter_RecordsEachSleepWithoutAllocating(t *testing.T) {
	m := startHiccupMeter()
	time.Sleep(20 * time.Millisecond) // the first sleep allocates the goroutine's timer
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	time.Sleep(180 * time.Millisecond)
	runtime.ReadMemStats(&after)
	m.stop()
	h := &m.h
	n := h.Count()
	p50, p99, mx := h.Percentile(50), h.Percentile(99), h.Max()
	t.Logf("%d sleeps of 1 ms: oversleep p50 %v p99 %v max %v, %d over 5 ms",
		n, time.Duration(p50), time.Duration(p99), time.Duration(mx), m.stalls)
	// Each sleep lasts at least 1 ms: at most 200 in 200 ms, and a meter that sleeps at all
	// manages far more than 20.
	if n < 20 || n > 250 {
		t.Errorf("%d sleeps recorded in 200 ms, want between 20 and 250", n)
	}
	if !(0 <= p50 && p50 <= p99 && p99 <= mx) {
		t.Errorf("oversleep p50 %d p99 %d max %d ns out of order", p50, p99, mx)
	}
	if m.stalls > int64(n) || (m.stalls > 0) != (mx > int64(hiccupStall)) {
		t.Errorf("%d stalls over 5 ms of %d sleeps with a max of %v", m.stalls, n, time.Duration(mx))
	}
	// About 170 ticks while the memory statistics were read: an allocation a tick would
	// make 170; the margin is for whatever else of the test binary still runs.
	if allocs := after.Mallocs - before.Mallocs; allocs > 100 {
		t.Errorf("%d allocations during 180 ms of 1 ms ticks: the meter allocates per tick", allocs)
	}
	time.Sleep(5 * time.Millisecond)
	if h.Count() != n {
		t.Errorf("the meter recorded %d sleeps after stop", h.Count()-n)
	}
}

func TestRun_ReportsHiccupsOfTheMainPhase(t *testing.T) {
	_, srv := newFakeServer(t)
	cfg := testConfig(srv, Recommend)
	cfg.Duration = 300 * time.Millisecond // the healthz phase runs 75 ms before
	res, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("main phase %.3f s: %d sleeps, hiccups p50 %v p99 %v max %v ms, %d over 5 ms",
		res.DurationS, res.HiccupSleeps, res.HiccupP50Ms, res.HiccupP99Ms, res.HiccupMaxMs, res.HiccupOver5ms)
	if !(0 <= res.HiccupP50Ms && res.HiccupP50Ms <= res.HiccupP99Ms && res.HiccupP99Ms <= res.HiccupMaxMs && res.HiccupMaxMs > 0) {
		t.Errorf("hiccups p50 %v p99 %v max %v ms: out of order or none", res.HiccupP50Ms, res.HiccupP99Ms, res.HiccupMaxMs)
	}
	// Sleeps of at least 1 ms each, during the main phase only (not discovery, not the
	// healthz phase): no more than its milliseconds, and most of them.
	if res.HiccupSleeps < 30 || float64(res.HiccupSleeps) > res.DurationS*1000+5 {
		t.Errorf("%d sleeps in a main phase of %.3f s", res.HiccupSleeps, res.DurationS)
	}
	if res.HiccupOver5ms > res.HiccupSleeps || res.HiccupOver5ms > 0 && res.HiccupMaxMs < 5 || res.HiccupMaxMs > 5.001 && res.HiccupOver5ms == 0 {
		t.Errorf("%d sleeps over 5 ms of %d, max %v ms", res.HiccupOver5ms, res.HiccupSleeps, res.HiccupMaxMs)
	}
	// A main phase of a few requests is over long before the healthz phase would be.
	cfg.Requests = 3
	short, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if float64(short.HiccupSleeps) > short.DurationS*1000+5 {
		t.Errorf("%d sleeps in a main phase of %.3f s: the meter ran outside it", short.HiccupSleeps, short.DurationS)
	}
	var b strings.Builder
	if err := res.WriteTable(&b); err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`(?m)^hiccups ms\s+p50 [0-9.]+  p99 [0-9.]+  max [0-9.]+; [0-9]+ of [0-9]+ sleeps over 5 ms`).MatchString(b.String()) {
		t.Errorf("no hiccups line in the table:\n%s", b.String())
	}
}
