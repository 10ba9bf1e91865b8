package main

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/qianmian/qianmian"
	qmhttp "github.com/qianmian/qianmian/http"
	"github.com/qianmian/qianmian/inmem"
	"github.com/qianmian/qianmian/privacy"
	"github.com/qianmian/qianmian/profile"
	"github.com/qianmian/qianmian/recommend"
	"github.com/qianmian/qianmian/shop"
	"github.com/qianmian/qianmian/sqlite"
)

// Main is one running qianmian: its storage, bus, engine, trainer and server. It is the only
// place that chooses implementations.
type Main struct {
	Config Config
	Logger *slog.Logger

	Bus         *inmem.Bus
	Suppliers   qianmian.SupplierService
	Stores      qianmian.StoreService
	Items       qianmian.ItemService
	Assortments qianmian.AssortmentService
	Users       qianmian.UserService
	Identities  qianmian.IdentityService
	Events      qianmian.EventService
	Keys        qianmian.KeyService
	Models      qianmian.ModelStore
	Alerts      qianmian.AlertService
	Outbox      qianmian.AlertOutbox

	Engine  *recommend.Engine
	Trainer *recommend.Trainer
	Server  *qmhttp.Server

	// ProfileStore keeps the tags consumers deleted; Profiles serves consumer profiles.
	ProfileStore qianmian.ProfileStore
	Profiles     *profile.Service
	// SegmentStore keeps segment definitions; Profiles keeps their members.
	SegmentStore qianmian.SegmentStore

	// learnAtStart makes OpenServing train the learned model in the background and
	// hot-reload it: the demo serves its fast artefact meanwhile.
	learnAtStart bool
	// pseudonymKey keys store alerts' visitor references; derived from the encryption key
	// so they stay stable across restarts.
	pseudonymKey []byte

	closers []func() error

	// jobs is held by each training run of the model and of the persona classifiers, so a
	// serving process never runs two at once: each fits in memory, both together may not.
	jobs   sync.Mutex
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// NewMain returns a Main with the default configuration and a logger writing to stderr.
func NewMain(stderr io.Writer) *Main {
	m := &Main{Config: DefaultConfig()}
	m.Logger = m.Config.newLogger(stderr)
	return m
}

// sqlitePath returns the file of a sqlite DSN, or "" when the DSN names another store.
func sqlitePath(dsn string) string {
	switch {
	case strings.HasPrefix(dsn, "sqlite:"):
		return strings.TrimPrefix(strings.TrimPrefix(dsn, "sqlite:"), "//")
	case strings.Contains(dsn, "://"):
		return ""
	}
	return dsn
}

// OpenStorage opens the store the DSN names and the in-process bus.
func (m *Main) OpenStorage(ctx context.Context) error {
	if err := m.Config.Validate(); err != nil {
		return err
	}
	if limit, _ := parseBytes(m.Config.MemoryLimit); limit > 0 {
		debug.SetMemoryLimit(limit)
		m.Logger.Info("memory limit", "bytes", limit)
	}
	m.Bus = inmem.NewBus()
	m.closers = append(m.closers, m.Bus.Close)
	path := sqlitePath(m.Config.DSN)
	if path == "" {
		return qianmian.Invalid("dsn", "unsupported store %q: this build serves sqlite:PATH (PostgreSQL comes with the scale-out work)", m.Config.DSN)
	}
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
	}
	key, err := m.encryptionKey(path)
	if err != nil {
		return err
	}
	cipher, err := privacy.NewCipher(key)
	if err != nil {
		return qianmian.Invalid("encryption-key", "%v", err)
	}
	db := sqlite.NewDB(path)
	db.Bus = m.Bus
	db.Cipher = cipher
	db.Logger = m.Logger
	if err := db.Open(); err != nil {
		return fmt.Errorf("open %s: %w", path, err)
	}
	m.closers = append(m.closers, db.Close)
	m.Suppliers = sqlite.NewSupplierService(db)
	m.Stores = sqlite.NewStoreService(db)
	m.Items = sqlite.NewItemService(db)
	m.Assortments = sqlite.NewAssortmentService(db)
	m.Users = sqlite.NewUserService(db)
	m.Identities = sqlite.NewIdentityService(db)
	m.Events = sqlite.NewEventService(db)
	m.Keys = sqlite.NewKeyService(db)
	m.Models = sqlite.NewModelStore(db)
	m.ProfileStore = sqlite.NewProfileStore(db)
	m.SegmentStore = sqlite.NewSegmentStore(db)
	alerts := sqlite.NewAlertService(db)
	m.Alerts, m.Outbox = alerts, alerts
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte("qianmian/store-alert visitor reference"))
	m.pseudonymKey = mac.Sum(nil)
	return nil
}

// encryptionKey returns the configured key, or the one kept in the key file (beside the
// database unless configured), creating the file with a new key on first use.
func (m *Main) encryptionKey(dbPath string) ([]byte, error) {
	if m.Config.EncryptionKey != "" {
		key, err := privacy.ParseKey(m.Config.EncryptionKey)
		if err != nil {
			return nil, qianmian.Invalid("encryption-key", "%v", err)
		}
		return key, nil
	}
	file := m.Config.KeyFile
	if file == "" {
		file = dbPath + ".key"
	}
	if b, err := os.ReadFile(file); err == nil {
		key, err := privacy.ParseKey(strings.TrimSpace(string(b)))
		if err != nil {
			return nil, qianmian.Invalid("key-file", "%s: %v", file, err)
		}
		return key, nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	key := privacy.GenerateKey()
	if err := os.WriteFile(file, []byte(fmt.Sprintf("%x\n", key)), 0o600); err != nil {
		return nil, fmt.Errorf("write key file: %w", err)
	}
	m.Logger.Warn("generated a new encryption key; keep it safe and away from backups of the database", "key_file", file)
	return key, nil
}

// newFastTrainer returns a trainer that publishes only co-occurrence, popularity and
// rebuy rates: seconds at the demo scale, where the learned model takes longer.
func (m *Main) newFastTrainer() *recommend.Trainer {
	t := m.newTrainer()
	t.Config.Learn.Off = true
	return t
}

// newTrainer returns the trainer over m's storage.
func (m *Main) newTrainer() *recommend.Trainer {
	t := recommend.NewTrainer()
	t.Events = m.Events
	t.Items = m.Items
	t.Stores = m.Stores
	t.Assortments = m.Assortments
	t.Users = m.Users
	t.Models = m.Models
	t.Logger = m.Logger
	t.Interval = m.Config.TrainEvery
	t.Published = m.reload
	t.JobLock = &m.jobs
	return t
}

// OpenServing opens the engine (following the bus), the background trainer and the HTTP
// server. Storage must be open.
func (m *Main) OpenServing(ctx context.Context) error {
	// The profiler first, so that loading the model and the catalogue can be profiled too.
	if err := m.openDebug(); err != nil {
		return err
	}
	m.Trainer = m.newTrainer()
	e := recommend.NewEngine()
	e.Items, e.Stores, e.Assortments, e.Users, e.Events = m.Items, m.Stores, m.Assortments, m.Users, m.Events
	e.Models, e.Bus, e.Logger = m.Models, m.Bus, m.Logger
	e.Config.ReloadEvery = m.Config.ReloadEvery
	if err := e.Open(ctx); err != nil {
		return fmt.Errorf("open engine: %w", err)
	}
	m.Engine = e
	m.closers = append(m.closers, e.Close)
	if err := m.openProfiles(ctx); err != nil {
		return err
	}

	runCtx, cancel := context.WithCancel(context.Background())
	m.cancel = cancel
	first := e.ModelVersion() == 0 && m.Config.TrainEvery > 0
	if first || m.learnAtStart || m.Config.TrainEvery > 0 {
		m.wg.Add(1)
		go func() {
			defer m.wg.Done()
			m.train(runCtx, first)
		}()
	}

	s := qmhttp.NewServer()
	s.Addr = m.Config.HTTPAddr
	s.Logger = m.Logger
	s.Suppliers, s.Stores, s.Items, s.Assortments = m.Suppliers, m.Stores, m.Items, m.Assortments
	s.Users, s.Identities, s.Events, s.Keys = m.Users, m.Identities, m.Events, m.Keys
	s.Recommender = e
	s.Profiles = m.Profiles
	if m.Profiles != nil {
		s.Segments = m.Profiles
	}
	s.IdentityChanged = m.identityChanged
	s.Ready = e.Ready
	s.LiveStats = func() (int, int64) { st := e.LiveStats(); return st.Subjects, st.Bytes }
	s.Registry.MustRegister(engineCollector{e})
	closeAlerts, err := m.openAlerts(ctx, s)
	if err != nil {
		return err
	}
	if err := s.Open(); err != nil {
		_ = closeAlerts()
		return fmt.Errorf("open http server: %w", err)
	}
	m.Server = s
	// Alerts close before the server: that ends the alert streams, which Close would
	// otherwise wait for.
	m.closers = append(m.closers, s.Close, closeAlerts)
	m.Logger.Info("serving", "url", s.URL())
	return nil
}

// identityChanged rebuilds what is derived from the log for both sides of an identity
// linked or unlinked by the operator: the user's profile and live recommendation state are
// dropped (the next read rebuilds them from the log), and so is the live state of the
// identity's anonymous subject. The anonymous subject's profile is read from the log anyway.
func (m *Main) identityChanged(ctx context.Context, ref qianmian.IdentityRef, userID string) {
	if m.Engine != nil {
		m.Engine.Forget(userID)
		m.Engine.Forget(ref.AnonymousSubject())
	}
	if m.Profiles != nil {
		m.Profiles.Forget(ctx, userID)
	}
}

// openAlerts starts store-visit alerts (shop.Alerter) and their webhook delivery
// (shop.Dispatcher), and gives the server their API. The returned func stops both.
func (m *Main) openAlerts(ctx context.Context, s *qmhttp.Server) (func() error, error) {
	metrics := shop.NewMetrics(s.Registry)
	d := shop.NewDispatcher()
	d.Webhooks, d.Outbox, d.Logger, d.Metrics = m.Alerts, m.Outbox, m.Logger, metrics
	if err := d.Open(); err != nil {
		return nil, fmt.Errorf("open alert dispatcher: %w", err)
	}
	a := shop.NewAlerter()
	a.Bus, a.Events, a.Users, a.Items, a.Alerts, a.Outbox = m.Bus, m.Events, m.Users, m.Items, m.Alerts, m.Outbox
	a.Identities, a.Assortments, a.Recommender = m.Identities, m.Assortments, m.Engine
	a.Notify, a.PseudonymKey, a.Logger, a.Metrics = d.Notify, m.pseudonymKey, m.Logger, metrics
	if err := a.Open(ctx); err != nil {
		_ = d.Close()
		return nil, fmt.Errorf("open alerter: %w", err)
	}
	s.Alerts, s.AlertWatcher = m.Alerts, a
	return func() error { return errors.Join(a.Close(), d.Close()) }, nil
}

// openProfiles starts consumer profiles: they follow the bus, and their persona
// classifiers retrain every TrainEvery (at once when there are none yet).
func (m *Main) openProfiles(ctx context.Context) error {
	p := profile.NewService()
	p.Events, p.Users, p.Identities, p.Items = m.Events, m.Users, m.Identities, m.Items
	p.Profiles, p.Models, p.Bus, p.Logger = m.ProfileStore, m.Models, m.Bus, m.Logger
	p.Segments = m.SegmentStore
	p.JobLock = &m.jobs
	p.Config.TrainEvery = m.Config.TrainEvery
	if err := p.Open(ctx); err != nil {
		return fmt.Errorf("open profiles: %w", err)
	}
	m.Profiles = p
	m.closers = append(m.closers, p.Close)
	return nil
}

// train runs the background training of a serving node. On a first start (no model yet) it
// publishes the fast artefact, then the learned one; a demo also trains the learned one at
// once. After that it retrains every TrainEvery. Each published model is hot-reloaded by the
// trainers' Published hook.
func (m *Main) train(ctx context.Context, first bool) {
	var now []*recommend.Trainer
	if first {
		now = append(now, m.newFastTrainer())
	}
	if first || m.learnAtStart {
		now = append(now, m.Trainer)
	}
	for _, t := range now {
		if _, err := t.TrainOnce(ctx); err != nil {
			if ctx.Err() == nil {
				m.Logger.Error("training failed", "err", err)
			}
			return
		}
	}
	if m.Config.TrainEvery <= 0 {
		return
	}
	select {
	case <-ctx.Done():
		return
	case <-time.After(m.Config.TrainEvery):
	}
	m.Trainer.Run(ctx) // trains now and every TrainEvery until ctx ends
}

// reload is the trainers' Published hook: the engine serves the new version at once.
func (m *Main) reload(ctx context.Context, blob *qianmian.ModelBlob) error {
	if m.Engine == nil { // a one-off training (qianmian train, the demo's first fit): nothing serves yet
		return nil
	}
	if err := m.Engine.Reload(ctx); err != nil {
		return err
	}
	m.Logger.Info("model published and hot-reloaded", "model", blob.Name, "version", blob.Version)
	return nil
}

// Close stops the trainer, the server, the engine and storage, in that order.
func (m *Main) Close() error {
	if m.cancel != nil {
		m.cancel()
	}
	m.wg.Wait()
	var errs []error
	for i := len(m.closers) - 1; i >= 0; i-- {
		if err := m.closers[i](); err != nil {
			errs = append(errs, err)
		}
	}
	m.closers = nil
	return errors.Join(errs...)
}

// loader returns a loader over m's storage.
func (m *Main) loader(progress io.Writer) *loader {
	return &loader{
		Suppliers: m.Suppliers, Stores: m.Stores, Items: m.Items, Assortments: m.Assortments,
		Users: m.Users, Events: m.Events, Progress: progress,
	}
}

// openDebug serves the Go profiler on Config.DebugAddr, apart from the API so that it is
// never exposed with it.
func (m *Main) openDebug() error {
	if m.Config.DebugAddr == "" {
		return nil
	}
	ln, err := net.Listen("tcp", m.Config.DebugAddr)
	if err != nil {
		return fmt.Errorf("debug-addr: %w", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	m.closers = append(m.closers, srv.Close)
	m.Logger.Info("profiler", "url", "http://"+ln.Addr().String()+"/debug/pprof/")
	return nil
}

// engineCollector exposes the engine's response cache and ranking slots on /metrics, reading
// the cache's statistics once per scrape (counting its entries locks every shard);
// `qianmian bench` reads the hit rate of a run from the two counters.
type engineCollector struct{ e *recommend.Engine }

var (
	cacheHitsDesc = prometheus.NewDesc("qianmian_recommend_cache_hits_total",
		"Rankings answered from the response cache.", nil, nil)
	cacheMissesDesc = prometheus.NewDesc("qianmian_recommend_cache_misses_total",
		"Cacheable rankings computed because the cache held no valid answer.", nil, nil)
	cacheEntriesDesc = prometheus.NewDesc("qianmian_recommend_cache_entries",
		"Rankings held in the response cache.", nil, nil)
	rankingsDesc = prometheus.NewDesc("qianmian_rankings_in_progress",
		"Rankings being computed now; at most the engine's MaxRanking, the rest wait.", nil, nil)
)

func (c engineCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- cacheHitsDesc
	ch <- cacheMissesDesc
	ch <- cacheEntriesDesc
	ch <- rankingsDesc
}

func (c engineCollector) Collect(ch chan<- prometheus.Metric) {
	st := c.e.CacheStats()
	busy, _ := c.e.RankingSlots()
	ch <- prometheus.MustNewConstMetric(cacheHitsDesc, prometheus.CounterValue, float64(st.Hits))
	ch <- prometheus.MustNewConstMetric(cacheMissesDesc, prometheus.CounterValue, float64(st.Misses))
	ch <- prometheus.MustNewConstMetric(cacheEntriesDesc, prometheus.GaugeValue, float64(st.Entries))
	ch <- prometheus.MustNewConstMetric(rankingsDesc, prometheus.GaugeValue, float64(busy))
}
