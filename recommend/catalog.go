package recommend

import (
	"context"

	"github.com/qianmian/qianmian"
)

// catalog is the part of the catalogue the engine serves from.
type catalog struct {
	items  []*qianmian.Item
	stores []*qianmian.Store
	stock  map[string][]string // store id → in-stock item ids
}

// loadCatalog reads every item, every store and each store's in-stock assortment.
func loadCatalog(ctx context.Context, items qianmian.ItemService, stores qianmian.StoreService, assortments qianmian.AssortmentService) (*catalog, error) {
	c := &catalog{stock: map[string][]string{}}
	err := pageAll(ctx, func(p qianmian.Page) ([]*qianmian.Item, error) {
		return items.FindItems(ctx, qianmian.ItemFilter{Page: p})
	}, func(it *qianmian.Item) string { return it.ID }, func(it *qianmian.Item) {
		c.items = append(c.items, it)
	})
	if err != nil {
		return nil, err
	}
	err = pageAll(ctx, func(p qianmian.Page) ([]*qianmian.Store, error) {
		return stores.FindStores(ctx, qianmian.StoreFilter{Page: p})
	}, func(s *qianmian.Store) string { return s.ID }, func(s *qianmian.Store) {
		c.stores = append(c.stores, s)
	})
	if err != nil {
		return nil, err
	}
	inStock := true
	for _, s := range c.stores {
		err := pageAll(ctx, func(p qianmian.Page) ([]*qianmian.Assortment, error) {
			return assortments.FindAssortments(ctx, qianmian.AssortmentFilter{StoreID: s.ID, InStock: &inStock, Page: p})
		}, func(a *qianmian.Assortment) string { return a.ItemID }, func(a *qianmian.Assortment) {
			if a.InStock { // the filter says so already; a store that ignores it must not leak
				c.stock[s.ID] = append(c.stock[s.ID], a.ItemID)
			}
		})
		if err != nil {
			return nil, err
		}
	}
	return c, nil
}

// trainingCatalog returns what the popularity fallback needs from c.
func (c *catalog) trainingCatalog() *trainingCatalog {
	tc := &trainingCatalog{itemCategory: make(map[string]string, len(c.items)),
		storeRegion: make(map[string]string, len(c.stores)), optedOut: map[string]bool{}}
	for _, it := range c.items {
		tc.itemCategory[it.ID] = it.CategoryKey()
	}
	for _, s := range c.stores {
		tc.storeRegion[s.ID] = s.Region
	}
	return tc
}
