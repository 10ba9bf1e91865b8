package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/qianmian/qianmian"
)

// Record kinds a file can hold, in the order they must load (later kinds refer to earlier).
var kinds = []string{"suppliers", "stores", "items", "assortments", "users", "events"}

// loadBatch is how many records go to storage in one transaction.
const loadBatch = 5000

// loader feeds files of records into storage through the same validation as the API:
// Validate for catalogue records and DecodeEvent's rules for events.
type loader struct {
	Suppliers   qianmian.SupplierService
	Stores      qianmian.StoreService
	Items       qianmian.ItemService
	Assortments qianmian.AssortmentService
	Users       qianmian.UserService
	Events      qianmian.EventService
	Now         func() time.Time
	Progress    io.Writer // progress lines; nil for none
}

// loadSummary counts what one file gave.
type loadSummary struct {
	File       string         `json:"file"`
	Kind       string         `json:"kind"`
	Records    int            `json:"records"`
	Accepted   int            `json:"accepted"`
	Duplicates int            `json:"duplicates"`
	Rejected   int            `json:"rejected"`
	Reasons    map[string]int `json:"rejected_by_reason,omitempty"`
	Seconds    float64        `json:"seconds"`
}

func (s *loadSummary) reject(err error) {
	s.Rejected++
	if s.Reasons == nil {
		s.Reasons = make(map[string]int)
	}
	key := qianmian.ErrorMessage(err)
	if f := qianmian.ErrorField(err); f != "" {
		key = f + ": " + reasonClass(key)
	}
	s.Reasons[key]++
}

// reasonClass drops quoted values from a reason so rejects group by what went wrong.
func reasonClass(msg string) string {
	if i := strings.IndexAny(msg, "\":"); i > 0 {
		return strings.TrimSpace(msg[:i])
	}
	return msg
}

// kindOf names the kind of records in path from its base name ("items.ndjson",
// "2026-11-events.csv"), or "" when it cannot tell.
func kindOf(path string) string {
	base := strings.ToLower(filepath.Base(path))
	for _, k := range kinds {
		if strings.Contains(base, k) || strings.Contains(base, strings.TrimSuffix(k, "s")) {
			if k == "stores" && strings.Contains(base, "assortment") {
				continue
			}
			return k
		}
	}
	return ""
}

// sortByKind orders files so suppliers load before stores, stores before items, and so on.
func sortByKind(files []string, kindFor func(string) string) {
	rank := func(f string) int {
		for i, k := range kinds {
			if kindFor(f) == k {
				return i
			}
		}
		return len(kinds)
	}
	sort.SliceStable(files, func(i, j int) bool { return rank(files[i]) < rank(files[j]) })
}

// LoadFile loads one NDJSON or CSV file of the given kind. Bad records are counted by reason
// and skipped; good ones are stored.
func (l *loader) LoadFile(ctx context.Context, path, kind string) (*loadSummary, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, err
	}
	start := time.Now()
	sum := &loadSummary{File: path, Kind: kind}
	bar := newProgress(l.Progress, filepath.Base(path), info.Size())
	cr := &countingReader{r: f}
	var recs recordReader
	if isCSV(path) {
		recs, err = newCSVRecords(cr, kind)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
	} else {
		recs = newNDJSONRecords(cr)
	}
	batch := newBatch(kind, l)
	for {
		raw, rerr := recs.next()
		if rerr == io.EOF {
			break
		}
		sum.Records++
		if rerr == nil {
			rerr = batch.add(raw)
		}
		if rerr != nil {
			sum.reject(rerr)
		}
		if batch.len() >= loadBatch {
			if err := batch.flush(ctx, sum); err != nil {
				return sum, err
			}
			bar.update(cr.n, sum.Records)
		}
	}
	if err := batch.flush(ctx, sum); err != nil {
		return sum, err
	}
	bar.done(cr.n, sum.Records)
	sum.Seconds = time.Since(start).Seconds()
	return sum, nil
}

func isCSV(path string) bool { return strings.EqualFold(filepath.Ext(path), ".csv") }

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// recordReader yields records as JSON objects, whatever the file format.
type recordReader interface {
	// next returns the next record; io.EOF at the end; an EINVALID error for a record that
	// cannot be read (the reader stays usable).
	next() ([]byte, error)
}

type ndjsonRecords struct{ s *bufio.Scanner }

func newNDJSONRecords(r io.Reader) *ndjsonRecords {
	s := bufio.NewScanner(r)
	s.Buffer(make([]byte, 64*1024), 8*1024*1024)
	return &ndjsonRecords{s: s}
}

func (n *ndjsonRecords) next() ([]byte, error) {
	for n.s.Scan() {
		line := bytes.TrimSpace(n.s.Bytes())
		if len(line) == 0 {
			continue
		}
		return line, nil
	}
	if err := n.s.Err(); err != nil {
		return nil, qianmian.Invalid("line", "%v", err)
	}
	return nil, io.EOF
}

// batch collects valid records of one kind and stores them together.
type batch struct {
	kind string
	l    *loader
	now  time.Time

	suppliers   []*qianmian.Supplier
	stores      []*qianmian.Store
	items       []*qianmian.Item
	assortments []*qianmian.Assortment
	users       []*qianmian.User
	events      []*qianmian.Event
}

func newBatch(kind string, l *loader) *batch {
	now := time.Now()
	if l.Now != nil {
		now = l.Now()
	}
	return &batch{kind: kind, l: l, now: now}
}

func (b *batch) len() int {
	return len(b.suppliers) + len(b.stores) + len(b.items) + len(b.assortments) + len(b.users) + len(b.events)
}

// decodeStrict decodes one JSON record into v, naming the field at fault.
func decodeStrict(raw []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return qianmian.Invalid(te.Field, "must be %s, not %s", te.Type, te.Value)
		}
		if msg := err.Error(); strings.HasPrefix(msg, "json: unknown field ") {
			return qianmian.Invalid(strings.Trim(strings.TrimPrefix(msg, "json: unknown field "), `"`), "unknown field")
		}
		var pe *time.ParseError
		if errors.As(err, &pe) {
			return qianmian.Invalid("time", "not an RFC 3339 time: %q", pe.Value)
		}
		return qianmian.Invalid("record", "malformed JSON: %v", err)
	}
	return nil
}

// add validates one record and queues it.
func (b *batch) add(raw []byte) error {
	switch b.kind {
	case "events":
		e, err := qianmian.DecodeEvent(raw, b.now)
		if err != nil {
			return err
		}
		b.events = append(b.events, e)
	case "suppliers":
		return addValid(raw, &b.suppliers, func(v *qianmian.Supplier) error { return v.Validate() })
	case "stores":
		return addValid(raw, &b.stores, func(v *qianmian.Store) error { return v.Validate() })
	case "items":
		return addValid(raw, &b.items, func(v *qianmian.Item) error { return v.Validate() })
	case "assortments":
		return addValid(raw, &b.assortments, func(v *qianmian.Assortment) error { return v.Validate() })
	case "users":
		u := &qianmian.User{Consent: qianmian.DefaultConsent()}
		if err := decodeStrict(raw, u); err != nil {
			return err
		}
		if err := u.Validate(); err != nil {
			return err
		}
		b.users = append(b.users, u)
	default:
		return fmt.Errorf("unknown kind %q", b.kind)
	}
	return nil
}

func addValid[T any](raw []byte, dst *[]*T, validate func(*T) error) error {
	v := new(T)
	if err := decodeStrict(raw, v); err != nil {
		return err
	}
	if err := validate(v); err != nil {
		return err
	}
	*dst = append(*dst, v)
	return nil
}

// flush stores the queued records. A batch that storage refuses as a whole because of a bad
// record (an assortment entry for an unknown store, say) is retried one record at a time,
// so the good records are kept and each bad one is counted.
func (b *batch) flush(ctx context.Context, sum *loadSummary) error {
	defer b.reset()
	l := b.l
	switch b.kind {
	case "events":
		if len(b.events) == 0 {
			return nil
		}
		res, err := l.Events.CreateEvents(ctx, b.events)
		if err != nil {
			return fmt.Errorf("store events: %w", err)
		}
		sum.Accepted += res.Accepted
		sum.Duplicates += res.Duplicates
		return nil
	case "suppliers":
		return storeEach(ctx, b.suppliers, l.Suppliers.UpsertSuppliers, sum)
	case "stores":
		return storeEach(ctx, b.stores, l.Stores.UpsertStores, sum)
	case "items":
		return storeEach(ctx, b.items, l.Items.UpsertItems, sum)
	case "assortments":
		return storeEach(ctx, b.assortments, l.Assortments.UpsertAssortments, sum)
	case "users":
		return storeEach(ctx, b.users, l.Users.UpsertUsers, sum)
	}
	return nil
}

func storeEach[T any](ctx context.Context, recs []*T, upsert func(context.Context, []*T) error, sum *loadSummary) error {
	if len(recs) == 0 {
		return nil
	}
	err := upsert(ctx, recs)
	if err == nil {
		sum.Accepted += len(recs)
		return nil
	}
	if code := qianmian.ErrorCode(err); code == qianmian.EINTERNAL || code == qianmian.EUNAVAILABLE {
		return err
	}
	for _, r := range recs {
		if err := upsert(ctx, []*T{r}); err != nil {
			if code := qianmian.ErrorCode(err); code == qianmian.EINTERNAL || code == qianmian.EUNAVAILABLE {
				return err
			}
			sum.reject(err)
			continue
		}
		sum.Accepted++
	}
	return nil
}

func (b *batch) reset() {
	b.suppliers, b.stores, b.items, b.assortments, b.users, b.events = nil, nil, nil, nil, nil, nil
}

// progress draws a progress bar on a terminal, or logs a line every few seconds elsewhere.
type progress struct {
	w     io.Writer
	name  string
	total int64
	tty   bool
	start time.Time
	last  time.Time
}

func newProgress(w io.Writer, name string, total int64) *progress {
	p := &progress{w: w, name: name, total: total, start: time.Now()}
	if f, ok := w.(*os.File); ok {
		if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
			p.tty = true
		}
	}
	return p
}

func (p *progress) update(done int64, records int) {
	if p.w == nil {
		return
	}
	now := time.Now()
	every := 2 * time.Second
	if p.tty {
		every = 100 * time.Millisecond
	}
	if now.Sub(p.last) < every {
		return
	}
	p.last = now
	p.draw(done, records, false)
}

func (p *progress) done(done int64, records int) {
	if p.w != nil {
		p.draw(done, records, true)
	}
}

func (p *progress) draw(done int64, records int, final bool) {
	frac := 1.0
	if p.total > 0 {
		frac = min(float64(done)/float64(p.total), 1)
	}
	secs := time.Since(p.start).Seconds()
	rate := 0.0
	if secs > 0 {
		rate = float64(records) / secs
	}
	const width = 30
	filled := int(frac * width)
	bar := strings.Repeat("█", filled) + strings.Repeat("░", width-filled)
	line := fmt.Sprintf("%-18s %s %5.1f%% %9d records %8.0f/s", p.name, bar, frac*100, records, rate)
	switch {
	case p.tty && final:
		fmt.Fprintf(p.w, "\r%s\n", line)
	case p.tty:
		fmt.Fprintf(p.w, "\r%s", line)
	default:
		fmt.Fprintln(p.w, line)
	}
}
