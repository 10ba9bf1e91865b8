package sqlite_test

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/qianmian/qianmian"
	"github.com/qianmian/qianmian/privacy"
	"github.com/qianmian/qianmian/sqlite"
	"github.com/qianmian/qianmian/storetest"
)

// newDB returns an unopened DB in a fresh temporary directory, with the contract's clock,
// a cipher and the given bus (nil keeps the default).
func newDB(tb testing.TB, bus qianmian.EventBus) *sqlite.DB {
	tb.Helper()
	db := sqlite.NewDB(filepath.Join(tb.TempDir(), "qianmian.db"))
	db.Now = storetest.Now
	if bus != nil {
		db.Bus = bus
	}
	c, err := privacy.NewCipher(privacy.GenerateKey())
	if err != nil {
		tb.Fatal(err)
	}
	db.Cipher = c
	return db
}

// mustOpen opens db and closes it when the test ends.
func mustOpen(tb testing.TB, db *sqlite.DB) *sqlite.DB {
	tb.Helper()
	if err := db.Open(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if err := db.Close(); err != nil {
			tb.Error(err)
		}
	})
	return db
}

func stores(db *sqlite.DB, bus *storetest.Bus) storetest.Stores {
	return storetest.Stores{
		Suppliers:   sqlite.NewSupplierService(db),
		Stores:      sqlite.NewStoreService(db),
		Items:       sqlite.NewItemService(db),
		Assortments: sqlite.NewAssortmentService(db),
		Users:       sqlite.NewUserService(db),
		Identities:  sqlite.NewIdentityService(db),
		Events:      sqlite.NewEventService(db),
		Keys:        sqlite.NewKeyService(db),
		Models:      sqlite.NewModelStore(db),
		Profiles:    sqlite.NewProfileStore(db),
		Segments:    sqlite.NewSegmentStore(db),
		Bus:         bus,
	}
}

func TestContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) storetest.Stores {
		bus := storetest.NewBus()
		return stores(mustOpen(t, newDB(t, bus)), bus)
	})
}

func TestDB_MigrationsIdempotent(t *testing.T) {
	t.Parallel()
	db := newDB(t, nil)
	for i := range 3 {
		if err := db.Open(); err != nil {
			t.Fatalf("open %d: %v", i+1, err)
		}
		if err := db.Close(); err != nil {
			t.Fatalf("close %d: %v", i+1, err)
		}
	}
	raw, err := sql.Open("sqlite", db.Path)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	var applied int
	if err := raw.QueryRow(`SELECT COUNT(*) FROM migrations`).Scan(&applied); err != nil {
		t.Fatal(err)
	}
	files, err := filepath.Glob("migration/*.sql")
	if err != nil {
		t.Fatal(err)
	}
	if applied != len(files) || applied == 0 {
		t.Fatalf("%d migrations recorded after three opens, want %d", applied, len(files))
	}
	var mode string
	if err := raw.QueryRow(`PRAGMA journal_mode`).Scan(&mode); err != nil {
		t.Fatal(err)
	}
	if mode != "wal" {
		t.Fatalf("journal_mode=%q, want wal", mode)
	}
}

func TestDB_DataSurvivesReopen(t *testing.T) {
	t.Parallel()
	db := newDB(t, nil)
	if err := db.Open(); err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	if err := sqlite.NewStoreService(db).UpsertStores(ctx, []*qianmian.Store{{ID: "s-a", Region: "east"}}); err != nil {
		t.Fatal(err)
	}
	events := []*qianmian.Event{{ID: "e-1", Type: qianmian.EventVisit, UserID: "u-1", StoreID: "s-a",
		Channel: qianmian.ChannelOffline, OccurredAt: storetest.Now().Add(-time.Hour)}}
	if _, err := sqlite.NewEventService(db).CreateEvents(ctx, events); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	mustOpen(t, db)
	if _, err := sqlite.NewStoreService(db).FindStoreByID(ctx, "s-a"); err != nil {
		t.Fatalf("store after reopen: %v", err)
	}
	got, err := sqlite.NewEventService(db).FindEvents(ctx, qianmian.EventFilter{UserID: "u-1"})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].ID != "e-1" || got[0].Seq != events[0].Seq {
		t.Fatalf("events after reopen: %+v, want e-1 with seq %d", got, events[0].Seq)
	}
	more := []*qianmian.Event{{ID: "e-2", Type: qianmian.EventVisit, UserID: "u-1", StoreID: "s-a",
		Channel: qianmian.ChannelOffline, OccurredAt: storetest.Now()}}
	if _, err := sqlite.NewEventService(db).CreateEvents(ctx, more); err != nil {
		t.Fatal(err)
	}
	if more[0].Seq <= events[0].Seq {
		t.Fatalf("seq after reopen %d, not after %d", more[0].Seq, events[0].Seq)
	}
}

// TestEventService_AckedSurvivesKill kills a writer process with SIGKILL while it writes, and
// checks that every batch it acknowledged is in the database.
func TestEventService_AckedSurvivesKill(t *testing.T) {
	if path := os.Getenv("QIANMIAN_TEST_KILL_WRITER"); path != "" {
		killWriter(path) // the child: never returns
	}
	t.Parallel()
	path := filepath.Join(t.TempDir(), "qianmian.db")
	cmd := exec.Command(os.Args[0], "-test.run=^TestEventService_AckedSurvivesKill$")
	cmd.Env = append(os.Environ(), "QIANMIAN_TEST_KILL_WRITER="+path)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill() }) // should the test end early
	acked := 0
	sc := bufio.NewScanner(out)
	for acked < 20 && sc.Scan() {
		if n, err := strconv.Atoi(strings.TrimPrefix(sc.Text(), "acked ")); err == nil {
			acked = n
		}
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	if acked < 20 {
		t.Fatalf("the writer acknowledged %d batches before it ended, want 20", acked)
	}

	db := sqlite.NewDB(path)
	mustOpen(t, db)
	events := sqlite.NewEventService(db)
	for b := range acked {
		got, err := events.FindEvents(t.Context(), qianmian.EventFilter{UserID: "u-" + strconv.Itoa(b)})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 100 {
			t.Fatalf("acknowledged batch %d has %d of its 100 events after the kill", b, len(got))
		}
	}
}

// killWriter writes batches of 100 events to the database at path, printing "acked N" after
// the Nth batch is committed, until it is killed.
func killWriter(path string) {
	db := sqlite.NewDB(path)
	if err := db.Open(); err != nil {
		panic(err)
	}
	events := sqlite.NewEventService(db)
	for b := 0; ; b++ {
		batch := make([]*qianmian.Event, 100)
		for i := range batch {
			batch[i] = &qianmian.Event{ID: fmt.Sprintf("e-%d-%d", b, i), Type: qianmian.EventView,
				UserID: "u-" + strconv.Itoa(b), ItemID: "i-1", Channel: qianmian.ChannelApp, OccurredAt: time.Now()}
		}
		if _, err := events.CreateEvents(context.Background(), batch); err != nil {
			panic(err)
		}
		fmt.Printf("acked %d\n", b+1)
	}
}

func TestUserService_PhoneNotInFiles(t *testing.T) {
	t.Parallel()
	db := newDB(t, nil)
	if err := db.Open(); err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	const phone = "+86 139 1234 5678"
	const name = "Wang Xiuying"
	users := sqlite.NewUserService(db)
	if err := users.UpsertUsers(ctx, []*qianmian.User{{ID: "u-1", Phone: phone, Name: name, Address: "1 Bund Rd"}}); err != nil {
		t.Fatal(err)
	}
	got, err := users.FindUserByID(ctx, "u-1")
	if err != nil {
		t.Fatal(err)
	}
	if got.Phone != phone || got.Name != name {
		t.Fatalf("read back phone %q, name %q", got.Phone, got.Name)
	}

	// While open the user is in the WAL; after close, in the main file.
	assertAbsent(t, db.Path, []byte(phone), []byte(name), []byte("u-1")) // u-1 proves the files were read
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	assertAbsent(t, db.Path, []byte(phone), []byte(name), []byte("u-1"))
}

// assertAbsent fails t if a secret occurs in the database file or its WAL, and checks that
// marker, which is stored in the clear, does occur (so the files read are the right ones).
func assertAbsent(t *testing.T, path string, phone, name, marker []byte) {
	t.Helper()
	var all []byte
	for _, p := range []string{path, path + "-wal"} {
		b, err := os.ReadFile(p)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		} else if err != nil {
			t.Fatal(err)
		}
		for _, secret := range [][]byte{phone, name} {
			if bytes.Contains(b, secret) {
				t.Fatalf("%s contains the plaintext %q", filepath.Base(p), secret)
			}
		}
		all = append(all, b...)
	}
	if !bytes.Contains(all, marker) {
		t.Fatalf("the database files do not contain %q: the test read the wrong files", marker)
	}
}

func TestUserService_NoCipher(t *testing.T) {
	t.Parallel()
	db := newDB(t, nil)
	db.Cipher = nil
	mustOpen(t, db)
	users := sqlite.NewUserService(db)
	err := users.UpsertUsers(t.Context(), []*qianmian.User{{ID: "u-1", Phone: "+86 139 1234 5678"}})
	if qianmian.ErrorCode(err) != qianmian.EINVALID || qianmian.ErrorField(err) != "phone" {
		t.Fatalf("UpsertUsers with a phone and no cipher: %v, want EINVALID naming phone", err)
	}
	if err := users.UpsertUsers(t.Context(), []*qianmian.User{{ID: "u-2", City: "Suzhou"}}); err != nil {
		t.Fatalf("a user without personal fields needs no cipher: %v", err)
	}
}

func TestDB_OpenRejectsMemory(t *testing.T) {
	t.Parallel()
	if err := sqlite.NewDB(":memory:").Open(); err == nil {
		t.Fatal("Open(:memory:) succeeded; two pools cannot share one in-memory database")
	}
}

// benchEvents returns n valid events with ids unique to (batch, i): a mix of logged-in and
// anonymous shoppers across 100 stores and 5,000 items.
func benchEvents(rng *rand.Rand, batch, n int) []*qianmian.Event {
	types := []qianmian.EventType{qianmian.EventView, qianmian.EventView, qianmian.EventView,
		qianmian.EventClick, qianmian.EventCart, qianmian.EventPurchase}
	base := storetest.Now().Add(-24 * time.Hour)
	events := make([]*qianmian.Event, n)
	for i := range events {
		e := &qianmian.Event{
			ID:         "b" + strconv.Itoa(batch) + "-" + strconv.Itoa(i),
			Type:       types[rng.IntN(len(types))],
			ItemID:     "item-" + strconv.Itoa(rng.IntN(5000)),
			StoreID:    "store-" + strconv.Itoa(rng.IntN(100)),
			Channel:    qianmian.ChannelApp,
			Context:    qianmian.EventContext{LocationType: qianmian.LocationHome, Device: "Android 14"},
			OccurredAt: base.Add(time.Duration(rng.IntN(86_400_000)) * time.Millisecond),
		}
		if rng.IntN(5) == 0 {
			e.Identity = &qianmian.IdentityRef{Channel: qianmian.ChannelApp, Type: qianmian.IdentityDevice,
				Value: "dev-" + strconv.Itoa(rng.IntN(20_000))}
		} else {
			e.UserID = "user-" + strconv.Itoa(rng.IntN(20_000))
		}
		if e.Type == qianmian.EventPurchase {
			e.Quantity, e.Amount = 1, float64(rng.IntN(50_000))/100
		}
		events[i] = e
	}
	return events
}

func BenchmarkEventService_CreateEvents(b *testing.B) {
	for _, size := range []int{1, 100, 10_000} {
		b.Run(strconv.Itoa(size), func(b *testing.B) {
			db := mustOpen(b, newDB(b, nil))
			s := sqlite.NewEventService(db)
			rng := rand.New(rand.NewPCG(1, 2))
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				events := benchEvents(rng, i, size)
				b.StartTimer()
				res, err := s.CreateEvents(b.Context(), events)
				if err != nil {
					b.Fatal(err)
				}
				if res.Accepted != size {
					b.Fatalf("accepted %d of %d", res.Accepted, size)
				}
			}
			b.ReportMetric(float64(b.N*size)/b.Elapsed().Seconds(), "events/s")
		})
	}
}

func ExampleDB() {
	dir, err := os.MkdirTemp("", "qianmian-example")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	db := sqlite.NewDB(filepath.Join(dir, "qianmian.db"))
	if err := db.Open(); err != nil {
		panic(err)
	}
	defer db.Close()
	n, err := sqlite.NewEventService(db).CountEvents(context.Background())
	fmt.Println(n, err)
	// Output: 0 <nil>
}

func TestDB_OpenAnyPath(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir) // not parallel: it changes the working directory
	for _, p := range []string{"relative.db", "sub dir/a #1?x=y.db", filepath.Join(dir, "100% abs.db")} {
		db := sqlite.NewDB(p)
		if err := db.Open(); err != nil {
			t.Fatalf("Open(%q): %v", p, err)
		}
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("Open(%q) did not create it: %v", p, err)
		}
	}
}
