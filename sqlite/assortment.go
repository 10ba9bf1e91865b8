package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/qianmian/qianmian"
)

var _ qianmian.AssortmentService = (*AssortmentService)(nil)

// AssortmentService stores which store sells which item. UpdatedAt is set to the DB's
// clock on upsert.
type AssortmentService struct{ db *DB }

// NewAssortmentService returns the assortment service of db.
func NewAssortmentService(db *DB) *AssortmentService { return &AssortmentService{db: db} }

// UpsertAssortments inserts or replaces entries in one transaction. An entry naming a store
// or item that does not exist fails the batch with ENOTFOUND, whose Field is "store_id" or
// "item_id" and whose message names the missing id.
func (s *AssortmentService) UpsertAssortments(ctx context.Context, entries []*qianmian.Assortment) error {
	for i, a := range entries {
		if a == nil {
			return qianmian.Errorf(qianmian.EINVALID, "assortment entry %d is null", i)
		}
		if err := a.Validate(); err != nil {
			return err
		}
	}
	if len(entries) == 0 {
		return nil
	}
	now := s.db.nowTime()
	err := s.db.writeTx(ctx, func(tx *sql.Tx) error {
		check, err := newExistence(ctx, tx)
		if err != nil {
			return err
		}
		defer check.close()
		stmt, err := tx.PrepareContext(ctx, `INSERT INTO assortments (store_id, item_id, price, in_stock,
				commission_rate, updated_at)
			VALUES (?, ?, ?, ?, ?, ?)
			ON CONFLICT (store_id, item_id) DO UPDATE SET price = excluded.price,
				in_stock = excluded.in_stock, commission_rate = excluded.commission_rate,
				updated_at = excluded.updated_at`)
		if err != nil {
			return err
		}
		defer stmt.Close()
		for _, a := range entries {
			if err := check.entry(ctx, a); err != nil {
				return err
			}
			if _, err := stmt.ExecContext(ctx, a.StoreID, a.ItemID, a.Price, a.InStock,
				a.CommissionRate, now.UnixMilli()); err != nil {
				return formatError(err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("upsert assortments: %w", err)
	}
	for _, a := range entries {
		a.UpdatedAt = now
	}
	return nil
}

// existence checks that the stores and items of a batch exist, asking once per id, so the
// error can say which one is missing (a foreign key violation would not).
type existence struct {
	store, item *sql.Stmt
	seen        map[string]bool // "s:"+id or "i:"+id
}

func newExistence(ctx context.Context, tx *sql.Tx) (*existence, error) {
	store, err := tx.PrepareContext(ctx, `SELECT EXISTS (SELECT 1 FROM stores WHERE id = ?)`)
	if err != nil {
		return nil, err
	}
	item, err := tx.PrepareContext(ctx, `SELECT EXISTS (SELECT 1 FROM items WHERE id = ?)`)
	if err != nil {
		_ = store.Close()
		return nil, err
	}
	return &existence{store: store, item: item, seen: make(map[string]bool)}, nil
}

func (e *existence) close() {
	_ = e.store.Close()
	_ = e.item.Close()
}

func (e *existence) entry(ctx context.Context, a *qianmian.Assortment) error {
	ok, err := e.exists(ctx, e.store, "s:", a.StoreID)
	if err != nil {
		return fmt.Errorf("check store %s: %w", a.StoreID, err)
	}
	if !ok {
		return &qianmian.Error{Code: qianmian.ENOTFOUND, Field: "store_id",
			Message: fmt.Sprintf("store %q not found", a.StoreID)}
	}
	ok, err = e.exists(ctx, e.item, "i:", a.ItemID)
	if err != nil {
		return fmt.Errorf("check item %s: %w", a.ItemID, err)
	}
	if !ok {
		return &qianmian.Error{Code: qianmian.ENOTFOUND, Field: "item_id",
			Message: fmt.Sprintf("item %q not found", a.ItemID)}
	}
	return nil
}

func (e *existence) exists(ctx context.Context, stmt *sql.Stmt, prefix, id string) (bool, error) {
	if ok, seen := e.seen[prefix+id]; seen {
		return ok, nil
	}
	var ok bool
	if err := stmt.QueryRowContext(ctx, id).Scan(&ok); err != nil {
		return false, err
	}
	e.seen[prefix+id] = ok
	return ok, nil
}

const assortmentColumns = `a.store_id, a.item_id, a.price, a.in_stock, a.commission_rate, a.updated_at`

func scanAssortment(sc scanner) (*qianmian.Assortment, error) {
	var a qianmian.Assortment
	var updated int64
	if err := sc.Scan(&a.StoreID, &a.ItemID, &a.Price, &a.InStock, &a.CommissionRate, &updated); err != nil {
		return nil, err
	}
	a.UpdatedAt = fromMillis(updated)
	return &a, nil
}

// FindAssortments lists entries ordered by (store_id, item_id); filter.Limit 0 means all.
// With StoreID set, After is an item id; otherwise it is "store_id/item_id", split at the
// first "/" (so a store id containing "/" cannot be used as a cursor without StoreID).
func (s *AssortmentService) FindAssortments(ctx context.Context, filter qianmian.AssortmentFilter) ([]*qianmian.Assortment, error) {
	limit, err := limitClause(filter.Limit)
	if err != nil {
		return nil, err
	}
	from := `assortments a`
	var where []string
	var args []any
	if filter.StoreID != "" {
		where, args = append(where, "a.store_id = ?"), append(args, filter.StoreID)
	}
	if filter.ItemID != "" {
		where, args = append(where, "a.item_id = ?"), append(args, filter.ItemID)
	}
	if filter.SupplierID != "" {
		from += ` JOIN items i ON i.id = a.item_id`
		where, args = append(where, "i.supplier_id = ?"), append(args, filter.SupplierID)
	}
	if filter.InStock != nil {
		where, args = append(where, "a.in_stock = ?"), append(args, *filter.InStock)
	}
	if filter.After != "" {
		if filter.StoreID != "" {
			where, args = append(where, "a.item_id > ?"), append(args, filter.After)
		} else {
			store, item, ok := strings.Cut(filter.After, "/")
			if !ok {
				return nil, qianmian.Invalid("after", "must be store_id/item_id when no store is given")
			}
			where, args = append(where, "(a.store_id, a.item_id) > (?, ?)"), append(args, store, item)
		}
	}
	query := `SELECT ` + assortmentColumns + ` FROM ` + from
	if len(where) > 0 {
		query += ` WHERE ` + strings.Join(where, " AND ")
	}
	query += ` ORDER BY a.store_id, a.item_id` + limit
	list, err := queryList(ctx, s.db.reads, query, args, scanAssortment)
	if err != nil {
		return nil, fmt.Errorf("find assortments: %w", err)
	}
	return list, nil
}
