package qianmian

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"iter"
	"math"
	"strings"
	"time"
)

// EventType is what a consumer did.
type EventType string

// Event types.
const (
	EventView       EventType = "view"
	EventSearch     EventType = "search"
	EventClick      EventType = "click"
	EventCart       EventType = "cart"
	EventFavorite   EventType = "favorite"
	EventPurchase   EventType = "purchase"
	EventReturn     EventType = "return"
	EventReview     EventType = "review"
	EventImpression EventType = "impression"
	EventVisit      EventType = "visit"
)

// EventTypes lists every event type.
var EventTypes = []EventType{EventView, EventSearch, EventClick, EventCart, EventFavorite,
	EventPurchase, EventReturn, EventReview, EventImpression, EventVisit}

// NeedsItem reports whether events of type t must name an item.
func (t EventType) NeedsItem() bool {
	switch t {
	case EventSearch, EventVisit:
		return false
	}
	return true
}

// Valid reports whether t is a known event type.
func (t EventType) Valid() bool {
	for _, k := range EventTypes {
		if t == k {
			return true
		}
	}
	return false
}

// Channel is where an event happened.
type Channel string

// Channels.
const (
	ChannelApp         Channel = "app"
	ChannelMiniProgram Channel = "miniprogram"
	ChannelWeb         Channel = "web"
	ChannelOffline     Channel = "offline"
)

// Validate reports an EINVALID error naming field if c is not a known channel.
func (c Channel) Validate(field string) error {
	switch c {
	case ChannelApp, ChannelMiniProgram, ChannelWeb, ChannelOffline:
		return nil
	case "":
		return Invalid(field, "required: app, miniprogram, web or offline")
	}
	return Invalid(field, "must be app, miniprogram, web or offline, not %q", string(c))
}

// LocationType is the kind of place a consumer was in.
type LocationType string

// Location types.
const (
	LocationHome    LocationType = "home"
	LocationOffice  LocationType = "office"
	LocationMall    LocationType = "mall"
	LocationTransit LocationType = "transit"
	LocationStore   LocationType = "store"
	LocationUnknown LocationType = "unknown"
)

// Validate reports an EINVALID error naming field if l is not a known location type.
func (l LocationType) Validate(field string) error {
	switch l {
	case LocationHome, LocationOffice, LocationMall, LocationTransit, LocationStore, LocationUnknown, "":
		return nil
	}
	return Invalid(field, "must be home, office, mall, transit, store or unknown, not %q", string(l))
}

// EventContext is the situation an event happened in.
type EventContext struct {
	LocationType LocationType `json:"location_type,omitempty"`
	Geo          *GeoPoint    `json:"geo,omitempty"`
	Device       string       `json:"device,omitempty"`
}

// Event is one thing a consumer did, in one channel. ID is the sender's idempotency key: an
// event whose ID is already stored is counted as a duplicate and not stored again.
//
// Either UserID or Identity names who did it. An event that carries both links the identity
// to the user, and earlier events of that identity count for the user from then on.
type Event struct {
	ID         string       `json:"id"`
	Type       EventType    `json:"type"`
	UserID     string       `json:"user_id,omitempty"`
	Identity   *IdentityRef `json:"identity,omitempty"`
	ItemID     string       `json:"item_id,omitempty"`
	StoreID    string       `json:"store_id,omitempty"`
	Channel    Channel      `json:"channel"`
	Query      string       `json:"query,omitempty"`
	Quantity   int          `json:"quantity,omitempty"`
	Amount     float64      `json:"amount,omitempty"`
	Rating     int          `json:"rating,omitempty"`
	Text       string       `json:"text,omitempty"`
	Context    EventContext `json:"context"`
	RecID      string       `json:"rec_id,omitempty"`
	OccurredAt time.Time    `json:"occurred_at"`

	// Seq is the store's sequence number for the event, set when it is stored; events are
	// read back in Seq order.
	Seq int64 `json:"seq,omitempty"`
}

// Subject returns the key the event's behaviour is kept under: the user id when known,
// otherwise the anonymous identity's subject.
func (e *Event) Subject() string {
	if e.UserID != "" {
		return e.UserID
	}
	if e.Identity != nil {
		return e.Identity.AnonymousSubject()
	}
	return ""
}

// MaxFutureSkew is how far in the future an event's time may be (clock skew of devices).
const MaxFutureSkew = 24 * time.Hour

// Validate reports an EINVALID error naming the first field at fault. now bounds how far
// in the future occurred_at may lie. Validate normalises: a purchase or return without
// quantity gets 1, and an empty location type becomes unknown.
func (e *Event) Validate(now time.Time) error {
	if err := validID("id", e.ID); err != nil {
		return err
	}
	if e.Type == "" {
		return Invalid("type", "required")
	}
	if !e.Type.Valid() {
		return Invalid("type", "unknown event type %q", string(e.Type))
	}
	if e.UserID == "" && e.Identity == nil {
		return Invalid("user_id", "required unless an anonymous identity is given")
	}
	if e.UserID != "" {
		if err := validID("user_id", e.UserID); err != nil {
			return err
		}
	}
	if e.Identity != nil {
		if err := e.Identity.Validate("identity"); err != nil {
			return err
		}
	}
	if err := e.Channel.Validate("channel"); err != nil {
		return err
	}
	if e.Type.NeedsItem() {
		if err := validID("item_id", e.ItemID); err != nil {
			return Invalid("item_id", "required for %s events", e.Type)
		}
	} else if e.ItemID != "" {
		if err := validID("item_id", e.ItemID); err != nil {
			return err
		}
	}
	if e.StoreID != "" {
		if err := validID("store_id", e.StoreID); err != nil {
			return err
		}
	} else if e.Type == EventVisit {
		return Invalid("store_id", "required for visit events")
	}
	if e.Type == EventSearch && strings.TrimSpace(e.Query) == "" {
		return Invalid("query", "required for search events")
	}
	if len(e.Query) > 512 {
		return Invalid("query", "longer than 512 bytes")
	}
	if len(e.Text) > 4096 {
		return Invalid("text", "longer than 4096 bytes")
	}
	if e.Quantity < 0 || e.Quantity > 100000 {
		return Invalid("quantity", "must be between 0 and 100000")
	}
	if (e.Type == EventPurchase || e.Type == EventReturn) && e.Quantity == 0 {
		e.Quantity = 1
	}
	if math.IsNaN(e.Amount) || math.IsInf(e.Amount, 0) || e.Amount < 0 {
		return Invalid("amount", "must be a number >= 0")
	}
	if e.Rating != 0 && (e.Rating < 1 || e.Rating > 5) {
		return Invalid("rating", "must be between 1 and 5")
	}
	if e.Type == EventReview && e.Rating == 0 && strings.TrimSpace(e.Text) == "" {
		return Invalid("rating", "a review needs a rating or a text")
	}
	if err := e.Context.LocationType.Validate("context.location_type"); err != nil {
		return err
	}
	if e.Context.LocationType == "" {
		e.Context.LocationType = LocationUnknown
	}
	if err := e.Context.Geo.Validate("context.geo"); err != nil {
		return err
	}
	if len(e.RecID) > MaxIDLength {
		return Invalid("rec_id", "longer than %d bytes", MaxIDLength)
	}
	if e.OccurredAt.IsZero() {
		return Invalid("occurred_at", "required (RFC 3339)")
	}
	if e.OccurredAt.After(now.Add(MaxFutureSkew)) {
		return Invalid("occurred_at", "more than %s in the future", MaxFutureSkew)
	}
	e.OccurredAt = e.OccurredAt.UTC()
	return nil
}

// DecodeEvent parses one JSON event and validates it against now. Errors are EINVALID and
// name the field at fault: a time that is not RFC 3339 names occurred_at, a number given as
// a string names its field.
func DecodeEvent(data []byte, now time.Time) (*Event, error) {
	var w struct {
		Event
		OccurredAt json.RawMessage `json:"occurred_at"`
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&w); err != nil {
		return nil, jsonError(err)
	}
	e := w.Event
	if len(w.OccurredAt) > 0 && string(w.OccurredAt) != "null" {
		var s string
		if err := json.Unmarshal(w.OccurredAt, &s); err != nil {
			return nil, Invalid("occurred_at", "must be an RFC 3339 string")
		}
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return nil, Invalid("occurred_at", "not an RFC 3339 time: %q", s)
		}
		e.OccurredAt = t
	}
	if err := e.Validate(now); err != nil {
		return nil, err
	}
	return &e, nil
}

// jsonError turns a JSON decoding error into an EINVALID error naming the field when the
// decoder knows it.
func jsonError(err error) error {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		field := strings.TrimPrefix(te.Field, "Event.")
		if field == "" {
			field = "body"
		}
		return Invalid(field, "must be %s, not %s", te.Type.String(), te.Value)
	}
	return Invalid("body", "malformed JSON: %s", err.Error())
}

// EventResult counts what happened to a batch of valid events.
type EventResult struct {
	Accepted   int `json:"accepted"`
	Duplicates int `json:"duplicates"`
}

// EventFilter narrows event listings. Empty fields are ignored. UserID matches the user's
// own events and the events of every identity linked to the user, before or after the link.
type EventFilter struct {
	UserID   string
	StoreID  string
	ItemID   string
	Types    []EventType
	Since    time.Time // occurred_at >= Since
	Until    time.Time // occurred_at < Until
	AfterSeq int64     // Seq > AfterSeq
	Limit    int       // 0 means no limit
}

// EventService is the append-only event log, the source of truth of everything derived.
type EventService interface {
	// CreateEvents stores valid events in one durable transaction: when it returns nil the
	// accepted events survive a crash. An event whose ID is stored already is a duplicate.
	// Anonymous events whose identity is linked get the user's id; events carrying both an
	// identity and a user id link them. The caller's events are updated in place (Seq,
	// UserID), and after commit the accepted ones are published to the bus.
	CreateEvents(ctx context.Context, events []*Event) (EventResult, error)
	// FindEvents lists matching events in Seq order.
	FindEvents(ctx context.Context, filter EventFilter) ([]*Event, error)
	// ScanEvents streams matching events in Seq order without holding them all in memory.
	ScanEvents(ctx context.Context, filter EventFilter) iter.Seq2[*Event, error]
	// HasStoreInteraction reports whether the user (or an identity linked to them) has any
	// event at the store.
	HasStoreInteraction(ctx context.Context, userID, storeID string) (bool, error)
	// CountEvents returns the number of stored events.
	CountEvents(ctx context.Context) (int64, error)
}

// EventBus carries committed events to the live parts of the engine.
type EventBus interface {
	// Publish hands committed events to every subscriber. It never blocks on a slow one.
	Publish(ctx context.Context, events []*Event)
	// Subscribe returns a subscription receiving every event published from now on.
	Subscribe() Subscription
}

// Subscription receives published events until closed.
type Subscription interface {
	// C delivers batches of events; it is closed when the subscription ends.
	C() <-chan []*Event
	// Close ends the subscription.
	Close()
}
