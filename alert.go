package qianmian

import (
	"context"
	"net/url"
	"strings"
	"time"
)

// StoreAlert tells an offline store that a consumer the platform knows has walked in: who
// (only as far as they consented to share), what they looked at online lately, and what of
// the store's stock to suggest. It is made once per visit event: ID is derived from the
// visit's event id, so a redelivered alert can be recognised by its receiver.
type StoreAlert struct {
	ID string `json:"id"`
	// Seq orders the alerts of one store; it is the id of the server-sent event.
	Seq       int64     `json:"seq"`
	StoreID   string    `json:"store_id"`
	EventID   string    `json:"event_id"`
	VisitedAt time.Time `json:"visited_at"`
	CreatedAt time.Time `json:"created_at"`
	Visitor   Visitor   `json:"visitor"`
	// RecentlyViewed lists, newest first, items the visitor looked at online lately; empty
	// unless they consented to store alerts and to personalisation.
	RecentlyViewed []AlertItem `json:"recently_viewed"`
	// Suggestions are in-stock items of the store, ranked for the visitor when Personalized,
	// else the store's non-personalised ranking.
	Suggestions  []AlertItem `json:"suggestions"`
	Personalized bool        `json:"personalized"`

	// Delivery is the state of the alert's webhook delivery, set by listings only; nil when
	// the store had no webhook when the alert was made.
	Delivery *AlertDelivery `json:"delivery,omitempty"`
}

// Visitor is the consumer of a StoreAlert as the store may see them. Ref is always set: an
// opaque reference, stable for one consumer at one store, that tells the store nothing else.
// UserID and Name are set only if the consumer consented to store alerts.
type Visitor struct {
	Ref       string `json:"ref"`
	Consented bool   `json:"consented"`
	UserID    string `json:"user_id,omitempty"`
	Name      string `json:"name,omitempty"`
}

// AlertItem is an item named in a StoreAlert.
type AlertItem struct {
	ItemID string `json:"item_id"`
	Title  string `json:"title"`
	// ViewedAt is when the visitor last looked at a recently viewed item.
	ViewedAt time.Time `json:"viewed_at,omitzero"`
	// InStockHere says a recently viewed item is in stock at this store.
	InStockHere bool     `json:"in_stock_here,omitempty"`
	Reasons     []string `json:"reasons,omitempty"`
}

// Delivery states of AlertDelivery.
const (
	DeliveryPending   = "pending"
	DeliveryDelivered = "delivered"
	DeliveryFailed    = "failed" // given up
)

// AlertDelivery is the state of an alert's delivery to its store's webhook.
type AlertDelivery struct {
	State         string    `json:"state"`
	Attempts      int       `json:"attempts"`
	NextAttemptAt time.Time `json:"next_attempt_at,omitzero"`
	DeliveredAt   time.Time `json:"delivered_at,omitzero"`
	// LastError says why the last attempt failed, in words that name no address ("HTTP 500",
	// "timeout", "connection failed").
	LastError string `json:"last_error,omitempty"`
}

// DeliveryAttempt is the outcome of one webhook delivery attempt.
type DeliveryAttempt struct {
	At        time.Time
	Delivered bool
	Error     string
	// NextAttemptAt is when to try again; zero when delivered or given up.
	NextAttemptAt time.Time
}

// Webhook is where a store's alerts are POSTed. Secret signs them (HMAC-SHA256); it is
// written, never read back by the API.
type Webhook struct {
	StoreID   string    `json:"store_id"`
	URL       string    `json:"url"`
	Secret    string    `json:"-"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Bounds of a webhook secret, in bytes.
const (
	MinWebhookSecret = 16
	MaxWebhookSecret = 256
)

// Validate reports an EINVALID error naming the field if the webhook cannot be stored: the
// URL must be absolute http or https without user info, the secret 16–256 bytes.
func (w *Webhook) Validate() error {
	if err := validID("store_id", w.StoreID); err != nil {
		return err
	}
	u, err := url.Parse(w.URL)
	switch {
	case w.URL == "":
		return Invalid("url", "required")
	case len(w.URL) > 2048:
		return Invalid("url", "longer than 2048 bytes")
	case err != nil:
		return Invalid("url", "not a URL: %q", w.URL)
	case u.Scheme != "http" && u.Scheme != "https":
		return Invalid("url", "must be an http or https URL")
	case u.Host == "":
		return Invalid("url", "must name a host")
	case u.User != nil:
		return Invalid("url", "must not carry user info: sign with the secret instead")
	}
	if len(w.Secret) < MinWebhookSecret || len(w.Secret) > MaxWebhookSecret {
		return Invalid("secret", "must be %d to %d bytes", MinWebhookSecret, MaxWebhookSecret)
	}
	if strings.TrimSpace(w.Secret) != w.Secret {
		return Invalid("secret", "must not begin or end with space")
	}
	return nil
}

// AlertFilter narrows alert listings of one store: Seq > AfterSeq and, when BeforeSeq is
// set, Seq < BeforeSeq; ascending by Seq unless Descending. Limit 0 means no limit.
type AlertFilter struct {
	StoreID    string
	AfterSeq   int64
	BeforeSeq  int64
	Descending bool
	Limit      int
}

// AlertService keeps store alerts and the webhooks they are delivered to.
type AlertService interface {
	// CreateAlert stores a (setting Seq and CreatedAt) with, when the store has a webhook, a
	// delivery due at once, and moves the visit cursor (AlertOutbox) forward to cursor, all
	// in one transaction. An alert whose ID is stored already is left as it was: created is
	// false and a is not changed. EINVALID for an alert without id or store.
	CreateAlert(ctx context.Context, a *StoreAlert, cursor int64) (created bool, err error)
	// FindAlerts lists a store's alerts with their delivery state.
	FindAlerts(ctx context.Context, filter AlertFilter) ([]*StoreAlert, error)
	// SetWebhook creates or replaces the store's webhook and sets w.UpdatedAt. EINVALID if
	// w is invalid or secrets cannot be encrypted.
	SetWebhook(ctx context.Context, w *Webhook) error
	// FindWebhook returns the store's webhook with its secret; ENOTFOUND if none.
	FindWebhook(ctx context.Context, storeID string) (*Webhook, error)
	// DeleteWebhook removes the store's webhook; ENOTFOUND if none. Pending deliveries
	// then fail at their next attempt.
	DeleteWebhook(ctx context.Context, storeID string) error
}

// AlertOutbox is the durable side of store alerts: the position in the event log up to
// which visits have been turned into alerts, and the webhook deliveries still to make.
type AlertOutbox interface {
	// AlertCursor returns the Seq of the event up to which visits have been handled. The
	// first call on a new store sets it to the end of the event log.
	AlertCursor(ctx context.Context) (int64, error)
	// SetAlertCursor moves the cursor forward to seq; it never moves back.
	SetAlertCursor(ctx context.Context, seq int64) error
	// ClaimDeliveries returns up to limit alerts whose delivery is due at now, each with its
	// Delivery, and leases them: none is due again before now+lease, so a process that dies
	// mid-attempt leaves them to be retried after the lease.
	ClaimDeliveries(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]*StoreAlert, error)
	// RecordAttempt counts one attempt at delivering the alert with the given Seq.
	RecordAttempt(ctx context.Context, alertSeq int64, a DeliveryAttempt) error
	// ReleaseDelivery makes a claimed, undelivered delivery due at at without counting an
	// attempt (an attempt cut short by shutdown).
	ReleaseDelivery(ctx context.Context, alertSeq int64, at time.Time) error
	// NextDeliveryAt returns when the earliest pending delivery is due; zero if none is.
	NextDeliveryAt(ctx context.Context) (time.Time, error)
	// PruneAlerts deletes alerts made before before whose delivery is over (delivered,
	// given up, or never due), and returns how many.
	PruneAlerts(ctx context.Context, before time.Time) (int64, error)
}

// AlertWatcher wakes live followers of a store's alerts (the server-sent-event stream).
type AlertWatcher interface {
	// WatchAlerts returns a watch that is signalled after new alerts of the store are stored.
	WatchAlerts(storeID string) AlertWatch
}

// AlertWatch is a subscription of AlertWatcher. Signals coalesce: a receiver reads the
// alerts after the last one it has, so it never misses one even when signals merge.
type AlertWatch interface {
	// C receives a value after new alerts are stored; it is closed when the watcher stops.
	C() <-chan struct{}
	// Close ends the watch.
	Close()
}
