package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/qianmian/qianmian"
)

// Group commit. Every CreateEvents call queues its batch for the one writer connection. Whoever
// holds the writer token (the first caller to find it free: there is no writer goroutine to
// start or stop) takes every batch waiting, up to maxGroupEvents, writes them in one
// transaction with one fsync, publishes each batch's accepted events in order, and wakes their
// callers, each with its own result. The batches are written in queue order, so a group
// behaves exactly like the same batches written one transaction after the other: dedup and
// identity links see the batches before them. If the group's transaction fails, each batch
// is written again in a transaction of its own, so one bad batch cannot fail the others.
//
// A batch taken into a group is written whatever becomes of its caller's context: the
// caller waits for it. A caller whose context ends while its batch is still queued takes the
// batch back and returns the context's error.

// maxGroupEvents bounds the events of one group transaction (a single larger batch is written
// alone). Past a few thousand events a bigger group saves little per event, and it delays
// every caller in it: at about 10 µs an event, 16,384 events are 160 ms.
const maxGroupEvents = 16_384

// eventBatch is one CreateEvents call: its events, as validated by the caller, and once
// written the outcome.
type eventBatch struct {
	ctx    context.Context // for Publish
	events []*qianmian.Event
	keys   []string // identity key of each event, "" without identity
	args   []any    // eventParams insert parameters per event, prepared by the caller
	opts   []uint8  // the optional parameters each event needs bound (eventOpts)

	// Set by the writer. seqs[i] is 0 for a duplicate; users[i] is the resolved user id.
	seqs  []int64
	users []string
	res   qianmian.EventResult
	err   error
	done  chan struct{} // closed when the outcome is set
}

// eventWriter queues batches for the writer connection.
type eventWriter struct {
	token chan struct{} // capacity 1: whoever sends into it writes

	mu    sync.Mutex
	queue []*eventBatch

	// The insert statements leaving optional parameters out, prepared on the write
	// connection when first needed; only the token's holder uses them.
	inserts map[insertKey]*sql.Stmt
}

// insertKey names an insert statement: 1<<k rows binding the optional parameters opts.
type insertKey struct {
	k    int
	opts uint8
}

// maxInsertStmts bounds the statements of eventWriter.inserts. A source of events sets the
// same few optional fields on most of its events, so a workload uses a handful of the 128
// combinations (times 9 sizes); a 256-row statement holds a few hundred KB of SQLite's memory.
const maxInsertStmts = 64

func newEventWriter() *eventWriter {
	return &eventWriter{token: make(chan struct{}, 1), inserts: make(map[insertKey]*sql.Stmt)}
}

// write queues b and returns once it is written (b.err says how), or with ctx's error if
// ctx ends while b is still queued.
func (w *eventWriter) write(ctx context.Context, db *DB, b *eventBatch) error {
	w.mu.Lock()
	w.queue = append(w.queue, b)
	w.mu.Unlock()
	for {
		select {
		case <-b.done:
			return b.err
		case w.token <- struct{}{}:
			w.lead(db)
		case <-ctx.Done():
			if w.remove(b) {
				return ctx.Err()
			}
			<-b.done // taken into a group: it is being written
			return b.err
		}
	}
}

// lead writes the next group, holding the token, and gives the token back even if writing
// panics (a bus subscriber, say), so that later callers are not stranded.
func (w *eventWriter) lead(db *DB) {
	defer func() { <-w.token }()
	if group := w.take(); len(group) > 0 {
		db.writeEventGroup(group)
	}
}

// take removes and returns the queue's first batches: as many as fit in maxGroupEvents, and
// at least one.
func (w *eventWriter) take() []*eventBatch {
	w.mu.Lock()
	defer w.mu.Unlock()
	n, events := 0, 0
	for n < len(w.queue) && (n == 0 || events+len(w.queue[n].events) <= maxGroupEvents) {
		events += len(w.queue[n].events)
		n++
	}
	group := make([]*eventBatch, n)
	copy(group, w.queue)
	rest := copy(w.queue, w.queue[n:])
	clear(w.queue[rest:])
	w.queue = w.queue[:rest]
	return group
}

// remove takes b out of the queue and reports whether it was still there.
func (w *eventWriter) remove(b *eventBatch) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	for i, q := range w.queue {
		if q == b {
			w.queue = append(w.queue[:i], w.queue[i+1:]...)
			w.queue = w.queue[:len(w.queue):len(w.queue)] // never let an append reuse the freed slot
			return true
		}
	}
	return false
}

// writeEventGroup writes the group in one transaction, falling back to a transaction per
// batch if that fails; then it publishes each written batch's accepted events, in group
// order (so in Seq order), and wakes the callers.
func (db *DB) writeEventGroup(group []*eventBatch) {
	answered := 0
	defer func() {
		// Only after a panic: wake the callers not answered yet, with an error (what was
		// committed stays so, and a retry is counted as duplicates).
		for _, b := range group[answered:] {
			if b.err == nil {
				b.err = errors.New("sqlite: the event writer failed")
			}
			close(b.done)
		}
	}()
	ctx := context.Background() // the batches are written whatever their callers do now
	start := time.Now()
	var inserted time.Duration
	err := db.writeEvents(ctx, group, &inserted)
	if db.Logger.Enabled(ctx, slog.LevelDebug) {
		events := 0
		for _, b := range group {
			events += len(b.events)
		}
		// seconds is the whole transaction; insert_seconds its statements, the rest is
		// BEGIN and COMMIT (writing the WAL and the fsync).
		db.Logger.Debug("sqlite: group commit", "batches", len(group), "events", events,
			"seconds", time.Since(start).Seconds(), "insert_seconds", inserted.Seconds(), "err", err)
	}
	switch {
	case err == nil:
	case len(group) == 1:
		group[0].err = err
	default:
		db.Logger.Warn("sqlite: group commit failed, writing its batches one by one",
			"batches", len(group), "err", err)
		for _, b := range group {
			b.err = db.writeEvents(ctx, []*eventBatch{b}, nil)
		}
	}
	for _, b := range group {
		if b.err == nil {
			b.finish(db.Bus)
		}
		close(b.done)
		answered++
	}
}

// finish counts the batch's outcome, updates the caller's events in place (Seq, UserID) and
// publishes copies of the accepted ones.
func (b *eventBatch) finish(bus qianmian.EventBus) {
	for i, e := range b.events {
		if b.seqs[i] == 0 {
			b.res.Duplicates++
			continue
		}
		e.Seq, e.UserID = b.seqs[i], b.users[i]
		b.res.Accepted++
	}
	if b.res.Accepted > 0 {
		bus.Publish(context.WithoutCancel(b.ctx), acceptedCopies(b.events, b.seqs, b.res.Accepted))
	}
}

// writeEvents writes the batches of group in one transaction (insertEventGroup), having
// prepared the insert statements it needs first: the write connection is the only one, so
// they cannot be prepared while its transaction is open. If inserted is not nil, it is set
// to the time the transaction's statements took.
func (db *DB) writeEvents(ctx context.Context, group []*eventBatch, inserted *time.Duration) error {
	db.events.prepareInserts(ctx, db, group)
	return db.writeTx(ctx, func(tx *sql.Tx) error {
		start := time.Now()
		err := db.insertEventGroup(ctx, tx, group)
		if inserted != nil {
			*inserted = time.Since(start)
		}
		return err
	})
}

// prepareInserts prepares the insert statements the group's chunks need (chunker) that bind
// fewer than every parameter and are not prepared yet. One that fails to prepare is left
// out: insertEventGroup then binds every parameter of that chunk.
func (w *eventWriter) prepareInserts(ctx context.Context, db *DB, group []*eventBatch) {
	c := newChunker(group)
	for {
		k, opts, _, ok := c.next()
		if !ok {
			return
		}
		key := insertKey{k, opts}
		if _, ok := w.inserts[key]; ok || opts == optAll {
			continue
		}
		if len(w.inserts) >= maxInsertStmts {
			w.closeInserts()
		}
		stmt, err := db.write.PrepareContext(ctx, insertEventsSQL(1<<k, opts))
		if err != nil {
			db.Logger.Warn("sqlite: prepare event insert", "rows", 1<<k, "opts", opts, "err", err)
			continue
		}
		w.inserts[key] = stmt
	}
}

// closeInserts closes the statements of w.inserts and forgets them.
func (w *eventWriter) closeInserts() {
	for key, stmt := range w.inserts {
		_ = stmt.Close()
		delete(w.inserts, key)
	}
}

// chunker cuts the events of a group, in order, into the rows of insert statements: each
// the largest size (1<<k rows) that fits the events left.
type chunker struct {
	group  []*eventBatch
	bi, ei int // the next row: event ei of batch bi
	left   int // events not yet in a chunk
	parts  []span
}

func newChunker(group []*eventBatch) *chunker {
	c := &chunker{group: group}
	for _, b := range group {
		c.left += len(b.events)
	}
	return c
}

// next returns the next chunk: its size index k, the optional parameters its rows need
// (the union of theirs) and its spans, valid until the next call. ok is false once every
// event is in a chunk.
func (c *chunker) next() (k int, opts uint8, parts []span, ok bool) {
	if c.left == 0 {
		return 0, 0, nil, false
	}
	k = insertSizeIndex(c.left)
	c.left -= 1 << k
	c.parts = c.parts[:0]
	for need := 1 << k; need > 0; {
		b := c.group[c.bi]
		hi := min(len(b.events), c.ei+need)
		c.parts = append(c.parts, span{b, c.ei, hi})
		for _, o := range b.opts[c.ei:hi] {
			opts |= o
		}
		need -= hi - c.ei
		if c.ei = hi; c.ei == len(b.events) {
			c.bi, c.ei = c.bi+1, 0
		}
	}
	return k, opts, c.parts, true
}

// insertEventGroup writes the batches of group, in order, in tx: it resolves and links their
// identities, then inserts every event, in multi-row statements that may span batches. It
// fills each batch's seqs and users; on error their content is undefined (the caller rolls
// back and may try again, which sets them afresh).
func (db *DB) insertEventGroup(ctx context.Context, tx *sql.Tx, group []*eventBatch) error {
	var l *linker
	defer func() {
		if l != nil {
			l.close()
		}
	}()
	var err error
	if l, err = prefetchIdentities(ctx, tx, group); err != nil {
		return err
	}
	total := 0
	for _, b := range group {
		if l, err = resolveBatch(ctx, tx, l, b); err != nil {
			return err
		}
		clear(b.seqs)
		total += len(b.events)
	}

	// The largest seq stored so far: every row above it is one this group inserted.
	var last int64
	if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(seq), 0) FROM events`).Scan(&last); err != nil {
		return fmt.Errorf("read last seq: %w", err)
	}
	stmts := make(map[insertKey]*sql.Stmt) // the statements of tx
	defer func() {
		for _, s := range stmts {
			_ = s.Close()
		}
	}()
	args := make([]any, 0, eventParams*min(total, maxInsertRows))
	c := newChunker(group)
	for {
		k, opts, parts, ok := c.next()
		if !ok {
			break
		}
		n := 1 << k
		key := insertKey{k, opts}
		prepared := db.eventInserts[k]
		if opts != optAll {
			if prepared = db.events.inserts[key]; prepared == nil {
				// Not prepared (prepareInserts failed): bind every parameter.
				key.opts, prepared = optAll, db.eventInserts[k]
			}
		}
		args = args[:0]
		if key.opts == optAll {
			for _, p := range parts {
				args = append(args, p.b.args[p.lo*eventParams:p.hi*eventParams]...)
			}
		} else {
			kept := keptParams(key.opts)
			for _, p := range parts {
				for i := p.lo; i < p.hi; i++ {
					row := p.b.args[i*eventParams : (i+1)*eventParams]
					for _, j := range kept {
						args = append(args, row[j])
					}
				}
			}
		}
		stmt := stmts[key]
		if stmt == nil {
			stmt = tx.StmtContext(ctx, prepared)
			stmts[key] = stmt
		}
		res, err := stmt.ExecContext(ctx, args...)
		if err != nil {
			return fmt.Errorf("insert events: %w", formatError(err))
		}
		stored, err := res.RowsAffected()
		if err != nil {
			return fmt.Errorf("insert events: %w", err)
		}
		if stored == 0 {
			continue
		}
		lastSeq, err := res.LastInsertId()
		if err != nil {
			return fmt.Errorf("insert events: %w", err)
		}
		if stored == int64(n) {
			// Every row stored, so their seqs follow one another up to lastSeq.
			seq := lastSeq - stored + 1
			for _, p := range parts {
				for i := p.lo; i < p.hi; i++ {
					p.b.seqs[i] = seq
					seq++
				}
			}
		} else {
			// Some rows ignored, and an ignored row may still use up a seq: read back
			// which rows were stored.
			if err := markStored(ctx, tx, parts, last); err != nil {
				return err
			}
		}
		last = lastSeq
	}
	return nil
}

// prefetchIdentities returns a linker that knows the owner of every identity the group's
// events carry, read in one query instead of one a key, or nil when no event has an identity.
func prefetchIdentities(ctx context.Context, tx *sql.Tx, group []*eventBatch) (*linker, error) {
	var keys []string
	seen := make(map[string]struct{})
	for _, b := range group {
		for _, k := range b.keys {
			if _, ok := seen[k]; !ok && k != "" {
				seen[k] = struct{}{}
				keys = append(keys, k)
			}
		}
	}
	if len(keys) == 0 {
		return nil, nil
	}
	l, err := newLinker(ctx, tx, group[0].received())
	if err != nil {
		return nil, err
	}
	list, err := json.Marshal(keys)
	if err != nil {
		l.close()
		return nil, err
	}
	for _, k := range keys {
		l.owners[k] = "" // unlinked unless found
	}
	rows, err := tx.QueryContext(ctx, `SELECT key, user_id FROM identities
		WHERE key IN (SELECT value FROM json_each(?))`, string(list))
	if err != nil {
		l.close()
		return nil, fmt.Errorf("resolve identities: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var k, u string
		if err := rows.Scan(&k, &u); err != nil {
			l.close()
			return nil, fmt.Errorf("resolve identities: %w", err)
		}
		l.owners[k] = u
	}
	if err := rows.Err(); err != nil {
		l.close()
		return nil, fmt.Errorf("resolve identities: %w", err)
	}
	return l, nil
}

// span is events lo to hi of a batch.
type span struct {
	b      *eventBatch
	lo, hi int
}

// markStored sets the seqs of the rows of one insert that stored some of its rows and
// ignored others (their ids were stored before them), by reading back the rows after since,
// the largest seq before the insert. A repeated id in the statement is the first row's.
func markStored(ctx context.Context, tx *sql.Tx, parts []span, since int64) error {
	first := make(map[string]*int64)
	for _, p := range parts {
		for i := p.lo; i < p.hi; i++ {
			if id := p.b.events[i].ID; first[id] == nil {
				first[id] = &p.b.seqs[i]
			}
		}
	}
	rows, err := tx.QueryContext(ctx, `SELECT seq, id FROM events WHERE seq > ? ORDER BY seq`, since)
	if err != nil {
		return fmt.Errorf("insert events: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var seq int64
		var id string
		if err := rows.Scan(&seq, &id); err != nil {
			return fmt.Errorf("insert events: %w", err)
		}
		p := first[id]
		if p == nil {
			return fmt.Errorf("insert events: stored id %q, which was not sent", id)
		}
		*p = seq
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("insert events: %w", err)
	}
	return nil
}
