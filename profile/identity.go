package profile

import (
	"context"
	"fmt"

	"github.com/qianmian/qianmian"
)

// NoteAnonymous is the Note of the profile of an anonymous identity's subject.
const NoteAnonymous = "anonymous: the events sent under this identity that count for no user " +
	"(it is linked to none); no declared attributes, default consent"

// anonymousProfile answers the profile of an identity's anonymous subject
// (qianmian.IdentityRef.AnonymousSubject): while the identity is linked to a user, that
// user's profile, which its events count in; otherwise the profile of the events sent under
// it that no user holds (before any link, or given back by an unlink). It is built from the
// log on every read: the bus keeps only users' profiles current, and anonymous subjects have
// few events. ENOTFOUND if the identity has no such event.
func (s *Service) anonymousProfile(ctx context.Context, ref qianmian.IdentityRef) (*qianmian.Profile, error) {
	subject := ref.AnonymousSubject()
	if s.Identities != nil {
		userID, err := s.Identities.ResolveIdentity(ctx, ref)
		switch {
		case err == nil:
			return s.FindProfileByUserID(ctx, userID)
		case qianmian.ErrorCode(err) != qianmian.ENOTFOUND:
			return nil, fmt.Errorf("profile of %s: %w", subject, err)
		}
	}
	now := s.Now()
	st := newState(&s.cfg)
	n := 0
	for e, err := range s.Events.ScanEvents(ctx, qianmian.EventFilter{Identity: &ref}) {
		if err != nil {
			return nil, fmt.Errorf("build profile of %s: %w", subject, err)
		}
		st.apply(e, s.cat.item(ctx, e.ItemID))
		n++
	}
	if n == 0 {
		return nil, qianmian.Errorf(qianmian.ENOTFOUND, "no events of identity %s", ref.Key())
	}
	p := &qianmian.Profile{UserID: subject, Personalization: qianmian.DefaultConsent().Personalization,
		Identities: []qianmian.IdentityRef{ref}, Explanations: []qianmian.TraitExplanation{},
		Tags: []qianmian.ProfileTag{}, DeletedTags: []string{}, Note: NoteAnonymous, UpdatedAt: now.UTC()}
	p.Traits, p.Explanations = st.traits(subject, s.stats.Load(), now)
	s.tag(p, st.history())
	return p, nil
}
