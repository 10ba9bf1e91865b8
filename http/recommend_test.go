package http_test

import (
	"bytes"
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/qianmian/qianmian"
	"github.com/qianmian/qianmian/mock"
)

type recommendation struct {
	RecID string `json:"rec_id"`
	Items []struct {
		ItemID  string   `json:"item_id"`
		Score   float64  `json:"score"`
		Reasons []string `json:"reasons"`
	} `json:"items"`
	Personalized bool  `json:"personalized"`
	ModelVersion int64 `json:"model_version"`
}

func TestRecommendations(t *testing.T) {
	t.Parallel()
	w := newWorld()
	h := w.server().Handler()
	resp := do(t, h, "GET", "/v1/stores/A/recommendations?user=u1&n=3&channel=app&location_type=mall&at=2024-05-06T10:00:00%2B08:00", "store-a", "")
	resp.wantStatus(t, http.StatusOK)
	var rec recommendation
	resp.decode(t, &rec)
	if rec.RecID != "rec-1" || len(rec.Items) != 3 || !rec.Personalized || rec.ModelVersion != 3 {
		t.Fatalf("recommendation = %s", resp.body)
	}
	for _, it := range rec.Items {
		if it.ItemID == "" || len(it.Reasons) == 0 {
			t.Fatalf("item without id or reasons: %s", resp.body)
		}
	}
	req := w.recReqs[0]
	want := qianmian.RecommendRequest{StoreID: "A", UserID: "u1", N: 3, Context: qianmian.RequestContext{
		Channel: qianmian.ChannelApp, LocationType: qianmian.LocationMall, At: time.Date(2024, 5, 6, 2, 0, 0, 0, time.UTC),
	}}
	if req.StoreID != want.StoreID || req.UserID != want.UserID || req.N != want.N || req.Identity != nil ||
		req.Context.Channel != want.Context.Channel || req.Context.LocationType != want.Context.LocationType || !req.Context.At.Equal(want.Context.At) {
		t.Fatalf("request = %+v, want %+v", req, want)
	}

	// An anonymous visitor by identity; n defaults to 10.
	do(t, h, "GET", "/v1/stores/A/recommendations?identity_channel=miniprogram&identity_type=device&identity_value=d-9", "op", "").wantStatus(t, http.StatusOK)
	req = w.recReqs[1]
	if req.N != 10 || req.UserID != "" || req.Identity == nil || req.Identity.Key() != "miniprogram:device:d-9" {
		t.Fatalf("anonymous request = %+v (identity %+v)", req, req.Identity)
	}
}

func TestRecommendations_BadParameters(t *testing.T) {
	t.Parallel()
	h := newWorld().server().Handler()
	for _, tt := range []struct{ query, field string }{
		{"n=ten", "n"},
		{"n=0", "n"},
		{"n=100000", "n"},
		{"at=tomorrow", "at"},
		{"at=2024-05-06", "at"},
		{"channel=fax", "channel"},
		{"location_type=moon", "location_type"},
		{"identity_channel=app&identity_value=x", "identity_type"},
		{"identity_type=device&identity_value=x", "identity_channel"},
	} {
		do(t, h, "GET", "/v1/stores/A/recommendations?"+tt.query, "store-a", "").wantError(t, http.StatusBadRequest, qianmian.EINVALID, tt.field)
	}
	// Another store's ranking is 404 whatever the parameters.
	do(t, h, "GET", "/v1/stores/B/recommendations?n=ten", "store-a", "").wantError(t, http.StatusNotFound, qianmian.ENOTFOUND, "")
}

func TestSimilar(t *testing.T) {
	t.Parallel()
	h := newWorld().server().Handler()
	resp := do(t, h, "GET", "/v1/stores/A/items/i1/similar?n=2", "store-a", "")
	resp.wantStatus(t, http.StatusOK)
	var rec recommendation
	resp.decode(t, &rec)
	if len(rec.Items) != 2 {
		t.Fatalf("similar = %s", resp.body)
	}
	do(t, h, "GET", "/v1/stores/A/items/i1/similar?n=x", "store-a", "").wantError(t, http.StatusBadRequest, qianmian.EINVALID, "n")
	do(t, h, "GET", "/v1/stores/A/items/nope/similar", "store-a", "").wantError(t, http.StatusNotFound, qianmian.ENOTFOUND, "")
}

func TestRecommendations_EmptyListsAreArrays(t *testing.T) {
	t.Parallel()
	s := newWorld().server()
	s.Recommender = &mock.Recommender{RecommendFn: func(context.Context, qianmian.RecommendRequest) (*qianmian.Recommendation, error) {
		return &qianmian.Recommendation{RecID: "r", Items: []qianmian.ScoredItem{{ItemID: "i1"}}}, nil
	}}
	resp := do(t, s.Handler(), "GET", "/v1/stores/A/recommendations", "op", "")
	if !bytes.Contains(resp.body, []byte(`"reasons":[]`)) {
		t.Fatalf("nil reasons answered %s", resp.body)
	}
	s.Recommender = &mock.Recommender{RecommendFn: func(context.Context, qianmian.RecommendRequest) (*qianmian.Recommendation, error) {
		return &qianmian.Recommendation{RecID: "r"}, nil
	}}
	resp = do(t, s.Handler(), "GET", "/v1/stores/A/recommendations", "op", "")
	if !bytes.Contains(resp.body, []byte(`"items":[]`)) {
		t.Fatalf("nil items answered %s", resp.body)
	}
}

func TestInternalErrorIsHidden(t *testing.T) {
	t.Parallel()
	s := newWorld().server()
	s.Recommender = &mock.Recommender{RecommendFn: func(context.Context, qianmian.RecommendRequest) (*qianmian.Recommendation, error) {
		return nil, errSecret
	}}
	resp := do(t, s.Handler(), "GET", "/v1/stores/A/recommendations", "op", "")
	e := resp.wantError(t, http.StatusInternalServerError, qianmian.EINTERNAL, "")
	if e.Error.Message != "internal error" || bytes.Contains(resp.body, []byte("dsn")) {
		t.Fatalf("internal error answered %s", resp.body)
	}
}

var errSecret = &secretError{}

type secretError struct{}

func (*secretError) Error() string { return "open dsn postgres://admin:hunter2@db" }
