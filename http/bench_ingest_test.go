package http_test

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/qianmian/qianmian/inmem"
	"github.com/qianmian/qianmian/sqlite"
)

// BenchmarkServer_EventsSQLite posts 1,000-event NDJSON batches from 16 goroutines a core
// (32 on the 2-core machine) through the handler into a real SQLite file, as `qianmian
// bench ingest --concurrency 32` does over loopback: the decoding of many batches and the
// storage's one writer share the cores.
// "slots=default" bounds the decoding at GOMAXPROCS−1 batches at once (Server.DecodeSlots);
// "slots=unbounded" lets every batch decode as soon as it arrives. Each op is one batch.
func BenchmarkServer_EventsSQLite(b *testing.B) {
	for _, c := range []struct {
		name  string
		slots int
	}{{"slots=default", 0}, {"slots=unbounded", 1 << 16}} {
		b.Run(c.name, func(b *testing.B) {
			bus := inmem.NewBus()
			defer bus.Close()
			db := sqlite.NewDB(filepath.Join(b.TempDir(), "qianmian.db"))
			db.Bus = bus
			if err := db.Open(); err != nil {
				b.Fatal(err)
			}
			defer db.Close()
			s := newWorld().server()
			s.Events = sqlite.NewEventService(db)
			s.DecodeSlots = c.slots
			h := s.Handler()
			at := now.Add(-time.Minute).Format(time.RFC3339Nano)
			var worker atomic.Int64
			b.SetParallelism(16)
			b.ReportAllocs()
			start := time.Now()
			b.RunParallel(func(pb *testing.PB) {
				prefix := "b" + strconv.FormatInt(worker.Add(1), 10) + "-"
				var buf []byte
				seq := 0
				for pb.Next() {
					buf = buf[:0]
					for range 1000 {
						seq++
						buf = append(buf, `{"id":"`...)
						buf = append(buf, prefix...)
						buf = strconv.AppendInt(buf, int64(seq), 10)
						buf = append(buf, `","type":"view","user_id":"u`...)
						buf = strconv.AppendInt(buf, int64(seq*7919%2000), 10)
						buf = append(buf, `","item_id":"i`...)
						buf = strconv.AppendInt(buf, int64(seq*104729%5000), 10)
						buf = append(buf, `","store_id":"A","channel":"app","occurred_at":"`...)
						buf = append(buf, at...)
						buf = append(buf, "\"}\n"...)
					}
					r := httptest.NewRequest("POST", "/v1/events", bytes.NewReader(buf))
					r.Header.Set("Authorization", "Bearer op")
					r.Header.Set("Content-Type", "application/x-ndjson")
					w := httptest.NewRecorder()
					h.ServeHTTP(w, r)
					if w.Code != http.StatusOK {
						b.Errorf("status %d: %.300s", w.Code, w.Body)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)*1000/time.Since(start).Seconds(), "events/s")
		})
	}
}
