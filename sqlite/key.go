package sqlite

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"github.com/qianmian/qianmian"
)

var _ qianmian.KeyService = (*KeyService)(nil)

// KeyService issues and checks API keys. A token is "qm_" + id + "_" + secret, id 16 and
// secret 64 hex digits from crypto/rand; only the SHA-256 of the secret is stored.
type KeyService struct{ db *DB }

// NewKeyService returns the key service of db.
func NewKeyService(db *DB) *KeyService { return &KeyService{db: db} }

const tokenPrefix = "qm_"

// CreateKey issues a key for p and returns it with its token, which is not stored.
func (s *KeyService) CreateKey(ctx context.Context, p qianmian.Principal) (*qianmian.APIKey, string, error) {
	if err := p.Validate(); err != nil {
		return nil, "", err
	}
	if p.IsOperator() {
		p.ID = ""
	}
	id, secret := randomHex(8), randomHex(32)
	hash := sha256.Sum256([]byte(secret))
	k := &qianmian.APIKey{ID: id, Principal: p, CreatedAt: s.db.nowTime()}
	_, err := s.db.write.ExecContext(ctx, `INSERT INTO api_keys (id, role, principal_id, secret_hash, created_at)
		VALUES (?, ?, ?, ?, ?)`, id, string(p.Role), p.ID, hash[:], k.CreatedAt.UnixMilli())
	if err != nil {
		return nil, "", fmt.Errorf("create key: %w", formatError(err))
	}
	return k, tokenPrefix + id + "_" + secret, nil
}

// FindPrincipalByToken returns the principal of a token; EUNAUTHORIZED if it is malformed,
// unknown or revoked, with one message for all three so the answer tells a guesser nothing.
func (s *KeyService) FindPrincipalByToken(ctx context.Context, token string) (qianmian.Principal, error) {
	unauthorized := qianmian.Errorf(qianmian.EUNAUTHORIZED, "invalid or revoked API key")
	rest, ok := strings.CutPrefix(token, tokenPrefix)
	if !ok {
		return qianmian.Principal{}, unauthorized
	}
	id, secret, ok := strings.Cut(rest, "_")
	if !ok || len(id) != 16 || len(secret) != 64 {
		return qianmian.Principal{}, unauthorized
	}
	row, gen, ok := s.db.keys.get(id)
	if !ok {
		var revoked sql.NullInt64
		err := s.db.reads.QueryRowContext(ctx, `SELECT role, principal_id, secret_hash, revoked_at
			FROM api_keys WHERE id = ?`, id).Scan(&row.p.Role, &row.p.ID, &row.hash, &revoked)
		switch {
		case err == nil:
			row.found, row.revoked = true, revoked.Valid
		case errors.Is(err, sql.ErrNoRows):
		default:
			return qianmian.Principal{}, fmt.Errorf("find key %s: %w", id, err)
		}
		s.db.keys.put(id, row, gen)
	}
	hash := sha256.Sum256([]byte(secret))
	if !row.found || subtle.ConstantTimeCompare(hash[:], row.hash) != 1 || row.revoked {
		return qianmian.Principal{}, unauthorized
	}
	return row.p, nil
}

// keyRow is a cached API key row; found is false for an id not stored. Only the hash of
// the secret is cached, as only the hash is stored.
type keyRow struct {
	p       qianmian.Principal
	hash    []byte
	revoked bool
	found   bool
}

// RevokeKey revokes the key with the given id; revoking a revoked key again is a no-op.
// ENOTFOUND if there is no such key.
func (s *KeyService) RevokeKey(ctx context.Context, id string) error {
	var found bool
	err := s.db.writeTx(ctx, func(tx *sql.Tx) error {
		if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM api_keys WHERE id = ?)`, id).Scan(&found); err != nil {
			return err
		}
		if !found {
			return qianmian.Errorf(qianmian.ENOTFOUND, "API key %q not found", id)
		}
		_, err := tx.ExecContext(ctx, `UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL`,
			s.db.now(), id)
		return err
	})
	s.db.keys.drop(id)
	if err != nil {
		return fmt.Errorf("revoke key %s: %w", id, err)
	}
	return nil
}

// randomHex returns n random bytes from crypto/rand in hex.
func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails; it crashes the program instead
	return hex.EncodeToString(b)
}
