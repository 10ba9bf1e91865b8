package qianmian

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"iter"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
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
	e, _, err := UnmarshalEvent(data)
	if err != nil {
		return nil, err
	}
	if err := e.Validate(now); err != nil {
		return nil, err
	}
	return e, nil
}

// UnmarshalEvent parses one JSON event without validating it: DecodeEvent is UnmarshalEvent
// then Validate, and a caller that fills defaults first (a store's own store_id) calls them
// apart. Errors are those of DecodeEvent. Unknown members are ignored, and, as with
// encoding/json, member names match case-insensitively and only the first JSON value of data
// is read.
//
// wellFormed reports that data was exactly one well-formed JSON object, with nothing after
// it but white space: a caller that split a JSON array into records need not check the
// array again. It may be false for well-formed data the fast path leaves to encoding/json.
func UnmarshalEvent(data []byte) (e *Event, wellFormed bool, err error) {
	e = new(Event)
	d := eventDecoder{data: data}
	occurred, has, ok := d.event(e)
	if !ok {
		// Whatever the fast path does not take (a type error, an escape in a member name, a
		// name in another case, a syntax error) goes through encoding/json, which decides
		// and words the error.
		*e = Event{}
		if occurred, has, err = decodeEventSlow(data, e); err != nil {
			return nil, false, err
		}
	}
	if has {
		t, err := time.Parse(time.RFC3339Nano, occurred)
		if err != nil {
			return nil, false, Invalid("occurred_at", "not an RFC 3339 time: %q", occurred)
		}
		e.OccurredAt = t
	}
	return e, ok, nil
}

// decodeEventSlow decodes data into e with encoding/json and returns occurred_at unparsed;
// has is false when it is absent or null.
func decodeEventSlow(data []byte, e *Event) (occurred string, has bool, err error) {
	var w struct {
		Event
		OccurredAt json.RawMessage `json:"occurred_at"`
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&w); err != nil {
		return "", false, jsonError(err)
	}
	*e = w.Event
	if len(w.OccurredAt) == 0 || string(w.OccurredAt) == "null" {
		return "", false, nil
	}
	if err := json.Unmarshal(w.OccurredAt, &occurred); err != nil {
		return "", false, Invalid("occurred_at", "must be an RFC 3339 string")
	}
	return occurred, true, nil
}

// eventDecoder is the fast path of UnmarshalEvent: a decoder of exactly the JSON an Event
// takes, with no reflection and no allocation but the strings it keeps. It gives up (ok
// false) on anything it would have to judge like encoding/json does, and then
// encoding/json decides: so for data it takes, the event is the one encoding/json would
// give, and for data it does not, the error is encoding/json's.
type eventDecoder struct {
	data  []byte
	i     int
	depth int // of objects and arrays open
}

// maxSkipDepth bounds the nesting of the unknown members skipped.
const maxSkipDepth = 64

// Members of the objects an event is made of, as bits for spotting a repeated one
// (encoding/json merges a repeated object; the fast path leaves that to it).
const (
	mID uint32 = 1 << iota
	mType
	mUserID
	mIdentity
	mItemID
	mStoreID
	mChannel
	mQuery
	mQuantity
	mAmount
	mRating
	mText
	mContext
	mRecID
	mOccurredAt
	mSeq
)

var eventMembers = []string{"id", "type", "user_id", "identity", "item_id", "store_id", "channel",
	"query", "quantity", "amount", "rating", "text", "context", "rec_id", "occurred_at", "seq"}

var (
	identityMembers = []string{"channel", "type", "value"}
	contextMembers  = []string{"location_type", "geo", "device"}
	geoMembers      = []string{"lat", "lon"}
)

// Known values are returned as constants, so the common ones cost no allocation.
var (
	eventTypeNames = func() []string {
		names := make([]string, len(EventTypes))
		for i, t := range EventTypes {
			names[i] = string(t)
		}
		return names
	}()
	channelNames      = []string{"app", "miniprogram", "web", "offline"}
	locationTypeNames = []string{"home", "office", "mall", "transit", "store", "unknown"}
	identityTypeNames = []string{"device", "account", "phone_hash", "membership_card"}
)

// event decodes data into e, which is zero, and returns occurred_at unparsed (has is false
// when it is absent or null).
func (d *eventDecoder) event(e *Event) (occurred string, has, ok bool) {
	var seen uint32
	ok = d.object(eventMembers, func(m int) bool {
		bit := uint32(1) << m
		if seen&bit != 0 {
			return false
		}
		seen |= bit
		switch bit {
		case mID:
			return d.str(&e.ID, nil)
		case mType:
			return d.str((*string)(&e.Type), eventTypeNames)
		case mUserID:
			return d.str(&e.UserID, nil)
		case mIdentity:
			if d.null() {
				e.Identity = nil
				return true
			}
			e.Identity = new(IdentityRef)
			return d.identity(e.Identity)
		case mItemID:
			return d.str(&e.ItemID, nil)
		case mStoreID:
			return d.str(&e.StoreID, nil)
		case mChannel:
			return d.str((*string)(&e.Channel), channelNames)
		case mQuery:
			return d.str(&e.Query, nil)
		case mQuantity:
			return d.int(&e.Quantity)
		case mAmount:
			return d.float(&e.Amount)
		case mRating:
			return d.int(&e.Rating)
		case mText:
			return d.str(&e.Text, nil)
		case mContext:
			if d.null() {
				return true
			}
			return d.context(&e.Context)
		case mRecID:
			return d.str(&e.RecID, nil)
		case mOccurredAt:
			if d.null() {
				return true
			}
			has = true
			return d.str(&occurred, nil)
		case mSeq:
			var n int
			if !d.int(&n) {
				return false
			}
			e.Seq = int64(n)
			return true
		}
		return false
	})
	if !ok {
		return "", false, false
	}
	d.space()
	return occurred, has, d.i == len(d.data)
}

func (d *eventDecoder) identity(r *IdentityRef) bool {
	var seen uint32
	return d.object(identityMembers, func(m int) bool {
		if seen&(1<<m) != 0 {
			return false
		}
		seen |= 1 << m
		switch m {
		case 0:
			return d.str((*string)(&r.Channel), channelNames)
		case 1:
			return d.str((*string)(&r.Type), identityTypeNames)
		default:
			return d.str(&r.Value, nil)
		}
	})
}

func (d *eventDecoder) context(c *EventContext) bool {
	var seen uint32
	return d.object(contextMembers, func(m int) bool {
		if seen&(1<<m) != 0 {
			return false
		}
		seen |= 1 << m
		switch m {
		case 0:
			return d.str((*string)(&c.LocationType), locationTypeNames)
		case 1:
			if d.null() {
				c.Geo = nil
				return true
			}
			c.Geo = new(GeoPoint)
			var seenGeo uint32
			return d.object(geoMembers, func(m int) bool {
				if seenGeo&(1<<m) != 0 {
					return false
				}
				seenGeo |= 1 << m
				if m == 0 {
					return d.float(&c.Geo.Lat)
				}
				return d.float(&c.Geo.Lon)
			})
		default:
			return d.str(&c.Device, nil)
		}
	})
}

// object decodes a JSON object, calling member(m) with d at the value of each member named
// names[m]; it skips the values of other members. It gives up on a name that is not plain
// ASCII or that matches one of names only in another case.
func (d *eventDecoder) object(names []string, member func(m int) bool) bool {
	d.space()
	if !d.byte('{') {
		return false
	}
	if d.depth++; d.depth > maxSkipDepth {
		return false
	}
	defer func() { d.depth-- }()
	d.space()
	if d.byte('}') {
		return true
	}
	for {
		d.space()
		name, ok := d.name()
		if !ok {
			return false
		}
		d.space()
		if !d.byte(':') {
			return false
		}
		d.space()
		m := -1
		for k, n := range names {
			if string(name) == n {
				m = k
				break
			}
		}
		if m >= 0 {
			if !member(m) {
				return false
			}
		} else {
			for _, n := range names {
				if bytes.EqualFold(name, []byte(n)) {
					return false
				}
			}
			if !d.skip() {
				return false
			}
		}
		d.space()
		if d.byte('}') {
			return true
		}
		if !d.byte(',') {
			return false
		}
	}
}

// name returns the member name at d, which must be plain printable ASCII without escapes.
func (d *eventDecoder) name() ([]byte, bool) {
	if !d.byte('"') {
		return nil, false
	}
	start := d.i
	for ; d.i < len(d.data); d.i++ {
		switch c := d.data[d.i]; {
		case c == '"':
			d.i++
			return d.data[start : d.i-1], true
		case c < 0x20 || c == '\\' || c >= 0x80:
			return nil, false
		}
	}
	return nil, false
}

// str decodes a JSON string or null (which leaves *dst as it is) into *dst. A value among
// known is stored as that string, without allocating.
func (d *eventDecoder) str(dst *string, known []string) bool {
	if d.null() {
		return true
	}
	raw, plain, ok := d.rawString()
	if !ok {
		return false
	}
	body := raw[1 : len(raw)-1]
	if plain {
		for _, k := range known {
			if string(body) == k {
				*dst = k
				return true
			}
		}
		*dst = string(body)
		return true
	}
	// Escapes, or bytes that are not valid UTF-8 (which encoding/json replaces): let it.
	return json.Unmarshal(raw, dst) == nil
}

// rawString returns the JSON string at d, quotes included. plain reports that it has no
// escape and is valid UTF-8, so its bytes are its value.
func (d *eventDecoder) rawString() (raw []byte, plain, ok bool) {
	if !d.byte('"') {
		return nil, false, false
	}
	start, ascii, escaped := d.i-1, true, false
	for ; d.i < len(d.data); d.i++ {
		switch c := d.data[d.i]; {
		case c == '"':
			d.i++
			raw = d.data[start:d.i]
			if escaped {
				return raw, false, true
			}
			return raw, ascii || utf8.Valid(raw), true
		case c == '\\':
			escaped = true
			d.i++
			if d.i >= len(d.data) {
				return nil, false, false
			}
			switch d.data[d.i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				for range 4 {
					if d.i++; d.i >= len(d.data) || !isHex(d.data[d.i]) {
						return nil, false, false
					}
				}
			default:
				return nil, false, false
			}
		case c < 0x20:
			return nil, false, false
		case c >= 0x80:
			ascii = false
		}
	}
	return nil, false, false
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

// int decodes a JSON integer or null into *dst; a fraction, an exponent or an overflow is
// left to encoding/json (a type error).
func (d *eventDecoder) int(dst *int) bool {
	if d.null() {
		return true
	}
	lit, isInt := d.number()
	if lit == nil || !isInt {
		return false
	}
	n, err := strconv.ParseInt(string(lit), 10, 64)
	if err != nil || n != int64(int(n)) {
		return false
	}
	*dst = int(n)
	return true
}

// float decodes a JSON number or null into *dst.
func (d *eventDecoder) float(dst *float64) bool {
	if d.null() {
		return true
	}
	lit, _ := d.number()
	if lit == nil {
		return false
	}
	f, err := strconv.ParseFloat(string(lit), 64)
	if err != nil {
		return false
	}
	*dst = f
	return true
}

// number returns the JSON number at d, nil if there is none, and whether it is an integer
// (no fraction, no exponent).
func (d *eventDecoder) number() (lit []byte, isInt bool) {
	start := d.i
	if d.i < len(d.data) && d.data[d.i] == '-' {
		d.i++
	}
	switch {
	case d.i < len(d.data) && d.data[d.i] == '0':
		d.i++
	case d.i < len(d.data) && d.data[d.i] >= '1' && d.data[d.i] <= '9':
		d.digits()
	default:
		return nil, false
	}
	isInt = true
	if d.i < len(d.data) && d.data[d.i] == '.' {
		d.i++
		if d.digits() == 0 {
			return nil, false
		}
		isInt = false
	}
	if d.i < len(d.data) && (d.data[d.i] == 'e' || d.data[d.i] == 'E') {
		d.i++
		if d.i < len(d.data) && (d.data[d.i] == '+' || d.data[d.i] == '-') {
			d.i++
		}
		if d.digits() == 0 {
			return nil, false
		}
		isInt = false
	}
	return d.data[start:d.i], isInt
}

func (d *eventDecoder) digits() int {
	start := d.i
	for d.i < len(d.data) && d.data[d.i] >= '0' && d.data[d.i] <= '9' {
		d.i++
	}
	return d.i - start
}

// skip passes over any JSON value, checking its syntax.
func (d *eventDecoder) skip() bool {
	d.space()
	if d.i >= len(d.data) {
		return false
	}
	switch c := d.data[d.i]; {
	case c == '"':
		_, _, ok := d.rawString()
		return ok
	case c == '{':
		return d.object(nil, nil)
	case c == '[':
		d.i++
		if d.depth++; d.depth > maxSkipDepth {
			return false
		}
		defer func() { d.depth-- }()
		d.space()
		if d.byte(']') {
			return true
		}
		for {
			if !d.skip() {
				return false
			}
			d.space()
			if d.byte(']') {
				return true
			}
			if !d.byte(',') {
				return false
			}
		}
	case c == 't':
		return d.literal("true")
	case c == 'f':
		return d.literal("false")
	case c == 'n':
		return d.literal("null")
	}
	lit, _ := d.number()
	return lit != nil
}

// null consumes a JSON null at d, if there is one.
func (d *eventDecoder) null() bool { return d.literal("null") }

func (d *eventDecoder) literal(s string) bool {
	if len(d.data)-d.i >= len(s) && string(d.data[d.i:d.i+len(s)]) == s {
		d.i += len(s)
		return true
	}
	return false
}

func (d *eventDecoder) byte(c byte) bool {
	if d.i < len(d.data) && d.data[d.i] == c {
		d.i++
		return true
	}
	return false
}

func (d *eventDecoder) space() {
	for d.i < len(d.data) {
		switch d.data[d.i] {
		case ' ', '\t', '\r', '\n':
			d.i++
		default:
			return
		}
	}
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
	UserID string
	// Identity matches the events sent under the identity that are stored without a user:
	// sent anonymously and not resolved to a user when they arrived (or given back to the
	// identity by IdentityService.UnlinkIdentity). While the identity is unlinked, these are
	// the events of its anonymous subject (IdentityRef.AnonymousSubject).
	Identity *IdentityRef
	StoreID  string
	ItemID   string
	Types    []EventType
	Since    time.Time // occurred_at >= Since
	Until    time.Time // occurred_at < Until
	AfterSeq int64     // Seq > AfterSeq
	Limit    int       // 0 means no limit
	// Newest, with Limit, keeps the newest Limit matching events (by Seq) instead of the
	// oldest; FindEvents still lists them in Seq order. ScanEvents refuses it: it streams
	// from the oldest.
	Newest bool
	// Brief asks only for what rankings learn from: Seq, Type, UserID, ItemID, Rating and
	// OccurredAt are set, the other fields may be left zero, so a store reads and decodes
	// less (the engine's rebuild of a returning visitor's live state reads brief).
	Brief bool
}

// EventService is the append-only event log, the source of truth of everything derived.
type EventService interface {
	// CreateEvents stores valid events in one durable transaction: when it returns nil the
	// accepted events survive a crash. An event whose ID is stored already is a duplicate.
	// Anonymous events whose identity is linked get the user's id; events carrying both an
	// identity and a user id link them, unless an unlink of the pair stands
	// (IdentityUnlink). The caller's events are updated in place (Seq,
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
	// FindEventUsers lists, in id order, up to page.Limit (0: all) ids greater than
	// page.After of the users the log holds behaviour of: those named by an event, and
	// those an identity is linked to (whose anonymous events count for them). It reads
	// the user indexes, not the events, so walking every consumer costs a pass over an
	// index.
	FindEventUsers(ctx context.Context, page Page) ([]string, error)
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
