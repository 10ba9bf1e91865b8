package recommend_test

import (
	"cmp"
	"context"
	"iter"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/qianmian/qianmian"
)

// fakeDB is an in-memory stand-in for every storage interface the recommend package uses.
// It links identities and publishes committed events to its bus like a real store.
type fakeDB struct {
	mu     sync.Mutex
	items  map[string]*qianmian.Item
	stores map[string]*qianmian.Store
	stock  map[string]map[string]*qianmian.Assortment // store → item → entry
	users  map[string]*qianmian.User
	events []*qianmian.Event
	ids    map[string]bool
	links  map[string]string // identity key → user
	byUser map[string][]int  // user id or identity key → indexes into events
	models map[string][]*qianmian.ModelBlob
	seq    int64
	bus    *testBus

	consentReads atomic.Int64
}

var (
	_ qianmian.ItemService       = (*fakeDB)(nil)
	_ qianmian.StoreService      = (*fakeDB)(nil)
	_ qianmian.AssortmentService = (*fakeDB)(nil)
	_ qianmian.UserService       = (*fakeDB)(nil)
	_ qianmian.EventService      = (*fakeDB)(nil)
	_ qianmian.ModelStore        = (*fakeDB)(nil)
	_ qianmian.IdentityService   = (*fakeDB)(nil)
)

func newFakeDB() *fakeDB {
	return &fakeDB{
		items: map[string]*qianmian.Item{}, stores: map[string]*qianmian.Store{},
		stock: map[string]map[string]*qianmian.Assortment{}, users: map[string]*qianmian.User{},
		ids: map[string]bool{}, links: map[string]string{}, byUser: map[string][]int{}, models: map[string][]*qianmian.ModelBlob{},
		bus: newTestBus(),
	}
}

// page returns the values with key > p.After, ordered by key, at most p.Limit.
func page[T any](all map[string]T, p qianmian.Page, keep func(T) bool) []T {
	keys := make([]string, 0, len(all))
	for k := range all {
		if k > p.After {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	var out []T
	for _, k := range keys {
		if keep != nil && !keep(all[k]) {
			continue
		}
		if p.Limit > 0 && len(out) == p.Limit {
			break
		}
		out = append(out, all[k])
	}
	return out
}

func notFound(what, id string) error {
	return qianmian.Errorf(qianmian.ENOTFOUND, "%s %q not found", what, id)
}

func (db *fakeDB) UpsertItems(ctx context.Context, items []*qianmian.Item) error {
	db.mu.Lock()
	defer db.mu.Unlock()
	for _, it := range items {
		c := *it
		db.items[it.ID] = &c
	}
	return nil
}

func (db *fakeDB) FindItemByID(ctx context.Context, id string) (*qianmian.Item, error) {
	db.mu.Lock()
	defer db.mu.Unlock()
	if it, ok := db.items[id]; ok {
		c := *it
		return &c, nil
	}
	return nil, notFound("item", id)
}

func (db *fakeDB) FindItems(ctx context.Context, f qianmian.ItemFilter) ([]*qianmian.Item, error) {
	db.mu.Lock()
	defer db.mu.Unlock()
	return page(db.items, f.Page, nil), nil
}

func (db *fakeDB) UpsertStores(ctx context.Context, stores []*qianmian.Store) error {
	db.mu.Lock()
	defer db.mu.Unlock()
	for _, s := range stores {
		c := *s
		db.stores[s.ID] = &c
	}
	return nil
}

func (db *fakeDB) FindStoreByID(ctx context.Context, id string) (*qianmian.Store, error) {
	db.mu.Lock()
	defer db.mu.Unlock()
	if s, ok := db.stores[id]; ok {
		return s, nil
	}
	return nil, notFound("store", id)
}

func (db *fakeDB) FindStores(ctx context.Context, f qianmian.StoreFilter) ([]*qianmian.Store, error) {
	db.mu.Lock()
	defer db.mu.Unlock()
	return page(db.stores, f.Page, func(s *qianmian.Store) bool { return f.Region == "" || s.Region == f.Region }), nil
}

func (db *fakeDB) UpsertAssortments(ctx context.Context, entries []*qianmian.Assortment) error {
	db.mu.Lock()
	defer db.mu.Unlock()
	for _, a := range entries {
		if db.stock[a.StoreID] == nil {
			db.stock[a.StoreID] = map[string]*qianmian.Assortment{}
		}
		c := *a
		db.stock[a.StoreID][a.ItemID] = &c
	}
	return nil
}

func (db *fakeDB) FindAssortments(ctx context.Context, f qianmian.AssortmentFilter) ([]*qianmian.Assortment, error) {
	db.mu.Lock()
	defer db.mu.Unlock()
	if f.StoreID == "" {
		panic("fakeDB: FindAssortments without StoreID is not faked")
	}
	return page(db.stock[f.StoreID], f.Page, func(a *qianmian.Assortment) bool {
		return (f.InStock == nil || a.InStock == *f.InStock) && (f.ItemID == "" || a.ItemID == f.ItemID)
	}), nil
}

func (db *fakeDB) UpsertUsers(ctx context.Context, users []*qianmian.User) error {
	db.mu.Lock()
	defer db.mu.Unlock()
	for _, u := range users {
		c := *u
		db.users[u.ID] = &c
	}
	return nil
}

func (db *fakeDB) FindUserByID(ctx context.Context, id string) (*qianmian.User, error) {
	db.consentReads.Add(1)
	db.mu.Lock()
	defer db.mu.Unlock()
	if u, ok := db.users[id]; ok {
		c := *u
		return &c, nil
	}
	return nil, notFound("user", id)
}

func (db *fakeDB) Personalizes(ctx context.Context, id string) (bool, error) {
	u, err := db.FindUserByID(ctx, id)
	if qianmian.ErrorCode(err) == qianmian.ENOTFOUND {
		return qianmian.DefaultConsent().Personalization, nil
	} else if err != nil {
		return false, err
	}
	return u.Consent.Personalization, nil
}

func (db *fakeDB) FindUsers(ctx context.Context, p qianmian.Page) ([]*qianmian.User, error) {
	db.mu.Lock()
	defer db.mu.Unlock()
	return page(db.users, p, nil), nil
}

func (db *fakeDB) FindRefusals(ctx context.Context, purpose qianmian.ConsentPurpose) ([]string, error) {
	if err := purpose.Validate(); err != nil {
		return nil, err
	}
	db.mu.Lock()
	defer db.mu.Unlock()
	var ids []string
	for id, u := range db.users {
		if !u.Consent.Allows(purpose) {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return ids, nil
}

func (db *fakeDB) UpdateConsent(ctx context.Context, id string, upd qianmian.ConsentUpdate) (*qianmian.User, error) {
	db.mu.Lock()
	defer db.mu.Unlock()
	u, ok := db.users[id]
	if !ok {
		return nil, notFound("user", id)
	}
	u.Consent = upd.Apply(u.Consent)
	c := *u
	return &c, nil
}

func (db *fakeDB) LinkIdentity(ctx context.Context, ref qianmian.IdentityRef, userID string) error {
	db.mu.Lock()
	defer db.mu.Unlock()
	if cur, ok := db.links[ref.Key()]; ok && cur != userID {
		return qianmian.Errorf(qianmian.ECONFLICT, "identity linked to another user")
	}
	db.links[ref.Key()] = userID
	return nil
}

func (db *fakeDB) ResolveIdentity(ctx context.Context, ref qianmian.IdentityRef) (string, error) {
	db.mu.Lock()
	defer db.mu.Unlock()
	if u, ok := db.links[ref.Key()]; ok {
		return u, nil
	}
	return "", notFound("identity", ref.Key())
}

func (db *fakeDB) FindIdentities(ctx context.Context, userID string) ([]*qianmian.Identity, error) {
	return nil, nil
}

func (db *fakeDB) IdentityGraph(ctx context.Context, userID string) (*qianmian.IdentityGraph, error) {
	return nil, qianmian.Errorf(qianmian.EINTERNAL, "fakeDB: no identity graph")
}

func (db *fakeDB) UnlinkIdentity(ctx context.Context, ref qianmian.IdentityRef, userID, reason string) error {
	return qianmian.Errorf(qianmian.EINTERNAL, "fakeDB: no unlinking")
}

// CreateEvents stores events, links identities, and publishes the accepted ones after
// "commit", as the real stores do.
func (db *fakeDB) CreateEvents(ctx context.Context, events []*qianmian.Event) (qianmian.EventResult, error) {
	var res qianmian.EventResult
	var accepted []*qianmian.Event
	db.mu.Lock()
	for _, e := range events {
		if db.ids[e.ID] {
			res.Duplicates++
			continue
		}
		db.ids[e.ID] = true
		if e.Identity != nil {
			if e.UserID != "" {
				if _, ok := db.links[e.Identity.Key()]; !ok {
					db.links[e.Identity.Key()] = e.UserID
				}
			} else if u, ok := db.links[e.Identity.Key()]; ok {
				e.UserID = u
			}
		}
		db.seq++
		e.Seq = db.seq
		c := *e
		if e.UserID != "" {
			db.byUser[e.UserID] = append(db.byUser[e.UserID], len(db.events))
		}
		if e.Identity != nil {
			db.byUser[e.Identity.Key()] = append(db.byUser[e.Identity.Key()], len(db.events))
		}
		db.events = append(db.events, &c)
		accepted = append(accepted, e)
		res.Accepted++
	}
	db.mu.Unlock()
	db.bus.Publish(ctx, accepted)
	return res, nil
}

func (db *fakeDB) matches(e *qianmian.Event, f qianmian.EventFilter) bool {
	if f.UserID != "" && e.UserID != f.UserID && (e.Identity == nil || db.links[e.Identity.Key()] != f.UserID) {
		return false
	}
	switch {
	case f.StoreID != "" && e.StoreID != f.StoreID,
		f.ItemID != "" && e.ItemID != f.ItemID,
		len(f.Types) > 0 && !slices.Contains(f.Types, e.Type),
		!f.Since.IsZero() && e.OccurredAt.Before(f.Since),
		!f.Until.IsZero() && !e.OccurredAt.Before(f.Until),
		e.Seq <= f.AfterSeq:
		return false
	}
	return true
}

func (db *fakeDB) FindEvents(ctx context.Context, f qianmian.EventFilter) ([]*qianmian.Event, error) {
	db.mu.Lock()
	defer db.mu.Unlock()
	events := db.events
	if f.UserID != "" { // use the per-user index: the user's events and their identities'
		idx := slices.Clone(db.byUser[f.UserID])
		for key, u := range db.links {
			if u == f.UserID {
				idx = append(idx, db.byUser[key]...)
			}
		}
		slices.Sort(idx)
		idx = slices.Compact(idx)
		events = make([]*qianmian.Event, len(idx))
		for k, i := range idx {
			events[k] = db.events[i]
		}
	}
	var out []*qianmian.Event
	for _, e := range events {
		if f.Limit > 0 && len(out) == f.Limit {
			break
		}
		if db.matches(e, f) {
			c := *e
			out = append(out, &c)
		}
	}
	return out, nil
}

func (db *fakeDB) ScanEvents(ctx context.Context, f qianmian.EventFilter) iter.Seq2[*qianmian.Event, error] {
	return func(yield func(*qianmian.Event, error) bool) {
		evs, _ := db.FindEvents(ctx, f)
		for _, e := range evs {
			if !yield(e, nil) {
				return
			}
		}
	}
}

func (db *fakeDB) HasStoreInteraction(ctx context.Context, userID, storeID string) (bool, error) {
	evs, _ := db.FindEvents(ctx, qianmian.EventFilter{UserID: userID, StoreID: storeID, Limit: 1})
	return len(evs) > 0, nil
}

func (db *fakeDB) CountEvents(ctx context.Context) (int64, error) {
	db.mu.Lock()
	defer db.mu.Unlock()
	return int64(len(db.events)), nil
}

func (db *fakeDB) FindEventUsers(ctx context.Context, page qianmian.Page) ([]string, error) {
	db.mu.Lock()
	defer db.mu.Unlock()
	seen := map[string]bool{}
	for _, e := range db.events {
		seen[e.UserID] = e.UserID != ""
	}
	for _, u := range db.links {
		seen[u] = true
	}
	var ids []string
	for id, ok := range seen {
		if ok && id > page.After {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	if page.Limit > 0 && len(ids) > page.Limit {
		ids = ids[:page.Limit]
	}
	return ids, nil
}

func (db *fakeDB) SaveModel(ctx context.Context, m *qianmian.ModelBlob) error {
	db.mu.Lock()
	defer db.mu.Unlock()
	m.Version = int64(len(db.models[m.Name]) + 1)
	c := *m
	db.models[m.Name] = append(db.models[m.Name], &c)
	return nil
}

func (db *fakeDB) LatestModel(ctx context.Context, name string) (*qianmian.ModelBlob, error) {
	db.mu.Lock()
	defer db.mu.Unlock()
	vs := db.models[name]
	if len(vs) == 0 {
		return nil, notFound("model", name)
	}
	return vs[len(vs)-1], nil
}

func (db *fakeDB) LatestModelVersion(ctx context.Context, name string) (int64, error) {
	m, err := db.LatestModel(ctx, name)
	if err != nil {
		return 0, err
	}
	return m.Version, nil
}

// inStock returns the ids of the store's in-stock, active items.
func (db *fakeDB) inStock(store string) map[string]bool {
	db.mu.Lock()
	defer db.mu.Unlock()
	out := map[string]bool{}
	for id, a := range db.stock[store] {
		if a.InStock && db.items[id] != nil && db.items[id].Status == qianmian.ItemActive {
			out[id] = true
		}
	}
	return out
}

// testBus is a channel-based qianmian.EventBus that never blocks a publisher.
type testBus struct {
	mu   sync.Mutex
	subs []*testSub
}

type testSub struct {
	bus  *testBus
	c    chan []*qianmian.Event
	once sync.Once
}

func newTestBus() *testBus { return &testBus{} }

func (b *testBus) Publish(ctx context.Context, events []*qianmian.Event) {
	if len(events) == 0 {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, s := range b.subs {
		select {
		case s.c <- events:
		default: // a slow subscriber misses the batch, as with the real bus
		}
	}
}

func (b *testBus) Subscribe() qianmian.Subscription {
	s := &testSub{bus: b, c: make(chan []*qianmian.Event, 1024)}
	b.mu.Lock()
	b.subs = append(b.subs, s)
	b.mu.Unlock()
	return s
}

func (s *testSub) C() <-chan []*qianmian.Event { return s.c }

func (s *testSub) Close() {
	s.once.Do(func() {
		s.bus.mu.Lock()
		s.bus.subs = slices.DeleteFunc(s.bus.subs, func(x *testSub) bool { return x == s })
		s.bus.mu.Unlock()
		close(s.c)
	})
}

// clock is a settable time source.
type clock struct{ t atomic.Int64 }

func newClock(t time.Time) *clock {
	c := &clock{}
	c.t.Store(t.UnixNano())
	return c
}

func (c *clock) Now() time.Time          { return time.Unix(0, c.t.Load()).UTC() }
func (c *clock) Advance(d time.Duration) { c.t.Add(int64(d)) }

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, cmp.Compare[string])
	return keys
}
