package profile

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/qianmian/qianmian"
	"github.com/qianmian/qianmian/persona"
)

// Service keeps consumer profiles current and answers them (qianmian.ProfileService). Set
// the services, then Open; Close when done.
type Service struct {
	Events qianmian.EventService
	Users  qianmian.UserService // declared attributes and consent, read on every profile
	// Identities lists a consumer's linked identities on every read, so a link made outside
	// an event (LinkIdentity) rebuilds the profile; nil leaves such links to the next rebuild.
	Identities qianmian.IdentityService
	Items      qianmian.ItemService
	Profiles   qianmian.ProfileStore
	// Models keeps the persona classifiers; nil means no learned tags.
	Models qianmian.ModelStore
	// Bus keeps loaded profiles current after each commit; nil means every read rebuilds
	// the profile from the event log.
	Bus qianmian.EventBus
	// Segments keeps segment definitions; nil disables segments (see segments.go).
	Segments qianmian.SegmentStore

	// Rules are the rule-based tags; nil means DefaultRules.
	Rules  []Rule
	Config Config
	Logger *slog.Logger     // defaults to discarding
	Now    func() time.Time // defaults to time.Now
	// JobLock, when set, is held through each persona training (TrainPersonas). A serving
	// process hands the same lock to its model trainer, so that their memory peaks come one
	// after the other instead of adding up.
	JobLock sync.Locker

	cfg     Config
	rules   *RuleSet
	cat     *catalog
	cache   *cache
	statsMu sync.Mutex // serialises RefreshStats; guards acc
	acc     *accumulator
	stats   atomic.Pointer[stats]
	model   atomic.Pointer[learned]
	segs    *segments
	trainMu sync.Mutex
	sub     qianmian.Subscription
	cancel  context.CancelFunc
	wg      sync.WaitGroup
}

var _ qianmian.ProfileService = (*Service)(nil)

// NewService returns a service with the default configuration and rules.
func NewService() *Service {
	return &Service{Config: DefaultConfig(), Logger: slog.New(slog.DiscardHandler), Now: time.Now}
}

// Open compiles the rules, loads the catalogue and the newest persona model, subscribes to
// the bus, and starts the goroutines that follow it, refresh the population statistics
// (the first refresh at once) and, when Config.TrainEvery is set, retrain the classifiers.
func (s *Service) Open(ctx context.Context) error {
	if s.cache != nil {
		return errors.New("profile: Service already open")
	}
	if s.Events == nil || s.Users == nil || s.Items == nil || s.Profiles == nil {
		return errors.New("profile: Service needs Events, Users, Items and Profiles")
	}
	if s.Logger == nil {
		s.Logger = slog.New(slog.DiscardHandler)
	}
	if s.Now == nil {
		s.Now = time.Now
	}
	s.cfg = s.Config.withDefaults()
	rules := s.Rules
	if rules == nil {
		rules = DefaultRules()
	}
	rs, err := CompileRules(rules)
	if err != nil {
		return err
	}
	s.rules = rs
	s.cat = newCatalog(s.Items)
	s.acc = newAccumulator()
	if s.Bus != nil {
		// Subscribe first, so no event committed while loading is missed.
		s.sub = s.Bus.Subscribe()
	}
	err = s.cat.load(ctx)
	if err == nil {
		err = s.loadModel(ctx)
	}
	if err == nil {
		err = s.openSegments(ctx)
	}
	if err != nil {
		if s.sub != nil {
			s.sub.Close()
		}
		return err
	}
	s.cache = newCache(s.cfg.MaxSubjects)
	runCtx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	if sub := s.sub; sub != nil {
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.follow(runCtx, sub)
		}()
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		s.refreshLoop(runCtx)
	}()
	s.startBackfill(runCtx) // segments over every consumer (backfill.go)
	if s.cfg.TrainEvery > 0 && s.Models != nil {
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.trainLoop(runCtx)
		}()
	}
	return nil
}

// Close stops the goroutines and waits for them.
func (s *Service) Close() error {
	if s.cancel != nil {
		s.cancel()
		s.cancel = nil
	}
	s.wg.Wait()
	if s.sub != nil {
		s.sub.Close()
		s.sub = nil
	}
	return nil
}

// refreshLoop refreshes the statistics at once and then every StatsEvery.
func (s *Service) refreshLoop(ctx context.Context) {
	for {
		if err := s.RefreshStats(ctx); err != nil && ctx.Err() == nil {
			s.Logger.Error("profile statistics refresh failed", "err", err)
		}
		if s.cfg.StatsEvery < 0 {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(s.cfg.StatsEvery):
		}
	}
}

// trainLoop trains the classifiers at once when there is no model, then every TrainEvery.
func (s *Service) trainLoop(ctx context.Context) {
	wait := time.Duration(0)
	if s.model.Load() != nil {
		wait = s.cfg.TrainEvery
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		started := time.Now()
		rep, err := s.TrainPersonas(ctx)
		switch {
		case err != nil && ctx.Err() == nil:
			s.Logger.Error("persona training failed", "err", err)
		case err == nil:
			s.Logger.Info("persona classifiers trained", "version", rep.Version, "consumers", rep.Consumers,
				"seconds", time.Since(started).Seconds())
		}
		wait = s.cfg.TrainEvery
	}
}

// follow applies committed events to the profiles in memory.
func (s *Service) follow(ctx context.Context, sub qianmian.Subscription) {
	for {
		select {
		case <-ctx.Done():
			return
		case batch, ok := <-sub.C():
			if !ok {
				return
			}
			for _, e := range batch {
				s.applyEvent(ctx, e)
			}
			s.updateSegments(ctx, batch)
		}
	}
}

// applyEvent applies one committed event to its consumer's profile, if it is in memory. An
// event that links an identity the profile has not counted yet drops the profile: the next
// read rebuilds it from the log, which holds that identity's earlier events too.
func (s *Service) applyEvent(ctx context.Context, ev *qianmian.Event) {
	if ev.UserID == "" {
		return
	}
	en := s.cache.lookup(ev.UserID)
	if en == nil {
		return // not loaded: it is built from the log when asked for
	}
	item := s.cat.item(ctx, ev.ItemID)
	en.mu.Lock()
	stale := false
	switch {
	case en.loading:
		if len(en.pending) < maxPending {
			en.pending = append(en.pending, ev)
		}
	case en.st == nil:
	case ev.Identity != nil && !slices.Contains(en.st.links, ev.Identity.Key()):
		stale = true
	case ev.Seq > 0 && ev.Seq <= en.st.maxSeq:
	default:
		en.st.apply(ev, item)
	}
	en.mu.Unlock()
	if stale {
		s.cache.remove(ev.UserID, en) // after en.mu: the cache locks a shard, then an entry
	}
}

// build reads a consumer's state from the event log: their own events and those of every
// identity linked to them.
func (s *Service) build(ctx context.Context, userID string, links []string) (*state, error) {
	st := newState(&s.cfg)
	st.links = links
	for e, err := range s.Events.ScanEvents(ctx, qianmian.EventFilter{UserID: userID}) {
		if err != nil {
			return nil, fmt.Errorf("build profile of %s: %w", userID, err)
		}
		st.apply(e, s.cat.item(ctx, e.ItemID))
	}
	return st, nil
}

// withState calls fn with the consumer's current state, building it from the log first when
// it is not in memory or was built before an identity in links was linked.
func (s *Service) withState(ctx context.Context, userID string, links []string, fn func(*state)) error {
	for range 4 {
		en, created := s.cache.acquire(userID, s.Now().UnixNano())
		if created {
			st, err := s.build(ctx, userID, links)
			s.cache.finish(userID, en, st, err, func(e *qianmian.Event) *itemInfo { return s.cat.item(ctx, e.ItemID) })
			if err != nil {
				return err
			}
		} else if err := en.wait(ctx); err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			continue // its builder failed: build it ourselves
		}
		en.mu.Lock()
		if en.st == nil || !slices.Equal(en.st.links, links) {
			en.mu.Unlock()
			s.cache.remove(userID, en)
			continue
		}
		fn(en.st)
		en.mu.Unlock()
		if s.Bus == nil {
			s.cache.remove(userID, en) // nothing would keep it current
		}
		return nil
	}
	return fmt.Errorf("profile of %s: identities keep changing while it is built", userID)
}

// NotePersonalizationOff is the Note of the profile of a consumer who turned
// personalisation off.
const NotePersonalizationOff = "personalisation is off: no traits are computed and no tags inferred from behaviour, " +
	"and rankings are not personalised"

// FindProfileByUserID returns the consumer's profile: declared attributes, traits with
// their explanations, and tags with their reasons, deleted tags left out.
func (s *Service) FindProfileByUserID(ctx context.Context, userID string) (*qianmian.Profile, error) {
	if userID == "" || len(userID) > qianmian.MaxIDLength {
		return nil, qianmian.Invalid("user_id", "required, at most %d bytes", qianmian.MaxIDLength)
	}
	if ref, ok := qianmian.ParseAnonymousSubject(userID); ok {
		return s.anonymousProfile(ctx, ref) // identity.go
	}
	return s.profile(ctx, userID, s.withState)
}

// profile assembles a consumer's profile; with runs fn on the consumer's state: withState
// (the Service's cache, built when missing) or fromLog (built for this read alone).
func (s *Service) profile(ctx context.Context, userID string,
	with func(ctx context.Context, userID string, links []string, fn func(*state)) error) (*qianmian.Profile, error) {
	now := s.Now()
	u, err := s.Users.FindUserByID(ctx, userID)
	if err != nil && qianmian.ErrorCode(err) != qianmian.ENOTFOUND {
		return nil, fmt.Errorf("profile of %s: %w", userID, err)
	}
	if err != nil {
		u = nil
	}
	p := &qianmian.Profile{UserID: userID, Personalization: qianmian.DefaultConsent().Personalization,
		Identities: []qianmian.IdentityRef{}, Explanations: []qianmian.TraitExplanation{}, Tags: []qianmian.ProfileTag{},
		UpdatedAt: now.UTC()}
	if u != nil {
		p.Personalization = u.Consent.Personalization
		p.Declared = qianmian.DeclaredAttributes{Gender: u.Gender, BirthYear: u.BirthYear,
			AgeBand: qianmian.AgeBand(u.BirthYear, now), City: u.City}
	}
	links, err := s.links(ctx, p)
	if err != nil {
		return nil, err
	}
	if p.DeletedTags, err = s.Profiles.FindDeletedTags(ctx, userID); err != nil {
		return nil, fmt.Errorf("profile of %s: %w", userID, err)
	}
	if !p.Personalization {
		s.cache.remove(userID, nil) // and the bus builds no state for it: no new traits
		p.Note = NotePersonalizationOff
		return p, nil
	}
	var events int
	var hist persona.History
	err = with(ctx, userID, links, func(st *state) {
		p.Traits, p.Explanations = st.traits(userID, s.stats.Load(), now)
		events, hist = st.events, st.history()
	})
	if err != nil {
		return nil, err
	}
	if u == nil && events == 0 && len(links) == 0 && len(p.DeletedTags) == 0 {
		s.cache.remove(userID, nil)
		return nil, qianmian.Errorf(qianmian.ENOTFOUND, "no user %q", userID)
	}
	s.tag(p, hist)
	return p, nil
}

// links fills the profile's identities and returns their keys, sorted.
func (s *Service) links(ctx context.Context, p *qianmian.Profile) ([]string, error) {
	if s.Identities == nil {
		return nil, nil
	}
	ids, err := s.Identities.FindIdentities(ctx, p.UserID)
	if err != nil {
		return nil, fmt.Errorf("profile of %s: %w", p.UserID, err)
	}
	var keys []string
	for _, id := range ids {
		p.Identities = append(p.Identities, id.IdentityRef)
		keys = append(keys, id.Key())
	}
	slices.Sort(keys)
	return keys, nil
}

// tag fills the profile's tags: the learned ones first (rules may use them), then the
// rules', leaving out what the consumer deleted.
func (s *Service) tag(p *qianmian.Profile, h persona.History) {
	deleted := func(t qianmian.ProfileTag) bool { return slices.Contains(p.DeletedTags, t.Name) }
	p.Tags = slices.DeleteFunc(s.learnedTags(p, h), deleted)
	ruled := slices.DeleteFunc(s.rules.Apply(p), deleted)
	p.Tags = append(ruled, p.Tags...)
}

// DeleteProfileTag deletes a tag from the consumer's profile for good.
func (s *Service) DeleteProfileTag(ctx context.Context, userID, tag string) error {
	if err := qianmian.ValidateTag("tag", tag); err != nil {
		return err
	}
	return s.Profiles.DeleteProfileTag(ctx, userID, tag)
}

// SetPersonalization changes the consumer's consent to personalisation, creating the user
// with the default consent otherwise when the platform has not been told of them, and
// returns the profile as it then is. Off drops the profile from memory at once; the
// recommender reads consent on every request, so the next ranking is not personalised.
func (s *Service) SetPersonalization(ctx context.Context, userID string, enabled bool) (*qianmian.Profile, error) {
	_, err := s.Users.UpdateConsent(ctx, userID, qianmian.ConsentUpdate{Personalization: &enabled})
	if qianmian.ErrorCode(err) == qianmian.ENOTFOUND {
		c := qianmian.DefaultConsent()
		c.Personalization = enabled
		err = s.Users.UpsertUsers(ctx, []*qianmian.User{{ID: userID, Consent: c}})
	}
	if err != nil {
		return nil, err
	}
	if !enabled {
		s.cache.remove(userID, nil)
		s.dropFromSegments(userID)
	}
	return s.FindProfileByUserID(ctx, userID)
}

// Forget drops the consumer's profile from memory, so that the next read rebuilds it from
// the event log, and re-evaluates their segment memberships from the rebuilt profile. Call
// it when the log counts events for the consumer differently from what the profile was
// told: an identity unlinked from them (qianmian.IdentityService.UnlinkIdentity), whose
// events leave the profile. An anonymous identity's subject needs no call: its profile is
// built from the log on every read.
func (s *Service) Forget(ctx context.Context, userID string) {
	if s.cache == nil {
		return // not open
	}
	s.cache.remove(userID, nil)
	s.updateSegments(ctx, []*qianmian.Event{{UserID: userID}})
}

// Stats reports the size of the profile state, for metrics and tests.
type Stats struct {
	Profiles int // in memory
	Buyers   int // in the population statistics
}

// Stats returns the service's current sizes.
func (s *Service) Stats() Stats {
	st := Stats{}
	if s.cache != nil {
		st.Profiles = s.cache.size()
	}
	if p := s.stats.Load(); p != nil {
		st.Buyers = p.nBuyers
	}
	return st
}

var _ io.Closer = (*Service)(nil)
