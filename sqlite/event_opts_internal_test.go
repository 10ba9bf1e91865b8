package sqlite

import (
	"database/sql"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"

	"github.com/qianmian/qianmian"
	"github.com/qianmian/qianmian/storetest"
)

// optEvent returns a valid event setting the optional fields named by opts (optResolved:
// anonymous, with an identity; optIdentity alone: a user and an identity).
func optEvent(id string, opts uint8) *qianmian.Event {
	e := groupEvent(id, "u-"+id, "i-"+id)
	if opts&(optIdentity|optResolved) != 0 {
		e.Identity = &qianmian.IdentityRef{Channel: qianmian.ChannelApp, Type: qianmian.IdentityDevice, Value: "d-" + id}
		if opts&optResolved != 0 {
			e.UserID = ""
		}
	}
	if opts&optQuery != 0 {
		e.Query = "q " + id
	}
	if opts&optText != 0 {
		e.Text = "text " + id
	}
	if opts&optGeo != 0 {
		e.Context.Geo = &qianmian.GeoPoint{Lat: 31.2, Lon: 121.5}
	}
	if opts&optDevice != 0 {
		e.Context.Device = "dev " + id
	}
	if opts&optRecID != 0 {
		e.RecID = "rec-" + id
	}
	return e
}

// TestEventOpts_ZeroWhenLeftOut checks, for events setting every combination of optional
// fields, that each parameter eventOpts leaves out is the zero its literal writes, so a
// statement leaving it out stores what binding it would.
func TestEventOpts_ZeroWhenLeftOut(t *testing.T) {
	t.Parallel()
	for opts := range optAll + 1 {
		e := optEvent("e", opts)
		if err := e.Validate(storetest.Now()); err != nil {
			t.Fatalf("opts %07b: %v", opts, err)
		}
		key := ""
		if e.Identity != nil {
			key = e.Identity.Key()
		}
		args := eventArgs(nil, e, key, int64(1))
		got := eventOpts(e)
		for p, o := range eventParamOpts {
			if o == 0 || got&o != 0 {
				continue
			}
			zero := map[string]any{"''": "", "NULL": nil, "0": int64(0)}[eventParamZero[p]]
			if args[p] != zero {
				t.Errorf("opts %07b: parameter %d is left out, but is %#v, not %#v", opts, p, args[p], zero)
			}
		}
		// Every field the event sets is bound (optIdentity comes with an identity,
		// whether or not the event is anonymous).
		want := opts
		if opts&optResolved != 0 {
			want |= optIdentity
		}
		if got != want {
			t.Errorf("eventOpts = %07b, want %07b", got, want)
		}
	}
}

func TestInsertEventsSQL_Params(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		n     int
		opts  uint8
		bound int // per row
	}{{1, optAll, 20}, {256, optAll, 20}, {4, 0, 12}, {8, optGeo, 14}, {2, optIdentity | optResolved, 14}} {
		q := insertEventsSQL(tt.n, tt.opts)
		if got := strings.Count(q, "?"); got != tt.n*tt.bound {
			t.Errorf("insertEventsSQL(%d, %07b) has %d parameters, want %d", tt.n, tt.opts, got, tt.n*tt.bound)
		}
		if got := len(keptParams(tt.opts)); got != tt.bound {
			t.Errorf("keptParams(%07b) keeps %d, want %d", tt.opts, got, tt.bound)
		}
		if got := strings.Count(q, "("); got != tt.n+1 {
			t.Errorf("insertEventsSQL(%d, %07b) has %d rows", tt.n, tt.opts, got-1)
		}
	}
}

// storedRow is every column of an events row but seq and received_at.
type storedRow struct {
	id, typ, user, key, item, store, channel, query string
	quantity                                        int64
	amount                                          float64
	rating                                          int64
	text, location                                  string
	lat, lon                                        sql.NullFloat64
	device, recID                                   string
	occurred, resolved                              int64
}

func readRows(t *testing.T, db *DB) []storedRow {
	t.Helper()
	rows, err := db.read.Query(`SELECT id, type, user_id, identity_key, item_id, store_id, channel,
		query, quantity, amount, rating, text, location_type, lat, lon, device, rec_id, occurred_at,
		user_resolved, typeof(lat), typeof(query) FROM events ORDER BY seq`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []storedRow
	for rows.Next() {
		var r storedRow
		var latType, queryType string
		if err := rows.Scan(&r.id, &r.typ, &r.user, &r.key, &r.item, &r.store, &r.channel, &r.query,
			&r.quantity, &r.amount, &r.rating, &r.text, &r.location, &r.lat, &r.lon, &r.device,
			&r.recID, &r.occurred, &r.resolved, &latType, &queryType); err != nil {
			t.Fatal(err)
		}
		if queryType != "text" || (latType != "null" && latType != "real") {
			t.Fatalf("event %s: query stored as %s, lat as %s", r.id, queryType, latType)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// wantRow is the row an event (as sent, before the writer resolves it) is stored as, when
// resolvedTo is the user its identity is linked to ("" for none).
func wantRow(e *qianmian.Event, resolvedTo string) storedRow {
	r := storedRow{id: e.ID, typ: string(e.Type), user: e.UserID, item: e.ItemID, store: e.StoreID,
		channel: string(e.Channel), query: e.Query, quantity: int64(e.Quantity), amount: e.Amount,
		rating: int64(e.Rating), text: e.Text, location: string(e.Context.LocationType),
		device: e.Context.Device, recID: e.RecID, occurred: e.OccurredAt.UnixMilli()}
	if e.Identity != nil {
		r.key = e.Identity.Key()
		if e.UserID == "" && resolvedTo != "" {
			r.user, r.resolved = resolvedTo, 1
		}
	}
	if g := e.Context.Geo; g != nil {
		r.lat = sql.NullFloat64{Float64: g.Lat, Valid: true}
		r.lon = sql.NullFloat64{Float64: g.Lon, Valid: true}
	}
	return r
}

// TestInsertEventGroup_OptionalParams writes, as one group of several batches, events whose
// optional fields are set sparsely, so the group's statements leave different parameters
// out, and checks every stored column against what was sent.
func TestInsertEventGroup_OptionalParams(t *testing.T) {
	t.Parallel()
	db, _ := openGroupDB(t)
	s := NewEventService(db)

	// The identity of device d-link is linked to u-link first; anonymous events under it
	// are then stored as u-link's (user_resolved 1), the others stay anonymous.
	link := optEvent("link", optIdentity)
	link.Identity.Value, link.UserID = "d-link", "u-link"
	if _, err := s.CreateEvents(t.Context(), []*qianmian.Event{link}); err != nil {
		t.Fatal(err)
	}

	rng := rand.New(rand.NewPCG(7, 8))
	release, waitQueued := holdWriter(t, db)
	var batches [][]*qianmian.Event
	var sent []*qianmian.Event
	resolvedTo := map[string]string{}
	// 300 plain events (a 256-row statement binding 12 parameters a row), then events
	// setting one optional field each, then a mix: 1,000 events in all.
	for bi, size := range []int{300, 7, 180, 513} {
		batch := make([]*qianmian.Event, size)
		for i := range batch {
			id := fmt.Sprintf("b%d-%d", bi, i)
			var opts uint8
			switch {
			case bi == 1:
				opts = 1 << i // optIdentity … optResolved
			case bi >= 2 && rng.IntN(40) == 0:
				opts = uint8(rng.IntN(int(optAll) + 1))
			}
			e := optEvent(id, opts)
			if opts&optResolved != 0 && rng.IntN(2) == 0 {
				e.Identity.Value = "d-link"
				resolvedTo[id] = "u-link"
			}
			if i%9 == 0 {
				e.Type, e.Quantity, e.Amount, e.Rating = qianmian.EventPurchase, 2, 9.5, 0
			}
			batch[i] = e
		}
		batches = append(batches, batch)
		sent = append(sent, batch...)
	}
	// Copies of the events as sent, since the writer resolves user ids in place.
	want := []storedRow{wantRow(link, "")}
	for _, e := range sent {
		if err := e.Validate(storetest.Now()); err != nil {
			t.Fatal(err)
		}
		want = append(want, wantRow(e, resolvedTo[e.ID]))
	}
	var results []<-chan createResult
	for i, b := range batches {
		results = append(results, createAsync(t.Context(), s, b))
		waitQueued(i + 1)
	}
	release()
	for i, r := range results {
		if got := <-r; got.err != nil || got.res.Accepted != len(batches[i]) {
			t.Fatalf("batch %d: %+v", i, got)
		}
	}

	checkRows(t, db, want)
	// The plain events went through a statement leaving every optional parameter out, and
	// the group used more than one shape of statement.
	if db.events.inserts[insertKey{8, 0}] == nil {
		t.Errorf("no 256-row statement binding only the 12 parameters every event has: %v", keys(db.events.inserts))
	}
	if len(db.events.inserts) < 2 {
		t.Errorf("statements prepared: %v", keys(db.events.inserts))
	}
}

// checkRows fails t unless db's events table holds exactly want, in seq order.
func checkRows(t *testing.T, db *DB, want []storedRow) {
	t.Helper()
	got := readRows(t, db)
	if len(got) != len(want) {
		t.Fatalf("stored %d rows, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("row %d:\n got %+v\nwant %+v", i, got[i], want[i])
		}
	}
}

func keys(m map[insertKey]*sql.Stmt) []insertKey {
	var out []insertKey
	for k := range m {
		out = append(out, k)
	}
	return out
}

// TestInsertEventGroup_UnpreparedBindsAll writes a group whose leaner statements are not
// prepared (as when preparing them failed): every parameter is bound instead, and the rows
// are the same.
func TestInsertEventGroup_UnpreparedBindsAll(t *testing.T) {
	t.Parallel()
	db, _ := openGroupDB(t)
	events := []*qianmian.Event{optEvent("a", 0), optEvent("b", optText), optEvent("c", optGeo|optDevice)}
	var want []storedRow
	for _, e := range events {
		if err := e.Validate(storetest.Now()); err != nil {
			t.Fatal(err)
		}
		want = append(want, wantRow(e, ""))
	}
	b := newEventBatch(t.Context(), events, storetest.Now().UnixMilli())
	if err := db.writeTx(t.Context(), func(tx *sql.Tx) error {
		return db.insertEventGroup(t.Context(), tx, []*eventBatch{b})
	}); err != nil {
		t.Fatal(err)
	}
	if len(db.events.inserts) != 0 {
		t.Fatalf("prepared %v", keys(db.events.inserts))
	}
	checkRows(t, db, want)
	for i, seq := range b.seqs {
		if seq == 0 {
			t.Errorf("event %d has no seq", i)
		}
	}
}

// TestEventWriter_InsertStmtsBounded writes batches needing more shapes of statement than
// maxInsertStmts: the writer keeps at most that many, and every event is stored.
func TestEventWriter_InsertStmtsBounded(t *testing.T) {
	t.Parallel()
	db, _ := openGroupDB(t)
	s := NewEventService(db)
	n := 0
	for opts := range optAll + 1 {
		// Three events a batch: a 2-row and a 1-row statement for each combination.
		batch := make([]*qianmian.Event, 3)
		for i := range batch {
			batch[i] = optEvent(strconv.Itoa(n), opts&^optResolved)
			n++
		}
		if res, err := s.CreateEvents(t.Context(), batch); err != nil || res.Accepted != 3 {
			t.Fatalf("opts %07b: %+v, %v", opts, res, err)
		}
		if len(db.events.inserts) > maxInsertStmts {
			t.Fatalf("%d statements kept", len(db.events.inserts))
		}
	}
	if got, err := s.CountEvents(t.Context()); err != nil || got != int64(n) {
		t.Errorf("CountEvents = %d, %v; want %d", got, err, n)
	}
	if len(db.events.inserts) == 0 {
		t.Error("no statement kept")
	}
}

// TestChunker cuts groups into statements: the largest sizes that fit, spanning batches, in
// order, each with the union of its rows' optional parameters.
func TestChunker(t *testing.T) {
	t.Parallel()
	for _, sizes := range [][]int{{1}, {3}, {1000}, {1000, 7, 1, 300}, {256, 256}, {1, 1, 1, 1, 1}, {10_000}} {
		var group []*eventBatch
		total := 0
		for bi, n := range sizes {
			b := &eventBatch{events: make([]*qianmian.Event, n), opts: make([]uint8, n)}
			for i := range b.opts {
				b.opts[i] = uint8(1 << ((bi*7 + i) % 7)) // a different field for each row
				if i%3 != 0 {
					b.opts[i] = 0
				}
			}
			group = append(group, b)
			total += n
		}
		c := newChunker(group)
		bi, ei, seen := 0, 0, 0
		for {
			k, opts, parts, ok := c.next()
			if !ok {
				break
			}
			n, left := 1<<k, total-seen
			if n > left || (k+1 < insertSizes && 2*n <= left) {
				t.Fatalf("sizes %v: a chunk of %d rows with %d left", sizes, n, left)
			}
			var rows int
			var union uint8
			for _, p := range parts {
				if p.b != group[bi] || p.lo != ei {
					t.Fatalf("sizes %v: span %d–%d of batch %p, want from %d of batch %d", sizes, p.lo, p.hi, p.b, ei, bi)
				}
				for _, o := range p.b.opts[p.lo:p.hi] {
					union |= o
				}
				rows += p.hi - p.lo
				if ei = p.hi; ei == len(group[bi].events) {
					bi, ei = bi+1, 0
				}
			}
			if rows != n || opts != union {
				t.Fatalf("sizes %v: chunk of %d rows spans %d, opts %07b, want %07b", sizes, n, rows, opts, union)
			}
			seen += n
		}
		if seen != total {
			t.Errorf("sizes %v: chunks hold %d events of %d", sizes, seen, total)
		}
	}
}
