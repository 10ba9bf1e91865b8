package qianmian

import (
	"context"
	"math"
	"strings"
	"time"
)

// Supplier is a brand or factory whose goods stores resell (the S of S2b2c).
type Supplier struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Region    string    `json:"region,omitempty"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Validate reports an EINVALID error naming the field if the supplier cannot be stored.
func (s *Supplier) Validate() error {
	if err := validID("id", s.ID); err != nil {
		return err
	}
	if strings.TrimSpace(s.Name) == "" {
		return Invalid("name", "required")
	}
	return nil
}

// StoreChannel says where a store sells.
type StoreChannel string

// Store channels.
const (
	StoreOnline  StoreChannel = "online"
	StoreOffline StoreChannel = "offline"
	StoreBoth    StoreChannel = "both"
)

// GeoPoint is a WGS-84 position.
type GeoPoint struct {
	Lat float64 `json:"lat"`
	Lon float64 `json:"lon"`
}

// Validate reports an EINVALID error for coordinates off the globe; field is the
// prefix used in the message ("geo", "context.geo").
func (g *GeoPoint) Validate(field string) error {
	if g == nil {
		return nil
	}
	if math.IsNaN(g.Lat) || g.Lat < -90 || g.Lat > 90 {
		return Invalid(field+".lat", "must be between -90 and 90")
	}
	if math.IsNaN(g.Lon) || g.Lon < -180 || g.Lon > 180 {
		return Invalid(field+".lon", "must be between -180 and 180")
	}
	return nil
}

// Store is a small reseller (the b of S2b2c) with its own shop: online, offline or both.
type Store struct {
	ID        string       `json:"id"`
	Name      string       `json:"name"`
	Region    string       `json:"region"`
	City      string       `json:"city"`
	Channel   StoreChannel `json:"channel"`
	Geo       *GeoPoint    `json:"geo,omitempty"`
	UpdatedAt time.Time    `json:"updated_at"`
}

// Validate reports an EINVALID error naming the field if the store cannot be stored.
func (s *Store) Validate() error {
	if err := validID("id", s.ID); err != nil {
		return err
	}
	if strings.TrimSpace(s.Region) == "" {
		return Invalid("region", "required")
	}
	switch s.Channel {
	case StoreOnline, StoreOffline, StoreBoth:
	case "":
		s.Channel = StoreOnline
	default:
		return Invalid("channel", "must be online, offline or both, not %q", s.Channel)
	}
	return s.Geo.Validate("geo")
}

// ItemStatus says whether an item may be recommended.
type ItemStatus string

// Item statuses.
const (
	ItemActive   ItemStatus = "active"
	ItemInactive ItemStatus = "inactive"
)

// Item is a supplier's product. Category is its path in the category tree, root first
// (["beauty", "fragrance", "perfume"]).
type Item struct {
	ID         string            `json:"id"`
	SupplierID string            `json:"supplier_id"`
	Title      string            `json:"title"`
	Category   []string          `json:"category"`
	Brand      string            `json:"brand,omitempty"`
	Price      float64           `json:"price"`
	Attributes map[string]string `json:"attributes,omitempty"`
	Tags       []string          `json:"tags,omitempty"`
	Status     ItemStatus        `json:"status"`
	LaunchedAt time.Time         `json:"launched_at"`
	UpdatedAt  time.Time         `json:"updated_at"`
}

// Validate reports an EINVALID error naming the field if the item cannot be stored.
// It fills Status with active when empty.
func (i *Item) Validate() error {
	if err := validID("id", i.ID); err != nil {
		return err
	}
	if err := validID("supplier_id", i.SupplierID); err != nil {
		return err
	}
	if strings.TrimSpace(i.Title) == "" {
		return Invalid("title", "required")
	}
	if len(i.Category) == 0 {
		return Invalid("category", "required: the path from the root category, e.g. [\"beauty\",\"perfume\"]")
	}
	for _, c := range i.Category {
		if strings.TrimSpace(c) == "" {
			return Invalid("category", "path has an empty level")
		}
	}
	if math.IsNaN(i.Price) || i.Price < 0 {
		return Invalid("price", "must be a number >= 0")
	}
	switch i.Status {
	case ItemActive, ItemInactive:
	case "":
		i.Status = ItemActive
	default:
		return Invalid("status", "must be active or inactive, not %q", i.Status)
	}
	return nil
}

// LeafCategory returns the most specific level of the item's category path.
func (i *Item) LeafCategory() string {
	if len(i.Category) == 0 {
		return ""
	}
	return i.Category[len(i.Category)-1]
}

// CategoryKey returns the category path joined with "/", the key under which categories
// are counted and compared.
func (i *Item) CategoryKey() string { return strings.Join(i.Category, "/") }

// Assortment is one item in one store's shop: the store's price, whether it can be sold now,
// and the commission the store earns on it.
type Assortment struct {
	StoreID        string    `json:"store_id"`
	ItemID         string    `json:"item_id"`
	Price          float64   `json:"price"`
	InStock        bool      `json:"in_stock"`
	CommissionRate float64   `json:"commission_rate"`
	UpdatedAt      time.Time `json:"updated_at"`
}

// Validate reports an EINVALID error naming the field if the entry cannot be stored.
func (a *Assortment) Validate() error {
	if err := validID("store_id", a.StoreID); err != nil {
		return err
	}
	if err := validID("item_id", a.ItemID); err != nil {
		return err
	}
	if math.IsNaN(a.Price) || a.Price < 0 {
		return Invalid("price", "must be a number >= 0")
	}
	if math.IsNaN(a.CommissionRate) || a.CommissionRate < 0 || a.CommissionRate > 1 {
		return Invalid("commission_rate", "must be between 0 and 1")
	}
	return nil
}

// MaxIDLength bounds every id so keys stay indexable.
const MaxIDLength = 128

func validID(field, id string) error {
	switch {
	case id == "":
		return Invalid(field, "required")
	case len(id) > MaxIDLength:
		return Invalid(field, "longer than %d bytes", MaxIDLength)
	case strings.TrimSpace(id) != id:
		return Invalid(field, "has leading or trailing space")
	}
	return nil
}

// Page bounds a listing: entries with a key after After, at most Limit of them. A Limit of 0
// means no limit; a negative Limit is EINVALID.
type Page struct {
	After string
	Limit int
}

// SupplierService manages suppliers.
type SupplierService interface {
	// UpsertSuppliers inserts or replaces suppliers in one transaction. EINVALID if any is invalid.
	UpsertSuppliers(ctx context.Context, suppliers []*Supplier) error
	// FindSupplierByID returns ENOTFOUND if there is no such supplier.
	FindSupplierByID(ctx context.Context, id string) (*Supplier, error)
	// FindSuppliers lists suppliers ordered by id.
	FindSuppliers(ctx context.Context, page Page) ([]*Supplier, error)
}

// StoreFilter narrows FindStores. Empty fields are ignored.
type StoreFilter struct {
	Region string
	Page
}

// StoreService manages stores.
type StoreService interface {
	// UpsertStores inserts or replaces stores in one transaction. EINVALID if any is invalid.
	UpsertStores(ctx context.Context, stores []*Store) error
	// FindStoreByID returns ENOTFOUND if there is no such store.
	FindStoreByID(ctx context.Context, id string) (*Store, error)
	// FindStores lists stores ordered by id.
	FindStores(ctx context.Context, filter StoreFilter) ([]*Store, error)
}

// ItemFilter narrows FindItems. Empty fields are ignored.
type ItemFilter struct {
	SupplierID string
	IDs        []string
	Page
}

// ItemService manages the catalogue.
type ItemService interface {
	// UpsertItems inserts or replaces items in one transaction. EINVALID if any is invalid.
	UpsertItems(ctx context.Context, items []*Item) error
	// FindItemByID returns ENOTFOUND if there is no such item.
	FindItemByID(ctx context.Context, id string) (*Item, error)
	// FindItems lists items ordered by id.
	FindItems(ctx context.Context, filter ItemFilter) ([]*Item, error)
}

// AssortmentFilter narrows FindAssortments. Empty fields are ignored; listings are ordered
// by (store_id, item_id) and After is an item id when StoreID is set, else "store_id/item_id".
type AssortmentFilter struct {
	StoreID    string
	ItemID     string
	SupplierID string // entries whose item belongs to this supplier
	InStock    *bool
	Page
}

// AssortmentService manages which store sells which item.
type AssortmentService interface {
	// UpsertAssortments inserts or replaces entries in one transaction. EINVALID if any is
	// invalid; ENOTFOUND if a store or item does not exist.
	UpsertAssortments(ctx context.Context, entries []*Assortment) error
	// FindAssortments lists entries.
	FindAssortments(ctx context.Context, filter AssortmentFilter) ([]*Assortment, error)
}
