package http

import (
	"net/http"

	"github.com/qianmian/qianmian"
)

// identityGraphResponse is a user's identity graph with the user's record, when the
// platform was told of the user (links and events may name users it never was).
type identityGraphResponse struct {
	*qianmian.IdentityGraph
	User *qianmian.User `json:"user,omitempty"`
}

// handleIdentityGraphGet answers the user's identity graph: linked identities with what
// linked each and their events, and past unlinks.
func (s *Server) handleIdentityGraphGet(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if !canManageIdentities(principal(r)) {
		s.writeError(w, r, errNotFound)
		return
	}
	g, err := s.Identities.IdentityGraph(r.Context(), id)
	var u *qianmian.User
	if err == nil {
		u, err = s.Users.FindUserByID(r.Context(), id)
		if qianmian.ErrorCode(err) == qianmian.ENOTFOUND {
			u, err = nil, nil
		}
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, identityGraphResponse{IdentityGraph: g, User: u})
}

// handleIdentityLink links the identity in the body to the user: 204, also when it was
// linked to them already; 409 when it is linked to another user.
func (s *Server) handleIdentityLink(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if !canManageIdentities(principal(r)) {
		s.writeError(w, r, forbidden("only the operator links identities"))
		return
	}
	var ref qianmian.IdentityRef
	err := decodeObject(w, r, &ref)
	if err == nil {
		err = ref.Validate("")
	}
	if err == nil {
		err = s.Identities.LinkIdentity(r.Context(), ref, id)
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.identityChanged(r, ref, id)
	w.WriteHeader(http.StatusNoContent)
}

// handleIdentityUnlink unlinks the identity named by the path from the user, with the
// optional reason of the query: 204; 404 when it is not linked to that user.
func (s *Server) handleIdentityUnlink(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if !canManageIdentities(principal(r)) {
		s.writeError(w, r, forbidden("only the operator unlinks identities"))
		return
	}
	ref := qianmian.IdentityRef{Channel: qianmian.Channel(r.PathValue("channel")),
		Type: qianmian.IdentityType(r.PathValue("type")), Value: r.PathValue("value")}
	reason := r.URL.Query().Get("reason")
	err := ref.Validate("")
	if err == nil {
		err = qianmian.ValidateUnlink(ref, id, reason)
	}
	if err == nil {
		err = s.Identities.UnlinkIdentity(r.Context(), ref, id, reason)
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.identityChanged(r, ref, id)
	w.WriteHeader(http.StatusNoContent)
}

// identityChanged tells the engine that ref's link to userID changed, before the answer,
// so the caller's next read sees state rebuilt from the log.
func (s *Server) identityChanged(r *http.Request, ref qianmian.IdentityRef, userID string) {
	if s.IdentityChanged != nil {
		s.IdentityChanged(r.Context(), ref, userID)
	}
}
