package http

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/qianmian/qianmian"
)

// assortmentEntry is one entry of GET /v1/stores/{id}/assortment: the store's terms for the
// item, with the item's title and category path.
type assortmentEntry struct {
	ItemID         string    `json:"item_id"`
	Price          float64   `json:"price"`
	InStock        bool      `json:"in_stock"`
	CommissionRate float64   `json:"commission_rate"`
	UpdatedAt      time.Time `json:"updated_at"`
	Title          string    `json:"title,omitempty"`
	Category       []string  `json:"category,omitempty"`
	SupplierID     string    `json:"supplier_id,omitempty"`
}

// handleAssortmentList pages through a store's assortment by item id. A supplier sees only
// the entries of its own items, and a store that carries none of them is not found.
func (s *Server) handleAssortmentList(w http.ResponseWriter, r *http.Request) {
	storeID := r.PathValue("id")
	supplierID, ok := assortmentReadScope(principal(r), storeID)
	if !ok {
		s.writeError(w, r, errNotFound)
		return
	}
	filter, limit, err := assortmentFilter(r, storeID, supplierID)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	ctx := r.Context()
	if supplierID == "" {
		_, err = s.Stores.FindStoreByID(ctx, storeID)
	} else {
		err = s.checkSupplierCarried(ctx, storeID, supplierID)
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	entries, err := s.Assortments.FindAssortments(ctx, filter)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	entries, next := pageNext(entries, limit, func(a *qianmian.Assortment) string { return a.ItemID })
	view, err := s.assortmentView(ctx, entries)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, struct {
		Items []assortmentEntry `json:"items"`
		Next  string            `json:"next"`
	}{view, next})
}

// assortmentFilter parses ?limit=, ?after= and ?in_stock= of an assortment listing.
func assortmentFilter(r *http.Request, storeID, supplierID string) (qianmian.AssortmentFilter, int, error) {
	q := r.URL.Query()
	page, limit, err := queryPage(q)
	if err != nil {
		return qianmian.AssortmentFilter{}, 0, err
	}
	f := qianmian.AssortmentFilter{StoreID: storeID, SupplierID: supplierID, Page: page}
	if q := q.Get("in_stock"); q != "" {
		b, err := strconv.ParseBool(q)
		if err != nil {
			return qianmian.AssortmentFilter{}, 0, qianmian.Invalid("in_stock", "must be true or false, not %q", q)
		}
		f.InStock = &b
	}
	return f, limit, nil
}

// checkSupplierCarried returns errNotFound unless the store carries an item of the supplier.
func (s *Server) checkSupplierCarried(ctx context.Context, storeID, supplierID string) error {
	probe, err := s.Assortments.FindAssortments(ctx, qianmian.AssortmentFilter{
		StoreID: storeID, SupplierID: supplierID, Page: qianmian.Page{Limit: 1},
	})
	if err != nil {
		return err
	}
	if len(probe) == 0 {
		return errNotFound
	}
	return nil
}

// assortmentView joins entries with their items' titles and categories in one lookup.
func (s *Server) assortmentView(ctx context.Context, entries []*qianmian.Assortment) ([]assortmentEntry, error) {
	view := make([]assortmentEntry, len(entries))
	if len(entries) == 0 {
		return view, nil
	}
	ids := make([]string, len(entries))
	for i, a := range entries {
		ids[i] = a.ItemID
	}
	items, err := s.Items.FindItems(ctx, qianmian.ItemFilter{IDs: ids, Page: qianmian.Page{Limit: len(ids)}})
	if err != nil {
		return nil, err
	}
	byID := make(map[string]*qianmian.Item, len(items))
	for _, item := range items {
		byID[item.ID] = item
	}
	for i, a := range entries {
		view[i] = assortmentEntry{
			ItemID: a.ItemID, Price: a.Price, InStock: a.InStock,
			CommissionRate: a.CommissionRate, UpdatedAt: a.UpdatedAt,
		}
		if item := byID[a.ItemID]; item != nil {
			view[i].Title, view[i].Category, view[i].SupplierID = item.Title, item.Category, item.SupplierID
		}
	}
	return view, nil
}
