package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// Personalisation consent in memory. Every ranking request asks whether the visitor allows
// personalisation; reading users for it cost 42–50 µs a request on a million users, and a
// cache of answers misses nearly always when a million visitors come by. Most users never
// refuse, so the DB keeps the set of those who do, and follows the consent_changes log
// (migration 0007), which triggers on users fill whoever writes: a row names a user whose
// consent may have changed, and the reader looks the user up as they are now.
//
// Writes through this DB catch up before they return, so this process's own changes are
// seen by the next call. Changes made by another process on the same file (another server,
// the CLI) are seen when the next call after consentCatchUpInterval catches up: within about
// a second while requests come in.
//
// Following the log by seq never skips a change. SQLite has one writer at a time, across
// processes, and AUTOINCREMENT seqs are never reused, so seqs commit in increasing order:
// a reader's snapshot holds every committed row numbered up to its newest one, and a row
// committed later gets a greater seq than any the reader applied. A trigger deletes the
// user's older row when it inserts the new one, in the same transaction; the row deleted is
// harmless to miss, since the new one, past it, leads to the user's current state.
const consentCatchUpInterval = time.Second

// consentChangesSQL reads the log past a seq, with each user's consent as it is now: NULL
// for a user who is gone (the default consent then applies).
const consentChangesSQL = `SELECT c.seq, c.user_id, u.consent_personalization
	FROM consent_changes c LEFT JOIN users u ON u.id = c.user_id
	WHERE c.seq > ? ORDER BY c.seq`

// consentIndex is the set of users refusing personalisation, kept up to date from the
// consent_changes log. It holds about len(id) + 40 bytes per refusing user (the string in
// its size class, its 16-byte header, the map's slot; up to ~60 past len(id) just after the
// map grew), nothing for the others: 2.5–3.5 MB for 50,000 refusers with 11-byte ids.
// Loading 50,000 of 1,000,000 users at Open took ~0.2–0.3 s.
type consentIndex struct {
	db *DB // reads, Now (the clock tests move past consentCatchUpInterval) and Logger

	catchUpMu sync.Mutex // held by the one catch-up running
	seq       int64      // the last seq applied; under catchUpMu

	mu       sync.RWMutex
	refusing map[string]struct{}

	last  atomic.Int64 // DB.Now in Unix nanoseconds when the last successful catch-up began
	stale atomic.Bool  // a catch-up after this DB's write failed: the next read must catch up
}

func newConsentIndex(db *DB) *consentIndex {
	return &consentIndex{db: db, refusing: make(map[string]struct{})}
}

// load reads the whole refusal set, as Open does.
func (x *consentIndex) load(ctx context.Context) error {
	start := time.Now()
	x.catchUpMu.Lock()
	defer x.catchUpMu.Unlock()
	if err := x.catchUpLocked(ctx); err != nil {
		return err
	}
	x.mu.RLock()
	n := len(x.refusing)
	x.mu.RUnlock()
	x.db.Logger.Info("sqlite: consent loaded", "refusing_personalization", n, "took", time.Since(start))
	return nil
}

// personalizes reports whether the user allows personalisation, catching up first when the
// set is older than the interval or a write's catch-up failed. Of the reads that find the
// set old, one catches up and the others answer from the set as it is (at most a catch-up's
// duration older); after a failed write's catch-up, every read waits for one to succeed.
func (x *consentIndex) personalizes(ctx context.Context, id string) (bool, error) {
	if x.stale.Load() {
		x.catchUpMu.Lock()
		err := x.catchUpIfDue(ctx)
		x.catchUpMu.Unlock()
		if err != nil {
			return false, err
		}
	} else if x.due() && x.catchUpMu.TryLock() {
		err := x.catchUpIfDue(ctx)
		x.catchUpMu.Unlock()
		if err != nil {
			return false, err
		}
	}
	x.mu.RLock()
	_, refused := x.refusing[id]
	x.mu.RUnlock()
	return !refused, nil
}

// due reports whether the set is older than the interval (or the clock went back).
func (x *consentIndex) due() bool {
	d := x.db.Now().UnixNano() - x.last.Load()
	return d > int64(consentCatchUpInterval) || d < 0
}

// catchUpIfDue catches up unless another did since the caller decided to; under catchUpMu.
func (x *consentIndex) catchUpIfDue(ctx context.Context) error {
	if !x.stale.Load() && !x.due() {
		return nil
	}
	return x.catchUpLocked(ctx)
}

// changed brings the set up to date after a write through this DB that may have changed
// someone's consent (committed or not), so the writer's next read sees it. The change is
// not applied from what the write knows: everything flows through the log in seq order, so
// a catch-up running at the same time can never put an older state over a newer one. If the
// catch-up fails, the next read must catch up (and fails if it cannot). The write is over,
// so the caller's cancellation does not stop the catch-up.
func (x *consentIndex) changed(ctx context.Context) {
	x.catchUpMu.Lock()
	defer x.catchUpMu.Unlock()
	if err := x.catchUpLocked(context.WithoutCancel(ctx)); err != nil {
		x.stale.Store(true) // under catchUpMu: only a catch-up begun after this one clears it
		x.db.Logger.Warn("sqlite: consent catch-up after a write failed; the next read retries", "err", err)
	}
}

// consentChange is one row of the log as read: the user and whether they refuse now.
type consentChange struct {
	id      string
	refuses bool
}

// catchUpLocked applies the log past the last seq applied; under catchUpMu. The rows are
// read before the set is locked, so reads wait only for the map updates.
func (x *consentIndex) catchUpLocked(ctx context.Context) error {
	began := x.db.Now()
	rows, err := x.db.reads.QueryContext(ctx, consentChangesSQL, x.seq)
	if err != nil {
		return fmt.Errorf("read consent changes: %w", err)
	}
	defer rows.Close()
	seq := x.seq
	var changes []consentChange
	for rows.Next() {
		var c consentChange
		var p sql.NullInt64
		if err := rows.Scan(&seq, &c.id, &p); err != nil {
			return fmt.Errorf("read consent changes: %w", err)
		}
		c.refuses = p.Valid && p.Int64 == 0
		changes = append(changes, c)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read consent changes: %w", err)
	}
	if len(changes) > 0 {
		x.mu.Lock()
		if x.seq == 0 && len(x.refusing) == 0 {
			x.refusing = make(map[string]struct{}, len(changes))
		}
		for _, c := range changes {
			if c.refuses {
				x.refusing[c.id] = struct{}{}
			} else {
				delete(x.refusing, c.id)
			}
		}
		x.mu.Unlock()
	}
	x.seq = seq
	x.last.Store(began.UnixNano())
	x.stale.Store(false)
	return nil
}
