package sqlite_test

import (
	"math/rand/v2"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/qianmian/qianmian"
	"github.com/qianmian/qianmian/sqlite"
	"github.com/qianmian/qianmian/storetest"
)

// appEvents returns n events shaped like those `qianmian bench ingest` posts (and most app
// and mini-program traffic): a logged-in user, an item, a store, a channel and a time, none
// of the optional fields (identity, query, text, geo, device, rec_id). Ids are unique to
// (batch, i); users are 2,000 of them, so each group of batches lands on many pages of the
// user index, as the bench's does.
func appEvents(rng *rand.Rand, batch, n int) []*qianmian.Event {
	types := []qianmian.EventType{qianmian.EventView, qianmian.EventView, qianmian.EventView,
		qianmian.EventView, qianmian.EventClick, qianmian.EventCart, qianmian.EventFavorite, qianmian.EventPurchase}
	channels := []qianmian.Channel{qianmian.ChannelApp, qianmian.ChannelMiniProgram, qianmian.ChannelWeb, qianmian.ChannelOffline}
	at := storetest.Now().Add(-time.Minute)
	events := make([]*qianmian.Event, n)
	for i := range events {
		events[i] = &qianmian.Event{
			ID:         "bench-" + strconv.Itoa(batch) + "-" + strconv.Itoa(i),
			Type:       types[rng.IntN(len(types))],
			UserID:     "user-" + strconv.Itoa(rng.IntN(2000)),
			ItemID:     "item-" + strconv.Itoa(rng.IntN(5000)),
			StoreID:    "store-" + strconv.Itoa(rng.IntN(100)),
			Channel:    channels[rng.IntN(len(channels))],
			OccurredAt: at,
		}
	}
	return events
}

// cpuTime returns the CPU time (user and system) the process has used.
func cpuTime(tb testing.TB) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		tb.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkEventService_CreateEventsApp posts 1,000-event batches of app-shaped events
// (appEvents) from 16 goroutines, as `qianmian bench ingest` does through HTTP, onto a log
// holding 100,000 such events. Besides events/s it reports the CPU the process spent per
// event (cpu-µs/event: generating the batches, validating, and the writer), which a busy
// machine disturbs less than the elapsed time. Each op is one batch.
func BenchmarkEventService_CreateEventsApp(b *testing.B) {
	benchIngest(b, 16, 1000, appEvents)
}

// benchIngest opens a new database, logs 100 batches of gen's events, then posts b.N
// batches of size from exactly callers goroutines (b.RunParallel starts a multiple of
// GOMAXPROCS), each rendering its next batch, as a handler decodes one, then posting it.
// It reports events/s and the CPU the process spent per event.
func benchIngest(b *testing.B, callers, size int, gen func(rng *rand.Rand, batch, n int) []*qianmian.Event) {
	db := mustOpen(b, newDB(b, nil))
	s := sqlite.NewEventService(db)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 100 {
		if _, err := s.CreateEvents(b.Context(), gen(rng, -1-i, size)); err != nil {
			b.Fatal(err)
		}
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	b.ReportAllocs()
	b.ResetTimer()
	cpu := cpuTime(b)
	for g := range callers {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(g), 3))
			for {
				i := next.Add(1)
				if i > int64(b.N) {
					return
				}
				res, err := s.CreateEvents(b.Context(), gen(rng, int(i), size))
				if err != nil {
					b.Error(err)
					return
				}
				if res.Accepted != size {
					b.Errorf("accepted %d of %d", res.Accepted, size)
					return
				}
			}
		})
	}
	wg.Wait()
	cpu = cpuTime(b) - cpu
	b.ReportMetric(float64(b.N*size)/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(float64(cpu.Microseconds())/float64(b.N*size), "cpu-µs/event")
}
