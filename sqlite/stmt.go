package sqlite

import (
	"context"
	"database/sql"
	"sync"
)

// maxReadStmts bounds how many distinct read queries keep a prepared statement. The
// queries are literals of this package and a few shapes built from filters, so the bound is
// a guard against a query built with a variable-length list, not a working limit.
const maxReadStmts = 512

// readStmts runs read queries through statements prepared once and kept, rather than
// parsed and planned again on every call: database/sql prepares each on a connection of
// the read pool the first time it is used there. A ranking request reads consent and, for
// a visitor new to this process, the visitor's events; parsing was ~10% of such a request.
type readStmts struct {
	db *sql.DB

	mu sync.RWMutex
	m  map[string]*sql.Stmt
}

func newReadStmts(db *sql.DB) *readStmts {
	return &readStmts{db: db, m: make(map[string]*sql.Stmt)}
}

// stmt returns the prepared statement of query, or nil when it cannot be kept (the bound
// is reached, or preparing failed: the caller then runs the query plainly, which reports
// the error).
func (r *readStmts) stmt(ctx context.Context, query string) *sql.Stmt {
	r.mu.RLock()
	st, ok := r.m[query]
	n := len(r.m)
	r.mu.RUnlock()
	if ok || n >= maxReadStmts {
		return st
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if st, ok := r.m[query]; ok {
		return st
	}
	if len(r.m) >= maxReadStmts {
		return nil
	}
	st, err := r.db.PrepareContext(ctx, query)
	if err != nil {
		return nil
	}
	r.m[query] = st
	return st
}

// QueryContext is sql.DB's, through the prepared statement of query.
func (r *readStmts) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if st := r.stmt(ctx, query); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return r.db.QueryContext(ctx, query, args...)
}

// QueryRowContext is sql.DB's, through the prepared statement of query.
func (r *readStmts) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	if st := r.stmt(ctx, query); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return r.db.QueryRowContext(ctx, query, args...)
}

// Len is the number of statements kept.
func (r *readStmts) Len() int {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return len(r.m)
}

// Close closes every statement kept.
func (r *readStmts) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	var first error
	for q, st := range r.m {
		if err := st.Close(); err != nil && first == nil {
			first = err
		}
		delete(r.m, q)
	}
	return first
}
