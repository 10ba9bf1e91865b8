package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/qianmian/qianmian"
)

var _ qianmian.SegmentStore = (*SegmentStore)(nil)

// SegmentStore keeps segment definitions.
type SegmentStore struct{ db *DB }

// NewSegmentStore returns the segment store of db.
func NewSegmentStore(db *DB) *SegmentStore { return &SegmentStore{db: db} }

// CreateSegment stores a new segment, stamped with the DB's clock.
func (s *SegmentStore) CreateSegment(ctx context.Context, g *qianmian.Segment) error {
	if err := g.Validate(); err != nil {
		return err
	}
	now := s.db.nowTime()
	err := s.db.writeTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO segments (id, name, expression, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?)`, g.ID, g.Name, g.Expression, now.UnixMilli(), now.UnixMilli())
		return formatError(err)
	})
	if qianmian.ErrorCode(err) == qianmian.ECONFLICT {
		return qianmian.Errorf(qianmian.ECONFLICT, "segment %q exists", g.ID)
	}
	if err != nil {
		return fmt.Errorf("create segment %s: %w", g.ID, err)
	}
	g.CreatedAt, g.UpdatedAt = now, now
	return nil
}

func scanSegment(sc scanner) (*qianmian.Segment, error) {
	var g qianmian.Segment
	var created, updated int64
	if err := sc.Scan(&g.ID, &g.Name, &g.Expression, &created, &updated); err != nil {
		return nil, err
	}
	g.CreatedAt, g.UpdatedAt = fromMillis(created), fromMillis(updated)
	return &g, nil
}

// FindSegmentByID returns a segment.
func (s *SegmentStore) FindSegmentByID(ctx context.Context, id string) (*qianmian.Segment, error) {
	g, err := scanSegment(s.db.reads.QueryRowContext(ctx,
		`SELECT id, name, expression, created_at, updated_at FROM segments WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, qianmian.Errorf(qianmian.ENOTFOUND, "no segment %q", id)
	}
	if err != nil {
		return nil, fmt.Errorf("find segment %s: %w", id, err)
	}
	return g, nil
}

// FindSegments returns every segment, by id.
func (s *SegmentStore) FindSegments(ctx context.Context) ([]*qianmian.Segment, error) {
	list, err := queryList(ctx, s.db.reads, `SELECT id, name, expression, created_at, updated_at
		FROM segments ORDER BY id`, nil, scanSegment)
	if err != nil {
		return nil, fmt.Errorf("find segments: %w", err)
	}
	if list == nil {
		list = []*qianmian.Segment{}
	}
	return list, nil
}

// UpdateSegment replaces a segment's name and expression.
func (s *SegmentStore) UpdateSegment(ctx context.Context, g *qianmian.Segment) error {
	if err := g.Validate(); err != nil {
		return err
	}
	now := s.db.nowTime()
	var created int64
	err := s.db.writeTx(ctx, func(tx *sql.Tx) error {
		return tx.QueryRowContext(ctx, `UPDATE segments SET name = ?, expression = ?, updated_at = ?
			WHERE id = ? RETURNING created_at`, g.Name, g.Expression, now.UnixMilli(), g.ID).Scan(&created)
	})
	if errors.Is(err, sql.ErrNoRows) {
		return qianmian.Errorf(qianmian.ENOTFOUND, "no segment %q", g.ID)
	}
	if err != nil {
		return fmt.Errorf("update segment %s: %w", g.ID, err)
	}
	g.CreatedAt, g.UpdatedAt = fromMillis(created), now
	return nil
}

// DeleteSegment deletes a segment.
func (s *SegmentStore) DeleteSegment(ctx context.Context, id string) error {
	var n int64
	err := s.db.writeTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM segments WHERE id = ?`, id)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return fmt.Errorf("delete segment %s: %w", id, err)
	}
	if n == 0 {
		return qianmian.Errorf(qianmian.ENOTFOUND, "no segment %q", id)
	}
	return nil
}
