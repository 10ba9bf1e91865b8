package http_test

import (
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/qianmian/qianmian"
)

// TestSegment_BackfillOverTheAPI: consumers who acted before the segment existed, and whose
// profiles were never read, become members once its backfill completes, and GET
// /v1/segments/{id} shows the backfill's progress.
func TestSegment_BackfillOverTheAPI(t *testing.T) {
	t.Parallel()
	w := newSegmentWorld(t)
	at := time.Now().Add(-time.Hour)
	view := func(id, user, item string) *qianmian.Event {
		return &qianmian.Event{ID: id, Type: qianmian.EventView, UserID: user, ItemID: item, StoreID: "A",
			Channel: qianmian.ChannelApp, OccurredAt: at}
	}
	if _, err := w.events.CreateEvents(t.Context(), []*qianmian.Event{
		view("e1", "u1", "p1"), view("e2", "u1", "p2"), view("e3", "u3", "f1"),
	}); err != nil {
		t.Fatal(err)
	}
	w.do(t, "POST", "/v1/segments", "op", `{"id": "beauty", "name": "Beauty fans", "expression": "affinity(\"beauty\") > 0.3"}`).
		wantStatus(t, http.StatusCreated)

	var got struct {
		qianmian.Segment
		Count    int                      `json:"count"`
		Backfill qianmian.SegmentBackfill `json:"backfill"`
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp := w.do(t, "GET", "/v1/segments/beauty", "op", "")
		resp.wantStatus(t, http.StatusOK)
		resp.decode(t, &got)
		if got.Backfill.State == qianmian.BackfillComplete {
			break
		}
		if got.Backfill.State == "" || time.Now().After(deadline) {
			t.Fatalf("segment %s", resp.body)
		}
		time.Sleep(5 * time.Millisecond)
	}
	if got.Count != 1 || got.Backfill.Evaluated != 2 || got.Backfill.Total != 2 || got.Backfill.FinishedAt.IsZero() {
		t.Fatalf("after the backfill: %+v, want 1 member and 2 of 2 consumers evaluated", got)
	}
	if ids, _ := w.members(t, "/v1/segments/beauty/members"); !slices.Equal(ids, []string{"u1"}) {
		t.Fatalf("members after the backfill: %v, want [u1]", ids)
	}
}
