package recommend

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/qianmian/qianmian"
	"github.com/qianmian/qianmian/model"
)

// Engine is the online recommender: it implements qianmian.Recommender over a snapshot of
// the catalogue and the newest trained model, plus live state fed by the event bus. Set
// the services, then Open; Close when done.
type Engine struct {
	Items       qianmian.ItemService
	Stores      qianmian.StoreService
	Assortments qianmian.AssortmentService
	Users       qianmian.UserService // Personalizes, asked on every personalised request
	Events      qianmian.EventService
	Models      qianmian.ModelStore
	Bus         qianmian.EventBus
	// Identities is optional: when set, a request naming only an anonymous identity that is
	// linked to a user is served as that user.
	Identities qianmian.IdentityService

	Logger *slog.Logger     // defaults to discarding
	Now    func() time.Time // defaults to time.Now
	Config EngineConfig

	cfg      EngineConfig  // Config with defaults, fixed at Open
	ranking  chan struct{} // a token per ranking in progress; see EngineConfig.MaxRanking
	snap     atomic.Pointer[snapshot]
	live     *liveState
	reloadMu sync.Mutex
	reg      registry
	art      *artefact      // the decoded model of the current snapshot
	cache    *responseCache // nil when disabled
	cancel   context.CancelFunc
	wg       sync.WaitGroup
	pool     sync.Pool // *scratch
}

var _ qianmian.Recommender = (*Engine)(nil)

// NewEngine returns an engine with the default configuration.
func NewEngine() *Engine {
	return &Engine{
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Now:    time.Now,
		Config: DefaultEngineConfig(),
	}
}

// Open loads the catalogue and the newest model (or, before the first training, a
// popularity fallback computed from recent events), subscribes to the bus and starts the
// goroutine that applies events to live state.
func (e *Engine) Open(ctx context.Context) error {
	if e.live != nil {
		return errors.New("recommend: Engine already open")
	}
	if e.Items == nil || e.Stores == nil || e.Assortments == nil || e.Users == nil ||
		e.Events == nil || e.Models == nil || e.Bus == nil {
		return errors.New("recommend: Engine needs Items, Stores, Assortments, Users, Events, Models and Bus")
	}
	if e.Logger == nil {
		e.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if e.Now == nil {
		e.Now = time.Now
	}
	e.cfg = e.Config.withDefaults()
	e.live = newLiveState(&e.cfg)
	e.cache = newResponseCache(e.cfg.CacheSize, e.cfg.CacheTTL.Nanoseconds())
	e.ranking = make(chan struct{}, e.cfg.MaxRanking)
	e.reg = registry{items: model.NewIDMap(0), cats: model.NewIDMap(0)}

	// Subscribe before loading so no event committed during the load is missed; the bus
	// buffers them until the updater starts.
	sub := e.Bus.Subscribe()
	if err := e.Reload(ctx); err != nil {
		sub.Close()
		e.live = nil
		return err
	}
	runCtx, cancel := context.WithCancel(context.Background())
	e.cancel = cancel
	e.wg.Add(1)
	go func() {
		defer e.wg.Done()
		e.follow(runCtx, sub)
	}()
	if e.cfg.ReloadEvery > 0 {
		e.wg.Add(1)
		go func() {
			defer e.wg.Done()
			e.reloadPeriodically(runCtx)
		}()
	}
	return nil
}

// Close stops the engine's goroutines and waits for them.
func (e *Engine) Close() error {
	if e.cancel != nil {
		e.cancel()
		e.cancel = nil
	}
	e.wg.Wait()
	return nil
}

// Ready reports whether the engine can rank: a model or the popularity fallback is loaded.
func (e *Engine) Ready() bool { return e.snap.Load() != nil }

// LiveStats reports the size of live state, for a metrics gauge.
func (e *Engine) LiveStats() LiveStats {
	if e.live == nil {
		return LiveStats{}
	}
	return e.live.stats()
}

// Prepared reports how many stores' stock the learned model has laid out data for, and its
// bytes (EngineConfig.PreparedBytes).
func (e *Engine) Prepared() (stores, bytes int64) {
	if s := e.snap.Load(); s != nil {
		return s.prepared.stores, s.prepared.bytes
	}
	return 0, 0
}

// Forget drops the live state of a visitor (a user id, or an anonymous identity's subject),
// so that a user's next ranking rebuilds it from the event log. Call it when the log counts
// events for the visitor differently from what live state was told: an identity unlinked
// from the user (qianmian.IdentityService.UnlinkIdentity), or linked outside an event.
func (e *Engine) Forget(subject string) {
	if e.live != nil {
		e.live.forget(subject)
	}
}

// CacheStats counts the response cache's hits and misses; zero when it is disabled.
func (e *Engine) CacheStats() CacheStats { return e.cache.stats() }

// ModelVersion returns the version of the model in use, 0 for the popularity fallback or
// before Open.
func (e *Engine) ModelVersion() int64 {
	if s := e.snap.Load(); s != nil {
		return s.version
	}
	return 0
}

// Reload loads the catalogue and the newest model and swaps them in atomically; requests
// in flight finish on the old snapshot. Reloads are serialised with each other only.
func (e *Engine) Reload(ctx context.Context) error {
	if e.live == nil {
		return errors.New("recommend: Reload before Open")
	}
	e.reloadMu.Lock()
	defer e.reloadMu.Unlock()
	started := time.Now()
	c, err := loadCatalog(ctx, e.Items, e.Stores, e.Assortments)
	if err != nil {
		return fmt.Errorf("load catalogue: %w", err)
	}
	a, version, err := e.loadModel(ctx, c)
	if err != nil {
		return err
	}
	s := buildSnapshot(&e.reg, c, a, version, e.cfg.PreparedBytes)
	e.art = a
	e.snap.Store(s)
	e.Logger.Info("recommendations loaded", "model", e.cfg.ModelName, "version", version,
		"fallback", s.fallback, "items", len(c.items), "stores", len(c.stores),
		"prepared_stores", s.prepared.stores, "prepared_bytes", s.prepared.bytes,
		"seconds", time.Since(started).Seconds())
	return nil
}

// loadModel returns the newest trained artefact, reusing the decoded one when the version
// has not changed, or a popularity fallback fitted on recent events when none exists.
func (e *Engine) loadModel(ctx context.Context, c *catalog) (*artefact, int64, error) {
	if cur := e.snap.Load(); cur != nil && cur.version > 0 && e.art != nil {
		// A periodic reload usually finds the same model: ask for its version alone rather
		// than read the artefact (hundreds of MB in a large world) to find that out.
		v, err := e.Models.LatestModelVersion(ctx, e.cfg.ModelName)
		if err != nil {
			return nil, 0, fmt.Errorf("load model %s: %w", e.cfg.ModelName, err)
		}
		if v == cur.version {
			return e.art, v, nil
		}
	}
	blob, err := e.Models.LatestModel(ctx, e.cfg.ModelName)
	switch {
	case qianmian.ErrorCode(err) == qianmian.ENOTFOUND:
		a, err := e.fallback(ctx, c)
		return a, 0, err
	case err != nil:
		return nil, 0, fmt.Errorf("load model %s: %w", e.cfg.ModelName, err)
	}
	if cur := e.snap.Load(); cur != nil && cur.version == blob.Version && e.art != nil {
		return e.art, blob.Version, nil
	}
	a, err := decodeArtefact(blob.Data)
	switch {
	case err != nil && e.snap.Load() == nil:
		// Better popularity than no service, e.g. while a newer build's model is rolled out.
		e.Logger.Error("unreadable model: serving popularity", "model", blob.Name, "version", blob.Version, "err", err)
		a, err := e.fallback(ctx, c)
		return a, 0, err
	case err != nil:
		return nil, 0, fmt.Errorf("model %s version %d: %w", blob.Name, blob.Version, err)
	}
	return a, blob.Version, nil
}

// fallback fits popularity (no co-occurrence) on the last FallbackWindow of events.
func (e *Engine) fallback(ctx context.Context, c *catalog) (*artefact, error) {
	now := e.Now()
	tc := c.trainingCatalog()
	if err := tc.readOptedOut(ctx, e.Users); err != nil {
		return nil, fmt.Errorf("read consent: %w", err)
	}
	cfg := DefaultTrainerConfig()
	cfg.Weights = e.cfg.Weights
	f := newFitter(cfg, now, tc, false)
	for ev, err := range e.Events.ScanEvents(ctx, qianmian.EventFilter{Since: now.Add(-e.cfg.FallbackWindow)}) {
		if err != nil {
			return nil, fmt.Errorf("scan events for popularity: %w", err)
		}
		f.add(ev)
	}
	e.Logger.Info("no trained model yet: serving popularity", "events", f.stats.Events)
	return f.finish(ctx)
}

func (e *Engine) reloadPeriodically(ctx context.Context) {
	t := time.NewTicker(e.cfg.ReloadEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if err := e.Reload(ctx); err != nil && ctx.Err() == nil {
			e.Logger.Error("reload failed", "err", err)
		}
	}
}

// follow applies published events to live state until ctx ends or the bus closes.
func (e *Engine) follow(ctx context.Context, sub qianmian.Subscription) {
	defer sub.Close()
	for {
		select {
		case <-ctx.Done():
			return
		case batch, ok := <-sub.C():
			if !ok {
				if ctx.Err() == nil {
					e.Logger.Warn("event bus closed: live state stops following")
				}
				return
			}
			snap := e.snap.Load()
			for _, ev := range batch {
				e.applyEvent(ctx, snap, ev)
			}
		}
	}
}

// applyEvent updates trending counters for everyone, and the visitor's own state unless
// they refused personalisation. Events are shared with other subscribers: read only.
func (e *Engine) applyEvent(ctx context.Context, snap *snapshot, ev *qianmian.Event) {
	if ev.UserID != "" && ev.Identity != nil {
		e.live.link(ev.Identity.AnonymousSubject(), ev.UserID)
	}
	w := e.cfg.Weights.Of(ev)
	item := snap.item(ev.ItemID)
	if w == 0 || item < 0 {
		return
	}
	at := ev.OccurredAt.Unix()
	if w > 0 && ev.StoreID != "" {
		hl := e.cfg.TrendingHalfLife.Seconds()
		e.live.trend(e.live.storeTrend, ev.StoreID).add(item, w, at, hl, e.cfg.TrendingCap)
		if st := snap.stores[ev.StoreID]; st != nil && st.region >= 0 {
			e.live.trend(e.live.regionTrend, snap.regions[st.region].name).add(item, w, at, hl, e.cfg.TrendingCap)
		}
	}
	key := ev.Subject()
	if key == "" {
		return
	}
	now := e.Now().UnixNano()
	if ev.UserID != "" && e.live.consentDue(key, now) {
		if !e.consents(ctx, ev.UserID) {
			e.live.forget(key)
			return
		}
		e.live.consentChecked(key, now)
	}
	le := liveEvent{at: at, item: item, w: w, kind: kindOf(ev.Type)}
	e.live.record(key, ev.UserID == "", ev.Seq, le, snap.catOf(item), now)
}

// consents reports whether a user allows personalisation. An unknown user has the
// default consent; when consent cannot be read the answer is no.
func (e *Engine) consents(ctx context.Context, userID string) bool {
	ok, err := e.Users.Personalizes(ctx, userID)
	if err != nil {
		if ctx.Err() == nil {
			e.Logger.Warn("read consent failed: treating as not personalised", "user", userID, "err", err)
		}
		return false
	}
	return ok
}

// rebuild reads a user's recent events and purchases from the log into a fresh state. It
// reads them brief (EventFilter.Brief): a state holds no more than that.
func (e *Engine) rebuild(ctx context.Context, snap *snapshot, userID string) (*subject, error) {
	now := e.Now()
	recent, bought, err := e.userHistory(ctx, userID, now)
	if err != nil {
		return nil, err
	}
	s := &subject{user: true}
	for _, ev := range bought {
		if i := snap.item(ev.ItemID); i >= 0 && !ev.OccurredAt.After(now.Add(-e.cfg.RebuildWindow)) {
			// Older purchases than the window: remember them, without ring or affinity.
			if ev.Type == qianmian.EventPurchase {
				s.addPurchase(i, ev.OccurredAt.Unix(), e.cfg.MaxPurchases)
			} else {
				s.apply(liveEvent{at: ev.OccurredAt.Unix(), item: i, w: e.cfg.Weights.Of(ev), kind: kindReturn}, -1, &e.cfg)
			}
		}
	}
	s.ring, s.head = s.ring[:0], 0
	for _, ev := range recent {
		s.maxSeq = max(s.maxSeq, ev.Seq)
		w := e.cfg.Weights.Of(ev)
		i := snap.item(ev.ItemID)
		if w == 0 || i < 0 {
			continue
		}
		s.apply(liveEvent{at: ev.OccurredAt.Unix(), item: i, w: w, kind: kindOf(ev.Type)}, snap.catOf(i), &e.cfg)
	}
	return s, nil
}

// userHistory returns the user's newest events (at most RebuildLimit) that fall in the
// rebuild window, and their newest purchases and returns of any time (at most RebuildLimit),
// both in Seq order. Most users have fewer events than the limit in all: the one read of
// their newest events is then all of them and gives both lists. A user past the limit needs
// a second read, of purchases and returns alone, which the newest events may not reach back
// to.
func (e *Engine) userHistory(ctx context.Context, userID string, now time.Time) (recent, bought []*qianmian.Event, err error) {
	limit := e.cfg.RebuildLimit
	all, err := e.Events.FindEvents(ctx, qianmian.EventFilter{UserID: userID, Limit: limit, Newest: true, Brief: true})
	if err != nil {
		return nil, nil, err
	}
	whole := len(all) < limit                          // every event of the user's
	since := now.Add(-e.cfg.RebuildWindow).UnixMilli() // as the store compares Since
	for _, ev := range all {
		if ev.OccurredAt.UnixMilli() >= since {
			recent = append(recent, ev)
		}
		if whole && (ev.Type == qianmian.EventPurchase || ev.Type == qianmian.EventReturn) {
			bought = append(bought, ev)
		}
	}
	if whole {
		return recent, bought, nil
	}
	bought, err = e.Events.FindEvents(ctx, qianmian.EventFilter{UserID: userID,
		Types: []qianmian.EventType{qianmian.EventPurchase, qianmian.EventReturn}, Limit: limit, Newest: true, Brief: true})
	if err != nil {
		return nil, nil, err
	}
	return recent, bought, nil
}

// startRanking waits for a ranking slot (EngineConfig.MaxRanking), or for ctx to end; the
// caller calls the returned func when done.
func (e *Engine) startRanking(ctx context.Context) (func(), error) {
	select {
	case e.ranking <- struct{}{}:
		return e.doneRanking, nil
	default:
	}
	select {
	case e.ranking <- struct{}{}:
		return e.doneRanking, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (e *Engine) doneRanking() { <-e.ranking }

// RankingSlots reports the rankings in progress and the bound on them.
func (e *Engine) RankingSlots() (busy, limit int) { return len(e.ranking), cap(e.ranking) }
