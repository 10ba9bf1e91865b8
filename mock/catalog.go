package mock

import (
	"context"

	"github.com/qianmian/qianmian"
)

var (
	_ qianmian.SupplierService   = (*SupplierService)(nil)
	_ qianmian.StoreService      = (*StoreService)(nil)
	_ qianmian.ItemService       = (*ItemService)(nil)
	_ qianmian.AssortmentService = (*AssortmentService)(nil)
)

// SupplierService is a mock of qianmian.SupplierService.
type SupplierService struct {
	UpsertSuppliersFn  func(ctx context.Context, suppliers []*qianmian.Supplier) error
	FindSupplierByIDFn func(ctx context.Context, id string) (*qianmian.Supplier, error)
	FindSuppliersFn    func(ctx context.Context, page qianmian.Page) ([]*qianmian.Supplier, error)
}

// UpsertSuppliers calls UpsertSuppliersFn.
func (s *SupplierService) UpsertSuppliers(ctx context.Context, suppliers []*qianmian.Supplier) error {
	return s.UpsertSuppliersFn(ctx, suppliers)
}

// FindSupplierByID calls FindSupplierByIDFn.
func (s *SupplierService) FindSupplierByID(ctx context.Context, id string) (*qianmian.Supplier, error) {
	return s.FindSupplierByIDFn(ctx, id)
}

// FindSuppliers calls FindSuppliersFn.
func (s *SupplierService) FindSuppliers(ctx context.Context, page qianmian.Page) ([]*qianmian.Supplier, error) {
	return s.FindSuppliersFn(ctx, page)
}

// StoreService is a mock of qianmian.StoreService.
type StoreService struct {
	UpsertStoresFn  func(ctx context.Context, stores []*qianmian.Store) error
	FindStoreByIDFn func(ctx context.Context, id string) (*qianmian.Store, error)
	FindStoresFn    func(ctx context.Context, filter qianmian.StoreFilter) ([]*qianmian.Store, error)
}

// UpsertStores calls UpsertStoresFn.
func (s *StoreService) UpsertStores(ctx context.Context, stores []*qianmian.Store) error {
	return s.UpsertStoresFn(ctx, stores)
}

// FindStoreByID calls FindStoreByIDFn.
func (s *StoreService) FindStoreByID(ctx context.Context, id string) (*qianmian.Store, error) {
	return s.FindStoreByIDFn(ctx, id)
}

// FindStores calls FindStoresFn.
func (s *StoreService) FindStores(ctx context.Context, filter qianmian.StoreFilter) ([]*qianmian.Store, error) {
	return s.FindStoresFn(ctx, filter)
}

// ItemService is a mock of qianmian.ItemService.
type ItemService struct {
	UpsertItemsFn  func(ctx context.Context, items []*qianmian.Item) error
	FindItemByIDFn func(ctx context.Context, id string) (*qianmian.Item, error)
	FindItemsFn    func(ctx context.Context, filter qianmian.ItemFilter) ([]*qianmian.Item, error)
}

// UpsertItems calls UpsertItemsFn.
func (s *ItemService) UpsertItems(ctx context.Context, items []*qianmian.Item) error {
	return s.UpsertItemsFn(ctx, items)
}

// FindItemByID calls FindItemByIDFn.
func (s *ItemService) FindItemByID(ctx context.Context, id string) (*qianmian.Item, error) {
	return s.FindItemByIDFn(ctx, id)
}

// FindItems calls FindItemsFn.
func (s *ItemService) FindItems(ctx context.Context, filter qianmian.ItemFilter) ([]*qianmian.Item, error) {
	return s.FindItemsFn(ctx, filter)
}

// AssortmentService is a mock of qianmian.AssortmentService.
type AssortmentService struct {
	UpsertAssortmentsFn func(ctx context.Context, entries []*qianmian.Assortment) error
	FindAssortmentsFn   func(ctx context.Context, filter qianmian.AssortmentFilter) ([]*qianmian.Assortment, error)
}

// UpsertAssortments calls UpsertAssortmentsFn.
func (s *AssortmentService) UpsertAssortments(ctx context.Context, entries []*qianmian.Assortment) error {
	return s.UpsertAssortmentsFn(ctx, entries)
}

// FindAssortments calls FindAssortmentsFn.
func (s *AssortmentService) FindAssortments(ctx context.Context, filter qianmian.AssortmentFilter) ([]*qianmian.Assortment, error) {
	return s.FindAssortmentsFn(ctx, filter)
}
