package http

import (
	"net/http"

	"github.com/qianmian/qianmian"
)

func (s *Server) handleUsersUpsert(w http.ResponseWriter, r *http.Request) {
	if !operatorOnly(principal(r)) {
		s.writeError(w, r, forbidden("only the operator upserts users"))
		return
	}
	list, err := decodeBatch[qianmian.User](w, r, "users")
	if err == nil {
		err = validateEach("users", list, (*qianmian.User).Validate)
	}
	if err == nil {
		err = upsertError("users", s.Users.UpsertUsers(r.Context(), list))
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, upsertResponse{Upserted: len(list)})
}

func (s *Server) handleUsersList(w http.ResponseWriter, r *http.Request) {
	if !operatorOnly(principal(r)) {
		s.writeError(w, r, forbidden("only the operator lists users"))
		return
	}
	page, limit, err := queryPage(r.URL.Query())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	list, err := s.Users.FindUsers(r.Context(), page)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	list, next := pageNext(list, limit, func(v *qianmian.User) string { return v.ID })
	writeJSON(w, http.StatusOK, struct {
		Users []*qianmian.User `json:"users"`
		Next  string           `json:"next"`
	}{list, next})
}

// handleUserGet answers a user as the principal may see them (userView).
func (s *Server) handleUserGet(w http.ResponseWriter, r *http.Request) {
	p, id := principal(r), r.PathValue("id")
	ok, err := s.canReadUser(r.Context(), p, id)
	if err == nil && !ok {
		err = errNotFound
	}
	var u *qianmian.User
	if err == nil {
		u, err = s.Users.FindUserByID(r.Context(), id)
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, userView(p, u))
}

func (s *Server) handleIdentitiesList(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if !canManageUser(principal(r), id) {
		s.writeError(w, r, errNotFound)
		return
	}
	// The user must exist: an unknown user is 404, not an empty list.
	if _, err := s.Users.FindUserByID(r.Context(), id); err != nil {
		s.writeError(w, r, err)
		return
	}
	list, err := s.Identities.FindIdentities(r.Context(), id)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if list == nil {
		list = []*qianmian.Identity{}
	}
	writeJSON(w, http.StatusOK, struct {
		Identities []*qianmian.Identity `json:"identities"`
	}{list})
}

// handleConsentUpdate changes the purposes named in the body and answers the user.
func (s *Server) handleConsentUpdate(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if !canManageUser(principal(r), id) {
		s.writeError(w, r, errNotFound)
		return
	}
	var upd qianmian.ConsentUpdate
	if err := decodeObject(w, r, &upd); err != nil {
		s.writeError(w, r, err)
		return
	}
	u, err := s.Users.UpdateConsent(r.Context(), id, upd)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, u)
}
