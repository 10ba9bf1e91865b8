package http

import (
	"net/http"
	"time"

	"github.com/qianmian/qianmian"
)

// errNoProfiles answers the profile routes of a server without a profile service.
var errNoProfiles = qianmian.Errorf(qianmian.EUNAVAILABLE, "profiles are not enabled on this server")

// handleProfileGet answers a user's profile: what the engine believes about them and why.
func (s *Server) handleProfileGet(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	ok, err := s.canReadUser(r.Context(), principal(r), id)
	switch {
	case err == nil && !ok:
		err = errNotFound
	case err == nil && s.Profiles == nil:
		err = errNoProfiles
	}
	var p *qianmian.Profile
	if err == nil {
		p, err = s.Profiles.FindProfileByUserID(r.Context(), id)
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, p)
}

// handleMyProfileGet answers the consumer's own profile. A consumer the platform knows
// nothing of yet gets an empty one.
func (s *Server) handleMyProfileGet(w http.ResponseWriter, r *http.Request) {
	id, ok := consumerSelf(principal(r))
	if !ok {
		s.writeError(w, r, errNotFound)
		return
	}
	if s.Profiles == nil {
		s.writeError(w, r, errNoProfiles)
		return
	}
	p, err := s.Profiles.FindProfileByUserID(r.Context(), id)
	if qianmian.ErrorCode(err) == qianmian.ENOTFOUND {
		p, err = emptyProfile(id, s.Now()), nil
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, p)
}

// emptyProfile is the profile of a consumer of whom nothing is recorded.
func emptyProfile(id string, now time.Time) *qianmian.Profile {
	return &qianmian.Profile{UserID: id, Personalization: qianmian.DefaultConsent().Personalization,
		Identities: []qianmian.IdentityRef{}, Explanations: []qianmian.TraitExplanation{}, Tags: []qianmian.ProfileTag{},
		DeletedTags: []string{}, Note: "nothing is recorded about you yet", UpdatedAt: now.UTC()}
}

// handleMyProfileTagDelete deletes a tag from the consumer's profile for good: 204.
func (s *Server) handleMyProfileTagDelete(w http.ResponseWriter, r *http.Request) {
	id, ok := consumerSelf(principal(r))
	if !ok {
		s.writeError(w, r, forbidden("only a consumer deletes tags from their own profile"))
		return
	}
	if s.Profiles == nil {
		s.writeError(w, r, errNoProfiles)
		return
	}
	if err := s.Profiles.DeleteProfileTag(r.Context(), id, r.PathValue("tag")); err != nil {
		s.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// personalizationRequest is the body of PUT /v1/me/personalization.
type personalizationRequest struct {
	Enabled *bool `json:"enabled"`
}

// handleMyPersonalizationPut turns personalisation on or off for the consumer, from the next
// request on, and answers their profile as it then is.
func (s *Server) handleMyPersonalizationPut(w http.ResponseWriter, r *http.Request) {
	id, ok := consumerSelf(principal(r))
	if !ok {
		s.writeError(w, r, forbidden("only a consumer switches their own personalisation"))
		return
	}
	if s.Profiles == nil {
		s.writeError(w, r, errNoProfiles)
		return
	}
	var req personalizationRequest
	err := decodeObject(w, r, &req)
	if err == nil && req.Enabled == nil {
		err = qianmian.Invalid("enabled", "required: true or false")
	}
	var p *qianmian.Profile
	if err == nil {
		p, err = s.Profiles.SetPersonalization(r.Context(), id, *req.Enabled)
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, p)
}
