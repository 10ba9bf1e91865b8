package profile_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/qianmian/qianmian"
	"github.com/qianmian/qianmian/inmem"
	"github.com/qianmian/qianmian/privacy"
	"github.com/qianmian/qianmian/profile"
	"github.com/qianmian/qianmian/sim"
	"github.com/qianmian/qianmian/sqlite"
)

// env is a profile service over a real SQLite file and a real in-process bus.
type env struct {
	db         *sqlite.DB
	bus        *inmem.Bus
	users      *sqlite.UserService
	events     *sqlite.EventService
	identities *sqlite.IdentityService
	items      *sqlite.ItemService
	stores     *sqlite.StoreService
	assort     *sqlite.AssortmentService
	models     *sqlite.ModelStore
	svc        *profile.Service
}

// newEnv opens a fresh database and a service over it (not yet opened: set its fields, then
// call open).
func newEnv(t testing.TB, now func() time.Time) *env {
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
	e := &env{db: db, bus: bus, users: sqlite.NewUserService(db), events: sqlite.NewEventService(db),
		identities: sqlite.NewIdentityService(db), items: sqlite.NewItemService(db), stores: sqlite.NewStoreService(db),
		assort: sqlite.NewAssortmentService(db), models: sqlite.NewModelStore(db)}
	s := profile.NewService()
	s.Events, s.Users, s.Identities, s.Items = e.events, e.users, e.identities, e.items
	s.Profiles, s.Models, s.Bus = sqlite.NewProfileStore(db), e.models, bus
	s.Now = now
	s.Config.StatsEvery = -1 // tests refresh when they mean to
	e.svc = s
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Error(err)
		}
		_ = bus.Close()
		if err := db.Close(); err != nil {
			t.Error(err)
		}
	})
	return e
}

func (e *env) open(t testing.TB) {
	t.Helper()
	if err := e.svc.Open(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.RefreshStats(t.Context()); err != nil {
		t.Fatal(err)
	}
}

// loadWorld stores a generated world: catalogue, stores, users and every event.
func (e *env) loadWorld(t testing.TB, w *sim.World) {
	t.Helper()
	ctx := context.Background()
	must(t, sqlite.NewSupplierService(e.db).UpsertSuppliers(ctx, w.Suppliers))
	must(t, e.stores.UpsertStores(ctx, w.Stores))
	must(t, e.items.UpsertItems(ctx, w.Items))
	must(t, e.assort.UpsertAssortments(ctx, w.Assortments))
	must(t, e.users.UpsertUsers(ctx, w.Users))
	var batch []*qianmian.Event
	flush := func() {
		if _, err := e.events.CreateEvents(ctx, batch); err != nil {
			t.Fatal(err)
		}
		batch = batch[:0]
	}
	for ev := range w.Events() {
		if batch = append(batch, ev); len(batch) == 5000 {
			flush()
		}
	}
	if len(batch) > 0 {
		flush()
	}
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// recovery is how well a tag recovers a persona: precision and recall against the truth.
type recovery struct {
	persona              string
	truth, tagged, right int
	active, activeRight  int // consumers of the persona with at least 5 events, and those tagged
}

func (r recovery) precision() float64    { return ratio(r.right, r.tagged) }
func (r recovery) recall() float64       { return ratio(r.right, r.truth) }
func (r recovery) activeRecall() float64 { return ratio(r.activeRight, r.active) }

func ratio(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// personaRecovery builds the profile of every consenting user of w and compares each
// persona's rule tag (named as the persona) with the simulator's truth.
func personaRecovery(t testing.TB, e *env, w *sim.World) []recovery {
	t.Helper()
	by := map[string]*recovery{}
	for _, p := range w.Truth.Personas {
		by[p.Name] = &recovery{persona: p.Name}
	}
	for _, u := range w.Users {
		if !u.Consent.Personalization {
			continue
		}
		p, err := e.svc.FindProfileByUserID(t.Context(), u.ID)
		if err != nil {
			t.Fatal(err)
		}
		truth := w.Truth.PersonaOf(u.ID)
		by[truth].truth++
		active := p.Traits != nil && p.Traits.Events >= 5
		if active {
			by[truth].active++
		}
		for _, tag := range p.Tags {
			if r := by[tag.Name]; r != nil && tag.Source == qianmian.TagSourceRule {
				r.tagged++
				if tag.Name == truth {
					r.right++
					if active {
						r.activeRight++
					}
				}
			}
		}
	}
	var out []recovery
	for _, p := range w.Truth.Personas {
		out = append(out, *by[p.Name])
	}
	return out
}

func recoveryTable(rs []recovery) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%-24s %6s %7s %9s %7s %14s\n", "persona", "users", "tagged", "precision", "recall", "recall(≥5 ev)")
	for _, r := range rs {
		fmt.Fprintf(&b, "%-24s %6d %7d %9.2f %7.2f %14.2f\n", r.persona, r.truth, r.tagged, r.precision(), r.recall(), r.activeRecall())
	}
	return b.String()
}
