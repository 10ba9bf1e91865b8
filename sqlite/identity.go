package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/qianmian/qianmian"
)

// IdentityGraph returns the user's identities with what linked each and their event counts,
// and the unlinks of identities from the user, read in one snapshot. ENOTFOUND if the store
// knows nothing of the user.
func (s *IdentityService) IdentityGraph(ctx context.Context, userID string) (*qianmian.IdentityGraph, error) {
	if err := validUserID(userID); err != nil {
		return nil, err
	}
	tx, err := s.db.read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, fmt.Errorf("identity graph of %s: %w", userID, err)
	}
	defer func() { _ = tx.Rollback() }()
	g, err := identityGraph(ctx, tx, userID)
	if err != nil {
		if qianmian.ErrorCode(err) == qianmian.ENOTFOUND {
			return nil, err
		}
		return nil, fmt.Errorf("identity graph of %s: %w", userID, err)
	}
	return g, nil
}

func identityGraph(ctx context.Context, tx *sql.Tx, userID string) (*qianmian.IdentityGraph, error) {
	g := &qianmian.IdentityGraph{UserID: userID}
	var err error
	g.Identities, err = queryList(ctx, tx, `SELECT channel, type, value, user_id, linked_at, linked_by
		FROM identities WHERE user_id = ? ORDER BY linked_at, key`, []any{userID},
		func(sc scanner) (*qianmian.LinkedIdentity, error) {
			var id qianmian.LinkedIdentity
			var linked int64
			if err := sc.Scan(&id.Channel, &id.Type, &id.Value, &id.UserID, &linked, &id.LinkedBy); err != nil {
				return nil, err
			}
			id.LinkedAt = fromMillis(linked)
			return &id, nil
		})
	if err != nil {
		return nil, err
	}
	if err := countIdentityEvents(ctx, tx, userID, g.Identities); err != nil {
		return nil, err
	}
	g.Unlinks, err = queryList(ctx, tx, `SELECT channel, type, value, user_id, unlinked_at, reason,
			resolved_events, relinked_at
		FROM identity_unlinks WHERE user_id = ? ORDER BY unlinked_at, id`, []any{userID}, scanUnlink)
	if err != nil {
		return nil, err
	}
	if len(g.Identities) == 0 && len(g.Unlinks) == 0 {
		var known bool
		err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM users WHERE id = ?)
			OR EXISTS (SELECT 1 FROM events WHERE user_id = ? AND user_id != '')`, userID, userID).Scan(&known)
		if err != nil {
			return nil, err
		}
		if !known {
			return nil, qianmian.Errorf(qianmian.ENOTFOUND, "user %q not found", userID)
		}
	}
	if g.Identities == nil {
		g.Identities = []*qianmian.LinkedIdentity{}
	}
	if g.Unlinks == nil {
		g.Unlinks = []*qianmian.IdentityUnlink{}
	}
	return g, nil
}

// countIdentityEvents fills the event counts of the user's identities: the anonymous events
// of each (found through events_identity) and the user's own events that carry it (through
// events_user; the unary + keeps the planner on the user's events).
func countIdentityEvents(ctx context.Context, tx *sql.Tx, userID string, ids []*qianmian.LinkedIdentity) error {
	if len(ids) == 0 {
		return nil
	}
	byKey := make(map[string]*qianmian.LinkedIdentity, len(ids))
	for _, id := range ids {
		byKey[id.Key()] = id
	}
	count := func(query string, add func(id *qianmian.LinkedIdentity, n, explicit int)) error {
		rows, err := tx.QueryContext(ctx, query, userID)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var key string
			var n, explicit int
			if err := rows.Scan(&key, &n, &explicit); err != nil {
				return err
			}
			if id := byKey[key]; id != nil {
				add(id, n, explicit)
			}
		}
		return rows.Err()
	}
	err := count(graphAnonymousSQL, func(id *qianmian.LinkedIdentity, n, _ int) { id.Events += n })
	if err != nil {
		return err
	}
	return count(graphOwnSQL, func(id *qianmian.LinkedIdentity, n, explicit int) {
		id.Events += n
		id.ExplicitEvents += explicit
	})
}

// The graph's counts per identity key: the anonymous events of the user's identities, and
// the user's events that carry an identity, with how many were sent with the user's id.
const (
	graphAnonymousSQL = `SELECT identity_key, COUNT(*), 0 FROM events
		WHERE user_id = '' AND identity_key IN (SELECT key FROM identities WHERE user_id = ?)
		GROUP BY identity_key`
	graphOwnSQL = `SELECT identity_key, COUNT(*), COUNT(*) - SUM(user_resolved) FROM events
		WHERE user_id = ? AND user_id != '' AND +identity_key != ''
		GROUP BY identity_key`
)

// unlinkEventsSQL gives the events of an identity (key, the second parameter) whose user
// (the first) was resolved from its link back to the identity. It walks the user's events
// (events_user), never the log.
const unlinkEventsSQL = `UPDATE events SET user_id = '', user_resolved = 0
	WHERE user_id = ? AND user_id != '' AND +identity_key = ? AND +user_resolved = 1`

func scanUnlink(sc scanner) (*qianmian.IdentityUnlink, error) {
	var u qianmian.IdentityUnlink
	var unlinked int64
	var relinked sql.NullInt64
	if err := sc.Scan(&u.Channel, &u.Type, &u.Value, &u.UserID, &unlinked, &u.Reason, &u.ResolvedEvents,
		&relinked); err != nil {
		return nil, err
	}
	u.UnlinkedAt = fromMillis(unlinked)
	if relinked.Valid {
		t := fromMillis(relinked.Int64)
		u.RelinkedAt = &t
	}
	return &u, nil
}

// UnlinkIdentity undoes the link of ref to userID in one transaction: it deletes the link,
// records the unlink (which blocks events from linking the pair again), and gives the
// identity's events whose user was resolved from the link back to the identity. ENOTFOUND
// if ref is not linked to userID.
func (s *IdentityService) UnlinkIdentity(ctx context.Context, ref qianmian.IdentityRef, userID, reason string) error {
	if err := qianmian.ValidateUnlink(ref, userID, reason); err != nil {
		return err
	}
	key := ref.Key()
	err := s.db.writeTx(ctx, func(tx *sql.Tx) error {
		var owner string
		err := tx.QueryRowContext(ctx, `SELECT user_id FROM identities WHERE key = ?`, key).Scan(&owner)
		if errors.Is(err, sql.ErrNoRows) || (err == nil && owner != userID) {
			return qianmian.Errorf(qianmian.ENOTFOUND, "identity %s is not linked to user %q", key, userID)
		} else if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM identities WHERE key = ?`, key); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, unlinkEventsSQL, userID, key)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO identity_unlinks (identity_key, channel, type, value,
				user_id, unlinked_at, reason, resolved_events)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
			key, string(ref.Channel), string(ref.Type), ref.Value, userID, s.db.now(), reason, n)
		return err
	})
	if err != nil {
		if qianmian.ErrorCode(err) == qianmian.ENOTFOUND {
			return err
		}
		return fmt.Errorf("unlink identity %s from %s: %w", key, userID, formatError(err))
	}
	return nil
}
