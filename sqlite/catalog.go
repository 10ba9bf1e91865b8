package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/qianmian/qianmian"
)

// Compile-time checks that the services implement the domain interfaces.
var (
	_ qianmian.SupplierService = (*SupplierService)(nil)
	_ qianmian.StoreService    = (*StoreService)(nil)
	_ qianmian.ItemService     = (*ItemService)(nil)
)

// SupplierService stores suppliers. UpdatedAt is set to the DB's clock on upsert.
type SupplierService struct{ db *DB }

// NewSupplierService returns the supplier service of db.
func NewSupplierService(db *DB) *SupplierService { return &SupplierService{db: db} }

// UpsertSuppliers inserts or replaces suppliers in one transaction.
func (s *SupplierService) UpsertSuppliers(ctx context.Context, suppliers []*qianmian.Supplier) error {
	for i, sp := range suppliers {
		if sp == nil {
			return qianmian.Errorf(qianmian.EINVALID, "supplier %d is null", i)
		}
		if err := sp.Validate(); err != nil {
			return err
		}
	}
	if len(suppliers) == 0 {
		return nil
	}
	now := s.db.nowTime()
	err := s.db.writeTx(ctx, func(tx *sql.Tx) error {
		stmt, err := tx.PrepareContext(ctx, `INSERT INTO suppliers (id, name, region, updated_at)
			VALUES (?, ?, ?, ?)
			ON CONFLICT (id) DO UPDATE SET name = excluded.name, region = excluded.region,
				updated_at = excluded.updated_at`)
		if err != nil {
			return err
		}
		defer stmt.Close()
		for _, sp := range suppliers {
			if _, err := stmt.ExecContext(ctx, sp.ID, sp.Name, sp.Region, now.UnixMilli()); err != nil {
				return formatError(err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("upsert suppliers: %w", err)
	}
	for _, sp := range suppliers {
		sp.UpdatedAt = now
	}
	return nil
}

const supplierColumns = `id, name, region, updated_at`

func scanSupplier(sc scanner) (*qianmian.Supplier, error) {
	var sp qianmian.Supplier
	var updated int64
	if err := sc.Scan(&sp.ID, &sp.Name, &sp.Region, &updated); err != nil {
		return nil, err
	}
	sp.UpdatedAt = fromMillis(updated)
	return &sp, nil
}

// FindSupplierByID returns ENOTFOUND if there is no such supplier.
func (s *SupplierService) FindSupplierByID(ctx context.Context, id string) (*qianmian.Supplier, error) {
	row := s.db.reads.QueryRowContext(ctx, `SELECT `+supplierColumns+` FROM suppliers WHERE id = ?`, id)
	sp, err := scanSupplier(row)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, qianmian.Errorf(qianmian.ENOTFOUND, "supplier %q not found", id)
	} else if err != nil {
		return nil, fmt.Errorf("find supplier %s: %w", id, err)
	}
	return sp, nil
}

// FindSuppliers lists suppliers ordered by id; page.Limit 0 means all.
func (s *SupplierService) FindSuppliers(ctx context.Context, page qianmian.Page) ([]*qianmian.Supplier, error) {
	limit, err := limitClause(page.Limit)
	if err != nil {
		return nil, err
	}
	list, err := queryList(ctx, s.db.reads, `SELECT `+supplierColumns+` FROM suppliers WHERE id > ? ORDER BY id`+limit,
		[]any{page.After}, scanSupplier)
	if err != nil {
		return nil, fmt.Errorf("find suppliers: %w", err)
	}
	return list, nil
}

// StoreService stores stores. UpdatedAt is set to the DB's clock on upsert.
type StoreService struct{ db *DB }

// NewStoreService returns the store service of db.
func NewStoreService(db *DB) *StoreService { return &StoreService{db: db} }

// UpsertStores inserts or replaces stores in one transaction.
func (s *StoreService) UpsertStores(ctx context.Context, stores []*qianmian.Store) error {
	for i, st := range stores {
		if st == nil {
			return qianmian.Errorf(qianmian.EINVALID, "store %d is null", i)
		}
		if err := st.Validate(); err != nil {
			return err
		}
	}
	if len(stores) == 0 {
		return nil
	}
	now := s.db.nowTime()
	err := s.db.writeTx(ctx, func(tx *sql.Tx) error {
		stmt, err := tx.PrepareContext(ctx, `INSERT INTO stores (id, name, region, city, channel, lat, lon, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (id) DO UPDATE SET name = excluded.name, region = excluded.region,
				city = excluded.city, channel = excluded.channel, lat = excluded.lat,
				lon = excluded.lon, updated_at = excluded.updated_at`)
		if err != nil {
			return err
		}
		defer stmt.Close()
		for _, st := range stores {
			lat, lon := geoColumns(st.Geo)
			if _, err := stmt.ExecContext(ctx, st.ID, st.Name, st.Region, st.City, string(st.Channel),
				lat, lon, now.UnixMilli()); err != nil {
				return formatError(err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("upsert stores: %w", err)
	}
	for _, st := range stores {
		st.UpdatedAt = now
	}
	return nil
}

const storeColumns = `id, name, region, city, channel, lat, lon, updated_at`

func scanStore(sc scanner) (*qianmian.Store, error) {
	var st qianmian.Store
	var lat, lon sql.NullFloat64
	var updated int64
	if err := sc.Scan(&st.ID, &st.Name, &st.Region, &st.City, &st.Channel, &lat, &lon, &updated); err != nil {
		return nil, err
	}
	st.Geo = geoPoint(lat, lon)
	st.UpdatedAt = fromMillis(updated)
	return &st, nil
}

// FindStoreByID returns ENOTFOUND if there is no such store.
func (s *StoreService) FindStoreByID(ctx context.Context, id string) (*qianmian.Store, error) {
	row := s.db.reads.QueryRowContext(ctx, `SELECT `+storeColumns+` FROM stores WHERE id = ?`, id)
	st, err := scanStore(row)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, qianmian.Errorf(qianmian.ENOTFOUND, "store %q not found", id)
	} else if err != nil {
		return nil, fmt.Errorf("find store %s: %w", id, err)
	}
	return st, nil
}

// FindStores lists stores ordered by id; filter.Limit 0 means all.
func (s *StoreService) FindStores(ctx context.Context, filter qianmian.StoreFilter) ([]*qianmian.Store, error) {
	limit, err := limitClause(filter.Limit)
	if err != nil {
		return nil, err
	}
	where, args := []string{"id > ?"}, []any{filter.After}
	if filter.Region != "" {
		where, args = append(where, "region = ?"), append(args, filter.Region)
	}
	list, err := queryList(ctx, s.db.reads, `SELECT `+storeColumns+` FROM stores WHERE `+
		strings.Join(where, " AND ")+` ORDER BY id`+limit, args, scanStore)
	if err != nil {
		return nil, fmt.Errorf("find stores: %w", err)
	}
	return list, nil
}

// ItemService stores the catalogue. Category, Attributes and Tags are kept as JSON;
// UpdatedAt is set to the DB's clock on upsert.
type ItemService struct{ db *DB }

// NewItemService returns the item service of db.
func NewItemService(db *DB) *ItemService { return &ItemService{db: db} }

// UpsertItems inserts or replaces items in one transaction.
func (s *ItemService) UpsertItems(ctx context.Context, items []*qianmian.Item) error {
	for i, it := range items {
		if it == nil {
			return qianmian.Errorf(qianmian.EINVALID, "item %d is null", i)
		}
		if err := it.Validate(); err != nil {
			return err
		}
	}
	if len(items) == 0 {
		return nil
	}
	now := s.db.nowTime()
	err := s.db.writeTx(ctx, func(tx *sql.Tx) error {
		stmt, err := tx.PrepareContext(ctx, `INSERT INTO items (id, supplier_id, title, category, brand,
				price, attributes, tags, status, launched_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (id) DO UPDATE SET supplier_id = excluded.supplier_id, title = excluded.title,
				category = excluded.category, brand = excluded.brand, price = excluded.price,
				attributes = excluded.attributes, tags = excluded.tags, status = excluded.status,
				launched_at = excluded.launched_at, updated_at = excluded.updated_at`)
		if err != nil {
			return err
		}
		defer stmt.Close()
		for _, it := range items {
			category, attrs, tags, err := itemJSON(it)
			if err != nil {
				return err
			}
			if _, err := stmt.ExecContext(ctx, it.ID, it.SupplierID, it.Title, category, it.Brand,
				it.Price, attrs, tags, string(it.Status), nullMillis(it.LaunchedAt), now.UnixMilli()); err != nil {
				return formatError(err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("upsert items: %w", err)
	}
	for _, it := range items {
		it.UpdatedAt = now
	}
	return nil
}

func itemJSON(it *qianmian.Item) (category, attrs, tags string, err error) {
	c, err := json.Marshal(it.Category)
	if err != nil {
		return "", "", "", fmt.Errorf("item %s category: %w", it.ID, err)
	}
	a := []byte("{}")
	if len(it.Attributes) > 0 {
		if a, err = json.Marshal(it.Attributes); err != nil {
			return "", "", "", fmt.Errorf("item %s attributes: %w", it.ID, err)
		}
	}
	t := []byte("[]")
	if len(it.Tags) > 0 {
		if t, err = json.Marshal(it.Tags); err != nil {
			return "", "", "", fmt.Errorf("item %s tags: %w", it.ID, err)
		}
	}
	return string(c), string(a), string(t), nil
}

const itemColumns = `id, supplier_id, title, category, brand, price, attributes, tags, status, launched_at, updated_at`

func scanItem(sc scanner) (*qianmian.Item, error) {
	var it qianmian.Item
	var category, attrs, tags string
	var launched sql.NullInt64
	var updated int64
	if err := sc.Scan(&it.ID, &it.SupplierID, &it.Title, &category, &it.Brand, &it.Price,
		&attrs, &tags, &it.Status, &launched, &updated); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(category), &it.Category); err != nil {
		return nil, fmt.Errorf("item %s category: %w", it.ID, err)
	}
	if attrs != "{}" {
		if err := json.Unmarshal([]byte(attrs), &it.Attributes); err != nil {
			return nil, fmt.Errorf("item %s attributes: %w", it.ID, err)
		}
	}
	if tags != "[]" {
		if err := json.Unmarshal([]byte(tags), &it.Tags); err != nil {
			return nil, fmt.Errorf("item %s tags: %w", it.ID, err)
		}
	}
	it.LaunchedAt = fromNullMillis(launched)
	it.UpdatedAt = fromMillis(updated)
	return &it, nil
}

// FindItemByID returns ENOTFOUND if there is no such item.
func (s *ItemService) FindItemByID(ctx context.Context, id string) (*qianmian.Item, error) {
	row := s.db.reads.QueryRowContext(ctx, `SELECT `+itemColumns+` FROM items WHERE id = ?`, id)
	it, err := scanItem(row)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, qianmian.Errorf(qianmian.ENOTFOUND, "item %q not found", id)
	} else if err != nil {
		return nil, fmt.Errorf("find item %s: %w", id, err)
	}
	return it, nil
}

// FindItems lists items ordered by id; filter.Limit 0 means all.
func (s *ItemService) FindItems(ctx context.Context, filter qianmian.ItemFilter) ([]*qianmian.Item, error) {
	limit, err := limitClause(filter.Limit)
	if err != nil {
		return nil, err
	}
	where, args := []string{"id > ?"}, []any{filter.After}
	if filter.SupplierID != "" {
		where, args = append(where, "supplier_id = ?"), append(args, filter.SupplierID)
	}
	if len(filter.IDs) > 0 {
		// One JSON parameter instead of one per id keeps long lists under SQLite's limit on
		// bound variables.
		ids, err := json.Marshal(filter.IDs)
		if err != nil {
			return nil, fmt.Errorf("find items: %w", err)
		}
		where, args = append(where, "id IN (SELECT value FROM json_each(?))"), append(args, string(ids))
	}
	list, err := queryList(ctx, s.db.reads, `SELECT `+itemColumns+` FROM items WHERE `+
		strings.Join(where, " AND ")+` ORDER BY id`+limit, args, scanItem)
	if err != nil {
		return nil, fmt.Errorf("find items: %w", err)
	}
	return list, nil
}

// scanner is a *sql.Row or *sql.Rows.
type scanner interface {
	Scan(dest ...any) error
}

// queryer is a *sql.DB or *sql.Tx.
type queryer interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// queryList runs query and scans every row with scan.
func queryList[T any](ctx context.Context, q queryer, query string, args []any, scan func(scanner) (T, error)) ([]T, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var list []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		list = append(list, v)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return list, nil
}

// geoColumns returns the lat and lon columns of g, NULL when g is nil.
func geoColumns(g *qianmian.GeoPoint) (lat, lon sql.NullFloat64) {
	if g == nil {
		return lat, lon
	}
	return sql.NullFloat64{Float64: g.Lat, Valid: true}, sql.NullFloat64{Float64: g.Lon, Valid: true}
}

// geoPoint is the inverse of geoColumns.
func geoPoint(lat, lon sql.NullFloat64) *qianmian.GeoPoint {
	if !lat.Valid || !lon.Valid {
		return nil
	}
	return &qianmian.GeoPoint{Lat: lat.Float64, Lon: lon.Float64}
}
