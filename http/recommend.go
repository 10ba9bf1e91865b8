package http

import (
	"net/http"
	"strings"

	"github.com/qianmian/qianmian"
)

// handleRecommendationsGet ranks a store's shop for a visitor:
// ?user=U or ?identity_channel=&identity_type=&identity_value= (or neither, for an unknown
// visitor), ?n=, and the context ?channel=, ?location_type=, ?at= (RFC 3339).
func (s *Server) handleRecommendationsGet(w http.ResponseWriter, r *http.Request) {
	storeID := r.PathValue("id")
	if !canRank(principal(r), storeID) {
		s.writeError(w, r, errNotFound)
		return
	}
	req, err := recommendRequest(r, storeID)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	rec, err := s.Recommender.Recommend(r.Context(), req)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, recommendationView(rec))
}

// recommendRequest parses the query of a recommendations request; errors name the parameter.
func recommendRequest(r *http.Request, storeID string) (qianmian.RecommendRequest, error) {
	q := r.URL.Query()
	req := qianmian.RecommendRequest{
		StoreID: storeID,
		UserID:  q.Get("user"),
		Context: qianmian.RequestContext{
			Channel:      qianmian.Channel(q.Get("channel")),
			LocationType: qianmian.LocationType(q.Get("location_type")),
		},
	}
	var err error
	if req.N, err = queryInt(q, "n", 0, 1, qianmian.MaxRecommendations); err != nil {
		return req, err
	}
	if req.Context.At, err = queryTime(q, "at"); err != nil {
		return req, err
	}
	if q.Has("identity_channel") || q.Has("identity_type") || q.Has("identity_value") {
		ref := &qianmian.IdentityRef{
			Channel: qianmian.Channel(q.Get("identity_channel")),
			Type:    qianmian.IdentityType(q.Get("identity_type")),
			Value:   q.Get("identity_value"),
		}
		if err := ref.Validate("identity"); err != nil {
			// Name the query parameter: "identity.type" is sent as identity_type.
			field := strings.Replace(qianmian.ErrorField(err), ".", "_", 1)
			return req, qianmian.Invalid(field, "%s", qianmian.ErrorMessage(err))
		}
		req.Identity = ref
	}
	return req, req.Validate()
}

// handleSimilarGet ranks a store's in-stock items most like one item: ?n=.
func (s *Server) handleSimilarGet(w http.ResponseWriter, r *http.Request) {
	storeID, itemID := r.PathValue("id"), r.PathValue("item")
	if !canRank(principal(r), storeID) {
		s.writeError(w, r, errNotFound)
		return
	}
	n, err := queryInt(r.URL.Query(), "n", 10, 1, qianmian.MaxRecommendations)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	rec, err := s.Recommender.Similar(r.Context(), storeID, itemID, n)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, recommendationView(rec))
}

// recommendationView returns rec with empty lists as [] rather than null, which clients
// need not special-case.
func recommendationView(rec *qianmian.Recommendation) *qianmian.Recommendation {
	needCopy := rec.Items == nil
	for _, it := range rec.Items {
		needCopy = needCopy || it.Reasons == nil
	}
	if !needCopy {
		return rec
	}
	v := *rec
	v.Items = make([]qianmian.ScoredItem, len(rec.Items))
	for i, it := range rec.Items {
		if it.Reasons == nil {
			it.Reasons = []string{}
		}
		v.Items[i] = it
	}
	return &v
}
