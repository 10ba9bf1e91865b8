// Package storetest is the contract every implementation of the qianmian storage interfaces
// passes. An implementation's own tests call Run with a function that opens fresh stores:
//
//	func TestContract(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) storetest.Stores {
//			bus := storetest.NewBus()
//			db := mustOpen(t, bus) // clock pinned to storetest.Now(), a FieldCipher set
//			return storetest.Stores{Events: NewEventService(db), ..., Bus: bus}
//		})
//	}
//
// Only *_test.go files import this package.
package storetest

import (
	"context"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/qianmian/qianmian"
)

// Stores is the set of services one backend provides, as the contract sees them.
type Stores struct {
	Suppliers   qianmian.SupplierService
	Stores      qianmian.StoreService
	Items       qianmian.ItemService
	Assortments qianmian.AssortmentService
	Users       qianmian.UserService
	Identities  qianmian.IdentityService
	Events      qianmian.EventService
	Keys        qianmian.KeyService
	Models      qianmian.ModelStore
	// Profiles is optional: the profile contract skips when it is nil.
	Profiles qianmian.ProfileStore
	// Segments is optional: the segment contract skips when it is nil.
	Segments qianmian.SegmentStore

	// Bus is the bus the stores publish committed events to.
	Bus *Bus
}

// Now returns the time the stores' clock must be pinned to: the contract compares
// UpdatedAt, CreatedAt and LinkedAt with it, and dates its events before it.
func Now() time.Time { return time.Date(2024, 6, 1, 12, 0, 0, 0, time.UTC) }

// Run runs every contract test, each as a parallel subtest. open must return stores that
// are empty, independent of every other call's (a new file, a new schema), configured with
// a FieldCipher, with their clock pinned to Now, and closed by a cleanup registered on t.
func Run(t *testing.T, open func(t *testing.T) Stores) {
	for _, tc := range contract() {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, open(t))
		})
	}
}

type contractTest struct {
	name string
	fn   func(t *testing.T, s Stores)
}

func contract() []contractTest {
	var all []contractTest
	all = append(all, catalogTests()...)
	all = append(all, assortmentTests()...)
	all = append(all, userTests()...)
	all = append(all, identityTests()...)
	all = append(all, eventTests()...)
	all = append(all, accessTests()...)
	all = append(all, profileTests()...)
	all = append(all, segmentTests()...)
	return all
}

// Bus is a qianmian.EventBus that records every published batch, so the contract can check
// what a store publishes and when.
type Bus struct {
	mu        sync.Mutex
	batches   [][]*qianmian.Event
	onPublish func(ctx context.Context, events []*qianmian.Event)
	subs      []chan []*qianmian.Event
}

// NewBus returns an empty Bus.
func NewBus() *Bus { return &Bus{} }

// Publish records events, after calling the hook set with OnPublish, and hands them to
// subscriptions that have room.
func (b *Bus) Publish(ctx context.Context, events []*qianmian.Event) {
	b.mu.Lock()
	hook := b.onPublish
	b.mu.Unlock()
	if hook != nil {
		hook(ctx, events)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.batches = append(b.batches, events)
	for _, c := range b.subs {
		select {
		case c <- events:
		default:
		}
	}
}

// OnPublish sets a function Publish calls with each batch before recording it.
func (b *Bus) OnPublish(fn func(ctx context.Context, events []*qianmian.Event)) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.onPublish = fn
}

// Batches returns the batches published so far.
func (b *Bus) Batches() [][]*qianmian.Event {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([][]*qianmian.Event(nil), b.batches...)
}

// Published returns every event published so far, in order.
func (b *Bus) Published() []*qianmian.Event {
	var all []*qianmian.Event
	for _, batch := range b.Batches() {
		all = append(all, batch...)
	}
	return all
}

// Subscribe returns a subscription with room for 64 batches; later ones are dropped.
func (b *Bus) Subscribe() qianmian.Subscription {
	b.mu.Lock()
	defer b.mu.Unlock()
	c := make(chan []*qianmian.Event, 64)
	b.subs = append(b.subs, c)
	return &subscription{bus: b, c: c}
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
		for i, c := range s.bus.subs {
			if c == s.c {
				s.bus.subs = append(s.bus.subs[:i], s.bus.subs[i+1:]...)
				break
			}
		}
		close(s.c)
	})
}

// equal fails t unless got and want have the same JSON encoding, showing both.
func equal(t *testing.T, what string, got, want any) {
	t.Helper()
	g, err := json.MarshalIndent(got, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	w, err := json.MarshalIndent(want, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if string(g) != string(w) {
		t.Fatalf("%s:\ngot  %s\nwant %s", what, g, w)
	}
}

// wantCode fails t unless err carries the given qianmian error code.
func wantCode(t *testing.T, what string, err error, code string) {
	t.Helper()
	if got := qianmian.ErrorCode(err); got != code {
		t.Fatalf("%s: error %v has code %q, want %q", what, err, got, code)
	}
}

// wantField fails t unless err is an EINVALID error naming field.
func wantField(t *testing.T, what string, err error, field string) {
	t.Helper()
	wantCode(t, what, err, qianmian.EINVALID)
	if got := qianmian.ErrorField(err); got != field {
		t.Fatalf("%s: error %v names field %q, want %q", what, err, got, field)
	}
}

// must fails t if err is not nil.
func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
