package http

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/qianmian/qianmian"
	"github.com/qianmian/qianmian/mock"
)

// slotServer returns a server with one decode slot, already taken by the test, and the
// count of events its event service was asked to store.
func slotServer(t *testing.T) (*Server, *atomic.Int64) {
	t.Helper()
	stored := new(atomic.Int64)
	s := NewServer()
	s.Events = &mock.EventService{CreateEventsFn: func(_ context.Context, events []*qianmian.Event) (qianmian.EventResult, error) {
		stored.Add(int64(len(events)))
		return qianmian.EventResult{Accepted: len(events)}, nil
	}}
	s.DecodeSlots = 1
	s.Handler()
	if cap(s.decodeSlots) != 1 {
		t.Fatalf("decode slots = %d, want the 1 configured", cap(s.decodeSlots))
	}
	s.decodeSlots <- struct{}{}
	return s, stored
}

func postOneEvent(ctx context.Context, s *Server) *httptest.ResponseRecorder {
	body := `{"id":"e1","type":"view","user_id":"u1","item_id":"i1","store_id":"A","channel":"app","occurred_at":"2024-05-06T07:00:00+08:00"}` + "\n"
	req := httptest.NewRequestWithContext(ctx, http.MethodPost, "/v1/events", strings.NewReader(body))
	req = req.WithContext(qianmian.NewContextWithPrincipal(req.Context(), qianmian.Principal{Role: qianmian.RoleOperator}))
	rec := httptest.NewRecorder()
	s.handleEventsCreate(rec, req)
	return rec
}

// A batch waits while every decode slot is taken, and is decoded and stored once one frees.
func TestEventsCreate_WaitsForADecodeSlot(t *testing.T) {
	s, ev := slotServer(t)
	done := make(chan *httptest.ResponseRecorder)
	go func() { done <- postOneEvent(context.Background(), s) }()
	select {
	case rec := <-done:
		t.Fatalf("answered %d while the only decode slot was taken: %s", rec.Code, rec.Body)
	case <-time.After(100 * time.Millisecond):
	}
	if n := ev.Load(); n != 0 {
		t.Fatalf("%d events stored while the only decode slot was taken", n)
	}
	<-s.decodeSlots // free it
	rec := <-done
	if rec.Code != http.StatusOK || ev.Load() != 1 {
		t.Fatalf("after the slot freed: status %d, %d events stored, want 200 and 1: %s", rec.Code, ev.Load(), rec.Body)
	}
	// The handler gave its slot back: it is free for the next batch.
	select {
	case s.decodeSlots <- struct{}{}:
	default:
		t.Fatal("the decode slot was not given back")
	}
}

// A request that ends while it waits for a slot is answered 503 and stores nothing, and
// takes no slot.
func TestEventsCreate_GivesUpWaitingWhenTheRequestEnds(t *testing.T) {
	s, ev := slotServer(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan *httptest.ResponseRecorder)
	go func() { done <- postOneEvent(ctx, s) }()
	time.Sleep(20 * time.Millisecond)
	cancel()
	rec := <-done
	var body errorBody
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
		t.Fatalf("body %q: %v", rec.Body, err)
	}
	if rec.Code != http.StatusServiceUnavailable || body.Error.Code != qianmian.EUNAVAILABLE {
		t.Fatalf("status %d code %q, want 503 %q", rec.Code, body.Error.Code, qianmian.EUNAVAILABLE)
	}
	if n := ev.Load(); n != 0 {
		t.Fatalf("%d events stored by a request that ended before decoding", n)
	}
	if len(s.decodeSlots) != 1 {
		t.Fatalf("%d slots taken, want only the test's 1", len(s.decodeSlots))
	}
}
