package sqlite_test

import (
	"math/rand/v2"
	"strconv"
	"testing"

	"github.com/qianmian/qianmian"
	"github.com/qianmian/qianmian/sqlite"
)

// BenchmarkEventService_FindEventsByUser reads one user's events, as the engine does for a
// visitor new to the process (20,000 users, ~10 events each).
func BenchmarkEventService_FindEventsByUser(b *testing.B) {
	db := mustOpen(b, newDB(b, nil))
	s := sqlite.NewEventService(db)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 20 {
		if _, err := s.CreateEvents(b.Context(), benchEvents(rng, i, 10_000)); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		list, err := s.FindEvents(b.Context(), qianmian.EventFilter{UserID: "user-" + strconv.Itoa(rng.IntN(20_000))})
		if err != nil {
			b.Fatal(err)
		}
		n += len(list)
	}
	b.ReportMetric(float64(n)/float64(b.N), "events/op")
}
