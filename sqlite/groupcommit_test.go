package sqlite_test

import (
	"math/rand/v2"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/qianmian/qianmian/sqlite"
)

// BenchmarkEventService_CreateEventsConcurrent posts 1,000-event batches from 1, 4 and 16
// goroutines at once, as an HTTP server's handlers do: group commit writes the batches that
// wait together in one transaction. The log holds 100,000 events first, so the indexes are
// past the size of a few pages. Each op is one batch.
func BenchmarkEventService_CreateEventsConcurrent(b *testing.B) {
	const size = 1000
	for _, callers := range []int{1, 4, 16} {
		b.Run(strconv.Itoa(callers), func(b *testing.B) {
			db := mustOpen(b, newDB(b, nil))
			s := sqlite.NewEventService(db)
			rng := rand.New(rand.NewPCG(1, 2))
			for i := range 100 {
				if _, err := s.CreateEvents(b.Context(), benchEvents(rng, -1-i, size)); err != nil {
					b.Fatal(err)
				}
			}
			// Exactly callers goroutines (b.RunParallel starts a multiple of GOMAXPROCS), each
			// rendering its next batch, as a handler decodes one, then posting it.
			var next atomic.Int64
			var wg sync.WaitGroup
			b.ReportAllocs()
			b.ResetTimer()
			for g := range callers {
				wg.Go(func() {
					rng := rand.New(rand.NewPCG(uint64(g), 3))
					for {
						i := next.Add(1)
						if i > int64(b.N) {
							return
						}
						events := benchEvents(rng, int(i), size)
						res, err := s.CreateEvents(b.Context(), events)
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
			b.ReportMetric(float64(b.N*size)/b.Elapsed().Seconds(), "events/s")
		})
	}
}
