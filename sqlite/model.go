package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/qianmian/qianmian"
)

var _ qianmian.ModelStore = (*ModelStore)(nil)

// ModelStore keeps every version of every trained model as a BLOB.
type ModelStore struct{ db *DB }

// NewModelStore returns the model store of db.
func NewModelStore(db *DB) *ModelStore { return &ModelStore{db: db} }

// SaveModel stores m as the next version of its name (1 for the first) and sets m.Version
// and m.CreatedAt. EINVALID if m has no name.
func (s *ModelStore) SaveModel(ctx context.Context, m *qianmian.ModelBlob) error {
	if m == nil || m.Name == "" {
		return qianmian.Invalid("name", "required")
	}
	if len(m.Name) > qianmian.MaxIDLength {
		return qianmian.Invalid("name", "longer than %d bytes", qianmian.MaxIDLength)
	}
	created := s.db.nowTime()
	data := m.Data
	if data == nil {
		data = []byte{} // the column is NOT NULL; an empty model is still a model
	}
	var version int64
	err := s.db.writeTx(ctx, func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, `INSERT INTO models (name, version, data, metrics, created_at)
			SELECT ?, COALESCE(MAX(version), 0) + 1, ?, ?, ? FROM models WHERE name = ?
			RETURNING version`, m.Name, data, m.Metrics, created.UnixMilli(), m.Name).Scan(&version)
		return formatError(err)
	})
	if err != nil {
		return fmt.Errorf("save model %s: %w", m.Name, err)
	}
	m.Version, m.CreatedAt = version, created
	return nil
}

// LatestModelVersion returns the newest version of the named model, reading only the
// primary key; ENOTFOUND if none.
func (s *ModelStore) LatestModelVersion(ctx context.Context, name string) (int64, error) {
	var version sql.NullInt64
	err := s.db.reads.QueryRowContext(ctx, `SELECT MAX(version) FROM models WHERE name = ?`, name).Scan(&version)
	if err != nil {
		return 0, fmt.Errorf("latest model version %s: %w", name, err)
	}
	if !version.Valid {
		return 0, qianmian.Errorf(qianmian.ENOTFOUND, "no model named %q", name)
	}
	return version.Int64, nil
}

// LatestModel returns the newest version of the named model; ENOTFOUND if none.
func (s *ModelStore) LatestModel(ctx context.Context, name string) (*qianmian.ModelBlob, error) {
	m := qianmian.ModelBlob{Name: name}
	var created int64
	err := s.db.reads.QueryRowContext(ctx, `SELECT version, data, metrics, created_at FROM models
		WHERE name = ? ORDER BY version DESC LIMIT 1`, name).Scan(&m.Version, &m.Data, &m.Metrics, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, qianmian.Errorf(qianmian.ENOTFOUND, "no model named %q", name)
	} else if err != nil {
		return nil, fmt.Errorf("latest model %s: %w", name, err)
	}
	m.CreatedAt = fromMillis(created)
	return &m, nil
}
