package recommend_test

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/qianmian/qianmian"
)

func TestTrainer_TrainOnce(t *testing.T) {
	t.Parallel()
	db := newTestWorld(t)
	blob := mustTrain(t, db)
	if blob.Version != 1 || blob.Name != "hybrid-v1" || len(blob.Data) == 0 || !blob.CreatedAt.Equal(testNow) {
		t.Fatalf("blob = %s v%d, %d bytes, created %v", blob.Name, blob.Version, len(blob.Data), blob.CreatedAt)
	}
	var stats struct {
		Events          int      `json:"events"`
		OptedOutSkipped int      `json:"opted_out_skipped"`
		Items           int      `json:"items"`
		Neighbors       int      `json:"neighbors"`
		RebuyCategories []string `json:"rebuy_categories"`
	}
	if err := json.Unmarshal([]byte(blob.Metrics), &stats); err != nil {
		t.Fatalf("metrics %q: %v", blob.Metrics, err)
	}
	n, _ := db.CountEvents(context.Background())
	if stats.Events != int(n) || stats.Neighbors == 0 {
		t.Fatalf("metrics %+v: want %d events and some neighbours", stats, n)
	}
	// "opt" has 11 item events; none may reach the per-person models.
	if stats.OptedOutSkipped != 11 {
		t.Fatalf("opted_out_skipped=%d, want 11", stats.OptedOutSkipped)
	}
	// Milk is bought every week by the same people; pans once each.
	if !slices.Equal(stats.RebuyCategories, []string{"food/dairy/milk"}) {
		t.Fatalf("rebuy categories %v, want [food/dairy/milk]", stats.RebuyCategories)
	}
	if again := mustTrain(t, db); again.Version != 2 {
		t.Fatalf("second training saved version %d, want 2", again.Version)
	}
}

func TestTrainer_PlantedPairIsFirstNeighbour(t *testing.T) {
	t.Parallel()
	db := newTestWorld(t)
	mustTrain(t, db)
	e := openEngine(t, db, newClock(testNow))
	// s3 stocks both; the engine's Similar leads with co-occurrence neighbours.
	rec, err := e.Similar(context.Background(), "s3", "cream-00", 5)
	if err != nil {
		t.Fatal(err)
	}
	if got := rec.Items[0]; got.ItemID != "perfume-00" || got.Reasons[0] != "bought together with cream no. 0" {
		t.Fatalf("first similar to cream-00 = %+v, want perfume-00 bought together", got)
	}
}

func TestTrainer_Run(t *testing.T) {
	t.Parallel()
	db := newTestWorld(t)
	tr := newTrainer(t, db)
	tr.Interval = 10 * time.Millisecond
	ctx, cancel := context.WithCancel(context.Background())
	var done atomic.Bool
	go func() {
		if err := tr.Run(ctx); err != nil {
			t.Error(err)
		}
		done.Store(true)
	}()
	eventually(t, "two trainings", func() bool {
		b, err := db.LatestModel(context.Background(), "hybrid-v1")
		return err == nil && b.Version >= 2
	})
	cancel()
	eventually(t, "Run returns after cancel", done.Load)
}

// TestTrainer_RunStartsNothingAfterCancel: once its context is done, Run returns after the
// run in progress, even when a tick is waiting too (an interval far shorter than a run).
func TestTrainer_RunStartsNothingAfterCancel(t *testing.T) {
	t.Parallel()
	db := newTestWorld(t)
	for range 20 {
		var started atomic.Int64
		tr := newTrainer(t, db)
		tr.Interval = time.Nanosecond // a tick is always waiting
		tr.Logger = slog.New(countingHandler{msg: "training started", n: &started})
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if err := tr.Run(ctx); err != nil {
			t.Fatal(err)
		}
		if n := started.Load(); n != 1 {
			t.Fatalf("%d trainings started under a cancelled context, want the first only", n)
		}
	}
}

// countingHandler counts the records whose message is msg.
type countingHandler struct {
	msg string
	n   *atomic.Int64
}

func (h countingHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h countingHandler) Handle(_ context.Context, r slog.Record) error {
	if r.Message == h.msg {
		h.n.Add(1)
	}
	return nil
}
func (h countingHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h countingHandler) WithGroup(string) slog.Handler      { return h }

func TestTrainer_PublishedHook(t *testing.T) {
	t.Parallel()
	db := newTestWorld(t)
	tr := newTrainer(t, db)
	var got []int64
	tr.Published = func(_ context.Context, blob *qianmian.ModelBlob) error {
		got = append(got, blob.Version)
		return nil
	}
	for range 2 {
		if _, err := tr.TrainOnce(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	if !slices.Equal(got, []int64{1, 2}) {
		t.Fatalf("Published saw versions %v, want [1 2]", got)
	}
	tr.Published = func(context.Context, *qianmian.ModelBlob) error { return errors.New("reload failed") }
	blob, err := tr.TrainOnce(context.Background())
	if err == nil || !strings.Contains(err.Error(), "reload failed") || blob == nil || blob.Version != 3 {
		t.Fatalf("TrainOnce with a failing hook = v%v, %v; want version 3 saved and the hook's error", blob, err)
	}
}

// A training run holds JobLock throughout: while another job holds it, the run waits and
// publishes nothing; once released, it trains.
func TestTrainer_JobLockSerialisesRuns(t *testing.T) {
	t.Parallel()
	db := newTestWorld(t)
	tr := newTrainer(t, db)
	var jobs sync.Mutex
	tr.JobLock = &jobs
	var published atomic.Int32
	tr.Published = func(context.Context, *qianmian.ModelBlob) error {
		if jobs.TryLock() {
			jobs.Unlock()
			t.Error("the lock was free while the run published")
		}
		published.Add(1)
		return nil
	}
	jobs.Lock() // another job is running
	done := make(chan error, 1)
	go func() {
		_, err := tr.TrainOnce(context.Background())
		done <- err
	}()
	select {
	case err := <-done:
		t.Fatalf("TrainOnce returned (%v) while the lock was held", err)
	case <-time.After(300 * time.Millisecond):
	}
	if published.Load() != 0 {
		t.Fatal("a run published while another job held the lock")
	}
	jobs.Unlock()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if published.Load() != 1 {
		t.Fatalf("published %d times, want 1", published.Load())
	}
	if !jobs.TryLock() {
		t.Fatal("the run kept the lock after returning")
	}
}
