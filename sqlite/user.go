package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/qianmian/qianmian"
)

var (
	_ qianmian.UserService     = (*UserService)(nil)
	_ qianmian.IdentityService = (*IdentityService)(nil)
)

// UserService stores consumers. Name, phone and address are encrypted with the DB's Cipher
// before they reach SQL, so their plaintext is never in the database or its WAL.
// UpdatedAt is set to the DB's clock on every change; CreatedAt is the caller's when given
// on first insert, else the clock's, and is kept on later upserts.
type UserService struct{ db *DB }

// NewUserService returns the user service of db.
func NewUserService(db *DB) *UserService { return &UserService{db: db} }

// sealedUser holds the ciphertext of a user's personal fields.
type sealedUser struct {
	name, phone, address []byte
}

func (s *UserService) seal(u *qianmian.User) (sealedUser, error) {
	var su sealedUser
	fields := []struct {
		name  string
		plain string
		dst   *[]byte
	}{{"name", u.Name, &su.name}, {"phone", u.Phone, &su.phone}, {"address", u.Address, &su.address}}
	for _, f := range fields {
		if f.plain == "" {
			continue
		}
		if s.db.Cipher == nil {
			return su, qianmian.Invalid(f.name, "no encryption key configured")
		}
		c, err := s.db.Cipher.Encrypt(f.plain)
		if err != nil {
			return su, fmt.Errorf("encrypt %s of user %s: %w", f.name, u.ID, err)
		}
		*f.dst = c
	}
	return su, nil
}

// UpsertUsers inserts or replaces users, consent included, in one transaction; CreatedAt
// of an existing user is kept. The caller's users get the stored CreatedAt and UpdatedAt.
func (s *UserService) UpsertUsers(ctx context.Context, users []*qianmian.User) error {
	sealed := make([]sealedUser, len(users))
	for i, u := range users {
		if u == nil {
			return qianmian.Errorf(qianmian.EINVALID, "user %d is null", i)
		}
		if err := u.Validate(); err != nil {
			return err
		}
		var err error
		if sealed[i], err = s.seal(u); err != nil {
			return err
		}
	}
	if len(users) == 0 {
		return nil
	}
	now := s.db.nowTime()
	created := make([]int64, len(users))
	err := s.db.writeTx(ctx, func(tx *sql.Tx) error {
		stmt, err := tx.PrepareContext(ctx, `INSERT INTO users (id, gender, birth_year, city,
				consent_personalization, consent_marketing, consent_analytics, consent_store_alerts,
				name, phone, address, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (id) DO UPDATE SET gender = excluded.gender, birth_year = excluded.birth_year,
				city = excluded.city, consent_personalization = excluded.consent_personalization,
				consent_marketing = excluded.consent_marketing,
				consent_analytics = excluded.consent_analytics,
				consent_store_alerts = excluded.consent_store_alerts, name = excluded.name,
				phone = excluded.phone, address = excluded.address, updated_at = excluded.updated_at
			RETURNING created_at`)
		if err != nil {
			return err
		}
		defer stmt.Close()
		for i, u := range users {
			c := now
			if !u.CreatedAt.IsZero() {
				c = u.CreatedAt
			}
			su := sealed[i]
			err := stmt.QueryRowContext(ctx, u.ID, u.Gender, u.BirthYear, u.City,
				u.Consent.Personalization, u.Consent.Marketing, u.Consent.Analytics, u.Consent.StoreAlerts,
				su.name, su.phone, su.address, c.UnixMilli(), now.UnixMilli()).Scan(&created[i])
			if err != nil {
				return formatError(err)
			}
		}
		return nil
	})
	s.db.consent.changed(ctx)
	if err != nil {
		return fmt.Errorf("upsert users: %w", err)
	}
	for i, u := range users {
		u.CreatedAt, u.UpdatedAt = fromMillis(created[i]), now
	}
	return nil
}

const userColumns = `id, gender, birth_year, city, consent_personalization, consent_marketing,
	consent_analytics, consent_store_alerts, name, phone, address, created_at, updated_at`

// scanUser scans a user row and decrypts its personal fields.
func (s *UserService) scanUser(sc scanner) (*qianmian.User, error) {
	var u qianmian.User
	var name, phone, address []byte
	var created, updated int64
	if err := sc.Scan(&u.ID, &u.Gender, &u.BirthYear, &u.City, &u.Consent.Personalization,
		&u.Consent.Marketing, &u.Consent.Analytics, &u.Consent.StoreAlerts, &name, &phone, &address,
		&created, &updated); err != nil {
		return nil, err
	}
	u.CreatedAt, u.UpdatedAt = fromMillis(created), fromMillis(updated)
	fields := []struct {
		name   string
		sealed []byte
		dst    *string
	}{{"name", name, &u.Name}, {"phone", phone, &u.Phone}, {"address", address, &u.Address}}
	for _, f := range fields {
		if len(f.sealed) == 0 {
			continue
		}
		if s.db.Cipher == nil {
			return nil, fmt.Errorf("user %s: %s is encrypted and no encryption key is configured", u.ID, f.name)
		}
		p, err := s.db.Cipher.Decrypt(f.sealed)
		if err != nil {
			return nil, fmt.Errorf("decrypt %s of user %s: %w", f.name, u.ID, err)
		}
		*f.dst = p
	}
	return &u, nil
}

// Personalizes reports whether the user allows personalisation, from the set of users
// refusing it that the DB keeps in memory (consent.go): true for a user not stored. A change
// made through this DB is seen by the next call; one made by another process on the same
// file within about a second (consentCatchUpInterval).
func (s *UserService) Personalizes(ctx context.Context, id string) (bool, error) {
	ok, err := s.db.consent.personalizes(ctx, id)
	if err != nil {
		return false, fmt.Errorf("personalization consent of user %s: %w", id, err)
	}
	return ok, nil
}

// FindUserByID returns the user with personal fields decrypted; ENOTFOUND if none.
func (s *UserService) FindUserByID(ctx context.Context, id string) (*qianmian.User, error) {
	u, err := s.scanUser(s.db.reads.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, qianmian.Errorf(qianmian.ENOTFOUND, "user %q not found", id)
	} else if err != nil {
		return nil, fmt.Errorf("find user %s: %w", id, err)
	}
	return u, nil
}

// FindUsers lists users ordered by id; page.Limit 0 means all.
func (s *UserService) FindUsers(ctx context.Context, page qianmian.Page) ([]*qianmian.User, error) {
	limit, err := limitClause(page.Limit)
	if err != nil {
		return nil, err
	}
	list, err := queryList(ctx, s.db.reads, `SELECT `+userColumns+` FROM users WHERE id > ? ORDER BY id`+limit,
		[]any{page.After}, s.scanUser)
	if err != nil {
		return nil, fmt.Errorf("find users: %w", err)
	}
	return list, nil
}

// consentColumns maps each consent purpose to its column of users.
var consentColumns = map[qianmian.ConsentPurpose]string{
	qianmian.PurposePersonalization: "consent_personalization",
	qianmian.PurposeMarketing:       "consent_marketing",
	qianmian.PurposeAnalytics:       "consent_analytics",
	qianmian.PurposeStoreAlerts:     "consent_store_alerts",
}

// FindRefusals returns the ids of the users whose consent to purpose is false, in id order.
// It reads the id and one consent column alone: no personal field is read or decrypted.
// There is no index on consent columns: most users consent, so refusals are a scan of the
// table in id order whichever way, and an index would only cost every write.
func (s *UserService) FindRefusals(ctx context.Context, purpose qianmian.ConsentPurpose) ([]string, error) {
	if err := purpose.Validate(); err != nil {
		return nil, err
	}
	col := consentColumns[purpose]
	ids, err := queryList(ctx, s.db.reads, `SELECT id FROM users WHERE `+col+` = 0 ORDER BY id`, nil,
		func(sc scanner) (string, error) {
			var id string
			err := sc.Scan(&id)
			return id, err
		})
	if err != nil {
		return nil, fmt.Errorf("find users refusing %s: %w", purpose, err)
	}
	return ids, nil
}

// UpdateConsent changes the user's consent and returns the new state; ENOTFOUND if none.
func (s *UserService) UpdateConsent(ctx context.Context, id string, upd qianmian.ConsentUpdate) (*qianmian.User, error) {
	var u *qianmian.User
	err := s.db.writeTx(ctx, func(tx *sql.Tx) error {
		var err error
		u, err = s.scanUser(tx.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE id = ?`, id))
		if errors.Is(err, sql.ErrNoRows) {
			return qianmian.Errorf(qianmian.ENOTFOUND, "user %q not found", id)
		} else if err != nil {
			return err
		}
		u.Consent = upd.Apply(u.Consent)
		u.UpdatedAt = s.db.nowTime()
		_, err = tx.ExecContext(ctx, `UPDATE users SET consent_personalization = ?, consent_marketing = ?,
			consent_analytics = ?, consent_store_alerts = ?, updated_at = ? WHERE id = ?`,
			u.Consent.Personalization, u.Consent.Marketing, u.Consent.Analytics, u.Consent.StoreAlerts,
			u.UpdatedAt.UnixMilli(), id)
		return formatError(err)
	})
	s.db.consent.changed(ctx)
	if err != nil {
		return nil, fmt.Errorf("update consent of user %s: %w", id, err)
	}
	return u, nil
}

// IdentityService links channel identifiers to users. The first link of an identity wins;
// only an operator's UnlinkIdentity (identity.go) undoes one.
type IdentityService struct{ db *DB }

// NewIdentityService returns the identity service of db.
func NewIdentityService(db *DB) *IdentityService { return &IdentityService{db: db} }

// LinkIdentity links ref to userID, recording LinkedByAPI as what made the link; a no-op if
// it is linked to userID already, ECONFLICT if it is linked to another user. An unlink of
// the pair that stands ends: events may link them again.
func (s *IdentityService) LinkIdentity(ctx context.Context, ref qianmian.IdentityRef, userID string) error {
	if err := ref.Validate("identity"); err != nil {
		return err
	}
	if err := validUserID(userID); err != nil {
		return err
	}
	err := s.db.writeTx(ctx, func(tx *sql.Tx) error {
		l, err := newLinker(ctx, tx, s.db.now())
		if err != nil {
			return err
		}
		defer l.close()
		owner, err := l.link(ctx, ref, userID, qianmian.LinkedByAPI)
		if err != nil {
			return err
		}
		if owner != userID {
			return qianmian.Errorf(qianmian.ECONFLICT, "identity %s is linked to another user", ref.Key())
		}
		_, err = tx.ExecContext(ctx, `UPDATE identity_unlinks SET relinked_at = ?
			WHERE identity_key = ? AND user_id = ? AND relinked_at IS NULL`, s.db.now(), ref.Key(), userID)
		return err
	})
	if err != nil {
		return fmt.Errorf("link identity: %w", err)
	}
	return nil
}

// ResolveIdentity returns the user ref is linked to; ENOTFOUND if it is not linked.
func (s *IdentityService) ResolveIdentity(ctx context.Context, ref qianmian.IdentityRef) (string, error) {
	var userID string
	err := s.db.reads.QueryRowContext(ctx, `SELECT user_id FROM identities WHERE key = ?`, ref.Key()).Scan(&userID)
	if errors.Is(err, sql.ErrNoRows) {
		return "", qianmian.Errorf(qianmian.ENOTFOUND, "identity %s is not linked", ref.Key())
	} else if err != nil {
		return "", fmt.Errorf("resolve identity %s: %w", ref.Key(), err)
	}
	return userID, nil
}

// FindIdentities lists the identities linked to userID, oldest link first.
func (s *IdentityService) FindIdentities(ctx context.Context, userID string) ([]*qianmian.Identity, error) {
	list, err := queryList(ctx, s.db.reads, `SELECT channel, type, value, user_id, linked_at
		FROM identities WHERE user_id = ? ORDER BY linked_at, key`, []any{userID},
		func(sc scanner) (*qianmian.Identity, error) {
			var id qianmian.Identity
			var linked int64
			if err := sc.Scan(&id.Channel, &id.Type, &id.Value, &id.UserID, &linked); err != nil {
				return nil, err
			}
			id.LinkedAt = fromMillis(linked)
			return &id, nil
		})
	if err != nil {
		return nil, fmt.Errorf("find identities of user %s: %w", userID, err)
	}
	return list, nil
}

func validUserID(id string) error {
	switch {
	case id == "":
		return qianmian.Invalid("user_id", "required")
	case len(id) > qianmian.MaxIDLength:
		return qianmian.Invalid("user_id", "longer than %d bytes", qianmian.MaxIDLength)
	}
	return nil
}

// linker links and resolves identities inside one write transaction, remembering what it
// learnt so a batch asks SQLite once per identity.
type linker struct {
	tx            *sql.Tx
	insert, owner *sql.Stmt
	now           int64
	owners        map[string]string // identity key → user id, "" when known to be unlinked

	// Unlinks that block links by events, read when an event would first link a pair.
	unlinksRead bool               // whether any unlink stands was read
	anyUnlinks  bool               // some unlink stands
	blocking    *sql.Stmt          // prepared when first needed
	blocked     map[[2]string]bool // (identity key, user id) → an unlink of the pair stands
}

func newLinker(ctx context.Context, tx *sql.Tx, now int64) (*linker, error) {
	insert, err := tx.PrepareContext(ctx, `INSERT INTO identities (key, channel, type, value, user_id, linked_at, linked_by)
		VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (key) DO NOTHING`)
	if err != nil {
		return nil, err
	}
	owner, err := tx.PrepareContext(ctx, `SELECT user_id FROM identities WHERE key = ?`)
	if err != nil {
		_ = insert.Close()
		return nil, err
	}
	return &linker{tx: tx, insert: insert, owner: owner, now: now, owners: make(map[string]string)}, nil
}

func (l *linker) close() {
	_ = l.insert.Close()
	_ = l.owner.Close()
	if l.blocking != nil {
		_ = l.blocking.Close()
	}
}

// resolve returns the user the identity with the given key is linked to, or "".
func (l *linker) resolve(ctx context.Context, key string) (string, error) {
	if u, ok := l.owners[key]; ok {
		return u, nil
	}
	var u string
	err := l.owner.QueryRowContext(ctx, key).Scan(&u)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return "", fmt.Errorf("resolve identity %s: %w", key, err)
	}
	l.owners[key] = u
	return u, nil
}

// link links ref to userID unless it is linked already, recording by as what made the
// link, and returns the user it is linked to afterwards: userID, or the earlier owner.
func (l *linker) link(ctx context.Context, ref qianmian.IdentityRef, userID, by string) (string, error) {
	key := ref.Key()
	if u, ok := l.owners[key]; ok && u != "" {
		return u, nil
	}
	res, err := l.insert.ExecContext(ctx, key, string(ref.Channel), string(ref.Type), ref.Value, userID, l.now, by)
	if err != nil {
		return "", fmt.Errorf("link identity %s: %w", key, formatError(err))
	}
	if n, err := res.RowsAffected(); err != nil {
		return "", err
	} else if n == 1 {
		l.owners[key] = userID
		return userID, nil
	}
	delete(l.owners, key)
	return l.resolve(ctx, key)
}

// linkByEvent links ref to userID as the event eventID, which carries both, asks: unless
// the identity is linked already or an unlink of the pair stands. It returns the user the
// identity is linked to afterwards, "" when none.
func (l *linker) linkByEvent(ctx context.Context, ref qianmian.IdentityRef, userID, eventID string) (string, error) {
	key := ref.Key()
	if u, ok := l.owners[key]; ok && u != "" {
		return u, nil
	}
	blocked, err := l.isBlocked(ctx, key, userID)
	if err != nil {
		return "", err
	}
	if blocked {
		return l.resolve(ctx, key)
	}
	return l.link(ctx, ref, userID, eventID)
}

// isBlocked reports whether an unlink of the identity key from userID stands. Unlinks are
// rare, so it first asks once whether any stands at all.
func (l *linker) isBlocked(ctx context.Context, key, userID string) (bool, error) {
	if !l.unlinksRead {
		err := l.tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM identity_unlinks
			WHERE relinked_at IS NULL)`).Scan(&l.anyUnlinks)
		if err != nil {
			return false, fmt.Errorf("read unlinks: %w", err)
		}
		l.unlinksRead = true
	}
	if !l.anyUnlinks {
		return false, nil
	}
	pair := [2]string{key, userID}
	if b, ok := l.blocked[pair]; ok {
		return b, nil
	}
	if l.blocking == nil {
		stmt, err := l.tx.PrepareContext(ctx, `SELECT EXISTS (SELECT 1 FROM identity_unlinks
			WHERE identity_key = ? AND user_id = ? AND relinked_at IS NULL)`)
		if err != nil {
			return false, fmt.Errorf("read unlinks: %w", err)
		}
		l.blocking, l.blocked = stmt, make(map[[2]string]bool)
	}
	var b bool
	if err := l.blocking.QueryRowContext(ctx, key, userID).Scan(&b); err != nil {
		return false, fmt.Errorf("read unlink of %s from %s: %w", key, userID, err)
	}
	l.blocked[pair] = b
	return b, nil
}
