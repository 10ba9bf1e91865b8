package http

import (
	"context"

	"github.com/qianmian/qianmian"
)

// Who may see what (ARCHITECTURE.md). Every rule of the API is in this file.
//
//	                            operator  supplier S               store B                       consumer C
//	POST /v1/events             yes       403                      store_id B (empty → B)        403
//	POST suppliers/stores/users yes       403                      403                           403
//	POST items                  yes       items of S, not others'  403                           403
//	POST assortments            yes       403                      entries of B                  403
//	list suppliers/stores/users yes       403                      403                           403
//	list items                  yes       items of S               403                           403
//	supplier X                  yes       X = S                    404                           404
//	store X                     yes       404                      X = B                         404
//	item I                      yes       I of S                   I in B's assortment           404
//	assortment of store X       yes       entries of S's items;    X = B                         404
//	                                      404 if X carries none
//	recommendations, similar    yes       404                      at B, for any visitor         404
//	user U                      yes       404                      U interacted with B; name,    U = C
//	                                                               phone, address only with
//	                                                               marketing consent
//	identities, consent of U    yes       404                      404                           U = C
//	identity graph of U         yes       404                      404                           404
//	link, unlink identity of U  yes       403                      403                           403
//	profile of U                yes       404                      U interacted with B           U = C
//	GET /v1/me/profile          404       404                      404                           C's own
//	DELETE /v1/me/profile/tags, 403       403                      403                           C's own
//	PUT /v1/me/personalization
//	webhook, alerts of store X  yes       404                      X = B                         404
//	(read, stream, and write)
//	segments, their members,    yes       404 read, 403 write      404 read, 403 write           404 read, 403 write
//	counts and audience
//
// A read the principal may not make answers 404 with the body of a missing object, never
// 403, so no tenant learns what another holds. A write it may not make answers 403, except
// a store's webhook: it belongs to the store, so setting another's answers 404 like reading it.

// scopeEvent applies the store rule of POST /v1/events to one decoded event: a store posts
// only events of its own shop. It returns the reject for a record another store's.
func scopeEvent(p qianmian.Principal, e *qianmian.Event) error {
	if p.Role != qianmian.RoleStore {
		return nil
	}
	if e.StoreID == "" {
		e.StoreID = p.ID
	} else if e.StoreID != p.ID {
		return qianmian.Invalid("store_id", "not your store")
	}
	return nil
}

// canPostEvents reports whether p may post events at all.
func canPostEvents(p qianmian.Principal) bool {
	return p.IsOperator() || p.Role == qianmian.RoleStore
}

// operatorOnly reports whether p may use the operator's routes: listing suppliers, stores
// and users, and upserting them.
func operatorOnly(p qianmian.Principal) bool { return p.IsOperator() }

// canManageSegments reports whether p may define segments and read their members: the
// operator only. A segment's members and audience name consumers across every store.
func canManageSegments(p qianmian.Principal) bool { return p.IsOperator() }

// itemScope returns the supplier whose items p may list and upsert: "" with ok for the
// operator (every item), S for supplier S, and not ok for anyone else.
func itemScope(p qianmian.Principal) (supplierID string, ok bool) {
	switch p.Role {
	case qianmian.RoleOperator:
		return "", true
	case qianmian.RoleSupplier:
		return p.ID, true
	}
	return "", false
}

// assortmentWriteScope returns the store whose entries p may upsert: "" with ok for the
// operator, B for store B, not ok for anyone else.
func assortmentWriteScope(p qianmian.Principal) (storeID string, ok bool) {
	switch p.Role {
	case qianmian.RoleOperator:
		return "", true
	case qianmian.RoleStore:
		return p.ID, true
	}
	return "", false
}

// canReadSupplier reports whether p may read supplier id.
func canReadSupplier(p qianmian.Principal, id string) bool {
	return p.IsOperator() || p.IsSupplier(id)
}

// canReadStore reports whether p may read store id itself.
func canReadStore(p qianmian.Principal, id string) bool {
	return p.IsOperator() || p.IsStore(id)
}

// canRank reports whether p may ask for rankings of store id's shop.
func canRank(p qianmian.Principal, storeID string) bool {
	return p.IsOperator() || p.IsStore(storeID)
}

// canManageAlerts reports whether p may set store id's webhook and read or follow its
// alerts: the operator and the store itself. Alerts can name their visitors, so no other
// role sees them, not even as a count.
func canManageAlerts(p qianmian.Principal, storeID string) bool {
	return p.IsOperator() || p.IsStore(storeID)
}

// assortmentReadScope returns how p may read store id's assortment: every entry (ok, no
// supplier), only entries of a supplier's items (ok, supplierID), or not at all.
func assortmentReadScope(p qianmian.Principal, storeID string) (supplierID string, ok bool) {
	switch {
	case p.IsOperator(), p.IsStore(storeID):
		return "", true
	case p.Role == qianmian.RoleSupplier:
		return p.ID, true
	}
	return "", false
}

// canReadItem reports whether p may read item: the operator, the item's supplier, or a
// store that carries it.
func (s *Server) canReadItem(ctx context.Context, p qianmian.Principal, item *qianmian.Item) (bool, error) {
	switch {
	case p.IsOperator(), p.IsSupplier(item.SupplierID):
		return true, nil
	case p.Role == qianmian.RoleStore:
		entries, err := s.Assortments.FindAssortments(ctx, qianmian.AssortmentFilter{
			StoreID: p.ID, ItemID: item.ID, Page: qianmian.Page{Limit: 1},
		})
		return len(entries) > 0, err
	}
	return false, nil
}

// canReadUser reports whether p may read user id: the operator, the consumer themself, or a
// store the user interacted with.
func (s *Server) canReadUser(ctx context.Context, p qianmian.Principal, id string) (bool, error) {
	switch {
	case p.IsOperator(), p.Role == qianmian.RoleConsumer && p.ID == id:
		return true, nil
	case p.Role == qianmian.RoleStore:
		return s.Events.HasStoreInteraction(ctx, id, p.ID)
	}
	return false, nil
}

// consumerSelf returns the user a consumer key speaks for: the /v1/me routes act on the
// consumer's own profile only, and no other key has one.
func consumerSelf(p qianmian.Principal) (userID string, ok bool) {
	if p.Role != qianmian.RoleConsumer || p.ID == "" {
		return "", false
	}
	return p.ID, true
}

// canManageUser reports whether p may read the user's identities and change their consent.
func canManageUser(p qianmian.Principal, id string) bool {
	return p.IsOperator() || p.Role == qianmian.RoleConsumer && p.ID == id
}

// canManageIdentities reports whether p may read a user's identity graph and link or
// unlink their identities: the operator only. Undoing a merge changes what every store and
// the consumer see, and the graph shows identities across channels.
func canManageIdentities(p qianmian.Principal) bool { return p.IsOperator() }

// userView returns u as p may see it: a store sees personal fields (name, phone, address)
// only of users who consented to marketing.
func userView(p qianmian.Principal, u *qianmian.User) *qianmian.User {
	if p.Role != qianmian.RoleStore || u.Consent.Marketing {
		return u
	}
	v := *u
	v.Name, v.Phone, v.Address = "", "", ""
	return &v
}
