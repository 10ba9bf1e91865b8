package recommend

import (
	"context"
	"math/rand/v2"
	"reflect"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/qianmian/qianmian"
	"github.com/qianmian/qianmian/mock"
)

// userHistory gives the user's newest RebuildLimit events that fall in the window (the
// window's edge compared in milliseconds, as the store compares Since) and their newest
// RebuildLimit purchases and returns, in Seq order: in one read when the user has fewer
// events than the limit, in two past it. The log's times are not in Seq order, as events
// that arrive late are not.
func TestUserHistory_NewestEventsOfTheWindow(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 24, 12, 0, 0, 123_456_789, time.UTC) // not on a millisecond
	const window = 30 * 24 * time.Hour
	rng := rand.New(rand.NewPCG(4, 2))
	types := []qianmian.EventType{qianmian.EventView, qianmian.EventClick, qianmian.EventPurchase,
		qianmian.EventReturn, qianmian.EventCart, qianmian.EventReview}
	var log []*qianmian.Event
	for k := range 60 {
		at := now.Add(-time.Duration(rng.Int64N(int64(60 * 24 * time.Hour))))
		log = append(log, &qianmian.Event{Seq: int64(k + 1), Type: types[rng.IntN(len(types))],
			UserID: "u", ItemID: "i-" + strconv.Itoa(rng.IntN(9)), OccurredAt: at.Truncate(time.Millisecond)})
	}
	// On the window's edge: the millisecond the store's Since falls in, and the one before.
	edge := time.UnixMilli(now.Add(-window).UnixMilli()).UTC()
	log = append(log, &qianmian.Event{Seq: 61, Type: qianmian.EventView, UserID: "u", ItemID: "i-1", OccurredAt: edge},
		&qianmian.Event{Seq: 62, Type: qianmian.EventPurchase, UserID: "u", ItemID: "i-2", OccurredAt: edge.Add(-time.Millisecond)})
	reads := 0
	events := &mock.EventService{FindEventsFn: func(_ context.Context, f qianmian.EventFilter) ([]*qianmian.Event, error) {
		reads++
		order := slices.Clone(log)
		if f.Newest {
			slices.Reverse(order)
		}
		var out []*qianmian.Event
		for _, e := range order {
			if f.Limit > 0 && len(out) == f.Limit {
				break
			}
			if e.UserID != f.UserID || !f.Since.IsZero() && e.OccurredAt.UnixMilli() < f.Since.UnixMilli() ||
				len(f.Types) > 0 && !slices.Contains(f.Types, e.Type) {
				continue
			}
			out = append(out, e)
		}
		if f.Newest {
			slices.Reverse(out)
		}
		return out, nil
	}}
	since := now.Add(-window).UnixMilli()
	for _, limit := range []int{1000, len(log) + 1, len(log), 20} {
		e := &Engine{Events: events}
		e.cfg = EngineConfig{RebuildLimit: limit, RebuildWindow: window}
		// The newest limit events, those in the window; the newest limit purchases and returns.
		var want, wantBought []*qianmian.Event
		for _, ev := range log[max(len(log)-limit, 0):] {
			if ev.OccurredAt.UnixMilli() >= since {
				want = append(want, ev)
			}
		}
		for k := len(log) - 1; k >= 0 && len(wantBought) < limit; k-- {
			if ev := log[k]; ev.Type == qianmian.EventPurchase || ev.Type == qianmian.EventReturn {
				wantBought = append([]*qianmian.Event{ev}, wantBought...)
			}
		}
		reads = 0
		recent, bought, err := e.userHistory(t.Context(), "u", now)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(recent, want) {
			t.Errorf("limit %d: recent has %d events, want %d", limit, len(recent), len(want))
		}
		if !reflect.DeepEqual(bought, wantBought) {
			t.Errorf("limit %d: bought has %d events, want %d", limit, len(bought), len(wantBought))
		}
		if oneRead := limit > len(log); oneRead != (reads == 1) || reads > 2 {
			t.Errorf("limit %d, %d events: %d reads", limit, len(log), reads)
		}
	}
}
