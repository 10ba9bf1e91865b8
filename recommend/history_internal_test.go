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

// userHistory reads a user's events once when they are fewer than the limit, and must then
// give what the windowed and typed reads give: the same events, in the same order, with the
// window's edge compared in milliseconds as the store compares Since.
func TestUserHistory_OneReadMatchesTheWindowedReads(t *testing.T) {
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
		var out []*qianmian.Event
		for _, e := range log {
			switch {
			case f.Limit > 0 && len(out) == f.Limit:
				return out, nil
			case e.UserID != f.UserID,
				!f.Since.IsZero() && e.OccurredAt.UnixMilli() < f.Since.UnixMilli(),
				len(f.Types) > 0 && !slices.Contains(f.Types, e.Type):
				continue
			}
			out = append(out, e)
		}
		return out, nil
	}}
	for _, limit := range []int{1000, len(log) + 1, len(log), 20} {
		e := &Engine{Events: events}
		e.cfg = EngineConfig{RebuildLimit: limit, RebuildWindow: window}
		// What the windowed and typed reads give (the path taken past the limit).
		var want, wantBought []*qianmian.Event
		for _, w := range []time.Duration{window, 3 * 24 * time.Hour, 6 * time.Hour} {
			want, _ = events.FindEvents(t.Context(), qianmian.EventFilter{UserID: "u", Since: now.Add(-w), Limit: limit})
			if len(want) < limit {
				break
			}
		}
		wantBought, _ = events.FindEvents(t.Context(), qianmian.EventFilter{UserID: "u",
			Types: []qianmian.EventType{qianmian.EventPurchase, qianmian.EventReturn}, Limit: limit})
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
		if oneRead := limit > len(log); oneRead != (reads == 1) {
			t.Errorf("limit %d, %d events: %d reads", limit, len(log), reads)
		}
	}
}
