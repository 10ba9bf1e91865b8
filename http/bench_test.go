package http_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"

	"github.com/qianmian/qianmian"
	"github.com/qianmian/qianmian/mock"
)

func BenchmarkServer_Recommend(b *testing.B) {
	s := newWorld().server()
	rec := &qianmian.Recommendation{RecID: "rec-1", Personalized: true, ModelVersion: 1}
	for i := range 10 {
		rec.Items = append(rec.Items, qianmian.ScoredItem{
			ItemID: "item-" + strconv.Itoa(i), Score: float64(10 - i),
			Reasons: []string{"viewed similar: Rose Eau de Parfum", "popular in this store this week"},
		})
	}
	s.Recommender = &mock.Recommender{RecommendFn: func(context.Context, qianmian.RecommendRequest) (*qianmian.Recommendation, error) {
		return rec, nil
	}}
	h := s.Handler()
	r := newRequest("GET", "/v1/stores/A/recommendations?user=u1&n=10&channel=app&location_type=mall", "store-a", "")
	b.ReportAllocs()
	for b.Loop() {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != http.StatusOK {
			b.Fatalf("status %d: %s", w.Code, w.Body)
		}
	}
}

func BenchmarkServer_Events(b *testing.B) {
	for _, n := range []int{1, 100, 10_000} {
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			s := newWorld().server()
			// The store only counts, so the benchmark measures the handler.
			s.Events = &mock.EventService{CreateEventsFn: func(_ context.Context, events []*qianmian.Event) (qianmian.EventResult, error) {
				return qianmian.EventResult{Accepted: len(events)}, nil
			}}
			h := s.Handler()
			events := make([]map[string]any, n)
			for i := range events {
				events[i] = event(i)
			}
			body := mustJSON(b, events)
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				r := httptest.NewRequest("POST", "/v1/events", bytes.NewReader(body))
				r.Header.Set("Authorization", "Bearer op")
				w := httptest.NewRecorder()
				h.ServeHTTP(w, r)
				if w.Code != http.StatusOK {
					b.Fatalf("status %d: %s", w.Code, w.Body)
				}
			}
		})
	}
}
