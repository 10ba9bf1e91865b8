// Package sqlite implements every storage interface of package qianmian over SQLite, with
// modernc.org/sqlite (pure Go, no cgo). It is the embedded default: one file in a data
// directory, numbered migrations embedded in the binary, WAL, and one writer.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"time"

	"github.com/qianmian/qianmian"
	msqlite "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

//go:embed migration/*.sql
var migrationFS embed.FS

// DB is the SQLite store. Set its fields after NewDB and before Open.
//
// All writes go through one connection, so writers queue in-process instead of failing with
// SQLITE_BUSY; reads use a separate pool and see the last committed state (WAL).
type DB struct {
	// Path is the database file; it and its directory are created when missing.
	Path string
	// Now is the clock that stamps updated_at, created_at and received_at.
	Now func() time.Time
	// Bus receives events after they are committed. Defaults to a bus that drops them.
	Bus qianmian.EventBus
	// Cipher encrypts users' personal fields. When nil, users with personal fields are
	// rejected (EINVALID) rather than stored in the clear.
	Cipher qianmian.FieldCipher
	// Logger defaults to discarding.
	Logger *slog.Logger
	// ReadConns bounds the read pool; 0 means max(4, GOMAXPROCS).
	ReadConns int

	write        *sql.DB // exactly one connection
	read         *sql.DB
	reads        *readStmts             // read's prepared statements; see stmt.go
	eventInserts [insertSizes]*sql.Stmt // on write; see insertEventsSQL
	events       *eventWriter           // queues CreateEvents batches for write
	consent      *consentIndex          // who refuses personalisation; see consent.go
	keys         *readCache[keyRow]     // API key id → its row; see cache.go
}

// NewDB returns a DB for the file at path with safe defaults.
func NewDB(path string) *DB {
	return &DB{
		Path:   path,
		Now:    time.Now,
		Bus:    nopBus{},
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
}

// Open creates the database file if needed, applies pending migrations, opens the
// connection pools and reads who refuses personalisation (consent.go).
func (db *DB) Open() error {
	if db.Path == "" {
		return errors.New("sqlite: path required")
	}
	if db.Path == ":memory:" || strings.HasPrefix(db.Path, "file:") {
		// Two pools over one in-memory database would be two databases.
		return fmt.Errorf("sqlite: path must be a plain file path, not %q", db.Path)
	}
	if db.Now == nil {
		db.Now = time.Now
	}
	if db.Bus == nil {
		db.Bus = nopBus{}
	}
	if db.Logger == nil {
		db.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if dir := filepath.Dir(db.Path); dir != "" {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return fmt.Errorf("sqlite: create data directory: %w", err)
		}
	}

	// synchronous=FULL: a commit returns only after the WAL is on disk, so an acknowledged
	// write survives kill -9 and power loss. BEGIN IMMEDIATE takes the write lock up front,
	// so a transaction never fails halfway for want of it.
	dsn, err := db.dsn(
		"_txlock=immediate",
		"_pragma=busy_timeout(10000)",
		"_pragma=journal_mode(WAL)",
		"_pragma=synchronous(FULL)",
		"_pragma=foreign_keys(1)",
		// 128 MB of page cache: a group of events dirties pages all over the user indexes,
		// and each page not cached is read back with a system call.
		"_pragma=cache_size(-131072)",
		// Checkpoint every 32,768 pages (128 MB) rather than 1,000: a group of events dirties
		// index pages all over, and fewer, larger checkpoints copy each page fewer times
		// (with 10,000 pages, ingest through HTTP was ~10% slower; with none at all, no
		// faster than this).
		"_pragma=wal_autocheckpoint(32768)",
		// A checkpoint cannot finish while a long read (training) holds an old snapshot, so
		// the WAL may grow past the checkpoint size; once it is reset, cut the file back to
		// 64 MB rather than keep the peak.
		"_pragma=journal_size_limit(67108864)",
	)
	if err != nil {
		return err
	}
	w, err := sql.Open("sqlite", dsn)
	if err != nil {
		return fmt.Errorf("sqlite: open writer: %w", err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)
	db.write = w
	db.events = newEventWriter()
	db.keys = newReadCache[keyRow](time.Now)
	if err := db.migrate(context.Background()); err != nil {
		_ = db.Close()
		return err
	}
	if err := db.prepareEventInserts(context.Background()); err != nil {
		_ = db.Close()
		return err
	}

	n := db.ReadConns
	if n <= 0 {
		n = max(4, runtime.GOMAXPROCS(0))
	}
	dsn, err = db.dsn(
		"_pragma=busy_timeout(10000)",
		"_pragma=foreign_keys(1)",
		"_pragma=query_only(1)",
	)
	if err != nil {
		_ = db.Close()
		return err
	}
	r, err := sql.Open("sqlite", dsn)
	if err != nil {
		_ = db.Close()
		return fmt.Errorf("sqlite: open readers: %w", err)
	}
	r.SetMaxOpenConns(n)
	r.SetMaxIdleConns(n)
	db.read = r
	db.reads = newReadStmts(r)
	if err := r.Ping(); err != nil {
		_ = db.Close()
		return fmt.Errorf("sqlite: open readers: %w", err)
	}
	db.consent = newConsentIndex(db)
	if err := db.consent.load(context.Background()); err != nil {
		_ = db.Close()
		return fmt.Errorf("sqlite: load consent: %w", err)
	}
	return nil
}

// dsn returns a file: URI of the database with the driver parameters. The path is made
// absolute and escaped, so any file name works ("data dir/a?b.db").
func (db *DB) dsn(params ...string) (string, error) {
	abs, err := filepath.Abs(db.Path)
	if err != nil {
		return "", fmt.Errorf("sqlite: %w", err)
	}
	u := url.URL{Scheme: "file", Path: filepath.ToSlash(abs), RawQuery: strings.Join(params, "&")}
	return u.String(), nil
}

// Close closes both pools. It is safe to call on a DB that failed to open.
func (db *DB) Close() error {
	var errs []error
	if db.reads != nil {
		errs = append(errs, db.reads.Close())
		db.reads = nil
	}
	if db.read != nil {
		errs = append(errs, db.read.Close())
		db.read = nil
	}
	for k, stmt := range db.eventInserts {
		if stmt != nil {
			errs = append(errs, stmt.Close())
			db.eventInserts[k] = nil
		}
	}
	if db.write != nil {
		// Keeps the planner's statistics fresh at little cost (a no-op most of the time).
		if _, err := db.write.Exec(`PRAGMA optimize`); err != nil {
			db.Logger.Warn("sqlite: optimize on close", "err", err)
		}
		errs = append(errs, db.write.Close())
		db.write = nil
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("sqlite: close: %w", err)
	}
	return nil
}

// migrate applies, in name order, every embedded migration not yet recorded in the
// migrations table, each in its own transaction with its record.
func (db *DB) migrate(ctx context.Context) error {
	if _, err := db.write.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS migrations (
		name TEXT PRIMARY KEY, applied_at INTEGER NOT NULL)`); err != nil {
		return fmt.Errorf("sqlite: create migrations table: %w", err)
	}
	names, err := fs.Glob(migrationFS, "migration/*.sql")
	if err != nil {
		return fmt.Errorf("sqlite: list migrations: %w", err)
	}
	sort.Strings(names)
	for _, name := range names {
		if err := db.migrateFile(ctx, name); err != nil {
			return fmt.Errorf("sqlite: migration %s: %w", path.Base(name), err)
		}
	}
	return nil
}

func (db *DB) migrateFile(ctx context.Context, name string) error {
	return db.writeTx(ctx, func(tx *sql.Tx) error {
		var n int
		base := path.Base(name)
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM migrations WHERE name = ?`, base).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return nil
		}
		body, err := fs.ReadFile(migrationFS, name)
		if err != nil {
			return err
		}
		// A migration that builds an index over a large log takes a while (0008 took a
		// minute on 21 million events): say so before and after.
		start := time.Now()
		db.Logger.Info("sqlite: applying migration", "migration", base)
		if _, err := tx.ExecContext(ctx, string(body)); err != nil {
			return err
		}
		if _, err = tx.ExecContext(ctx, `INSERT INTO migrations (name, applied_at) VALUES (?, ?)`, base, db.now()); err != nil {
			return err
		}
		db.Logger.Info("sqlite: migration applied", "migration", base, "seconds", time.Since(start).Seconds())
		return nil
	})
}

// writeTx runs fn in a transaction on the write connection and commits if fn succeeds.
// Errors from fn are returned as they are; fn formats its own.
func (db *DB) writeTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer func() { _ = tx.Rollback() }()
	if err := fn(tx); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", formatError(err))
	}
	return nil
}

// now returns the clock's time as UTC milliseconds.
func (db *DB) now() int64 { return db.Now().UnixMilli() }

// nowTime returns the clock's time truncated to what is stored, so values set on the
// caller's structs equal those read back.
func (db *DB) nowTime() time.Time { return fromMillis(db.now()) }

// fromMillis turns stored milliseconds into a UTC time.
func fromMillis(ms int64) time.Time { return time.UnixMilli(ms).UTC() }

// nullMillis stores a zero time as NULL.
func nullMillis(t time.Time) sql.NullInt64 {
	if t.IsZero() {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: t.UnixMilli(), Valid: true}
}

// fromNullMillis is the inverse of nullMillis.
func fromNullMillis(v sql.NullInt64) time.Time {
	if !v.Valid {
		return time.Time{}
	}
	return fromMillis(v.Int64)
}

// formatError turns SQLite constraint violations into ECONFLICT errors and returns every
// other error unchanged.
func formatError(err error) error {
	var se *msqlite.Error
	if err == nil || !errors.As(err, &se) {
		return err
	}
	if se.Code()&0xff == sqlite3.SQLITE_CONSTRAINT {
		return qianmian.Errorf(qianmian.ECONFLICT, "conflicts with stored data: %s", se.Error())
	}
	return err
}

// limitClause renders a page limit; 0 means no limit.
func limitClause(limit int) (string, error) {
	switch {
	case limit < 0:
		return "", qianmian.Invalid("limit", "must be >= 0")
	case limit == 0:
		return "", nil
	}
	return fmt.Sprintf(" LIMIT %d", limit), nil
}

// nopBus is the default Bus: it drops what is published and its subscriptions never
// deliver.
type nopBus struct{}

func (nopBus) Publish(context.Context, []*qianmian.Event) {}

func (nopBus) Subscribe() qianmian.Subscription {
	return &nopSubscription{c: make(chan []*qianmian.Event)}
}

type nopSubscription struct{ c chan []*qianmian.Event }

func (s *nopSubscription) C() <-chan []*qianmian.Event { return s.c }

// Close closes C, so a receiver learns the subscription ended. Calling it twice panics,
// as closing a channel twice does.
func (s *nopSubscription) Close() { close(s.c) }
