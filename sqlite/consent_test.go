package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/qianmian/qianmian"
)

// testClock is a clock a test moves by hand.
type testClock struct{ ns atomic.Int64 }

func newTestClock() *testClock {
	c := &testClock{}
	c.ns.Store(time.Date(2024, 6, 1, 12, 0, 0, 0, time.UTC).UnixNano())
	return c
}

func (c *testClock) now() time.Time          { return time.Unix(0, c.ns.Load()).UTC() }
func (c *testClock) advance(d time.Duration) { c.ns.Add(int64(d)) }

// openAt opens a DB on the file at path with the clock, closed when the test ends: two
// calls with one path are two processes sharing the database.
func openAt(tb testing.TB, path string, clock func() time.Time) *DB {
	tb.Helper()
	db := NewDB(path)
	db.Now = clock
	if err := db.Open(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = db.Close() })
	return db
}

// wantConsent fails t unless Personalizes through db gives each id's answer in want.
func wantConsent(t *testing.T, db *DB, when string, want map[string]bool) {
	t.Helper()
	s := NewUserService(db)
	for id, w := range want {
		got, err := s.Personalizes(t.Context(), id)
		if err != nil {
			t.Fatalf("%s: Personalizes(%s): %v", when, id, err)
		}
		if got != w {
			t.Fatalf("%s: Personalizes(%s) = %v, want %v", when, id, got, w)
		}
	}
}

func personalization(id string, ok bool) *qianmian.User {
	c := qianmian.DefaultConsent()
	c.Personalization = ok
	return &qianmian.User{ID: id, Consent: c}
}

func mustUpsert(t testing.TB, db *DB, users ...*qianmian.User) {
	t.Helper()
	if err := NewUserService(db).UpsertUsers(context.Background(), users); err != nil {
		t.Fatal(err)
	}
}

func mustSetConsent(t testing.TB, db *DB, id string, ok bool) {
	t.Helper()
	if _, err := NewUserService(db).UpdateConsent(context.Background(), id,
		qianmian.ConsentUpdate{Personalization: &ok}); err != nil {
		t.Fatal(err)
	}
}

// TestConsent_TwoProcesses: a DB sees consent changed through another DB on the same file
// (another process) once its clock has passed the catch-up interval, or at once when its
// own write made it catch up; never earlier. Refusals stored before it opened are loaded.
func TestConsent_TwoProcesses(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "shared.db")
	clockA, clockB := newTestClock(), newTestClock()
	b := openAt(t, path, clockB.now)
	mustUpsert(t, b, personalization("before-refuses", false), personalization("before-consents", true),
		personalization("u-1", true), personalization("u-2", true), personalization("u-3", true))

	a := openAt(t, path, clockA.now)
	// Open loaded the set: no request has to pay for it.
	a.consent.mu.RLock()
	_, loaded := a.consent.refusing["before-refuses"]
	n := len(a.consent.refusing)
	a.consent.mu.RUnlock()
	if !loaded || n != 1 {
		t.Fatalf("after Open the set holds %d users, before-refuses %v; want it alone", n, loaded)
	}
	wantConsent(t, a, "A just opened", map[string]bool{
		"before-refuses": false, "before-consents": true, "u-1": true, "nobody": true})

	// B's change: B sees it at once, A only once its clock passes the interval.
	mustSetConsent(t, b, "u-1", false)
	mustUpsert(t, b, personalization("new-refuses", false))
	wantConsent(t, b, "B after its own changes", map[string]bool{"u-1": false, "new-refuses": false})
	wantConsent(t, a, "A right after B's changes", map[string]bool{"u-1": true, "new-refuses": true})
	clockA.advance(consentCatchUpInterval)
	wantConsent(t, a, "A after exactly the interval", map[string]bool{"u-1": true, "new-refuses": true})
	clockA.advance(time.Millisecond)
	wantConsent(t, a, "A past the interval", map[string]bool{"u-1": false, "new-refuses": false, "u-2": true})

	// A write through A catches A up on everything committed, B's changes included.
	mustSetConsent(t, b, "u-1", true)
	mustSetConsent(t, b, "u-2", false)
	clockA.advance(consentCatchUpInterval / 2)
	wantConsent(t, a, "A before the interval, B changed again", map[string]bool{"u-1": false, "u-2": true})
	mustSetConsent(t, a, "u-3", false)
	wantConsent(t, a, "A after its own write", map[string]bool{"u-1": true, "u-2": false, "u-3": false})
	// A's catch-up restarted its interval.
	mustSetConsent(t, b, "u-3", true)
	clockA.advance(consentCatchUpInterval)
	wantConsent(t, a, "A one interval after its write", map[string]bool{"u-3": false})
	clockA.advance(time.Millisecond)
	wantConsent(t, a, "A past it", map[string]bool{"u-3": true})

	// A user deleted by another process (users are not deleted today) has the default.
	raw := rawDB(t, path)
	if _, err := raw.Exec(`DELETE FROM users WHERE id IN ('before-refuses', 'u-2')`); err != nil {
		t.Fatal(err)
	}
	clockA.advance(consentCatchUpInterval + time.Millisecond)
	wantConsent(t, a, "A after deletes", map[string]bool{"before-refuses": true, "u-2": true, "new-refuses": false})

	// The log holds one row per user who ever refused or changed: not before-consents, who
	// was created consenting.
	got := consentLog(t, raw)
	want := []string{"before-refuses", "new-refuses", "u-1", "u-2", "u-3"}
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Fatalf("consent_changes holds %q, want %q, once each", got, want)
	}
	// Writes that leave personalisation as it was add nothing: an import upserting every
	// user again, or a change of another purpose.
	before := consentLog(t, raw)
	mustUpsert(t, b, personalization("new-refuses", false), personalization("u-1", true), personalization("u-3", true))
	mustUpsert(t, a, personalization("before-consents", true))
	no := false
	if _, err := NewUserService(b).UpdateConsent(t.Context(), "new-refuses", qianmian.ConsentUpdate{Marketing: &no}); err != nil {
		t.Fatal(err)
	}
	if after := consentLog(t, raw); !slices.Equal(after, before) {
		t.Fatalf("writes that kept personalisation changed consent_changes from %q to %q", before, after)
	}
}

// rawDB opens the file as a third process would, without the package's machinery.
func rawDB(t *testing.T, path string) *sql.DB {
	t.Helper()
	raw, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = raw.Close() })
	return raw
}

// consentLog returns the user ids of consent_changes in seq order.
func consentLog(t *testing.T, raw *sql.DB) []string {
	t.Helper()
	rows, err := raw.Query(`SELECT user_id FROM consent_changes ORDER BY seq`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return ids
}

// TestConsent_MigrationSeedsRefusals: on a database whose users refused before migration
// 0007, the migration puts them in the log, so the first Open loads them.
func TestConsent_MigrationSeedsRefusals(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "old.db")
	db := NewDB(path)
	if err := db.Open(); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	// Back to the schema before 0007, with users written meanwhile.
	raw := rawDB(t, path)
	for _, q := range []string{
		`DROP TRIGGER consent_changes_insert`,
		`DROP TRIGGER consent_changes_update`,
		`DROP TRIGGER consent_changes_delete`,
		`DROP TABLE consent_changes`,
		`DELETE FROM migrations WHERE name = '0007_consent_changes.sql'`,
		`INSERT INTO users (id, consent_personalization, consent_marketing, consent_analytics, created_at, updated_at)
			VALUES ('old-3', 0, 0, 0, 0, 0), ('old-1', 0, 1, 1, 0, 0), ('old-2', 1, 0, 0, 0, 0)`,
	} {
		if _, err := raw.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}

	db = openAt(t, path, time.Now)
	if got, want := consentLog(t, raw), []string{"old-1", "old-3"}; !slices.Equal(got, want) {
		t.Fatalf("after migration 0007 consent_changes holds %q, want %q", got, want)
	}
	wantConsent(t, db, "after migration 0007", map[string]bool{"old-1": false, "old-2": true, "old-3": false})
	// The triggers are back: a change made behind the DB's back is seen after the interval.
	if _, err := raw.Exec(`UPDATE users SET consent_personalization = 1 WHERE id = 'old-1'`); err != nil {
		t.Fatal(err)
	}
	db.consent.last.Store(0) // as if the interval had passed
	wantConsent(t, db, "after old-1 consented", map[string]bool{"old-1": true, "old-3": false})
}

// TestConsent_StaleAfterFailedCatchUp: when the catch-up after a write fails, the next read
// catches up before answering, and fails while it cannot, rather than answer from before
// the write.
func TestConsent_StaleAfterFailedCatchUp(t *testing.T) {
	t.Parallel()
	db := openAt(t, filepath.Join(t.TempDir(), "stale.db"), newTestClock().now)
	s := NewUserService(db)
	mustUpsert(t, db, personalization("u-1", true))

	// Reads fail: a pool that is closed.
	good := db.reads
	closed, err := sql.Open("sqlite", db.Path)
	if err != nil {
		t.Fatal(err)
	}
	_ = closed.Close()
	db.reads = newReadStmts(closed)
	mustSetConsent(t, db, "u-1", false) // commits; its catch-up fails
	if !db.consent.stale.Load() {
		t.Fatal("a failed catch-up after a write left the set trusted")
	}
	if ok, err := s.Personalizes(t.Context(), "u-1"); err == nil {
		t.Fatalf("Personalizes answered %v from before the write while it could not catch up", ok)
	}

	db.reads = good
	wantConsent(t, db, "once reads work again", map[string]bool{"u-1": false})
	if db.consent.stale.Load() {
		t.Fatal("still stale after a catch-up succeeded")
	}
}

// TestConsent_OneReaderCatchesUp: while a catch-up runs, reads that find the set old answer
// from it as it is rather than wait; after a failed write's catch-up they wait.
func TestConsent_OneReaderCatchesUp(t *testing.T) {
	t.Parallel()
	clock := newTestClock()
	path := filepath.Join(t.TempDir(), "busy.db")
	db := openAt(t, path, clock.now)
	other := openAt(t, path, clock.now)
	mustUpsert(t, other, personalization("u-1", false))
	clock.advance(2 * consentCatchUpInterval)

	// read asks for u-1 in a goroutine and returns the channel its answer arrives on.
	read := func() <-chan bool {
		c := make(chan bool, 1)
		go func() {
			ok, err := NewUserService(db).Personalizes(context.Background(), "u-1")
			if err != nil {
				t.Error(err)
			}
			c <- ok
		}()
		return c
	}

	db.consent.catchUpMu.Lock() // a catch-up in progress
	select {
	case ok := <-read():
		if !ok {
			t.Fatal("a read during another's catch-up saw what that catch-up is to bring")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("a read of an old set waited for another's catch-up") // and leaks, stuck
	}

	db.consent.stale.Store(true)
	answer := read()
	select {
	case <-answer:
		t.Fatal("a read of a stale set did not wait for the catch-up")
	case <-time.After(50 * time.Millisecond):
	}
	db.consent.catchUpMu.Unlock()
	if ok := <-answer; ok {
		t.Fatal("a read of a stale set did not catch up")
	}
}

// TestConsent_ConcurrentWritesAndReads: writers flip consent through the DB while readers
// read with the clock running; once the writers are done, every answer is the stored one.
// A catch-up never puts an older state over a newer one, whatever the interleaving.
func TestConsent_ConcurrentWritesAndReads(t *testing.T) {
	t.Parallel()
	clock := newTestClock()
	path := filepath.Join(t.TempDir(), "busy.db")
	db := openAt(t, path, clock.now)
	other := openAt(t, path, clock.now)
	const users = 20
	ids := make([]string, users)
	for i := range ids {
		ids[i] = fmt.Sprintf("u-%02d", i)
	}
	s := NewUserService(db)
	stop := make(chan struct{})
	var readers sync.WaitGroup
	for range 2 {
		readers.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				clock.advance(consentCatchUpInterval / 3)
				if _, err := s.Personalizes(context.Background(), ids[i%users]); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	var writers sync.WaitGroup
	for w, d := range []*DB{db, other, db} {
		writers.Go(func() {
			us := NewUserService(d)
			for i := range 30 {
				id := ids[(i*7+w)%users]
				ok := (i/2+w)%3 != 0
				var err error
				if i%2 == 0 {
					_, err = us.UpdateConsent(context.Background(), id, qianmian.ConsentUpdate{Personalization: &ok})
				}
				if i%2 == 1 || qianmian.ErrorCode(err) == qianmian.ENOTFOUND {
					err = us.UpsertUsers(context.Background(), []*qianmian.User{personalization(id, ok)})
				}
				if err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	writers.Wait()
	close(stop)
	readers.Wait()
	mustUpsert(t, db, personalization("last", false)) // a write through db: a catch-up
	want := map[string]bool{"last": false}
	for _, id := range ids {
		u, err := s.FindUserByID(t.Context(), id)
		if err != nil {
			t.Fatal(err)
		}
		want[id] = u.Consent.Personalization
	}
	wantConsent(t, db, "after the writers", want)
}

// TestConsent_QueryPlans: the catch-up walks the log from a seq by its key and looks each
// user up by id; the triggers find a user's older row by the index on user_id.
func TestConsent_QueryPlans(t *testing.T) {
	t.Parallel()
	db := openAt(t, filepath.Join(t.TempDir(), "plans.db"), time.Now)
	plan := queryPlan(t, db, consentChangesSQL, 0)
	if !strings.Contains(plan, "INTEGER PRIMARY KEY (rowid>?)") || !strings.Contains(plan, "sqlite_autoindex_users_1 (id=?)") {
		t.Errorf("catch-up plan:\n%s", plan)
	}
	plan = queryPlan(t, db, `DELETE FROM consent_changes WHERE user_id = ?`, "u")
	if !strings.Contains(plan, "consent_changes_user (user_id=?)") {
		t.Errorf("trigger's delete plan:\n%s", plan)
	}
}

// BenchmarkUserService_Personalizes asks whether visitors allow personalisation among
// 100,000 users of whom 5% refuse, with the real clock (so a catch-up once a second).
func BenchmarkUserService_Personalizes(b *testing.B) {
	const users = 100_000
	db := openAt(b, filepath.Join(b.TempDir(), "bench.db"), time.Now)
	s := NewUserService(db)
	ids := make([]string, users)
	batch := make([]*qianmian.User, 0, 1000)
	for i := range users {
		ids[i] = fmt.Sprintf("user-%06d", i)
		batch = append(batch, personalization(ids[i], i%20 != 0))
		if len(batch) == cap(batch) {
			mustUpsert(b, db, batch...)
			batch = batch[:0]
		}
	}
	unknown := make([]string, users)
	for i := range unknown {
		unknown[i] = fmt.Sprintf("visitor-%06d", i)
	}
	for _, bc := range []struct {
		name  string
		ids   func(i int) string
		wants bool
	}{
		{"consenting", func(i int) string { return ids[(i%(users/20))*20+1+i%19] }, true},
		{"refusing", func(i int) string { return ids[(i*20)%users] }, false},
		{"unknown", func(i int) string { return unknown[i%users] }, true},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				ok, err := s.Personalizes(b.Context(), bc.ids(i))
				if err != nil || ok != bc.wants {
					b.Fatalf("Personalizes(%s) = %v, %v", bc.ids(i), ok, err)
				}
				i += 7919
			}
		})
	}
	b.Run("parallel", func(b *testing.B) {
		b.ReportAllocs()
		var n atomic.Int64
		b.RunParallel(func(pb *testing.PB) {
			i := int(n.Add(1)) * 7919
			for pb.Next() {
				if _, err := s.Personalizes(context.Background(), ids[i%users]); err != nil {
					b.Error(err)
					return
				}
				i += 7919
			}
		})
	})
}
