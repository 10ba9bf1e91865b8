package sqlite

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/qianmian/qianmian"
	"github.com/qianmian/qianmian/storetest"
)

func openGroupDB(t *testing.T) (*DB, *storetest.Bus) {
	t.Helper()
	bus := storetest.NewBus()
	db := NewDB(filepath.Join(t.TempDir(), "group.db"))
	db.Now = storetest.Now
	db.Bus = bus
	if err := db.Open(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Error(err)
		}
	})
	return db, bus
}

func groupEvent(id, user, item string) *qianmian.Event {
	return &qianmian.Event{ID: id, Type: qianmian.EventView, UserID: user, ItemID: item, StoreID: "s-1",
		Channel: qianmian.ChannelApp, OccurredAt: storetest.Now().Add(-time.Hour)}
}

// holdWriter takes the writer token, so that CreateEvents calls queue up until the returned
// release is called; waitQueued waits until n batches are queued.
func holdWriter(t *testing.T, db *DB) (release func(), waitQueued func(n int)) {
	t.Helper()
	db.events.token <- struct{}{}
	var once sync.Once
	release = func() { once.Do(func() { <-db.events.token }) }
	t.Cleanup(release)
	waitQueued = func(n int) {
		t.Helper()
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
			db.events.mu.Lock()
			got := len(db.events.queue)
			db.events.mu.Unlock()
			if got >= n {
				return
			}
		}
		t.Fatalf("fewer than %d batches queued after 10 s", n)
	}
	return release, waitQueued
}

type createResult struct {
	res qianmian.EventResult
	err error
}

// createAsync calls CreateEvents in a goroutine.
func createAsync(ctx context.Context, s *EventService, events []*qianmian.Event) <-chan createResult {
	c := make(chan createResult, 1)
	go func() {
		res, err := s.CreateEvents(ctx, events)
		c <- createResult{res, err}
	}()
	return c
}

// storedIDs returns the ids in the log, in seq order, and checks that seqs increase.
func storedIDs(t *testing.T, s *EventService) map[string]int64 {
	t.Helper()
	events, err := s.FindEvents(t.Context(), qianmian.EventFilter{})
	if err != nil {
		t.Fatal(err)
	}
	ids := make(map[string]int64, len(events))
	for i, e := range events {
		if i > 0 && e.Seq <= events[i-1].Seq {
			t.Fatalf("seq %d after %d", e.Seq, events[i-1].Seq)
		}
		if _, ok := ids[e.ID]; ok {
			t.Fatalf("id %s stored twice", e.ID)
		}
		ids[e.ID] = e.Seq
	}
	return ids
}

// TestGroupCommit_QueuedBatchesInOrder queues batches behind a held writer, so they are
// written as one group, and checks each gets the result it would get alone, in queue order.
func TestGroupCommit_QueuedBatchesInOrder(t *testing.T) {
	t.Parallel()
	db, bus := openGroupDB(t)
	s := NewEventService(db)
	release, waitQueued := holdWriter(t, db)

	a := []*qianmian.Event{groupEvent("x", "u-1", "i-1"), groupEvent("y", "u-1", "i-2"), groupEvent("x", "u-1", "i-1")}
	b := []*qianmian.Event{groupEvent("y", "u-2", "i-3"), groupEvent("z", "u-2", "i-4")}
	c := []*qianmian.Event{groupEvent("x", "u-3", "i-5"), groupEvent("y", "u-3", "i-5")}
	ra := createAsync(t.Context(), s, a)
	waitQueued(1)
	rb := createAsync(t.Context(), s, b)
	waitQueued(2)
	rc := createAsync(t.Context(), s, c)
	waitQueued(3)
	release()

	for _, tt := range []struct {
		name     string
		got      createResult
		accepted []bool
	}{
		{"a", <-ra, []bool{true, true, false}},
		{"b", <-rb, []bool{false, true}},
		{"c", <-rc, []bool{false, false}},
	} {
		events := map[string][]*qianmian.Event{"a": a, "b": b, "c": c}[tt.name]
		if tt.got.err != nil {
			t.Fatalf("batch %s: %v", tt.name, tt.got.err)
		}
		want := 0
		for i, acc := range tt.accepted {
			if acc {
				want++
			}
			if (events[i].Seq != 0) != acc {
				t.Errorf("batch %s event %d (%s): Seq %d, accepted %v", tt.name, i, events[i].ID, events[i].Seq, acc)
			}
		}
		if tt.got.res.Accepted != want || tt.got.res.Duplicates != len(events)-want {
			t.Errorf("batch %s: %+v, want %d accepted and %d duplicates", tt.name, tt.got.res, want, len(events)-want)
		}
	}
	if !(a[0].Seq < a[1].Seq && a[1].Seq < b[1].Seq) {
		t.Errorf("seqs not in queue order: %d %d %d", a[0].Seq, a[1].Seq, b[1].Seq)
	}
	ids := storedIDs(t, s)
	if len(ids) != 3 || ids["x"] != a[0].Seq || ids["y"] != a[1].Seq || ids["z"] != b[1].Seq {
		t.Errorf("stored %v", ids)
	}
	var published []string
	for _, e := range bus.Published() {
		published = append(published, e.ID)
	}
	if !slices.Equal(published, []string{"x", "y", "z"}) {
		t.Errorf("published %v, want [x y z] in seq order", published)
	}
}

// TestGroupCommit_IdentityLinksInQueueOrder checks that identity links made by a batch are
// seen by the batches after it in the same group, and not by those before it.
func TestGroupCommit_IdentityLinksInQueueOrder(t *testing.T) {
	t.Parallel()
	db, _ := openGroupDB(t)
	s := NewEventService(db)
	release, waitQueued := holdWriter(t, db)

	dev := &qianmian.IdentityRef{Channel: qianmian.ChannelApp, Type: qianmian.IdentityDevice, Value: "d-1"}
	anon := func(id string) *qianmian.Event {
		e := groupEvent(id, "", "i-1")
		e.Identity = dev
		return e
	}
	before := []*qianmian.Event{anon("before")}
	link := groupEvent("link", "u-1", "i-2")
	link.Identity = dev
	after := []*qianmian.Event{anon("after")}
	r1 := createAsync(t.Context(), s, before)
	waitQueued(1)
	r2 := createAsync(t.Context(), s, []*qianmian.Event{link})
	waitQueued(2)
	r3 := createAsync(t.Context(), s, after)
	waitQueued(3)
	release()
	for _, r := range []<-chan createResult{r1, r2, r3} {
		if got := <-r; got.err != nil || got.res.Accepted != 1 {
			t.Fatalf("%+v", got)
		}
	}
	if before[0].UserID != "" || after[0].UserID != "u-1" {
		t.Errorf("user of the event before the link %q (want none), after it %q (want u-1)", before[0].UserID, after[0].UserID)
	}
}

// TestGroupCommit_FailingBatchSparesTheOthers poisons one batch of a group (a trigger
// aborts its insert) and checks the others are stored and answered as if alone.
func TestGroupCommit_FailingBatchSparesTheOthers(t *testing.T) {
	t.Parallel()
	db, bus := openGroupDB(t)
	s := NewEventService(db)
	if _, err := db.write.Exec(`CREATE TEMP TRIGGER poison BEFORE INSERT ON events
		WHEN NEW.item_id = 'poison' BEGIN SELECT RAISE(ABORT, 'poisoned'); END`); err != nil {
		t.Fatal(err)
	}
	release, waitQueued := holdWriter(t, db)
	var batches [][]*qianmian.Event
	var results []<-chan createResult
	for i := range 5 {
		batch := []*qianmian.Event{groupEvent(fmt.Sprintf("e-%d-a", i), "u-1", "i-1"), groupEvent(fmt.Sprintf("e-%d-b", i), "u-2", "i-2")}
		if i == 2 {
			batch[1].ItemID = "poison"
		}
		batches = append(batches, batch)
		results = append(results, createAsync(t.Context(), s, batch))
		waitQueued(i + 1)
	}
	release()
	for i, r := range results {
		got := <-r
		if i == 2 {
			if got.err == nil {
				t.Fatalf("the poisoned batch succeeded: %+v", got.res)
			}
			for _, e := range batches[i] {
				if e.Seq != 0 {
					t.Errorf("event %s of the failed batch got Seq %d", e.ID, e.Seq)
				}
			}
			continue
		}
		if got.err != nil || got.res.Accepted != 2 || got.res.Duplicates != 0 {
			t.Fatalf("batch %d: %+v, %v", i, got.res, got.err)
		}
	}
	ids := storedIDs(t, s)
	if len(ids) != 8 {
		t.Errorf("stored %d events, want the 8 of the 4 good batches: %v", len(ids), ids)
	}
	for i, batch := range batches {
		for _, e := range batch {
			if _, ok := ids[e.ID]; ok == (i == 2) {
				t.Errorf("event %s stored=%v", e.ID, ok)
			} else if ok && ids[e.ID] != e.Seq {
				t.Errorf("event %s: Seq %d, stored at %d", e.ID, e.Seq, ids[e.ID])
			}
		}
	}
	if n := len(bus.Published()); n != 8 {
		t.Errorf("published %d events, want 8", n)
	}
}

// TestGroupCommit_CancelWhileQueued checks that a caller whose context ends while its batch
// waits gets the context's error, and that its batch is not written.
func TestGroupCommit_CancelWhileQueued(t *testing.T) {
	t.Parallel()
	db, _ := openGroupDB(t)
	s := NewEventService(db)
	release, waitQueued := holdWriter(t, db)
	ctx, cancel := context.WithCancel(t.Context())
	r1 := createAsync(ctx, s, []*qianmian.Event{groupEvent("gone", "u-1", "i-1")})
	waitQueued(1)
	r2 := createAsync(t.Context(), s, []*qianmian.Event{groupEvent("kept", "u-1", "i-1")})
	waitQueued(2)
	cancel()
	if got := <-r1; !errors.Is(got.err, context.Canceled) {
		t.Fatalf("cancelled caller: %+v, %v; want context.Canceled", got.res, got.err)
	}
	release()
	if got := <-r2; got.err != nil || got.res.Accepted != 1 {
		t.Fatalf("%+v", got)
	}
	if ids := storedIDs(t, s); len(ids) != 1 || ids["kept"] == 0 {
		t.Errorf("stored %v, want only kept", ids)
	}
}

// TestGroupCommit_ConcurrentOverlappingBatches has many goroutines post batches whose ids
// overlap, within and across batches, some of them invalid, and checks that every id is
// accepted exactly once, by one caller, at the seq it is stored at; that each caller's counts
// add up to its batch; that the log holds exactly the union of the valid batches; and that
// the bus got every accepted event once, in seq order.
func TestGroupCommit_ConcurrentOverlappingBatches(t *testing.T) {
	t.Parallel()
	db, bus := openGroupDB(t)
	s := NewEventService(db)
	const goroutines, rounds = 16, 12

	type call struct {
		events  []*qianmian.Event
		invalid bool
		res     qianmian.EventResult
		err     error
	}
	calls := make([][]*call, goroutines)
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(g), 7))
			for r := range rounds {
				n := 1 + rng.IntN(300)
				c := &call{events: make([]*qianmian.Event, n)}
				for i := range c.events {
					// 2,000 ids shared by everyone: batches overlap, and repeat ids within.
					id := "ev-" + strconv.Itoa(rng.IntN(2000))
					c.events[i] = groupEvent(id, "u-"+strconv.Itoa(rng.IntN(50)), "i-"+strconv.Itoa(rng.IntN(100)))
					if rng.IntN(10) == 0 {
						c.events[i].UserID = ""
						c.events[i].Identity = &qianmian.IdentityRef{Channel: qianmian.ChannelApp,
							Type: qianmian.IdentityDevice, Value: "d-" + strconv.Itoa(rng.IntN(30))}
						if rng.IntN(3) == 0 {
							c.events[i].UserID = "u-" + strconv.Itoa(rng.IntN(50))
						}
					}
				}
				if (g+r)%7 == 3 {
					c.invalid = true
					c.events[rng.IntN(n)].Type = "teleport"
				}
				c.res, c.err = s.CreateEvents(t.Context(), c.events)
				calls[g] = append(calls[g], c)
			}
		})
	}
	wg.Wait()

	stored := storedIDs(t, s)
	acceptedBy := make(map[string]int64)
	union := make(map[string]bool)
	for _, list := range calls {
		for _, c := range list {
			if c.invalid {
				if qianmian.ErrorCode(c.err) != qianmian.EINVALID {
					t.Fatalf("invalid batch: %v, want EINVALID", c.err)
				}
				continue
			}
			if c.err != nil {
				t.Fatal(c.err)
			}
			if c.res.Accepted+c.res.Duplicates != len(c.events) {
				t.Fatalf("%+v for %d events", c.res, len(c.events))
			}
			accepted := 0
			seen := make(map[string]bool)
			for _, e := range c.events {
				union[e.ID] = true
				if e.Seq == 0 {
					continue
				}
				accepted++
				if seen[e.ID] {
					t.Fatalf("id %s accepted twice in one batch", e.ID)
				}
				seen[e.ID] = true
				if prev, ok := acceptedBy[e.ID]; ok {
					t.Fatalf("id %s accepted twice: seq %d and %d", e.ID, prev, e.Seq)
				}
				acceptedBy[e.ID] = e.Seq
				if stored[e.ID] != e.Seq {
					t.Fatalf("id %s accepted with seq %d, stored at %d", e.ID, e.Seq, stored[e.ID])
				}
			}
			if accepted != c.res.Accepted {
				t.Fatalf("counted %d accepted, %d events have a Seq", c.res.Accepted, accepted)
			}
		}
	}
	if len(stored) != len(union) || len(acceptedBy) != len(union) {
		t.Fatalf("stored %d, accepted %d, union of the valid batches %d", len(stored), len(acceptedBy), len(union))
	}
	if n, err := s.CountEvents(t.Context()); err != nil || n != int64(len(union)) {
		t.Fatalf("CountEvents = %d, %v; want %d", n, err, len(union))
	}
	published := bus.Published()
	if len(published) != len(union) {
		t.Fatalf("published %d events, want %d", len(published), len(union))
	}
	for i, e := range published {
		if i > 0 && e.Seq <= published[i-1].Seq {
			t.Fatalf("published seq %d after %d", e.Seq, published[i-1].Seq)
		}
		if acceptedBy[e.ID] != e.Seq {
			t.Fatalf("published %s at seq %d, accepted at %d", e.ID, e.Seq, acceptedBy[e.ID])
		}
	}
}

// TestGroupCommit_PanicReleasesTheWriter checks that a panic while writing a group (here in
// a bus subscriber) answers the callers of the group and leaves the writer usable.
func TestGroupCommit_PanicReleasesTheWriter(t *testing.T) {
	t.Parallel()
	db, bus := openGroupDB(t)
	s := NewEventService(db)
	var once sync.Once
	bus.OnPublish(func(context.Context, []*qianmian.Event) { once.Do(func() { panic("subscriber bug") }) })
	done := make(chan any)
	go func() {
		defer func() { done <- recover() }()
		_, _ = s.CreateEvents(t.Context(), []*qianmian.Event{groupEvent("p-1", "u-1", "i-1")})
	}()
	if r := <-done; r == nil {
		t.Fatal("the panic did not reach the leader")
	}
	res, err := s.CreateEvents(t.Context(), []*qianmian.Event{groupEvent("p-1", "u-1", "i-1"), groupEvent("p-2", "u-1", "i-1")})
	if err != nil || res.Accepted != 1 || res.Duplicates != 1 {
		t.Fatalf("after the panic: %+v, %v; want p-2 accepted and p-1 (committed before the panic) a duplicate", res, err)
	}
}
