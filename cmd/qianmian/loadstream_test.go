package main

import (
	"context"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/qianmian/qianmian"
	"github.com/qianmian/qianmian/sim"
)

// TestLoadEvents_StreamsAWorldThroughValidation streams the small world's events into a real
// SQLite file the way the large demo does, with two invalid events in the stream: both are
// rejected by field, every valid one is stored exactly once, and the stream again adds none.
func TestLoadEvents_StreamsAWorldThroughValidation(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cfg := sim.SmallConfig()
	cfg.End = time.Now().UTC().Truncate(time.Second)
	world, err := sim.Generate(cfg)
	if err != nil {
		t.Fatal(err)
	}
	files, err := sim.WriteReferenceFiles(world, filepath.Join(dir, "world"))
	if err != nil {
		t.Fatal(err)
	}
	if files.Events != "" || len(files.Paths()) != 5 {
		t.Fatalf("reference files %v: want no events file", files.Paths())
	}
	m := NewMain(io.Discard)
	m.Config.DSN = "sqlite:" + filepath.Join(dir, "q.db")
	ctx := context.Background()
	if err := m.OpenStorage(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	l := m.loader(nil)
	for _, f := range files.Paths() {
		if _, err := l.LoadFile(ctx, f, kindOf(f)); err != nil {
			t.Fatal(err)
		}
	}
	valid := 0
	stream := func(yield func(*qianmian.Event) bool) {
		k := 0
		for e := range world.Events() {
			k++
			switch k {
			case 100:
				bad := *e
				bad.ID, bad.Type = "bad-type", "teleport"
				if !yield(&bad) {
					return
				}
			case 200:
				bad := *e
				bad.ID, bad.OccurredAt = "bad-time", time.Time{}
				if !yield(&bad) {
					return
				}
			}
			valid++
			if !yield(e) {
				return
			}
		}
	}
	sum, err := l.LoadEvents(ctx, "events", stream, 0)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Accepted != valid || sum.Rejected != 2 || sum.Records != valid+2 {
		t.Fatalf("summary %+v: want %d accepted of %d records, 2 rejected", sum, valid, valid+2)
	}
	fields := map[string]bool{}
	for reason := range sum.Reasons {
		fields[strings.SplitN(reason, ":", 2)[0]] = true
	}
	if len(fields) != 2 || !fields["type"] || !fields["occurred_at"] {
		t.Fatalf("rejected for %v: want type and occurred_at", sum.Reasons)
	}
	n, err := m.Events.CountEvents(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if n != int64(valid) {
		t.Fatalf("%d events stored, want %d", n, valid)
	}
	again, err := l.LoadEvents(ctx, "events", world.Events(), 0)
	if err != nil {
		t.Fatal(err)
	}
	if again.Accepted != 0 || again.Duplicates != valid {
		t.Fatalf("second stream %+v: want every event a duplicate", again)
	}
}
