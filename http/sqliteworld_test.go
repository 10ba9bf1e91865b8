package http_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/qianmian/qianmian"
	qmhttp "github.com/qianmian/qianmian/http"
	"github.com/qianmian/qianmian/inmem"
	"github.com/qianmian/qianmian/privacy"
	"github.com/qianmian/qianmian/profile"
	"github.com/qianmian/qianmian/recommend"
	"github.com/qianmian/qianmian/sqlite"
)

// sqliteAPI is what the API tests over real storage share: a SQLite file with a cipher, a
// real bus, the services over them, and a catalogue of perfume (ids p…) and snacks (f…).
type sqliteAPI struct {
	t          *testing.T
	db         *sqlite.DB
	bus        *inmem.Bus
	users      *sqlite.UserService
	events     *sqlite.EventService
	items      *sqlite.ItemService
	stores     *sqlite.StoreService
	assort     *sqlite.AssortmentService
	keys       *sqlite.KeyService
	identities *sqlite.IdentityService
	models     *sqlite.ModelStore
}

// openSQLiteAPI opens the storage with the given stores and items at price; each item is
// in stock at every store of stocked.
func openSQLiteAPI(t *testing.T, stores []*qianmian.Store, itemIDs []string, price float64, stocked ...string) *sqliteAPI {
	t.Helper()
	bus := inmem.NewBus()
	db := sqlite.NewDB(filepath.Join(t.TempDir(), "qianmian.db"))
	db.Bus = bus
	c, err := privacy.NewCipher(privacy.GenerateKey())
	if err != nil {
		t.Fatal(err)
	}
	db.Cipher = c
	if err := db.Open(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	t.Cleanup(func() { _ = bus.Close() })
	a := &sqliteAPI{t: t, db: db, bus: bus,
		users: sqlite.NewUserService(db), events: sqlite.NewEventService(db), items: sqlite.NewItemService(db),
		stores: sqlite.NewStoreService(db), assort: sqlite.NewAssortmentService(db), keys: sqlite.NewKeyService(db),
		identities: sqlite.NewIdentityService(db), models: sqlite.NewModelStore(db)}
	ctx := t.Context()
	a.check(a.stores.UpsertStores(ctx, stores))
	var list []*qianmian.Item
	var entries []*qianmian.Assortment
	for _, id := range itemIDs {
		cat := []string{"beauty", "fragrance", "perfume"}
		if id[0] == 'f' {
			cat = []string{"food", "snacks", "chips"}
		}
		list = append(list, &qianmian.Item{ID: id, SupplierID: "S1", Title: "Item " + id, Category: cat, Price: price})
		for _, s := range stocked {
			entries = append(entries, &qianmian.Assortment{StoreID: s, ItemID: id, Price: price, InStock: true})
		}
	}
	a.check(a.items.UpsertItems(ctx, list))
	if len(entries) > 0 {
		a.check(a.assort.UpsertAssortments(ctx, entries))
	}
	return a
}

func (a *sqliteAPI) check(err error) {
	a.t.Helper()
	if err != nil {
		a.t.Fatal(err)
	}
}

// profiles opens the profile service (statistics refreshed only on demand), with segments
// when withSegments.
func (a *sqliteAPI) profiles(withSegments bool) *profile.Service {
	ps := profile.NewService()
	ps.Events, ps.Users, ps.Identities, ps.Items = a.events, a.users, a.identities, a.items
	ps.Profiles, ps.Models, ps.Bus = sqlite.NewProfileStore(a.db), a.models, a.bus
	if withSegments {
		ps.Segments = sqlite.NewSegmentStore(a.db)
	}
	ps.Config.StatsEvery = -1
	a.check(ps.Open(a.t.Context()))
	a.t.Cleanup(func() { _ = ps.Close() })
	return ps
}

// engine opens the recommendation engine.
func (a *sqliteAPI) engine() *recommend.Engine {
	e := recommend.NewEngine()
	e.Items, e.Stores, e.Assortments, e.Users, e.Events, e.Models, e.Bus = a.items, a.stores, a.assort, a.users, a.events, a.models, a.bus
	e.Identities = a.identities
	a.check(e.Open(a.t.Context()))
	a.t.Cleanup(func() { _ = e.Close() })
	return e
}

// server returns an API server over the storage; the caller adds what ranks and profiles.
func (a *sqliteAPI) server() *qmhttp.Server {
	s := qmhttp.NewServer()
	s.Stores, s.Items, s.Assortments, s.Users, s.Identities, s.Events, s.Keys = a.stores, a.items, a.assort, a.users, a.identities, a.events, a.keys
	return s
}

// tokens creates a key for each principal and returns their tokens by name.
func (a *sqliteAPI) tokens(principals map[string]qianmian.Principal) map[string]string {
	out := map[string]string{}
	for name, p := range principals {
		_, token, err := a.keys.CreateKey(context.Background(), p)
		a.check(err)
		out[name] = token
	}
	return out
}
