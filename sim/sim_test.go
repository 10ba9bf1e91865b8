package sim_test

import (
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/qianmian/qianmian"
	"github.com/qianmian/qianmian/sim"
)

// MustGenerate returns the world of cfg or fails the test.
func MustGenerate(tb testing.TB, cfg sim.Config) *sim.World {
	tb.Helper()
	w, err := sim.Generate(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	return w
}

// behaviourConfig is big enough for behaviour to show in counts and small enough to
// generate in a fraction of a second: six weeks, 3,000 consumers.
func behaviourConfig() sim.Config {
	c := sim.SmallConfig()
	c.Items, c.Stores, c.Users, c.Weeks = 1000, 20, 3000, 6
	return c
}

// behaviour is the behaviour world and its events, generated once for the tests that only
// read them.
var behaviour = sync.OnceValues(func() (*sim.World, error) { return sim.Generate(behaviourConfig()) })

var behaviourEvents = sync.OnceValue(func() []*qianmian.Event {
	w, err := behaviour()
	if err != nil {
		return nil
	}
	return slices.Collect(w.Events())
})

func mustBehaviour(t *testing.T) (*sim.World, []*qianmian.Event) {
	t.Helper()
	w, err := behaviour()
	if err != nil {
		t.Fatal(err)
	}
	return w, behaviourEvents()
}

func hashFiles(t *testing.T, f sim.Files) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, p := range append(f.Paths(), f.Truth) {
		file, err := os.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		h := sha256.New()
		if _, err := io.Copy(h, file); err != nil {
			t.Fatal(err)
		}
		file.Close()
		out[filepath.Base(p)] = hex.EncodeToString(h.Sum(nil))
	}
	return out
}

func TestGenerate_Deterministic(t *testing.T) {
	t.Parallel()
	write := func(cfg sim.Config) (sim.Files, map[string]string) {
		f, err := sim.WriteFiles(MustGenerate(t, cfg), t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		return f, hashFiles(t, f)
	}
	cfg := sim.SmallConfig()
	fa, a := write(cfg)
	_, b := write(cfg)
	if !reflect.DeepEqual(a, b) {
		t.Fatalf("same config, different files:\n%v\n%v", a, b)
	}
	if len(a) != 7 || fa.EventCount == 0 {
		t.Fatalf("files %v, %d events", a, fa.EventCount)
	}
	// Neither the number of workers nor generating in windows changes the output.
	windowed := cfg
	windowed.Workers, windowed.MaxBufferedEvents = 1, 300
	if _, c := write(windowed); !reflect.DeepEqual(a, c) {
		t.Fatalf("one worker, windows of 300 events: files differ:\n%v\n%v", a, c)
	}
	other := cfg
	other.Seed++
	_, d := write(other)
	for _, name := range []string{"items.ndjson", "users.ndjson", "events.ndjson", "truth.json"} {
		if a[name] == d[name] {
			t.Errorf("seed %d and %d give the same %s", cfg.Seed, other.Seed, name)
		}
	}
}

func TestGenerate_Valid(t *testing.T) {
	t.Parallel()
	cfg := sim.SmallConfig()
	cfg.End = cfg.End.Add(700 * time.Millisecond) // as time.Now() would be
	w := MustGenerate(t, cfg)
	for _, s := range w.Suppliers {
		if err := s.Validate(); err != nil {
			t.Fatalf("supplier %s: %v", s.ID, err)
		}
	}
	for _, s := range w.Stores {
		if err := s.Validate(); err != nil {
			t.Fatalf("store %s: %v", s.ID, err)
		}
	}
	for _, it := range w.Items {
		if err := it.Validate(); err != nil {
			t.Fatalf("item %s: %v", it.ID, err)
		}
		if !it.LaunchedAt.Before(cfg.End) || !it.UpdatedAt.Before(cfg.End) {
			t.Fatalf("item %s: launched %v, updated %v, not before End", it.ID, it.LaunchedAt, it.UpdatedAt)
		}
	}
	for _, a := range w.Assortments {
		if err := a.Validate(); err != nil {
			t.Fatalf("assortment %s/%s: %v", a.StoreID, a.ItemID, err)
		}
	}
	for _, u := range w.Users {
		if err := u.Validate(); err != nil {
			t.Fatalf("user %s: %v", u.ID, err)
		}
		if u.UpdatedAt.Before(u.CreatedAt) || !u.CreatedAt.Before(cfg.End) {
			t.Fatalf("user %s: created %v, updated %v", u.ID, u.CreatedAt, u.UpdatedAt)
		}
	}
	ids := map[string]bool{}
	var last time.Time
	for e := range w.Events() {
		// Events are already in normal form: validating them changes nothing.
		v := *e
		if err := v.Validate(cfg.End); err != nil {
			t.Fatalf("event %+v: %v", e, err)
		}
		if !reflect.DeepEqual(v, *e) {
			t.Fatalf("Validate changed event:\n%+v\n%+v", *e, v)
		}
		if !e.OccurredAt.Before(cfg.End) || e.OccurredAt.Before(w.Truth.Start) {
			t.Fatalf("event %s at %v, outside [%v, %v)", e.ID, e.OccurredAt, w.Truth.Start, cfg.End)
		}
		if e.OccurredAt.Before(last) {
			t.Fatalf("event %s at %v after one at %v", e.ID, e.OccurredAt, last)
		}
		last = e.OccurredAt
		if ids[e.ID] {
			t.Fatalf("duplicate event id %s", e.ID)
		}
		ids[e.ID] = true
	}
}

func TestGenerate_References(t *testing.T) {
	w, events := mustBehaviour(t)
	stores := map[string]*qianmian.Store{}
	for _, s := range w.Stores {
		stores[s.ID] = s
	}
	items := map[string]bool{}
	for _, it := range w.Items {
		items[it.ID] = true
	}
	users := map[string]bool{}
	for _, u := range w.Users {
		users[u.ID] = true
	}
	suppliers := map[string]bool{}
	for _, s := range w.Suppliers {
		suppliers[s.ID] = true
	}
	for _, it := range w.Items {
		if !suppliers[it.SupplierID] {
			t.Fatalf("item %s: unknown supplier %s", it.ID, it.SupplierID)
		}
	}
	type key struct{ store, item string }
	assorted := map[key]bool{}
	for _, a := range w.Assortments {
		if stores[a.StoreID] == nil || !items[a.ItemID] {
			t.Fatalf("assortment %s/%s: unknown store or item", a.StoreID, a.ItemID)
		}
		if assorted[key{a.StoreID, a.ItemID}] {
			t.Fatalf("assortment %s/%s listed twice", a.StoreID, a.ItemID)
		}
		assorted[key{a.StoreID, a.ItemID}] = true
	}
	for _, e := range events {
		s := stores[e.StoreID]
		switch {
		case s == nil:
			t.Fatalf("event %s: unknown store %q", e.ID, e.StoreID)
		case e.UserID != "" && !users[e.UserID]:
			t.Fatalf("event %s: unknown user %q", e.ID, e.UserID)
		case e.ItemID != "" && !assorted[key{e.StoreID, e.ItemID}]:
			t.Fatalf("event %s (%s): item %s is not in store %s's assortment", e.ID, e.Type, e.ItemID, e.StoreID)
		case e.Channel == qianmian.ChannelOffline && s.Channel == qianmian.StoreOnline:
			t.Fatalf("event %s: offline at online-only store %s", e.ID, s.ID)
		case e.Channel != qianmian.ChannelOffline && s.Channel == qianmian.StoreOffline && e.Type != qianmian.EventReview:
			t.Fatalf("event %s: %s %s at offline-only store %s", e.ID, e.Channel, e.Type, s.ID)
		case e.Type == qianmian.EventVisit && e.Channel != qianmian.ChannelOffline:
			t.Fatalf("visit %s in channel %s", e.ID, e.Channel)
		case (e.Channel == qianmian.ChannelApp) != (e.Context.Device != ""):
			t.Fatalf("event %s: channel %s, device %q", e.ID, e.Channel, e.Context.Device)
		}
	}
}

func TestGenerate_Counts(t *testing.T) {
	t.Parallel()
	cfg := sim.SmallConfig()
	w := MustGenerate(t, cfg)
	if len(w.Suppliers) != cfg.Suppliers || len(w.Items) != cfg.Items || len(w.Stores) != cfg.Stores || len(w.Users) != cfg.Users {
		t.Fatalf("got %d suppliers, %d items, %d stores, %d users", len(w.Suppliers), len(w.Items), len(w.Stores), len(w.Users))
	}
	regions := map[string]bool{}
	for _, s := range w.Stores {
		regions[s.Region] = true
	}
	if len(regions) != 5 {
		t.Errorf("stores in %d regions, want 5", len(regions))
	}
	perStore := map[string]int{}
	inactive, outOfStock := 0, 0
	for _, a := range w.Assortments {
		perStore[a.StoreID]++
		if !a.InStock {
			outOfStock++
		}
		if a.CommissionRate < 0.05 || a.CommissionRate > 0.2 {
			t.Fatalf("commission %v", a.CommissionRate)
		}
	}
	for _, it := range w.Items {
		if it.Status == qianmian.ItemInactive {
			inactive++
		}
	}
	for s, n := range perStore {
		if n < cfg.Items*3/10 || n > cfg.Items*8/10 {
			t.Errorf("store %s sells %d items", s, n)
		}
	}
	if share := float64(outOfStock) / float64(len(w.Assortments)); share < 0.02 || share > 0.1 {
		t.Errorf("out of stock share %.3f", share)
	}
	if inactive == 0 || inactive > cfg.Items/10 {
		t.Errorf("%d inactive items", inactive)
	}
	n := 0
	for range w.Events() {
		n++
	}
	if n < 2000 || n > 8000 {
		t.Errorf("%d events, want 2,000–8,000", n)
	}
}

// TestGenerate_Default checks the demo world's size and reports how long it takes.
func TestGenerate_Default(t *testing.T) {
	if testing.Short() {
		t.Skip("generates 20,000 consumers")
	}
	cfg := sim.DefaultConfig()
	start := time.Now()
	w := MustGenerate(t, cfg)
	built := time.Since(start)
	byType := map[qianmian.EventType]int{}
	n := 0
	for e := range w.Events() {
		byType[e.Type]++
		n++
	}
	t.Logf("DefaultConfig: Generate %v, Events %v (total %v): %d events %v", built.Round(time.Millisecond),
		(time.Since(start) - built).Round(time.Millisecond), time.Since(start).Round(time.Millisecond), n, byType)
	if n < 300_000 || n > 500_000 {
		t.Errorf("%d events, want 300k–500k", n)
	}
	for _, typ := range qianmian.EventTypes {
		if typ != qianmian.EventImpression && byType[typ] == 0 {
			t.Errorf("no %s events", typ)
		}
	}
	perStore := map[string]int{}
	for _, a := range w.Assortments {
		perStore[a.StoreID]++
	}
	for s, k := range perStore {
		if k < 300 || k > 1500 {
			t.Errorf("store %s sells %d items, want 300–1,500", s, k)
		}
	}
	var optOut, marketing, declared, personal int
	for _, u := range w.Users {
		optOut += b2i(!u.Consent.Personalization)
		marketing += b2i(u.Consent.Marketing)
		declared += b2i(u.BirthYear != 0)
		personal += b2i(u.Phone != "")
	}
	within(t, "opted out of personalisation", float64(optOut)/float64(len(w.Users)), 0.04, 0.06)
	within(t, "consented to marketing", float64(marketing)/float64(len(w.Users)), 0.38, 0.42)
	within(t, "declared attributes", float64(declared)/float64(len(w.Users)), 0.5, 0.6)
	within(t, "personal fields", float64(personal)/float64(len(w.Users)), 0.55, 0.65)
	kinds := map[qianmian.IdentityType]int{}
	for _, id := range w.Truth.Identities {
		kinds[id.Identity.Type]++
	}
	within(t, "anonymous first", float64(kinds[qianmian.IdentityDevice])/float64(len(w.Users)), 0.17, 0.21)
	within(t, "membership cards", float64(kinds[qianmian.IdentityMembership])/float64(len(w.Users)), 0.08, 0.11)
}

func within(t *testing.T, what string, got, lo, hi float64) {
	t.Helper()
	if got < lo || got > hi {
		t.Errorf("%s: %.3f, want %.3f–%.3f", what, got, lo, hi)
	}
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

func TestConfig_Validate(t *testing.T) {
	for _, tt := range []struct {
		name string
		edit func(*sim.Config)
	}{
		{"NoSuppliers", func(c *sim.Config) { c.Suppliers = 0 }},
		{"FewItems", func(c *sim.Config) { c.Items = 10 }},
		{"OneStore", func(c *sim.Config) { c.Stores = 1 }},
		{"NoUsers", func(c *sim.Config) { c.Users = 0 }},
		{"NoWeeks", func(c *sim.Config) { c.Weeks = 0 }},
		{"NoEnd", func(c *sim.Config) { c.End = time.Time{} }},
		{"ShareAboveOne", func(c *sim.Config) { c.UnmetShare = 1.5 }},
		{"NoActivity", func(c *sim.Config) { c.ActivityScale = 0 }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := sim.SmallConfig()
			tt.edit(&c)
			if _, err := sim.Generate(c); err == nil {
				t.Fatal("Generate accepted an invalid config")
			}
		})
	}
	if err := sim.LargeConfig().Validate(); err != nil {
		t.Fatal(err)
	}
}

func BenchmarkGenerate(b *testing.B) {
	b.Run("small", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			w := MustGenerate(b, sim.SmallConfig())
			n := 0
			for range w.Events() {
				n++
			}
			b.ReportMetric(float64(n), "events/op")
		}
	})
}

// itemsByID indexes a world's items.
func itemsByID(w *sim.World) map[string]*qianmian.Item {
	m := make(map[string]*qianmian.Item, len(w.Items))
	for _, it := range w.Items {
		m[it.ID] = it
	}
	return m
}

func hasPrefix(key, prefix string) bool { return key == prefix || strings.HasPrefix(key, prefix+"/") }
