// Package http serves qianmian's REST API v1: event ingestion, the catalogue and people API,
// store-scoped recommendations, health and metrics. Import it as qmhttp.
//
// Who may see what is decided in access.go; errors become statuses in error.go only.
package http

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"runtime"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/qianmian/qianmian"
)

// ShutdownTimeout bounds how long Close waits for requests in flight.
const ShutdownTimeout = 10 * time.Second

// Server is the HTTP API. Set its fields before calling Open or Handler; they are read once,
// when the handler is first built.
type Server struct {
	Suppliers   qianmian.SupplierService
	Stores      qianmian.StoreService
	Items       qianmian.ItemService
	Assortments qianmian.AssortmentService
	Users       qianmian.UserService
	Identities  qianmian.IdentityService
	Events      qianmian.EventService
	Keys        qianmian.KeyService
	Recommender qianmian.Recommender
	// Profiles answers consumer profiles and their controls; nil answers those routes 503.
	Profiles qianmian.ProfileService
	// Segments manages segments and answers their members; nil answers those routes 503.
	Segments qianmian.SegmentService
	// IdentityChanged, when set, is called after the operator links ref to userID or unlinks
	// it through the API, so that state derived from the event log for both sides (the
	// user's profile and live recommendation state, the identity's anonymous subject's) is
	// rebuilt from it. Nil leaves that state to catch up by itself.
	IdentityChanged func(ctx context.Context, ref qianmian.IdentityRef, userID string)

	// Alerts serves store-visit alerts and webhooks; nil answers their routes with 503.
	// AlertWatcher, when set, wakes alert streams as soon as an alert is made (else they
	// poll), and AlertHeartbeat spaces their keep-alive comments (DefaultAlertHeartbeat).
	Alerts         qianmian.AlertService
	AlertWatcher   qianmian.AlertWatcher
	AlertHeartbeat time.Duration

	// Addr is the address Open listens on, e.g. ":8080" or "127.0.0.1:0".
	Addr string
	// Logger receives one line per request and every internal error; defaults to discarding.
	Logger *slog.Logger
	// Now is the clock events are validated against; defaults to time.Now.
	Now func() time.Time
	// Ready reports whether the engine can serve (models loaded); GET /healthz answers 503
	// until it returns true. Nil means always ready.
	Ready func() bool
	// LiveStats reports the size of the live recommendation state for the
	// qianmian_live_subjects and qianmian_live_state_bytes gauges. Nil reports zeros.
	LiveStats func() (subjects int, bytes int64)
	// Registry receives the server's metrics and is what GET /metrics exposes. NewServer
	// gives it the Go runtime and process collectors; callers may register their own.
	Registry *prometheus.Registry

	// DecodeSlots bounds how many events bodies are decoded at once; 0 means
	// max(1, GOMAXPROCS−1), which leaves a core for the storage's single event writer.
	// Decoding is pure CPU work that comes in bursts (a group commit answers many batches
	// at once, and their senders post again together); unbounded, at 32 senders on 2
	// cores, it kept the writer waiting for a core about 15% of its time.
	DecodeSlots int

	once        sync.Once
	handler     http.Handler
	metrics     *metrics
	decodeSlots chan struct{} // one token per decode in progress

	ln      net.Listener
	server  *http.Server
	serveCh chan error
}

// NewServer returns a Server with defaults: a discarding logger, the real clock and a fresh
// registry with the Go and process collectors.
func NewServer() *Server {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return &Server{
		Logger:   slog.New(slog.DiscardHandler),
		Now:      time.Now,
		Registry: reg,
	}
}

// Handler returns the server's complete HTTP handler, for Open and for httptest.
func (s *Server) Handler() http.Handler {
	s.once.Do(func() {
		if s.Logger == nil {
			s.Logger = slog.New(slog.DiscardHandler)
		}
		if s.Now == nil {
			s.Now = time.Now
		}
		if s.Registry == nil {
			s.Registry = prometheus.NewRegistry()
		}
		s.metrics = newMetrics(s.Registry, s.liveStats)
		n := s.DecodeSlots
		if n <= 0 {
			n = max(1, runtime.GOMAXPROCS(0)-1)
		}
		s.decodeSlots = make(chan struct{}, n)
		s.handler = s.routes()
	})
	return s.handler
}

// routes returns the complete routing table. Read this first. Routes registered with auth
// need an API key; access.go decides what each principal may see.
func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	auth := func(pattern string, h http.HandlerFunc) { mux.Handle(pattern, s.authenticate(h)) }

	mux.HandleFunc("GET /healthz", s.handleHealthz)
	mux.Handle("GET /metrics", promhttp.HandlerFor(s.Registry, promhttp.HandlerOpts{}))

	auth("POST /v1/events", s.handleEventsCreate)

	auth("POST /v1/suppliers", s.handleSuppliersUpsert)
	auth("GET /v1/suppliers", s.handleSuppliersList)
	auth("GET /v1/suppliers/{id}", s.handleSupplierGet)

	auth("POST /v1/stores", s.handleStoresUpsert)
	auth("GET /v1/stores", s.handleStoresList)
	auth("GET /v1/stores/{id}", s.handleStoreGet)
	auth("GET /v1/stores/{id}/assortment", s.handleAssortmentList)
	auth("GET /v1/stores/{id}/recommendations", s.handleRecommendationsGet)
	auth("GET /v1/stores/{id}/items/{item}/similar", s.handleSimilarGet)
	auth("PUT /v1/stores/{id}/webhook", s.handleWebhookPut)
	auth("GET /v1/stores/{id}/webhook", s.handleWebhookGet)
	auth("DELETE /v1/stores/{id}/webhook", s.handleWebhookDelete)
	auth("GET /v1/stores/{id}/alerts", s.handleAlertsList)
	auth("GET /v1/stores/{id}/alerts/stream", s.handleAlertStream)

	auth("POST /v1/items", s.handleItemsUpsert)
	auth("GET /v1/items", s.handleItemsList)
	auth("GET /v1/items/{id}", s.handleItemGet)

	auth("POST /v1/assortments", s.handleAssortmentsUpsert)

	auth("POST /v1/users", s.handleUsersUpsert)
	auth("GET /v1/users", s.handleUsersList)
	auth("GET /v1/users/{id}", s.handleUserGet)
	auth("GET /v1/users/{id}/identities", s.handleIdentitiesList)
	auth("POST /v1/users/{id}/identities", s.handleIdentityLink)
	auth("DELETE /v1/users/{id}/identities/{channel}/{type}/{value}", s.handleIdentityUnlink)
	auth("GET /v1/users/{id}/identity-graph", s.handleIdentityGraphGet)
	auth("PUT /v1/users/{id}/consent", s.handleConsentUpdate)
	auth("GET /v1/users/{id}/profile", s.handleProfileGet)

	auth("GET /v1/me/profile", s.handleMyProfileGet)
	auth("DELETE /v1/me/profile/tags/{tag}", s.handleMyProfileTagDelete)
	auth("PUT /v1/me/personalization", s.handleMyPersonalizationPut)

	auth("POST /v1/segments", s.handleSegmentCreate)
	auth("GET /v1/segments", s.handleSegmentsList)
	auth("GET /v1/segments/{id}", s.handleSegmentGet)
	auth("PUT /v1/segments/{id}", s.handleSegmentPut)
	auth("DELETE /v1/segments/{id}", s.handleSegmentDelete)
	auth("GET /v1/segments/{id}/members", s.handleSegmentMembers)
	auth("GET /v1/segments/{id}/counts", s.handleSegmentCounts)
	auth("GET /v1/segments/{id}/audience", s.handleSegmentAudience)

	mux.HandleFunc("/", s.handleNotFound)
	return s.observe(mux)
}

// Open listens on Addr and serves in the background until Close.
func (s *Server) Open() error {
	h := s.Handler()
	ln, err := net.Listen("tcp", s.Addr)
	if err != nil {
		return err
	}
	s.ln = ln
	s.server = &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       2 * time.Minute, // a 64 MiB batch over a slow link
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(s.Logger.Handler(), slog.LevelWarn),
	}
	s.serveCh = make(chan error, 1)
	go func() { s.serveCh <- s.server.Serve(ln) }()
	return nil
}

// URL returns the base URL the server listens on, "" before Open. An unspecified host
// (":8080") is given as 127.0.0.1.
func (s *Server) URL() string {
	if s.ln == nil {
		return ""
	}
	addr, ok := s.ln.Addr().(*net.TCPAddr)
	if !ok {
		return "http://" + s.ln.Addr().String()
	}
	host := addr.IP.String()
	if addr.IP.IsUnspecified() {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, strconv.Itoa(addr.Port))
}

// Close stops accepting connections and waits up to ShutdownTimeout for requests in flight.
func (s *Server) Close() error {
	if s.server == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), ShutdownTimeout)
	defer cancel()
	err := s.server.Shutdown(ctx)
	if serr := <-s.serveCh; serr != nil && !errors.Is(serr, http.ErrServerClosed) && err == nil {
		err = serr
	}
	s.server = nil
	return err
}

func (s *Server) liveStats() (int, int64) {
	if s.LiveStats == nil {
		return 0, 0
	}
	return s.LiveStats()
}

// handleHealthz answers 200 once the engine is ready, 503 before. It needs no key.
func (s *Server) handleHealthz(w http.ResponseWriter, r *http.Request) {
	if s.Ready != nil && !s.Ready() {
		s.writeError(w, r, qianmian.Errorf(qianmian.EUNAVAILABLE, "not ready: models are loading"))
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// handleNotFound answers every unknown route with the JSON 404.
func (s *Server) handleNotFound(w http.ResponseWriter, r *http.Request) {
	s.writeError(w, r, errNotFound)
}
