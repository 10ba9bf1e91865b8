package sqlite_test

import (
	"strconv"
	"testing"
)

// BenchmarkEventService_CreateEventsConcurrent posts 1,000-event batches from 1, 4 and 16
// goroutines at once, as an HTTP server's handlers do: group commit writes the batches that
// wait together in one transaction. The log holds 100,000 events first, so the indexes are
// past the size of a few pages. Each op is one batch.
func BenchmarkEventService_CreateEventsConcurrent(b *testing.B) {
	for _, callers := range []int{1, 4, 16} {
		b.Run(strconv.Itoa(callers), func(b *testing.B) { benchIngest(b, callers, 1000, benchEvents) })
	}
}
