package recommend

import (
	"context"
	"errors"
	"testing"
	"time"
)

// TestStartRanking_BoundsConcurrentRankings: with every slot taken a ranking waits, gives up
// when its context ends, and goes ahead once a slot is released.
func TestStartRanking_BoundsConcurrentRankings(t *testing.T) {
	e := &Engine{ranking: make(chan struct{}, 2)}
	ctx := context.Background()
	var dones []func()
	for range 2 {
		done, err := e.startRanking(ctx)
		if err != nil {
			t.Fatal(err)
		}
		dones = append(dones, done)
	}
	if busy, limit := e.RankingSlots(); busy != 2 || limit != 2 {
		t.Fatalf("slots %d of %d, want 2 of 2", busy, limit)
	}
	short, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	if _, err := e.startRanking(short); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("a third ranking with every slot taken: %v, want the context's deadline", err)
	}
	got := make(chan error, 1)
	go func() {
		done, err := e.startRanking(ctx)
		if err == nil {
			done()
		}
		got <- err
	}()
	select {
	case err := <-got:
		t.Fatalf("a ranking went ahead with every slot taken (err %v)", err)
	case <-time.After(20 * time.Millisecond):
	}
	dones[0]()
	select {
	case err := <-got:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("a released slot did not let the waiting ranking go ahead")
	}
	dones[1]()
	if busy, _ := e.RankingSlots(); busy != 0 {
		t.Errorf("%d slots busy after every ranking finished", busy)
	}
}
