// Package inmem holds the in-process, single-node implementations of qianmian's bus.
package inmem

import (
	"context"
	"sync"
	"sync/atomic"

	"github.com/qianmian/qianmian"
)

// DefaultBuffer is the number of batches a subscription holds before it starts dropping.
// At the 10,000-event batch limit that is ample for a consumer that keeps up; one that does
// not loses batches (counted by Dropped) rather than stalling ingestion, because the event
// log, not the bus, is the source of truth and live state rebuilds from it.
const DefaultBuffer = 4096

// Bus is an in-process qianmian.EventBus with bounded fan-out.
type Bus struct {
	// Buffer is the per-subscription channel capacity; DefaultBuffer when zero.
	Buffer int

	mu      sync.RWMutex
	subs    map[*subscription]struct{}
	closed  bool
	dropped atomic.Int64
}

var _ qianmian.EventBus = (*Bus)(nil)

// NewBus returns a bus with the default buffer.
func NewBus() *Bus { return &Bus{Buffer: DefaultBuffer} }

// Publish hands the events to every subscriber without blocking: a subscriber whose buffer is
// full misses this batch, and Dropped counts it.
func (b *Bus) Publish(ctx context.Context, events []*qianmian.Event) {
	if len(events) == 0 {
		return
	}
	b.mu.RLock()
	defer b.mu.RUnlock()
	for s := range b.subs {
		select {
		case s.c <- events:
		default:
			b.dropped.Add(1)
		}
	}
}

// Subscribe returns a subscription receiving every batch published from now on.
func (b *Bus) Subscribe() qianmian.Subscription {
	n := b.Buffer
	if n <= 0 {
		n = DefaultBuffer
	}
	s := &subscription{bus: b, c: make(chan []*qianmian.Event, n)}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		close(s.c)
		return s
	}
	if b.subs == nil {
		b.subs = make(map[*subscription]struct{})
	}
	b.subs[s] = struct{}{}
	return s
}

// Dropped returns how many batches subscribers have missed because their buffer was full.
func (b *Bus) Dropped() int64 { return b.dropped.Load() }

// Close ends every subscription; later subscriptions are closed at once.
func (b *Bus) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return nil
	}
	b.closed = true
	for s := range b.subs {
		close(s.c)
		delete(b.subs, s)
	}
	return nil
}

type subscription struct {
	bus  *Bus
	c    chan []*qianmian.Event
	once sync.Once
}

func (s *subscription) C() <-chan []*qianmian.Event { return s.c }

func (s *subscription) Close() {
	s.once.Do(func() {
		s.bus.mu.Lock()
		defer s.bus.mu.Unlock()
		if _, ok := s.bus.subs[s]; ok {
			delete(s.bus.subs, s)
			close(s.c)
		}
	})
}
