package inmem_test

import (
	"context"
	"testing"

	"github.com/qianmian/qianmian"
	"github.com/qianmian/qianmian/inmem"
)

func TestBus_FanOut(t *testing.T) {
	t.Parallel()
	b := inmem.NewBus()
	s1, s2 := b.Subscribe(), b.Subscribe()
	defer s1.Close()
	defer s2.Close()
	b.Publish(context.Background(), []*qianmian.Event{{ID: "e1"}, {ID: "e2"}})
	for i, s := range []qianmian.Subscription{s1, s2} {
		got := <-s.C()
		if len(got) != 2 || got[0].ID != "e1" || got[1].ID != "e2" {
			t.Fatalf("subscriber %d got %v, want e1,e2", i, got)
		}
	}
}

func TestBus_SlowSubscriberDropsNotBlocks(t *testing.T) {
	t.Parallel()
	b := &inmem.Bus{Buffer: 2}
	s := b.Subscribe()
	defer s.Close()
	for i := 0; i < 5; i++ {
		b.Publish(context.Background(), []*qianmian.Event{{ID: "e"}})
	}
	if got := b.Dropped(); got != 3 {
		t.Fatalf("Dropped()=%d, want 3", got)
	}
	if got := len(s.C()); got != 2 {
		t.Fatalf("buffered=%d, want 2", got)
	}
}

func TestBus_CloseEndsSubscriptions(t *testing.T) {
	t.Parallel()
	b := inmem.NewBus()
	s := b.Subscribe()
	s.Close()
	s.Close() // idempotent
	if _, ok := <-s.C(); ok {
		t.Fatal("closed subscription still delivers")
	}
	s2 := b.Subscribe()
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if _, ok := <-s2.C(); ok {
		t.Fatal("subscription survived bus Close")
	}
	s2.Close() // after bus close: no panic
	if _, ok := <-b.Subscribe().C(); ok {
		t.Fatal("subscription after Close is open")
	}
	b.Publish(context.Background(), []*qianmian.Event{{ID: "x"}}) // no panic, no subscribers
}
