package mock

import (
	"context"
	"iter"

	"github.com/qianmian/qianmian"
)

var (
	_ qianmian.EventService = (*EventService)(nil)
	_ qianmian.EventBus     = (*EventBus)(nil)
	_ qianmian.Subscription = (*Subscription)(nil)
)

// EventService is a mock of qianmian.EventService.
type EventService struct {
	CreateEventsFn        func(ctx context.Context, events []*qianmian.Event) (qianmian.EventResult, error)
	FindEventsFn          func(ctx context.Context, filter qianmian.EventFilter) ([]*qianmian.Event, error)
	ScanEventsFn          func(ctx context.Context, filter qianmian.EventFilter) iter.Seq2[*qianmian.Event, error]
	HasStoreInteractionFn func(ctx context.Context, userID, storeID string) (bool, error)
	CountEventsFn         func(ctx context.Context) (int64, error)
	FindEventUsersFn      func(ctx context.Context, page qianmian.Page) ([]string, error)
}

// CreateEvents calls CreateEventsFn.
func (s *EventService) CreateEvents(ctx context.Context, events []*qianmian.Event) (qianmian.EventResult, error) {
	return s.CreateEventsFn(ctx, events)
}

// FindEvents calls FindEventsFn.
func (s *EventService) FindEvents(ctx context.Context, filter qianmian.EventFilter) ([]*qianmian.Event, error) {
	return s.FindEventsFn(ctx, filter)
}

// ScanEvents calls ScanEventsFn.
func (s *EventService) ScanEvents(ctx context.Context, filter qianmian.EventFilter) iter.Seq2[*qianmian.Event, error] {
	return s.ScanEventsFn(ctx, filter)
}

// HasStoreInteraction calls HasStoreInteractionFn.
func (s *EventService) HasStoreInteraction(ctx context.Context, userID, storeID string) (bool, error) {
	return s.HasStoreInteractionFn(ctx, userID, storeID)
}

// CountEvents calls CountEventsFn.
func (s *EventService) CountEvents(ctx context.Context) (int64, error) {
	return s.CountEventsFn(ctx)
}

// FindEventUsers calls FindEventUsersFn.
func (s *EventService) FindEventUsers(ctx context.Context, page qianmian.Page) ([]string, error) {
	return s.FindEventUsersFn(ctx, page)
}

// EventBus is a mock of qianmian.EventBus.
type EventBus struct {
	PublishFn   func(ctx context.Context, events []*qianmian.Event)
	SubscribeFn func() qianmian.Subscription
}

// Publish calls PublishFn.
func (b *EventBus) Publish(ctx context.Context, events []*qianmian.Event) { b.PublishFn(ctx, events) }

// Subscribe calls SubscribeFn.
func (b *EventBus) Subscribe() qianmian.Subscription { return b.SubscribeFn() }

// Subscription is a mock of qianmian.Subscription.
type Subscription struct {
	CFn     func() <-chan []*qianmian.Event
	CloseFn func()
}

// C calls CFn.
func (s *Subscription) C() <-chan []*qianmian.Event { return s.CFn() }

// Close calls CloseFn.
func (s *Subscription) Close() { s.CloseFn() }
