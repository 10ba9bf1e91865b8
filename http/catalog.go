package http

import (
	"net/http"

	"github.com/qianmian/qianmian"
)

// upsertResponse answers every catalogue batch upsert.
type upsertResponse struct {
	Upserted int `json:"upserted"`
}

// validateEach validates every record of a batch and names the first at fault by index:
// "items[3].price".
func validateEach[T any](noun string, list []*T, validate func(*T) error) error {
	for i, v := range list {
		if err := validate(v); err != nil {
			return atIndex(noun, i, err)
		}
	}
	return nil
}

// upsertError turns a service's ENOTFOUND for a batch (an assortment entry naming a store or
// item that does not exist) into EINVALID: the batch is bad input, and 404 is kept for
// addressed objects that are missing.
func upsertError(noun string, err error) error {
	if qianmian.ErrorCode(err) != qianmian.ENOTFOUND {
		return err
	}
	field := qianmian.ErrorField(err)
	if field == "" {
		field = noun
	}
	return qianmian.Invalid(field, "%s", qianmian.ErrorMessage(err))
}

func (s *Server) handleSuppliersUpsert(w http.ResponseWriter, r *http.Request) {
	if !operatorOnly(principal(r)) {
		s.writeError(w, r, forbidden("only the operator upserts suppliers"))
		return
	}
	list, err := decodeBatch[qianmian.Supplier](w, r, "suppliers")
	if err == nil {
		err = validateEach("suppliers", list, (*qianmian.Supplier).Validate)
	}
	if err == nil {
		err = upsertError("suppliers", s.Suppliers.UpsertSuppliers(r.Context(), list))
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, upsertResponse{Upserted: len(list)})
}

func (s *Server) handleSuppliersList(w http.ResponseWriter, r *http.Request) {
	if !operatorOnly(principal(r)) {
		s.writeError(w, r, forbidden("only the operator lists suppliers"))
		return
	}
	page, limit, err := queryPage(r.URL.Query())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	list, err := s.Suppliers.FindSuppliers(r.Context(), page)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	list, next := pageNext(list, limit, func(v *qianmian.Supplier) string { return v.ID })
	writeJSON(w, http.StatusOK, struct {
		Suppliers []*qianmian.Supplier `json:"suppliers"`
		Next      string               `json:"next"`
	}{list, next})
}

func (s *Server) handleSupplierGet(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if !canReadSupplier(principal(r), id) {
		s.writeError(w, r, errNotFound)
		return
	}
	v, err := s.Suppliers.FindSupplierByID(r.Context(), id)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, v)
}

func (s *Server) handleStoresUpsert(w http.ResponseWriter, r *http.Request) {
	if !operatorOnly(principal(r)) {
		s.writeError(w, r, forbidden("only the operator upserts stores"))
		return
	}
	list, err := decodeBatch[qianmian.Store](w, r, "stores")
	if err == nil {
		err = validateEach("stores", list, (*qianmian.Store).Validate)
	}
	if err == nil {
		err = upsertError("stores", s.Stores.UpsertStores(r.Context(), list))
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, upsertResponse{Upserted: len(list)})
}

func (s *Server) handleStoresList(w http.ResponseWriter, r *http.Request) {
	if !operatorOnly(principal(r)) {
		s.writeError(w, r, forbidden("only the operator lists stores"))
		return
	}
	page, limit, err := queryPage(r.URL.Query())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	filter := qianmian.StoreFilter{Region: r.URL.Query().Get("region"), Page: page}
	list, err := s.Stores.FindStores(r.Context(), filter)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	list, next := pageNext(list, limit, func(v *qianmian.Store) string { return v.ID })
	writeJSON(w, http.StatusOK, struct {
		Stores []*qianmian.Store `json:"stores"`
		Next   string            `json:"next"`
	}{list, next})
}

func (s *Server) handleStoreGet(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if !canReadStore(principal(r), id) {
		s.writeError(w, r, errNotFound)
		return
	}
	v, err := s.Stores.FindStoreByID(r.Context(), id)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, v)
}

func (s *Server) handleItemsUpsert(w http.ResponseWriter, r *http.Request) {
	p := principal(r)
	supplierID, ok := itemScope(p)
	if !ok {
		s.writeError(w, r, forbidden("only the operator and supplier keys upsert items"))
		return
	}
	list, err := decodeBatch[qianmian.Item](w, r, "items")
	if err == nil && supplierID != "" {
		err = s.checkItemOwner(r, supplierID, list)
	}
	if err == nil {
		err = validateEach("items", list, (*qianmian.Item).Validate)
	}
	if err == nil {
		err = upsertError("items", s.Items.UpsertItems(r.Context(), list))
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, upsertResponse{Upserted: len(list)})
}

// checkItemOwner lets a supplier upsert only its own items: an empty supplier_id becomes
// the supplier's, another supplier's id is refused, and so is an id another supplier's item
// already has (which would otherwise take that item over).
func (s *Server) checkItemOwner(r *http.Request, supplierID string, list []*qianmian.Item) error {
	ids := make([]string, len(list))
	for i, item := range list {
		if item.SupplierID == "" {
			item.SupplierID = supplierID
		}
		if item.SupplierID != supplierID {
			return atIndex("items", i, &qianmian.Error{Code: qianmian.EFORBIDDEN, Field: "supplier_id", Message: "not your supplier id"})
		}
		ids[i] = item.ID
	}
	existing, err := s.Items.FindItems(r.Context(), qianmian.ItemFilter{IDs: ids, Page: qianmian.Page{Limit: len(ids)}})
	if err != nil {
		return err
	}
	owner := make(map[string]string, len(existing))
	for _, item := range existing {
		owner[item.ID] = item.SupplierID
	}
	for i, item := range list {
		if o, ok := owner[item.ID]; ok && o != supplierID {
			return atIndex("items", i, &qianmian.Error{Code: qianmian.EFORBIDDEN, Field: "id", Message: "belongs to another supplier's item"})
		}
	}
	return nil
}

func (s *Server) handleItemsList(w http.ResponseWriter, r *http.Request) {
	supplierID, ok := itemScope(principal(r))
	if !ok {
		s.writeError(w, r, forbidden("only the operator and supplier keys list items"))
		return
	}
	page, limit, err := queryPage(r.URL.Query())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if q := r.URL.Query().Get("supplier_id"); q != "" && supplierID == "" {
		supplierID = q
	}
	list, err := s.Items.FindItems(r.Context(), qianmian.ItemFilter{SupplierID: supplierID, Page: page})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	list, next := pageNext(list, limit, func(v *qianmian.Item) string { return v.ID })
	writeJSON(w, http.StatusOK, struct {
		Items []*qianmian.Item `json:"items"`
		Next  string           `json:"next"`
	}{list, next})
}

func (s *Server) handleItemGet(w http.ResponseWriter, r *http.Request) {
	item, err := s.Items.FindItemByID(r.Context(), r.PathValue("id"))
	if err == nil {
		var ok bool
		if ok, err = s.canReadItem(r.Context(), principal(r), item); err == nil && !ok {
			err = errNotFound
		}
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, item)
}

func (s *Server) handleAssortmentsUpsert(w http.ResponseWriter, r *http.Request) {
	storeID, ok := assortmentWriteScope(principal(r))
	if !ok {
		s.writeError(w, r, forbidden("only the operator and store keys upsert assortments"))
		return
	}
	list, err := decodeBatch[qianmian.Assortment](w, r, "assortments")
	for i := 0; err == nil && storeID != "" && i < len(list); i++ {
		if list[i].StoreID == "" {
			list[i].StoreID = storeID
		} else if list[i].StoreID != storeID {
			err = atIndex("assortments", i, &qianmian.Error{Code: qianmian.EFORBIDDEN, Field: "store_id", Message: "not your store"})
		}
	}
	if err == nil {
		err = validateEach("assortments", list, (*qianmian.Assortment).Validate)
	}
	if err == nil {
		err = upsertError("assortments", s.Assortments.UpsertAssortments(r.Context(), list))
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, upsertResponse{Upserted: len(list)})
}
