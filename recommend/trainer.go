package recommend

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"runtime/debug"
	"sync"
	"time"

	"github.com/qianmian/qianmian"
)

// Trainer fits the hybrid model from the event log and the catalogue and publishes it to
// the ModelStore. Set the services, then call TrainOnce, or Run to retrain periodically.
type Trainer struct {
	Events qianmian.EventService
	Items  qianmian.ItemService
	Stores qianmian.StoreService
	// Users supplies consent: events of users who refused personalisation are left out of
	// everything per-person (co-occurrence, repurchase) and count only in popularity.
	Users  qianmian.UserService
	Models qianmian.ModelStore
	// Assortments is optional and not read by this model: the engine intersects every
	// ranking with the live assortment when it serves. It is here so a wiring can hand the
	// trainer every catalogue service alike.
	Assortments qianmian.AssortmentService

	// Published, when set, is called after each model is saved: a serving node reloads
	// there. Its error is TrainOnce's.
	Published func(ctx context.Context, blob *qianmian.ModelBlob) error

	// JobLock, when set, is held through each training run. A serving process hands the
	// same lock to all its trainers (the persona classifiers' too) so that their memory
	// peaks come one after the other instead of adding up.
	JobLock sync.Locker

	Logger   *slog.Logger     // defaults to discarding
	Now      func() time.Time // defaults to time.Now
	Interval time.Duration    // Run's retraining period
	Config   TrainerConfig
}

// NewTrainer returns a trainer with the default configuration, retraining hourly under Run.
func NewTrainer() *Trainer {
	return &Trainer{
		Logger:   slog.New(slog.NewTextHandler(io.Discard, nil)),
		Now:      time.Now,
		Interval: time.Hour,
		Config:   DefaultTrainerConfig(),
	}
}

// TrainOnce reads every event of the training window, fits co-occurrence, popularity,
// repurchase rates and (unless Config.Learn.Off) the learned model chosen on a temporal
// validation split, saves the artefact as a new version of Config.ModelName and returns it
// with Version set. The blob's Metrics describe the run.
func (t *Trainer) TrainOnce(ctx context.Context) (*qianmian.ModelBlob, error) {
	if t.Events == nil || t.Items == nil || t.Stores == nil || t.Users == nil || t.Models == nil {
		return nil, errors.New("recommend: Trainer needs Events, Items, Stores, Users and Models")
	}
	logger, nowFn := t.Logger, t.Now
	if logger == nil {
		logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if nowFn == nil {
		nowFn = time.Now
	}
	cfg := t.Config.withDefaults()
	if t.JobLock != nil {
		t.JobLock.Lock()
		defer t.JobLock.Unlock()
	}
	started := time.Now()
	now := nowFn()
	logger.Info("training started", "model", cfg.ModelName)

	cat, err := loadTrainingCatalog(ctx, t.Items, t.Stores, t.Users)
	if err != nil {
		return nil, fmt.Errorf("load catalogue for training: %w", err)
	}
	var filter qianmian.EventFilter
	if cfg.Window > 0 {
		filter.Since = now.Add(-cfg.Window)
	}
	f := newFitter(cfg, now, cat, true)
	f.logger = logger
	for e, err := range t.Events.ScanEvents(ctx, filter) {
		if err != nil {
			return nil, fmt.Errorf("scan events: %w", err)
		}
		f.add(e)
		if f.stats.Events%200_000 == 0 {
			logger.Info("training: events read", "events", f.stats.Events)
		}
	}
	logger.Info("training: events read", "events", f.stats.Events, "item_events", f.stats.ItemEvents,
		"opted_out_skipped", f.stats.OptedOutSkipped, "seconds", time.Since(started).Seconds())
	a, err := f.finish(ctx)
	if err != nil {
		return nil, fmt.Errorf("fit: %w", err)
	}
	// Nothing below reads f (the training data) or, once encoded, a: the collector may take
	// them while the artefact is saved and published.
	stats := f.stats
	data, err := a.encode()
	if err != nil {
		return nil, fmt.Errorf("encode model: %w", err)
	}
	// Saving copies the artefact once more (into the store's memory), and publishing decodes
	// it beside the model being served: give the fit's memory back to the system first, so
	// those copies do not stack on top of it (at 100,000 items they are ~0.5 GB each).
	debug.FreeOSMemory()
	stats.Seconds = time.Since(started).Seconds()
	metrics, err := json.Marshal(stats)
	if err != nil {
		return nil, err
	}
	blob := &qianmian.ModelBlob{Name: cfg.ModelName, Data: data, Metrics: string(metrics), CreatedAt: now}
	if err := t.Models.SaveModel(ctx, blob); err != nil {
		return nil, fmt.Errorf("save model: %w", err)
	}
	logger.Info("training finished", "model", blob.Name, "version", blob.Version, "bytes", len(data),
		"subjects", stats.Subjects, "items", stats.Items, "interactions", stats.Interactions,
		"neighbors", stats.Neighbors, "rebuy_categories", len(stats.RebuyCategories),
		"learned", stats.Learned, "seconds", stats.Seconds)
	if t.Published != nil {
		if err := t.Published(ctx, blob); err != nil {
			return blob, fmt.Errorf("after publishing version %d: %w", blob.Version, err)
		}
	}
	return blob, nil
}

// Run trains at once and then every Interval until ctx is done. A failed run is logged and
// retried at the next tick; Run returns nil when ctx ends.
func (t *Trainer) Run(ctx context.Context) error {
	if t.Interval <= 0 {
		return qianmian.Invalid("interval", "must be positive to retrain periodically")
	}
	ticker := time.NewTicker(t.Interval)
	defer ticker.Stop()
	for {
		if _, err := t.TrainOnce(ctx); err != nil && ctx.Err() == nil && t.Logger != nil {
			t.Logger.Error("training failed", "err", err)
		}
		if ctx.Err() != nil {
			// Checked first: a tick that came during a long run is ready too, and select
			// would pick either, starting another run after shutdown began.
			return nil
		}
		select {
		case <-ctx.Done():
			return nil
		case <-ticker.C:
		}
	}
}
