package http

import (
	"net/http"

	"github.com/qianmian/qianmian"
)

// errNoSegments answers the segment routes of a server without a segment service.
var errNoSegments = qianmian.Errorf(qianmian.EUNAVAILABLE, "segments are not enabled on this server")

// segmentRequest is the body of POST /v1/segments and PUT /v1/segments/{id}.
type segmentRequest struct {
	ID         string `json:"id"`
	Name       string `json:"name"`
	Expression string `json:"expression"`
}

// segmentRead checks that the principal may read segments (the operator; others get 404)
// and that the server has them.
func (s *Server) segmentRead(w http.ResponseWriter, r *http.Request) bool {
	var err error
	switch {
	case !canManageSegments(principal(r)):
		err = errNotFound
	case s.Segments == nil:
		err = errNoSegments
	}
	if err != nil {
		s.writeError(w, r, err)
		return false
	}
	return true
}

// segmentWrite checks that the principal may change segments (the operator; others get 403)
// and that the server has them.
func (s *Server) segmentWrite(w http.ResponseWriter, r *http.Request) bool {
	var err error
	switch {
	case !canManageSegments(principal(r)):
		err = forbidden("only the operator manages segments")
	case s.Segments == nil:
		err = errNoSegments
	}
	if err != nil {
		s.writeError(w, r, err)
		return false
	}
	return true
}

// handleSegmentCreate defines a segment: 201 with it.
func (s *Server) handleSegmentCreate(w http.ResponseWriter, r *http.Request) {
	if !s.segmentWrite(w, r) {
		return
	}
	var req segmentRequest
	var g *qianmian.Segment
	err := decodeObject(w, r, &req)
	if err == nil {
		g, err = s.Segments.CreateSegment(r.Context(), &qianmian.Segment{ID: req.ID, Name: req.Name, Expression: req.Expression})
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, g)
}

// handleSegmentsList answers every segment's definition.
func (s *Server) handleSegmentsList(w http.ResponseWriter, r *http.Request) {
	if !s.segmentRead(w, r) {
		return
	}
	list, err := s.Segments.FindSegments(r.Context())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, struct {
		Segments []*qianmian.Segment `json:"segments"`
	}{list})
}

// handleSegmentGet answers a segment's definition with its member count and the progress of
// its backfill over every consumer.
func (s *Server) handleSegmentGet(w http.ResponseWriter, r *http.Request) {
	if !s.segmentRead(w, r) {
		return
	}
	g, err := s.Segments.FindSegmentByID(r.Context(), r.PathValue("id"))
	var n int
	var b *qianmian.SegmentBackfill
	if err == nil {
		n, err = s.Segments.SegmentCount(r.Context(), g.ID)
	}
	if err == nil {
		b, err = s.Segments.SegmentBackfill(r.Context(), g.ID)
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, struct {
		*qianmian.Segment
		Count    int                       `json:"count"`
		Backfill *qianmian.SegmentBackfill `json:"backfill"`
	}{g, n, b})
}

// handleSegmentPut replaces a segment's name and expression.
func (s *Server) handleSegmentPut(w http.ResponseWriter, r *http.Request) {
	if !s.segmentWrite(w, r) {
		return
	}
	var req segmentRequest
	var g *qianmian.Segment
	err := decodeObject(w, r, &req)
	if err == nil && req.ID != "" && req.ID != r.PathValue("id") {
		err = qianmian.Invalid("id", "does not match the path")
	}
	if err == nil {
		g, err = s.Segments.UpdateSegment(r.Context(), &qianmian.Segment{ID: r.PathValue("id"), Name: req.Name, Expression: req.Expression})
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, g)
}

// handleSegmentDelete deletes a segment: 204.
func (s *Server) handleSegmentDelete(w http.ResponseWriter, r *http.Request) {
	if !s.segmentWrite(w, r) {
		return
	}
	if err := s.Segments.DeleteSegment(r.Context(), r.PathValue("id")); err != nil {
		s.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// handleSegmentMembers answers a page of a segment's members: ?after= and ?limit=.
func (s *Server) handleSegmentMembers(w http.ResponseWriter, r *http.Request) {
	if !s.segmentRead(w, r) {
		return
	}
	page, limit, err := queryPage(r.URL.Query())
	var ids []string
	if err == nil {
		ids, err = s.Segments.SegmentMembers(r.Context(), r.PathValue("id"), page.After, page.Limit)
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	ids, next := pageNext(ids, limit, func(id string) string { return id })
	writeJSON(w, http.StatusOK, struct {
		Members []string `json:"members"`
		Next    string   `json:"next"`
	}{ids, next})
}

// handleSegmentCounts answers a segment's member count now and over time.
func (s *Server) handleSegmentCounts(w http.ResponseWriter, r *http.Request) {
	if !s.segmentRead(w, r) {
		return
	}
	id := r.PathValue("id")
	n, err := s.Segments.SegmentCount(r.Context(), id)
	var h []qianmian.SegmentCount
	if err == nil {
		h, err = s.Segments.SegmentHistory(r.Context(), id)
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if h == nil {
		h = []qianmian.SegmentCount{}
	}
	writeJSON(w, http.StatusOK, struct {
		Count   int                     `json:"count"`
		History []qianmian.SegmentCount `json:"history"`
	}{n, h})
}

// handleSegmentAudience answers the members who consented to marketing.
func (s *Server) handleSegmentAudience(w http.ResponseWriter, r *http.Request) {
	if !s.segmentRead(w, r) {
		return
	}
	ids, err := s.Segments.SegmentAudience(r.Context(), r.PathValue("id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if ids == nil {
		ids = []string{}
	}
	writeJSON(w, http.StatusOK, struct {
		Audience []string `json:"audience"`
	}{ids})
}
