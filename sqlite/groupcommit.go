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
}

func newEventWriter() *eventWriter { return &eventWriter{token: make(chan struct{}, 1)} }

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
	err := db.writeTx(ctx, func(tx *sql.Tx) error { return db.insertEventGroup(ctx, tx, group) })
	if db.Logger.Enabled(ctx, slog.LevelDebug) {
		events := 0
		for _, b := range group {
			events += len(b.events)
		}
		db.Logger.Debug("sqlite: group commit", "batches", len(group), "events", events,
			"seconds", time.Since(start).Seconds(), "err", err)
	}
	switch {
	case err == nil:
	case len(group) == 1:
		group[0].err = err
	default:
		db.Logger.Warn("sqlite: group commit failed, writing its batches one by one",
			"batches", len(group), "err", err)
		for _, b := range group {
			b.err = db.writeTx(ctx, func(tx *sql.Tx) error { return db.insertEventGroup(ctx, tx, []*eventBatch{b}) })
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
	var stmts [insertSizes]*sql.Stmt
	defer func() {
		for _, s := range stmts {
			if s != nil {
				_ = s.Close()
			}
		}
	}()
	args := make([]any, 0, eventParams*min(total, maxInsertRows))
	var parts []span
	bi, ei := 0, 0 // the next row to insert: event ei of batch bi
	for start := 0; start < total; {
		k := insertSizeIndex(total - start)
		n := 1 << k
		args, parts = args[:0], parts[:0]
		for need := n; need > 0; {
			b := group[bi]
			hi := min(len(b.events), ei+need)
			args = append(args, b.args[ei*eventParams:hi*eventParams]...)
			parts = append(parts, span{b, ei, hi})
			need -= hi - ei
			if ei = hi; ei == len(b.events) {
				bi, ei = bi+1, 0
			}
		}
		if stmts[k] == nil {
			stmts[k] = tx.StmtContext(ctx, db.eventInserts[k])
		}
		res, err := stmts[k].ExecContext(ctx, args...)
		if err != nil {
			return fmt.Errorf("insert events: %w", formatError(err))
		}
		stored, err := res.RowsAffected()
		if err != nil {
			return fmt.Errorf("insert events: %w", err)
		}
		if stored == 0 {
			start += n
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
		start += n
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
