// Package shop is each store's view of the engine. Today it holds the online → offline
// bridge: when a consumer the platform knows walks into an offline store (a visit event),
// the Alerter makes a StoreAlert for that store, and the Dispatcher POSTs it, signed, to the
// store's webhook until acknowledged; the HTTP API streams the same alerts to the store's
// tablet (server-sent events).
//
// Durability. The visit event is durable before anything here sees it. The Alerter writes
// each alert, with its pending delivery and the position in the event log it has reached
// (the cursor), in one transaction; on start it reads the log from the cursor, so a visit
// committed while the process was down or between the event's commit and the alert's write
// still makes its alert. The Dispatcher's state (attempts, next attempt) is in the same
// store, so retries survive a restart. Delivery is at least once, with the alert's id in
// X-Qianmian-Alert-Id: a receiver that acknowledged an attempt the server could not record
// before stopping gets the alert again.
//
// Storage is reached only through qianmian interfaces; only cmd/qianmian picks them.
package shop

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/qianmian/qianmian"
)

// AlerterConfig tunes the Alerter. Start from DefaultAlerterConfig; zero fields take its
// values.
type AlerterConfig struct {
	// MaxVisitAge is how old a visit may be when seen and still alert: a late upload or an
	// import of past visits tells a store nothing it can act on.
	MaxVisitAge time.Duration
	// LookBack is how far back the visitor's online behaviour counts: a consumer is known
	// if they have events on an online channel within it.
	LookBack time.Duration
	// RecentItems is how many recently viewed items an alert lists; Suggestions how many
	// in-stock items it suggests.
	RecentItems int
	Suggestions int
	// Cooldown: further visits of one consumer at one store within it make no new alert
	// (a door sensor may report the same visit every few minutes). Negative disables it.
	Cooldown time.Duration
	// PollEvery is how often the event log is read from the cursor even without a bus
	// signal (a batch the bus dropped), and the cursor saved.
	PollEvery time.Duration
	// Retention is how long alerts are kept once their delivery is over.
	Retention time.Duration
}

// DefaultAlerterConfig returns the defaults.
func DefaultAlerterConfig() AlerterConfig {
	return AlerterConfig{
		MaxVisitAge: 15 * time.Minute,
		LookBack:    90 * 24 * time.Hour,
		RecentItems: 5,
		Suggestions: 5,
		Cooldown:    10 * time.Minute,
		PollEvery:   5 * time.Second,
		Retention:   30 * 24 * time.Hour,
	}
}

func (c AlerterConfig) withDefaults() AlerterConfig {
	d := DefaultAlerterConfig()
	if c.MaxVisitAge <= 0 {
		c.MaxVisitAge = d.MaxVisitAge
	}
	if c.LookBack <= 0 {
		c.LookBack = d.LookBack
	}
	if c.RecentItems <= 0 {
		c.RecentItems = d.RecentItems
	}
	if c.Suggestions <= 0 {
		c.Suggestions = d.Suggestions
	}
	if c.Cooldown == 0 {
		c.Cooldown = d.Cooldown
	}
	if c.PollEvery <= 0 {
		c.PollEvery = d.PollEvery
	}
	if c.Retention <= 0 {
		c.Retention = d.Retention
	}
	return c
}

// Alerter follows the event bus and turns visits at offline stores by known consumers into
// store alerts. Set its fields, then Open; Close when done. It also implements
// qianmian.AlertWatcher, waking the live streams of a store when one of its alerts is made.
type Alerter struct {
	Bus    qianmian.EventBus
	Events qianmian.EventService
	Users  qianmian.UserService
	Items  qianmian.ItemService
	Alerts qianmian.AlertService
	Outbox qianmian.AlertOutbox
	// Identities, when set, resolves a visit that names only an identity linked after the
	// event was stored.
	Identities qianmian.IdentityService
	// Assortments, when set, marks recently viewed items in stock at the store.
	Assortments qianmian.AssortmentService
	// Recommender, when set, ranks the store's stock for the suggestions.
	Recommender qianmian.Recommender

	// Notify, when set, is called after each new alert is stored: Dispatcher.Notify.
	Notify func()
	// PseudonymKey keys the visitor references (Visitor.Ref). Keep it stable across
	// restarts so a store recognises a returning visitor; when empty, Open draws a random
	// one and references change with every start.
	PseudonymKey []byte

	Config  AlerterConfig
	Logger  *slog.Logger     // defaults to discarding
	Now     func() time.Time // defaults to time.Now
	Metrics *Metrics         // nil records nothing

	cfg    AlerterConfig
	cancel context.CancelFunc
	wg     sync.WaitGroup

	// Owned by the run goroutine.
	pos    int64                // events up to pos are handled
	saved  int64                // the cursor as last stored
	seen   int64                // highest Seq published on the bus (so committed)
	recent map[string]time.Time // store + user → last alerted visit, for Cooldown

	mu      sync.Mutex
	watches map[string]map[*watch]struct{}
	closed  bool
}

var _ qianmian.AlertWatcher = (*Alerter)(nil)

// NewAlerter returns an Alerter with the default configuration.
func NewAlerter() *Alerter {
	return &Alerter{
		Config: DefaultAlerterConfig(),
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Now:    time.Now,
	}
}

// AlertID returns the id of the alert a visit event makes: the same for every delivery and
// every restart, so receivers can drop repeats.
func AlertID(visitEventID string) string {
	h := sha256.Sum256([]byte("qianmian/store-alert\x00" + visitEventID))
	return "al_" + hex.EncodeToString(h[:16])
}

// Open reads the cursor, subscribes to the bus and starts following it; visits stored since
// the cursor are handled first.
func (a *Alerter) Open(ctx context.Context) error {
	if a.cancel != nil {
		return errors.New("shop: Alerter already open")
	}
	if a.Bus == nil || a.Events == nil || a.Users == nil || a.Items == nil || a.Alerts == nil || a.Outbox == nil {
		return errors.New("shop: Alerter needs Bus, Events, Users, Items, Alerts and Outbox")
	}
	if a.Logger == nil {
		a.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if a.Now == nil {
		a.Now = time.Now
	}
	if len(a.PseudonymKey) == 0 {
		a.PseudonymKey = make([]byte, 32)
		_, _ = rand.Read(a.PseudonymKey) // crypto/rand.Read never fails
	}
	a.cfg = a.Config.withDefaults()
	// Subscribe before reading the cursor: an event committed in between is then both in
	// the log after the cursor and on the subscription, never in neither.
	sub := a.Bus.Subscribe()
	pos, err := a.Outbox.AlertCursor(ctx)
	if err != nil {
		sub.Close()
		return err
	}
	a.pos, a.saved, a.seen = pos, pos, pos
	a.recent = make(map[string]time.Time)
	a.mu.Lock()
	a.closed = false
	a.mu.Unlock()
	runCtx, cancel := context.WithCancel(context.Background())
	a.cancel = cancel
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		a.run(runCtx, sub)
	}()
	return nil
}

// Close stops following the bus, saves the cursor, and ends every watch.
func (a *Alerter) Close() error {
	if a.cancel != nil {
		a.cancel()
		a.wg.Wait()
		a.cancel = nil
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.closed = true
	for _, ws := range a.watches {
		for w := range ws {
			close(w.c)
		}
	}
	a.watches = nil
	return nil
}

// run handles visits as the bus reports them, and reads the log from the cursor every
// PollEvery in case the bus dropped a batch.
func (a *Alerter) run(ctx context.Context, sub qianmian.Subscription) {
	defer sub.Close()
	poll := time.NewTicker(a.cfg.PollEvery)
	defer poll.Stop()
	var lastPrune time.Time
	a.catchUp(ctx)
	events := sub.C()
	for {
		select {
		case <-ctx.Done():
			a.saveCursor(context.WithoutCancel(ctx))
			return
		case batch, ok := <-events:
			if !ok {
				a.Logger.Warn("shop: event bus closed; alerts now follow the log every poll", "every", a.cfg.PollEvery)
				events = nil
				continue
			}
			visit := a.note(batch)
			for more := true; more; { // take whatever else is queued: one read of the log for all
				select {
				case b, ok := <-events:
					if !ok {
						events, more = nil, false
						break
					}
					visit = a.note(b) || visit
				default:
					more = false
				}
			}
			if visit {
				a.catchUp(ctx)
			}
		case <-poll.C:
			a.catchUp(ctx)
			a.saveCursor(ctx)
			a.forget()
			if now := a.Now(); now.Sub(lastPrune) > time.Hour {
				lastPrune = now
				a.prune(ctx, now)
			}
		}
	}
}

// note records the highest Seq of a published batch and reports whether it has a visit.
func (a *Alerter) note(batch []*qianmian.Event) (visit bool) {
	for _, e := range batch {
		a.seen = max(a.seen, e.Seq)
		visit = visit || e.Type == qianmian.EventVisit
	}
	return visit
}

// catchUpPage bounds the visits read from the log at once.
const catchUpPage = 256

// catchUp handles the visits stored after the cursor, in log order. It stops at the first
// visit it cannot handle for a reason that may pass (storage), so that visit is tried again
// at the next poll.
func (a *Alerter) catchUp(ctx context.Context) {
	// Every event up to seen was committed before this read, so once the read is done the
	// cursor may pass them all (Seqs are committed in order).
	seen := a.seen
	for {
		list, err := a.Events.FindEvents(ctx, qianmian.EventFilter{
			Types: []qianmian.EventType{qianmian.EventVisit}, AfterSeq: a.pos, Limit: catchUpPage,
		})
		if err != nil {
			if ctx.Err() == nil {
				a.Logger.Error("shop: read visits", "after_seq", a.pos, "err", err)
			}
			return
		}
		for _, e := range list {
			if err := a.handle(ctx, e); err != nil {
				if ctx.Err() == nil {
					a.Logger.Error("shop: visit alert failed; retrying at the next poll", "event_id", e.ID, "err", err)
				}
				return
			}
			a.pos = e.Seq
		}
		if len(list) < catchUpPage {
			break
		}
	}
	a.pos = max(a.pos, seen)
}

// handle makes the alert of one visit, if it deserves one.
func (a *Alerter) handle(ctx context.Context, e *qianmian.Event) error {
	now := a.Now()
	if now.Sub(e.OccurredAt) > a.cfg.MaxVisitAge {
		a.Metrics.visitSkipped("stale")
		return nil
	}
	userID := e.UserID
	if userID == "" && e.Identity != nil && a.Identities != nil {
		u, err := a.Identities.ResolveIdentity(ctx, *e.Identity)
		if err != nil && qianmian.ErrorCode(err) != qianmian.ENOTFOUND {
			return err
		}
		userID = u
	}
	if userID == "" {
		a.Metrics.visitSkipped("anonymous")
		return nil
	}
	key := e.StoreID + "\x00" + userID
	if last, ok := a.recent[key]; ok && a.cfg.Cooldown > 0 && e.OccurredAt.Sub(last).Abs() < a.cfg.Cooldown {
		a.Metrics.visitSkipped("cooldown")
		return nil
	}
	alert, err := a.build(ctx, e, userID, now)
	if err != nil {
		return err
	}
	if alert == nil {
		a.Metrics.visitSkipped("unknown")
		return nil
	}
	created, err := a.Alerts.CreateAlert(ctx, alert, e.Seq)
	if qianmian.ErrorCode(err) == qianmian.EINVALID {
		// Trying again cannot help (no encryption key for a visitor's name): skip the visit.
		a.Logger.Error("shop: alert refused by the store", "event_id", e.ID, "err", err)
		a.Metrics.visitSkipped("invalid")
		return nil
	} else if err != nil {
		return err
	}
	a.recent[key] = e.OccurredAt
	a.saved = max(a.saved, e.Seq)
	if !created {
		return nil
	}
	a.Metrics.alertCreated()
	a.Logger.Info("store alert", "alert_id", alert.ID, "store_id", alert.StoreID, "seq", alert.Seq,
		"consented", alert.Visitor.Consented, "since_visit", now.Sub(e.OccurredAt))
	a.signal(alert.StoreID)
	if a.Notify != nil {
		a.Notify()
	}
	return nil
}

// visitorRef returns the opaque reference of a user at a store.
func (a *Alerter) visitorRef(storeID, userID string) string {
	h := hmac.New(sha256.New, a.PseudonymKey)
	h.Write([]byte(storeID))
	h.Write([]byte{0})
	h.Write([]byte(userID))
	return "v_" + hex.EncodeToString(h.Sum(nil)[:10])
}

// saveCursor stores the cursor if it moved.
func (a *Alerter) saveCursor(ctx context.Context) {
	if a.pos <= a.saved {
		return
	}
	if err := a.Outbox.SetAlertCursor(ctx, a.pos); err != nil {
		a.Logger.Warn("shop: save alert cursor", "err", err)
		return
	}
	a.saved = a.pos
}

// forget drops cooldown entries that have expired.
func (a *Alerter) forget() {
	cut := a.Now().Add(-a.cfg.Cooldown - a.cfg.MaxVisitAge)
	for k, t := range a.recent {
		if t.Before(cut) {
			delete(a.recent, k)
		}
	}
}

func (a *Alerter) prune(ctx context.Context, now time.Time) {
	n, err := a.Outbox.PruneAlerts(ctx, now.Add(-a.cfg.Retention))
	if err != nil {
		a.Logger.Warn("shop: prune alerts", "err", err)
	} else if n > 0 {
		a.Logger.Info("shop: pruned old alerts", "alerts", n)
	}
}

// WatchAlerts returns a watch signalled after new alerts of the store are made.
func (a *Alerter) WatchAlerts(storeID string) qianmian.AlertWatch {
	w := &watch{a: a, storeID: storeID, c: make(chan struct{}, 1)}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.closed {
		close(w.c)
		return w
	}
	if a.watches == nil {
		a.watches = make(map[string]map[*watch]struct{})
	}
	if a.watches[storeID] == nil {
		a.watches[storeID] = make(map[*watch]struct{})
	}
	a.watches[storeID][w] = struct{}{}
	return w
}

func (a *Alerter) signal(storeID string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for w := range a.watches[storeID] {
		select {
		case w.c <- struct{}{}:
		default: // a signal is pending already
		}
	}
}

type watch struct {
	a       *Alerter
	storeID string
	c       chan struct{}
}

func (w *watch) C() <-chan struct{} { return w.c }

func (w *watch) Close() {
	w.a.mu.Lock()
	defer w.a.mu.Unlock()
	ws := w.a.watches[w.storeID]
	if _, ok := ws[w]; !ok {
		return // closed already, or by the Alerter's Close
	}
	delete(ws, w)
	if len(ws) == 0 {
		delete(w.a.watches, w.storeID)
	}
	close(w.c)
}
