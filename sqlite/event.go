package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"iter"
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
// identity wins; a conflicting event is still stored as sent); an anonymous event whose
// identity is linked, by then, gets that user's id. A repeated id, whether stored before or
// earlier in the same batch, is a duplicate and is not stored again. Accepted events get Seq
// (and UserID where resolved) in place; duplicates are left as they were, with Seq 0. After
// commit, and only then, copies of the accepted events are published to the DB's Bus in Seq
// order.
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
	seqs := make([]int64, len(events)) // 0 for a duplicate
	users := make([]string, len(events))
	err := s.db.writeTx(ctx, func(tx *sql.Tx) error {
		return s.insert(ctx, tx, events, now.UnixMilli(), seqs, users)
	})
	if err != nil {
		return qianmian.EventResult{}, fmt.Errorf("create events: %w", err)
	}

	var res qianmian.EventResult
	for i, e := range events {
		if seqs[i] == 0 {
			res.Duplicates++
			continue
		}
		e.Seq, e.UserID = seqs[i], users[i]
		res.Accepted++
	}
	if res.Accepted > 0 {
		s.db.Bus.Publish(context.WithoutCancel(ctx), acceptedCopies(events, seqs, res.Accepted))
	}
	return res, nil
}

// insert writes the batch and fills seqs and users for the accepted events.
func (s *EventService) insert(ctx context.Context, tx *sql.Tx, events []*qianmian.Event, received int64, seqs []int64, users []string) error {
	keys, err := resolveBatch(ctx, tx, events, received, users)
	if err != nil {
		return err
	}
	args := make([]any, 0, eventParams*min(len(events), maxInsertRows))
	first := make(map[string]int, min(len(events), maxInsertRows))
	for start := 0; start < len(events); {
		k := insertSizeIndex(len(events) - start)
		end := start + 1<<k
		args = args[:0]
		clear(first)
		for i := start; i < end; i++ {
			args = eventArgs(args, events[i], users[i], keys[i], received)
			if _, ok := first[events[i].ID]; !ok {
				first[events[i].ID] = i
			}
		}
		if err := insertRows(ctx, tx.StmtContext(ctx, s.db.eventInserts[k]), args, first, seqs); err != nil {
			return err
		}
		start = end
	}
	return nil
}

// insertRows runs one multi-row insert and records the seq of each stored event at the
// index of the first event of the chunk with its id (any later one is its duplicate).
func insertRows(ctx context.Context, stmt *sql.Stmt, args []any, first map[string]int, seqs []int64) error {
	defer stmt.Close()
	rows, err := stmt.QueryContext(ctx, args...)
	if err != nil {
		return fmt.Errorf("insert events: %w", formatError(err))
	}
	defer rows.Close()
	for rows.Next() {
		var seq int64
		var id string
		if err := rows.Scan(&seq, &id); err != nil {
			return fmt.Errorf("insert events: %w", err)
		}
		i, ok := first[id]
		if !ok {
			return fmt.Errorf("insert events: stored id %q, which was not sent", id)
		}
		seqs[i] = seq
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("insert events: %w", formatError(err))
	}
	return nil
}

// resolveBatch walks the batch in order: an event with an identity and a user id links them,
// and an anonymous event of a linked identity gets its user. It fills users with each
// event's user id and returns each event's identity key ("" without identity). A conflicting
// link is ignored: the first link of an identity wins, and the event keeps its own user.
// Duplicates link too, which is harmless: the event they repeat linked the same pair.
func resolveBatch(ctx context.Context, tx *sql.Tx, events []*qianmian.Event, now int64, users []string) ([]string, error) {
	keys := make([]string, len(events))
	var l *linker
	for i, e := range events {
		users[i] = e.UserID
		if e.Identity == nil {
			continue
		}
		if l == nil {
			var err error
			if l, err = newLinker(ctx, tx, now); err != nil {
				return nil, err
			}
			defer l.close()
		}
		keys[i] = e.Identity.Key()
		var err error
		if e.UserID == "" {
			users[i], err = l.resolve(ctx, keys[i])
		} else {
			_, err = l.link(ctx, *e.Identity, e.UserID)
		}
		if err != nil {
			return nil, err
		}
	}
	return keys, nil
}

// eventParams is the number of insert parameters of one event.
const eventParams = 19

// eventArgs appends the insert parameters of e to args.
func eventArgs(args []any, e *qianmian.Event, userID, identityKey string, received int64) []any {
	var lat, lon any
	if g := e.Context.Geo; g != nil {
		lat, lon = g.Lat, g.Lon
	}
	return append(args, e.ID, string(e.Type), userID, identityKey, e.ItemID, e.StoreID,
		string(e.Channel), e.Query, int64(e.Quantity), e.Amount, int64(e.Rating), e.Text,
		string(e.Context.LocationType), lat, lon, e.Context.Device, e.RecID,
		e.OccurredAt.UnixMilli(), received)
}

// Events are inserted by multi-row statements of 1, 2, 4, … maxInsertRows rows, prepared
// once when the DB opens: one statement per row would spend a quarter of the time on
// per-statement work, and preparing per batch would parse thousands of placeholders each time.
// A batch is cut into the largest sizes that fit (10,000 = 39 × 256 + 16).
const (
	insertSizes   = 9
	maxInsertRows = 1 << (insertSizes - 1) // 256 rows, 4,864 parameters: far below SQLite's 32,766
)

// insertSizeIndex returns k such that 1<<k is the largest statement size that fits n rows.
func insertSizeIndex(n int) int {
	k := 0
	for k+1 < insertSizes && 1<<(k+1) <= n {
		k++
	}
	return k
}

// insertEventsSQL returns the statement that inserts n events and returns the seq and id of
// each one it stored. OR IGNORE, not ON CONFLICT (id) DO NOTHING: the latter makes SQLite
// keep a statement journal for a multi-row insert (a NOT NULL failure would abort it
// halfway), which costs about a third of the insert time. Every NOT NULL column gets a
// non-NULL value from eventArgs, so the only conflict left to ignore is a repeated id.
func insertEventsSQL(n int) string {
	var b strings.Builder
	b.WriteString(`INSERT OR IGNORE INTO events (id, type, user_id, identity_key, item_id, store_id,
		channel, query, quantity, amount, rating, text, location_type, lat, lon, device, rec_id,
		occurred_at, received_at) VALUES `)
	row := "(?" + strings.Repeat(",?", eventParams-1) + ")"
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(row)
	}
	b.WriteString(` RETURNING seq, id`)
	return b.String()
}

// prepareEventInserts prepares the insert statements on the write connection.
func (db *DB) prepareEventInserts(ctx context.Context) error {
	for k := range insertSizes {
		stmt, err := db.write.PrepareContext(ctx, insertEventsSQL(1<<k))
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

// eventQuery renders the query of filter. Only the most selective filter given may use an
// index, in the order user, item, store, then time (unless stream is set); the others are
// written with a unary + so the planner, which has no statistics on a young database, cannot
// walk a whole store's events to find one user's. With stream set and no user, item or store,
// the log is walked in seq order, so rows flow at once and memory stays constant instead of
// sorting a time window first.
func eventQuery(f qianmian.EventFilter, stream bool) (string, []any, error) {
	limit, err := limitClause(f.Limit)
	if err != nil {
		return "", nil, err
	}
	var driver string
	switch {
	case f.UserID != "":
		driver = "user"
	case f.ItemID != "":
		driver = "item"
	case f.StoreID != "":
		driver = "store"
	case !stream && (!f.Since.IsZero() || !f.Until.IsZero()):
		driver = "time"
	default:
		driver = "seq"
	}
	col := func(name, of string) string {
		if driver == of {
			return name
		}
		return "+" + name
	}
	var where []string
	var args []any
	if f.UserID != "" {
		// The user's own events, and the events that arrived anonymously under an identity
		// linked to the user, before or after the link (see the partial indexes).
		where = append(where, `((user_id = ? AND user_id != '') OR (user_id = '' AND identity_key IN
			(SELECT key FROM identities WHERE user_id = ?)))`)
		args = append(args, f.UserID, f.UserID)
	}
	if f.ItemID != "" {
		where, args = append(where, col("item_id", "item")+" = ?"), append(args, f.ItemID)
	}
	if f.StoreID != "" {
		where, args = append(where, col("store_id", "store")+" = ?"), append(args, f.StoreID)
	}
	if len(f.Types) > 0 {
		where = append(where, "+type IN (?"+strings.Repeat(", ?", len(f.Types)-1)+")")
		for _, t := range f.Types {
			args = append(args, string(t))
		}
	}
	if !f.Since.IsZero() {
		where, args = append(where, col("occurred_at", "time")+" >= ?"), append(args, f.Since.UnixMilli())
	}
	if !f.Until.IsZero() {
		where, args = append(where, col("occurred_at", "time")+" < ?"), append(args, f.Until.UnixMilli())
	}
	if f.AfterSeq > 0 {
		where, args = append(where, col("seq", "seq")+" > ?"), append(args, f.AfterSeq)
	}
	q := `SELECT ` + eventColumns + ` FROM events`
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, " AND ")
	}
	return q + ` ORDER BY seq` + limit, args, nil
}

// FindEvents lists matching events in Seq order; filter.Limit 0 means all.
func (s *EventService) FindEvents(ctx context.Context, filter qianmian.EventFilter) ([]*qianmian.Event, error) {
	q, args, err := eventQuery(filter, false)
	if err != nil {
		return nil, err
	}
	list, err := queryList(ctx, s.db.read, q, args, scanEvent)
	if err != nil {
		return nil, fmt.Errorf("find events: %w", err)
	}
	return list, nil
}

// ScanEvents streams matching events in Seq order, one row at a time. The read
// transaction stays open until the loop ends, so it sees one consistent state. Without a
// user, item or store it walks the log from AfterSeq on and filters by time as it goes:
// rows flow at once and memory stays flat however wide the window.
func (s *EventService) ScanEvents(ctx context.Context, filter qianmian.EventFilter) iter.Seq2[*qianmian.Event, error] {
	return func(yield func(*qianmian.Event, error) bool) {
		q, args, err := eventQuery(filter, true)
		if err != nil {
			yield(nil, err)
			return
		}
		rows, err := s.db.read.QueryContext(ctx, q, args...)
		if err != nil {
			yield(nil, fmt.Errorf("scan events: %w", err))
			return
		}
		defer rows.Close()
		for rows.Next() {
			e, err := scanEvent(rows)
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
	err := s.db.read.QueryRowContext(ctx, storeInteractionQuery, userID, storeID, userID, storeID).Scan(&ok)
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

// CountEvents returns the number of stored events.
func (s *EventService) CountEvents(ctx context.Context) (int64, error) {
	var n int64
	if err := s.db.read.QueryRowContext(ctx, `SELECT COUNT(*) FROM events`).Scan(&n); err != nil {
		return 0, fmt.Errorf("count events: %w", err)
	}
	return n, nil
}
