package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/qianmian/qianmian"
)

var _ qianmian.ProfileStore = (*ProfileStore)(nil)

// ProfileStore keeps the tags consumers deleted from their profiles.
type ProfileStore struct{ db *DB }

// NewProfileStore returns the profile store of db.
func NewProfileStore(db *DB) *ProfileStore { return &ProfileStore{db: db} }

// DeleteProfileTag records that the user deleted tag, stamped with the DB's clock; the first
// deletion's time is kept.
func (s *ProfileStore) DeleteProfileTag(ctx context.Context, userID, tag string) error {
	if err := validUserID(userID); err != nil {
		return err
	}
	if err := qianmian.ValidateTag("tag", tag); err != nil {
		return err
	}
	err := s.db.writeTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO profile_deleted_tags (user_id, tag, deleted_at)
			VALUES (?, ?, ?) ON CONFLICT (user_id, tag) DO NOTHING`, userID, tag, s.db.now())
		return formatError(err)
	})
	if err != nil {
		return fmt.Errorf("delete tag %s of user %s: %w", tag, userID, err)
	}
	return nil
}

// FindDeletedTags returns the tags the user deleted, sorted.
func (s *ProfileStore) FindDeletedTags(ctx context.Context, userID string) ([]string, error) {
	tags, err := queryList(ctx, s.db.reads, `SELECT tag FROM profile_deleted_tags WHERE user_id = ?
		ORDER BY tag`, []any{userID}, func(sc scanner) (string, error) {
		var t string
		err := sc.Scan(&t)
		return t, err
	})
	if err != nil {
		return nil, fmt.Errorf("find deleted tags of user %s: %w", userID, err)
	}
	if tags == nil {
		tags = []string{}
	}
	return tags, nil
}
