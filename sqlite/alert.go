package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/qianmian/qianmian"
)

var (
	_ qianmian.AlertService = (*AlertService)(nil)
	_ qianmian.AlertOutbox  = (*AlertService)(nil)
)

// AlertService keeps store alerts, their webhook outbox and the stores' webhooks. An alert's
// body may name its visitor, so it is sealed with the DB's Cipher, as webhook secrets are;
// without a Cipher, alerts that name a visitor and webhooks are refused (EINVALID).
type AlertService struct{ db *DB }

// NewAlertService returns the alert service of db.
func NewAlertService(db *DB) *AlertService { return &AlertService{db: db} }

// seal returns the stored form of plaintext and whether it is sealed. field names what is
// sealed in errors.
func (s *AlertService) seal(field string, plaintext []byte, required bool) ([]byte, bool, error) {
	if s.db.Cipher == nil {
		if required {
			return nil, false, qianmian.Invalid(field, "no encryption key configured")
		}
		return plaintext, false, nil
	}
	c, err := s.db.Cipher.Encrypt(string(plaintext))
	if err != nil {
		return nil, false, fmt.Errorf("encrypt %s: %w", field, err)
	}
	return c, true, nil
}

func (s *AlertService) open(stored []byte, sealed bool) ([]byte, error) {
	if !sealed {
		return stored, nil
	}
	if s.db.Cipher == nil {
		return nil, errors.New("alert is encrypted and no encryption key is configured")
	}
	p, err := s.db.Cipher.Decrypt(stored)
	if err != nil {
		return nil, err
	}
	return []byte(p), nil
}

// CreateAlert stores a with, when its store has a webhook, a delivery due now, and moves the
// cursor forward to cursor, in one transaction. A stored id leaves everything but the
// cursor as it was and answers created false.
func (s *AlertService) CreateAlert(ctx context.Context, a *qianmian.StoreAlert, cursor int64) (bool, error) {
	if a == nil || a.ID == "" {
		return false, qianmian.Invalid("id", "required")
	}
	if a.StoreID == "" {
		return false, qianmian.Invalid("store_id", "required")
	}
	created := s.db.nowTime()
	v := *a
	v.Seq, v.CreatedAt, v.Delivery = 0, created, nil
	plain, err := json.Marshal(&v)
	if err != nil {
		return false, fmt.Errorf("create alert %s: %w", a.ID, err)
	}
	body, sealed, err := s.seal("visitor", plain, a.Visitor.Name != "")
	if err != nil {
		return false, err
	}
	var seq int64
	err = s.db.writeTx(ctx, func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, `INSERT INTO store_alerts (id, store_id, user_id, event_id, body, sealed, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING RETURNING seq`,
			a.ID, a.StoreID, a.Visitor.UserID, a.EventID, body, sealed, created.UnixMilli()).Scan(&seq)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			seq = 0 // stored already
		case err != nil:
			return formatError(err)
		default:
			if _, err := tx.ExecContext(ctx, `INSERT INTO alert_deliveries (alert_seq, next_attempt_at)
				SELECT ?, ? WHERE EXISTS (SELECT 1 FROM store_webhooks WHERE store_id = ?)`,
				seq, created.UnixMilli(), a.StoreID); err != nil {
				return formatError(err)
			}
		}
		return setCursor(ctx, tx, cursor)
	})
	if err != nil {
		return false, fmt.Errorf("create alert %s: %w", a.ID, err)
	}
	if seq == 0 {
		return false, nil
	}
	a.Seq, a.CreatedAt = seq, created
	return true, nil
}

// setCursor moves the alert cursor forward to seq.
func setCursor(ctx context.Context, tx *sql.Tx, seq int64) error {
	if seq <= 0 {
		return nil
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO alert_cursor (id, event_seq) VALUES (1, ?)
		ON CONFLICT (id) DO UPDATE SET event_seq = MAX(event_seq, excluded.event_seq)`, seq)
	return formatError(err)
}

const alertColumns = `a.seq, a.body, a.sealed, d.alert_seq, d.attempts, d.next_attempt_at,
	d.delivered_at, d.last_error`

const alertFrom = ` FROM store_alerts a LEFT JOIN alert_deliveries d ON d.alert_seq = a.seq`

func (s *AlertService) scanAlert(sc scanner) (*qianmian.StoreAlert, error) {
	var seq int64
	var body []byte
	var sealed bool
	var dseq, attempts, next, delivered sql.NullInt64
	var lastErr sql.NullString
	if err := sc.Scan(&seq, &body, &sealed, &dseq, &attempts, &next, &delivered, &lastErr); err != nil {
		return nil, err
	}
	plain, err := s.open(body, sealed)
	if err != nil {
		return nil, fmt.Errorf("alert %d: %w", seq, err)
	}
	var a qianmian.StoreAlert
	if err := json.Unmarshal(plain, &a); err != nil {
		return nil, fmt.Errorf("alert %d: %w", seq, err)
	}
	a.Seq = seq
	if dseq.Valid {
		d := &qianmian.AlertDelivery{
			Attempts:      int(attempts.Int64),
			NextAttemptAt: fromNullMillis(next),
			DeliveredAt:   fromNullMillis(delivered),
			LastError:     lastErr.String,
		}
		switch {
		case delivered.Valid:
			d.State = qianmian.DeliveryDelivered
		case next.Valid:
			d.State = qianmian.DeliveryPending
		default:
			d.State = qianmian.DeliveryFailed
		}
		a.Delivery = d
	}
	return &a, nil
}

// FindAlerts lists a store's alerts with their delivery state.
func (s *AlertService) FindAlerts(ctx context.Context, f qianmian.AlertFilter) ([]*qianmian.StoreAlert, error) {
	limit, err := limitClause(f.Limit)
	if err != nil {
		return nil, err
	}
	where, args := []string{"a.store_id = ?"}, []any{f.StoreID}
	if f.AfterSeq > 0 {
		where, args = append(where, "a.seq > ?"), append(args, f.AfterSeq)
	}
	if f.BeforeSeq > 0 {
		where, args = append(where, "a.seq < ?"), append(args, f.BeforeSeq)
	}
	order := " ORDER BY a.store_id, a.seq"
	if f.Descending {
		order = " ORDER BY a.store_id DESC, a.seq DESC"
	}
	q := `SELECT ` + alertColumns + alertFrom + ` WHERE ` + strings.Join(where, " AND ") + order + limit
	list, err := queryList(ctx, s.db.reads, q, args, s.scanAlert)
	if err != nil {
		return nil, fmt.Errorf("find alerts of store %s: %w", f.StoreID, err)
	}
	return list, nil
}

// SetWebhook creates or replaces the store's webhook, its secret sealed.
func (s *AlertService) SetWebhook(ctx context.Context, w *qianmian.Webhook) error {
	if w == nil {
		return qianmian.Invalid("body", "required")
	}
	if err := w.Validate(); err != nil {
		return err
	}
	secret, _, err := s.seal("secret", []byte(w.Secret), true)
	if err != nil {
		return err
	}
	updated := s.db.nowTime()
	_, err = s.db.write.ExecContext(ctx, `INSERT INTO store_webhooks (store_id, url, secret, updated_at)
		VALUES (?, ?, ?, ?) ON CONFLICT (store_id) DO UPDATE SET url = excluded.url,
			secret = excluded.secret, updated_at = excluded.updated_at`,
		w.StoreID, w.URL, secret, updated.UnixMilli())
	if err != nil {
		return fmt.Errorf("set webhook of store %s: %w", w.StoreID, formatError(err))
	}
	w.UpdatedAt = updated
	return nil
}

// FindWebhook returns the store's webhook with its secret; ENOTFOUND if none.
func (s *AlertService) FindWebhook(ctx context.Context, storeID string) (*qianmian.Webhook, error) {
	w := qianmian.Webhook{StoreID: storeID}
	var secret []byte
	var updated int64
	err := s.db.reads.QueryRowContext(ctx, `SELECT url, secret, updated_at FROM store_webhooks WHERE store_id = ?`,
		storeID).Scan(&w.URL, &secret, &updated)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, qianmian.Errorf(qianmian.ENOTFOUND, "store %q has no webhook", storeID)
	} else if err != nil {
		return nil, fmt.Errorf("find webhook of store %s: %w", storeID, err)
	}
	plain, err := s.open(secret, true)
	if err != nil {
		return nil, fmt.Errorf("webhook secret of store %s: %w", storeID, err)
	}
	w.Secret, w.UpdatedAt = string(plain), fromMillis(updated)
	return &w, nil
}

// DeleteWebhook removes the store's webhook; ENOTFOUND if none.
func (s *AlertService) DeleteWebhook(ctx context.Context, storeID string) error {
	res, err := s.db.write.ExecContext(ctx, `DELETE FROM store_webhooks WHERE store_id = ?`, storeID)
	if err != nil {
		return fmt.Errorf("delete webhook of store %s: %w", storeID, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("delete webhook of store %s: %w", storeID, err)
	} else if n == 0 {
		return qianmian.Errorf(qianmian.ENOTFOUND, "store %q has no webhook", storeID)
	}
	return nil
}

// AlertCursor returns the alert cursor; the first call sets it to the newest event's Seq, so
// a new deployment does not alert the visits already in its log.
func (s *AlertService) AlertCursor(ctx context.Context) (int64, error) {
	var seq int64
	err := s.db.writeTx(ctx, func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, `SELECT event_seq FROM alert_cursor WHERE id = 1`).Scan(&seq)
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		return tx.QueryRowContext(ctx, `INSERT INTO alert_cursor (id, event_seq)
			SELECT 1, COALESCE(MAX(seq), 0) FROM events RETURNING event_seq`).Scan(&seq)
	})
	if err != nil {
		return 0, fmt.Errorf("alert cursor: %w", err)
	}
	return seq, nil
}

// SetAlertCursor moves the alert cursor forward to seq.
func (s *AlertService) SetAlertCursor(ctx context.Context, seq int64) error {
	err := s.db.writeTx(ctx, func(tx *sql.Tx) error { return setCursor(ctx, tx, seq) })
	if err != nil {
		return fmt.Errorf("set alert cursor: %w", err)
	}
	return nil
}

// ClaimDeliveries returns up to limit alerts due at now, oldest due first, and leases them
// until now+lease.
func (s *AlertService) ClaimDeliveries(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]*qianmian.StoreAlert, error) {
	if limit <= 0 {
		return nil, nil
	}
	var list []*qianmian.StoreAlert
	err := s.db.writeTx(ctx, func(tx *sql.Tx) error {
		var err error
		list, err = queryList(ctx, tx, `SELECT `+alertColumns+alertFrom+`
			WHERE d.next_attempt_at IS NOT NULL AND d.next_attempt_at <= ?
			ORDER BY d.next_attempt_at, d.alert_seq LIMIT ?`,
			[]any{now.UnixMilli(), limit}, s.scanAlert)
		if err != nil {
			return err
		}
		until := now.Add(lease).UnixMilli()
		for _, a := range list {
			if _, err := tx.ExecContext(ctx, `UPDATE alert_deliveries SET next_attempt_at = ? WHERE alert_seq = ?`,
				until, a.Seq); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("claim deliveries: %w", err)
	}
	return list, nil
}

// RecordAttempt counts one attempt at delivering the alert with the given Seq.
func (s *AlertService) RecordAttempt(ctx context.Context, alertSeq int64, a qianmian.DeliveryAttempt) error {
	var delivered sql.NullInt64
	if a.Delivered {
		delivered = nullMillis(a.At)
	}
	var next sql.NullInt64
	if !a.Delivered {
		next = nullMillis(a.NextAttemptAt)
	}
	_, err := s.db.write.ExecContext(ctx, `UPDATE alert_deliveries SET attempts = attempts + 1,
		last_attempt_at = ?, delivered_at = COALESCE(delivered_at, ?), next_attempt_at = ?, last_error = ?
		WHERE alert_seq = ?`, a.At.UnixMilli(), delivered, next, a.Error, alertSeq)
	if err != nil {
		return fmt.Errorf("record attempt of alert %d: %w", alertSeq, formatError(err))
	}
	return nil
}

// ReleaseDelivery makes an undelivered delivery due at at without counting an attempt.
func (s *AlertService) ReleaseDelivery(ctx context.Context, alertSeq int64, at time.Time) error {
	_, err := s.db.write.ExecContext(ctx, `UPDATE alert_deliveries SET next_attempt_at = ?
		WHERE alert_seq = ? AND delivered_at IS NULL AND next_attempt_at IS NOT NULL`, at.UnixMilli(), alertSeq)
	if err != nil {
		return fmt.Errorf("release delivery of alert %d: %w", alertSeq, formatError(err))
	}
	return nil
}

// NextDeliveryAt returns when the earliest pending delivery is due; zero if none is.
func (s *AlertService) NextDeliveryAt(ctx context.Context) (time.Time, error) {
	var next sql.NullInt64
	err := s.db.reads.QueryRowContext(ctx, `SELECT MIN(next_attempt_at) FROM alert_deliveries
		WHERE next_attempt_at IS NOT NULL`).Scan(&next)
	if err != nil {
		return time.Time{}, fmt.Errorf("next delivery: %w", err)
	}
	return fromNullMillis(next), nil
}

// PruneAlerts deletes alerts made before before whose delivery is over or never was.
func (s *AlertService) PruneAlerts(ctx context.Context, before time.Time) (int64, error) {
	res, err := s.db.write.ExecContext(ctx, `DELETE FROM store_alerts WHERE created_at < ?
		AND seq NOT IN (SELECT alert_seq FROM alert_deliveries WHERE next_attempt_at IS NOT NULL)`,
		before.UnixMilli())
	if err != nil {
		return 0, fmt.Errorf("prune alerts: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("prune alerts: %w", err)
	}
	return n, nil
}
