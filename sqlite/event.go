package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"iter"
	"slices"
	"strings"

	"github.com/qianmian/qianmian"
)

var _ qianmian.EventService = (*EventService)(nil)

// EventService is the append-only event log. Times are kept to the millisecond.
type EventService struct{ db *DB }

// NewEventService returns the event service of db.
func NewEventService(db *DB) *EventService { return &EventService{db: db} }

// CreateEvents stores events in one transaction that is on disk when it returns nil. Each
// event is validated again (the log is the source of truth), and the first invalid one
// fails the batch with its EINVALID error unchanged.
//
// In batch order: an event with an identity and a user id links them (the first link of an
// identity wins; a conflicting event is still stored as sent; an unlink of the pair that
// stands blocks the link, and the event stays the user's); an anonymous event whose
// identity is linked, by then, gets that user's id, marked as resolved (user_resolved). A
// repeated id, whether stored before or earlier in the same batch, is a duplicate and is not
// stored again. Accepted events get Seq (and UserID where resolved) in place; duplicates are
// left as they were, with Seq 0. After commit, and only then, copies of the accepted events
// are published to the DB's Bus in Seq order.
//
// Concurrent calls share transactions (group commit, see eventWriter): each call's result
// is its own, and is what it would be had the calls run one after the other.
func (s *EventService) CreateEvents(ctx context.Context, events []*qianmian.Event) (qianmian.EventResult, error) {
	now := s.db.Now()
	for i, e := range events {
		if e == nil {
			return qianmian.EventResult{}, qianmian.Errorf(qianmian.EINVALID, "event %d is null", i)
		}
		if err := e.Validate(now); err != nil {
			return qianmian.EventResult{}, err
		}
	}
	if len(events) == 0 {
		return qianmian.EventResult{}, nil
	}
	if err := ctx.Err(); err != nil {
		return qianmian.EventResult{}, fmt.Errorf("create events: %w", err)
	}
	b := newEventBatch(ctx, events, now.UnixMilli())
	if err := s.db.events.write(ctx, s.db, b); err != nil {
		return qianmian.EventResult{}, fmt.Errorf("create events: %w", err)
	}
	return b.res, nil
}

// newEventBatch prepares the insert parameters of valid events, in the caller's goroutine so
// the writer has less to do. Each event's user id is filled in later by the writer.
func newEventBatch(ctx context.Context, events []*qianmian.Event, received int64) *eventBatch {
	b := &eventBatch{
		ctx:    ctx,
		events: events,
		keys:   make([]string, len(events)),
		args:   make([]any, 0, eventParams*len(events)),
		opts:   make([]uint8, len(events)),
		seqs:   make([]int64, len(events)),
		users:  make([]string, len(events)),
		done:   make(chan struct{}),
	}
	var rec any = received // boxed once for the whole batch
	for i, e := range events {
		if e.Identity != nil {
			b.keys[i] = e.Identity.Key()
		}
		b.args = eventArgs(b.args, e, b.keys[i], rec)
		b.opts[i] = eventOpts(e)
	}
	return b
}

// resolveBatch walks the batch in order: an event with an identity and a user id links them,
// and an anonymous event of a linked identity gets its user. It fills b.users with each
// event's user id, and sets the user id parameter of the events it resolved. A conflicting
// link is ignored: the first link of an identity wins, and the event keeps its own user.
// Duplicates link too, which is harmless: the event they repeat linked the same pair. l is
// the group's linker, created when first needed; resolveBatch returns it.
func resolveBatch(ctx context.Context, tx *sql.Tx, l *linker, b *eventBatch) (*linker, error) {
	for i, e := range b.events {
		b.users[i] = e.UserID
		if e.Identity == nil {
			continue
		}
		if l == nil {
			var err error
			if l, err = newLinker(ctx, tx, b.received()); err != nil {
				return nil, err
			}
		}
		l.now = b.received()
		var err error
		if e.UserID == "" {
			b.users[i], err = l.resolve(ctx, b.keys[i])
			b.args[i*eventParams+userParam] = b.users[i]
			b.args[i*eventParams+resolvedParam] = resolvedArg(b.users[i] != "")
		} else {
			_, err = l.linkByEvent(ctx, *e.Identity, e.UserID, e.ID)
		}
		if err != nil {
			return l, err
		}
	}
	return l, nil
}

// received returns the batch's received_at.
func (b *eventBatch) received() int64 { return b.args[receivedParam].(int64) }

// eventParams is the number of insert parameters of one event; userParam, receivedParam and
// resolvedParam are the indexes of its user id, received_at and user_resolved among them.
const (
	eventParams   = 20
	userParam     = 2
	receivedParam = 18
	resolvedParam = 19
)

// The optional insert parameters: those most events leave at their zero value (the empty
// string, NULL or 0). A statement whose rows all leave one at zero writes the zero as a
// literal instead of binding it for every row: binding all 20 was a sixth of the writer's
// CPU per event (the driver copies each text parameter into C memory, binds and unbinds it
// under the connection's mutex, and frees it), and an event from an app sets 12 of them. The
// literal stores exactly what binding the zero would.
const (
	optIdentity uint8 = 1 << iota // identity_key
	optQuery                      // query
	optText                       // text
	optGeo                        // lat and lon
	optDevice                     // device
	optRecID                      // rec_id
	optResolved                   // user_resolved (an anonymous event with an identity may be resolved)

	optAll = optResolved<<1 - 1 // every parameter bound
)

// eventParamOpts[p] is the optional group of parameter p (0: always bound), and
// eventParamZero[p] the literal of its zero value.
var (
	eventParamOpts = [eventParams]uint8{3: optIdentity, 7: optQuery, 11: optText, 13: optGeo,
		14: optGeo, 15: optDevice, 16: optRecID, 19: optResolved}
	eventParamZero = [eventParams]string{3: "''", 7: "''", 11: "''", 13: "NULL", 14: "NULL",
		15: "''", 16: "''", 19: "0"}
)

// eventOpts returns the optional parameters e needs bound: those eventArgs gives a value
// other than the zero, and user_resolved for an anonymous event with an identity, which the
// writer may resolve.
func eventOpts(e *qianmian.Event) uint8 {
	var o uint8
	if e.Identity != nil {
		o |= optIdentity
		if e.UserID == "" {
			o |= optResolved
		}
	}
	if e.Query != "" {
		o |= optQuery
	}
	if e.Text != "" {
		o |= optText
	}
	if e.Context.Geo != nil {
		o |= optGeo
	}
	if e.Context.Device != "" {
		o |= optDevice
	}
	if e.RecID != "" {
		o |= optRecID
	}
	return o
}

// keptParams returns the indexes of the parameters bound by a statement whose rows need
// the optional parameters opts, in order.
func keptParams(opts uint8) []int {
	kept := make([]int, 0, eventParams)
	for p, o := range eventParamOpts {
		if o == 0 || opts&o != 0 {
			kept = append(kept, p)
		}
	}
	return kept
}

// The user_resolved parameters, boxed once.
var (
	argResolved    any = int64(1)
	argNotResolved any = int64(0)
)

// resolvedArg returns the user_resolved parameter of an event.
func resolvedArg(resolved bool) any {
	if resolved {
		return argResolved
	}
	return argNotResolved
}

// eventArgs appends the insert parameters of e to args: all but seq, which the statement
// leaves to AUTOINCREMENT.
func eventArgs(args []any, e *qianmian.Event, identityKey string, received any) []any {
	var lat, lon any
	if g := e.Context.Geo; g != nil {
		lat, lon = g.Lat, g.Lon
	}
	return append(args, e.ID, string(e.Type), e.UserID, identityKey, e.ItemID, e.StoreID,
		string(e.Channel), e.Query, int64(e.Quantity), e.Amount, int64(e.Rating), e.Text,
		string(e.Context.LocationType), lat, lon, e.Context.Device, e.RecID,
		e.OccurredAt.UnixMilli(), received, argNotResolved)
}

// Events are inserted by multi-row statements of 1, 2, 4, … maxInsertRows rows: one
// statement per row would spend a quarter of the time on per-statement work, and preparing
// per batch would parse thousands of placeholders each time. A group is cut into the largest
// sizes that fit (10,000 = 39 × 256 + 16). The statements binding every parameter are
// prepared when the DB opens; those leaving optional parameters out, when first needed (see
// eventWriter.prepareInserts).
const (
	insertSizes   = 9
	maxInsertRows = 1 << (insertSizes - 1) // 256 rows, 5,120 parameters: far below SQLite's 32,766
)

// insertSizeIndex returns k such that 1<<k is the largest statement size that fits n rows.
func insertSizeIndex(n int) int {
	k := 0
	for k+1 < insertSizes && 1<<(k+1) <= n {
		k++
	}
	return k
}

// insertEventsSQL returns the statement that inserts n events binding the optional
// parameters opts (optAll: every parameter); the others are their zero literal. OR IGNORE
// skips a row whose id is stored (or repeated earlier in the statement); the writer compares
// the rows changed with n, and only when they differ reads back which ids were stored
// (markStored). Seq is left to AUTOINCREMENT: an explicit seq would make SQLite keep a
// statement journal (a value that is not an integer would abort the statement halfway),
// which doubles what is written. For the same reason, OR IGNORE and not ON CONFLICT (id) DO
// NOTHING, which costs about a third of the insert time in a statement journal. Every NOT
// NULL column gets a non-NULL value from eventArgs, so the only conflict left to ignore is a
// repeated id.
func insertEventsSQL(n int, opts uint8) string {
	var b strings.Builder
	b.WriteString(`INSERT OR IGNORE INTO events (id, type, user_id, identity_key, item_id, store_id,
		channel, query, quantity, amount, rating, text, location_type, lat, lon, device, rec_id,
		occurred_at, received_at, user_resolved) VALUES `)
	var row strings.Builder
	row.WriteByte('(')
	for p, o := range eventParamOpts {
		if p > 0 {
			row.WriteByte(',')
		}
		if o == 0 || opts&o != 0 {
			row.WriteByte('?')
		} else {
			row.WriteString(eventParamZero[p])
		}
	}
	row.WriteByte(')')
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(row.String())
	}
	return b.String()
}

// prepareEventInserts prepares the insert statements binding every parameter on the write
// connection.
func (db *DB) prepareEventInserts(ctx context.Context) error {
	for k := range insertSizes {
		stmt, err := db.write.PrepareContext(ctx, insertEventsSQL(1<<k, optAll))
		if err != nil {
			return fmt.Errorf("sqlite: prepare event insert: %w", err)
		}
		db.eventInserts[k] = stmt
	}
	return nil
}

// acceptedCopies returns shallow copies of the accepted events, so subscribers never share
// a struct the caller may go on to change.
func acceptedCopies(events []*qianmian.Event, seqs []int64, n int) []*qianmian.Event {
	buf := make([]qianmian.Event, 0, n)
	out := make([]*qianmian.Event, 0, n)
	for i, e := range events {
		if seqs[i] != 0 {
			buf = append(buf, *e)
			out = append(out, &buf[len(buf)-1])
		}
	}
	return out
}

const eventColumns = `seq, id, type, user_id, identity_key, item_id, store_id, channel, query,
	quantity, amount, rating, text, location_type, lat, lon, device, rec_id, occurred_at`

// briefEventColumns are the columns of an EventFilter.Brief listing.
const briefEventColumns = `seq, type, user_id, item_id, rating, occurred_at`

// eventScanner returns the scan of filter's rows.
func eventScanner(f qianmian.EventFilter) func(scanner) (*qianmian.Event, error) {
	if f.Brief {
		return scanBriefEvent
	}
	return scanEvent
}

func scanBriefEvent(sc scanner) (*qianmian.Event, error) {
	var e qianmian.Event
	var occurred int64
	if err := sc.Scan(&e.Seq, &e.Type, &e.UserID, &e.ItemID, &e.Rating, &occurred); err != nil {
		return nil, err
	}
	e.OccurredAt = fromMillis(occurred)
	return &e, nil
}

func scanEvent(sc scanner) (*qianmian.Event, error) {
	var e qianmian.Event
	var key string
	var lat, lon sql.NullFloat64
	var occurred int64
	if err := sc.Scan(&e.Seq, &e.ID, &e.Type, &e.UserID, &key, &e.ItemID, &e.StoreID, &e.Channel,
		&e.Query, &e.Quantity, &e.Amount, &e.Rating, &e.Text, &e.Context.LocationType,
		&lat, &lon, &e.Context.Device, &e.RecID, &occurred); err != nil {
		return nil, err
	}
	if key != "" {
		// Channel and type never contain ":", so the value is everything after the second.
		parts := strings.SplitN(key, ":", 3)
		if len(parts) != 3 {
			return nil, fmt.Errorf("event %s: malformed identity key %q", e.ID, key)
		}
		e.Identity = &qianmian.IdentityRef{Channel: qianmian.Channel(parts[0]),
			Type: qianmian.IdentityType(parts[1]), Value: parts[2]}
	}
	e.Context.Geo = geoPoint(lat, lon)
	e.OccurredAt = fromMillis(occurred)
	return &e, nil
}

// eventQuery renders the query of filter. The log has one way in besides its seq order: the
// user indexes (events_user, events_identity; 0002_events_ingest_indexes dropped the
// store, item and time indexes, which cost more than half of every insert). So a filter with
// a user (or an identity) walks the user's (the identity's) events, and any other walks the
// log in seq order from AfterSeq on, filtering as it goes: rows flow at once and memory
// stays constant. The other columns are written with a unary + so the planner never prefers
// another path.
//
// A user's events are two walks, merged by seq: the user's own (events_user) and those that
// arrived anonymously under an identity linked to the user (events_identity). They are
// written as a UNION ALL rather than one OR: the planner answers an OR of two indexes by
// gathering the rowids of both and sorting the rows, where the first walk comes in seq order
// already (an index ends with the rowid) and the two are merged.
func eventQuery(f qianmian.EventFilter) (string, []any, error) {
	limit, err := limitClause(f.Limit)
	if err != nil {
		return "", nil, err
	}
	order := ` ORDER BY seq`
	if f.Newest {
		order = ` ORDER BY seq DESC`
	}
	cols, seq := eventColumns, "seq"
	if f.Brief {
		cols = briefEventColumns
	}
	if f.UserID != "" || f.Identity != nil {
		seq = "+seq"
	}
	var where []string
	var args []any
	if f.ItemID != "" {
		where, args = append(where, "+item_id = ?"), append(args, f.ItemID)
	}
	if f.StoreID != "" {
		where, args = append(where, "+store_id = ?"), append(args, f.StoreID)
	}
	if len(f.Types) > 0 {
		where = append(where, "+type IN (?"+strings.Repeat(", ?", len(f.Types)-1)+")")
		for _, t := range f.Types {
			args = append(args, string(t))
		}
	}
	if !f.Since.IsZero() {
		where, args = append(where, "+occurred_at >= ?"), append(args, f.Since.UnixMilli())
	}
	if !f.Until.IsZero() {
		where, args = append(where, "+occurred_at < ?"), append(args, f.Until.UnixMilli())
	}
	if f.AfterSeq > 0 {
		where, args = append(where, seq+" > ?"), append(args, f.AfterSeq)
	}
	// selectWhere renders one SELECT of cols with the terms of ways (its way in) and the
	// common terms, and the arguments in that order.
	selectWhere := func(ways []string, wayArgs []any) (string, []any) {
		terms := append(ways, where...)
		q := `SELECT ` + cols + ` FROM events`
		if len(terms) > 0 {
			q += ` WHERE ` + strings.Join(terms, " AND ")
		}
		return q, append(wayArgs, args...)
	}
	var ident []string
	var identArgs []any
	if f.Identity != nil {
		// The identity's events stored without a user (the partial index events_identity).
		ident, identArgs = []string{`user_id = ''`, `identity_key = ?`}, []any{f.Identity.Key()}
	}
	if f.UserID == "" {
		q, qa := selectWhere(ident, identArgs)
		return q + order + limit, qa, nil
	}
	// The user's own events, and the events that arrived anonymously under an identity
	// linked to the user, before or after the link (see the partial indexes). An identity's
	// events have no user, so with an identity as well only the second kind can match.
	linked, linkedArgs := selectWhere(append([]string{`user_id = ''`,
		`identity_key IN (SELECT key FROM identities WHERE user_id = ?)`}, ident...),
		append([]any{f.UserID}, identArgs...))
	if f.Identity != nil {
		return linked + order + limit, linkedArgs, nil
	}
	own, ownArgs := selectWhere([]string{`user_id = ?`, `user_id != ''`}, []any{f.UserID})
	return own + ` UNION ALL ` + linked + order + limit, append(ownArgs, linkedArgs...), nil
}

// FindEvents lists matching events in Seq order; filter.Limit 0 means all.
func (s *EventService) FindEvents(ctx context.Context, filter qianmian.EventFilter) ([]*qianmian.Event, error) {
	q, args, err := eventQuery(filter)
	if err != nil {
		return nil, err
	}
	list, err := queryList(ctx, s.db.reads, q, args, eventScanner(filter))
	if err != nil {
		return nil, fmt.Errorf("find events: %w", err)
	}
	if filter.Newest {
		slices.Reverse(list) // read newest first, listed in Seq order
	}
	return list, nil
}

// ScanEvents streams matching events in Seq order, one row at a time. The read
// transaction stays open until the loop ends, so it sees one consistent state. Without a
// user it walks the log from AfterSeq on and filters as it goes: rows flow at once and
// memory stays flat however wide the window.
func (s *EventService) ScanEvents(ctx context.Context, filter qianmian.EventFilter) iter.Seq2[*qianmian.Event, error] {
	return func(yield func(*qianmian.Event, error) bool) {
		if filter.Newest {
			yield(nil, qianmian.Invalid("newest", "applies to listing events, not to scanning them"))
			return
		}
		q, args, err := eventQuery(filter)
		if err != nil {
			yield(nil, err)
			return
		}
		rows, err := s.db.reads.QueryContext(ctx, q, args...)
		if err != nil {
			yield(nil, fmt.Errorf("scan events: %w", err))
			return
		}
		defer rows.Close()
		scan := eventScanner(filter)
		for rows.Next() {
			e, err := scan(rows)
			if err != nil {
				yield(nil, fmt.Errorf("scan events: %w", err))
				return
			}
			if !yield(e, nil) {
				return
			}
		}
		if err := rows.Err(); err != nil {
			yield(nil, fmt.Errorf("scan events: %w", err))
		}
	}
}

// HasStoreInteraction reports whether the user, or an identity linked to them, has any
// event at the store.
func (s *EventService) HasStoreInteraction(ctx context.Context, userID, storeID string) (bool, error) {
	var ok bool
	err := s.db.reads.QueryRowContext(ctx, storeInteractionQuery, userID, storeID, userID, storeID).Scan(&ok)
	if err != nil {
		return false, fmt.Errorf("store interaction of user %s at %s: %w", userID, storeID, err)
	}
	return ok, nil
}

// storeInteractionQuery probes the (few) events of the user and of their identities, never
// the (many) events of the store; the unary + keeps the planner on that path.
const storeInteractionQuery = `SELECT
	EXISTS (SELECT 1 FROM events WHERE user_id = ? AND user_id != '' AND +store_id = ?)
	OR EXISTS (SELECT 1 FROM events WHERE user_id = '' AND identity_key IN
		(SELECT key FROM identities WHERE user_id = ?) AND +store_id = ?)`

// FindEventUsers lists the users named by an event or linked to an identity, in id order
// after page.After. Both sides are index walks (events_user, identities_user) merged in
// order, so a page costs the index entries of its users, never a read of the events.
func (s *EventService) FindEventUsers(ctx context.Context, page qianmian.Page) ([]string, error) {
	limit, err := limitClause(page.Limit)
	if err != nil {
		return nil, err
	}
	list, err := queryList(ctx, s.db.reads, eventUsersQuery+limit, []any{page.After, page.After}, func(sc scanner) (string, error) {
		var id string
		err := sc.Scan(&id)
		return id, err
	})
	if err != nil {
		return nil, fmt.Errorf("find event users: %w", err)
	}
	return list, nil
}

// eventUsersQuery lists the users of FindEventUsers; the UNION merges the two ordered index
// walks and drops the repeats (a user has many events).
const eventUsersQuery = `SELECT user_id FROM events WHERE user_id > ? AND user_id != ''
	UNION
	SELECT user_id FROM identities WHERE user_id > ?
	ORDER BY user_id`

// CountEvents returns the number of stored events.
func (s *EventService) CountEvents(ctx context.Context) (int64, error) {
	var n int64
	if err := s.db.reads.QueryRowContext(ctx, `SELECT COUNT(*) FROM events`).Scan(&n); err != nil {
		return 0, fmt.Errorf("count events: %w", err)
	}
	return n, nil
}
