package segment

import (
	"iter"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"time"
)

// stripes is the number of subject stripes: an Update locks only its subject's stripe, so
// updates of different subjects run in parallel, and updates of one subject apply in order.
const stripes = 64

// Change is one subject joining or leaving one segment.
type Change struct {
	Segment string
	Subject string
	Joined  bool // false: the subject left
	// Count is the segment's member count right after the change (after the whole definition,
	// for the changes Define returns).
	Count int
	At    time.Time
}

// CountSample is a segment's member count at the end of the history bucket that starts At.
// Buckets in which the count did not change have no sample: the count is the previous one.
type CountSample struct {
	At    time.Time
	Count int
}

// Index holds segments and keeps each one's members current. Set the exported fields before
// the first call; all methods are safe for concurrent use.
//
// Lock order: defineMu, then mu, then a subject stripe, then a segment's histMu. sortMu is
// taken before stripes and never while holding one.
type Index struct {
	// Now stamps changes and history samples; defaults to time.Now.
	Now func() time.Time
	// Resolution is the width of a history bucket; defaults to one minute.
	Resolution time.Duration
	// HistoryLimit is the number of history samples kept per segment; defaults to 1440 (a day
	// of minutes). Older samples are dropped.
	HistoryLimit int

	defineMu sync.Mutex   // serialises Define and Remove
	mu       sync.RWMutex // guards segs, building, all, byRef; writers exclude every Update
	segs     map[string]*seg
	building map[string]*seg // segments being defined: Update fills them but reports nothing
	all      []*seg          // segs and building, in id order
	byRef    map[string][]*seg
	locks    [stripes]sync.Mutex
}

// seg is one segment's state. members and touched of stripe k are guarded by Index.locks[k].
type seg struct {
	id      string
	expr    *Expr
	pending bool // in Index.building; written only under Index.mu held for writing
	members [stripes]map[string]struct{}
	touched [stripes]map[string]struct{} // subjects Update or Delete decided while pending
	count   atomic.Int64
	version atomic.Uint64 // bumped on every membership change

	histMu  sync.Mutex
	history []CountSample

	sortMu    sync.Mutex
	sorted    []string // members in order as of sortedVer; never modified once built
	sortedVer uint64
}

// NewIndex returns an empty Index with default settings.
func NewIndex() *Index {
	return &Index{Now: time.Now, Resolution: time.Minute, HistoryLimit: 1440,
		segs: map[string]*seg{}, building: map[string]*seg{}, byRef: map[string][]*seg{}}
}

func (ix *Index) now() time.Time {
	if ix.Now == nil {
		return time.Now()
	}
	return ix.Now()
}

// stripe is FNV-1a of the subject id, reduced to a stripe number.
func stripe(id string) int {
	h := uint32(2166136261)
	for i := range len(id) {
		h ^= uint32(id[i])
		h *= 16777619
	}
	return int(h % stripes)
}

// Define adds the segment id with expression e, or replaces its expression, and computes its
// members by evaluating e for every subject the subjects sequence yields (nil: none; the
// segment then fills as Update sees subjects). It returns the changes against the previous
// definition: every member joining, for a new segment. Subjects are evaluated without holding
// the Index's locks other than the subject's stripe, so updates continue meanwhile; an Update
// or Delete of a subject during the definition wins over the sequence's (older) view of it.
// Define calls are serialised.
func (ix *Index) Define(id string, e *Expr, subjects iter.Seq2[string, Subject]) []Change {
	ix.defineMu.Lock()
	defer ix.defineMu.Unlock()
	ns := &seg{id: id, expr: e, pending: true}
	for k := range ns.touched {
		ns.touched[k] = map[string]struct{}{}
	}
	ix.mu.Lock()
	ix.init()
	ix.building[id] = ns
	ix.reindex()
	ix.mu.Unlock()

	if subjects != nil {
		for sid, s := range subjects {
			k := stripe(sid)
			ix.locks[k].Lock()
			if _, done := ns.touched[k][sid]; !done {
				ns.set(k, sid, e.Match(s))
			}
			ix.locks[k].Unlock()
		}
	}

	return ix.commit(ns)
}

// commit replaces the live segment with the built ns and returns the membership changes.
func (ix *Index) commit(ns *seg) []Change {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	id := ns.id
	old := ix.segs[id]
	n := 0
	for k := range stripes {
		n += len(ns.members[k])
		ns.touched[k] = nil
	}
	ns.count.Store(int64(n))
	ns.pending = false
	at := ix.now()
	var changes []Change
	for k := range stripes {
		for sid := range ns.members[k] {
			if old == nil || !old.has(k, sid) {
				changes = append(changes, Change{Segment: id, Subject: sid, Joined: true, Count: n, At: at})
			}
		}
		if old != nil {
			for sid := range old.members[k] {
				if !ns.has(k, sid) {
					changes = append(changes, Change{Segment: id, Subject: sid, Count: n, At: at})
				}
			}
		}
	}
	sort.Slice(changes, func(i, j int) bool { return changes[i].Subject < changes[j].Subject })
	if old != nil {
		old.histMu.Lock()
		ns.history = slices.Clone(old.history)
		old.histMu.Unlock()
	}
	ns.version.Store(1)
	ix.record(ns, at)
	ix.segs[id] = ns
	delete(ix.building, id)
	ix.reindex()
	return changes
}

// Remove deletes the segment id and reports whether it existed.
func (ix *Index) Remove(id string) bool {
	ix.defineMu.Lock()
	defer ix.defineMu.Unlock()
	ix.mu.Lock()
	defer ix.mu.Unlock()
	if _, ok := ix.segs[id]; !ok {
		return false
	}
	delete(ix.segs, id)
	ix.reindex()
	return true
}

func (ix *Index) init() {
	if ix.segs == nil {
		ix.segs, ix.building, ix.byRef = map[string]*seg{}, map[string]*seg{}, map[string][]*seg{}
	}
}

// reindex rebuilds all and byRef; the caller holds mu for writing.
func (ix *Index) reindex() {
	ix.all = ix.all[:0:0]
	for _, g := range ix.segs {
		ix.all = append(ix.all, g)
	}
	for _, g := range ix.building {
		ix.all = append(ix.all, g)
	}
	slices.SortFunc(ix.all, func(a, b *seg) int {
		if a.id != b.id {
			if a.id < b.id {
				return -1
			}
			return 1
		}
		if a.pending == b.pending {
			return 0
		}
		if b.pending {
			return -1
		}
		return 1
	})
	ix.byRef = map[string][]*seg{}
	for _, g := range ix.all {
		for _, r := range g.expr.refs {
			ix.byRef[r] = append(ix.byRef[r], g)
		}
	}
}

// Update re-evaluates the segments for one subject and returns the changes, in segment order,
// so the caller can publish them in the same event-handling step. With changed names (traits
// or host functions, as Expr.Refs reports them), only the segments that read one of them are
// evaluated; with none, every segment is. Updates of one subject are applied in call order;
// updates of different subjects run in parallel. s must not be nil: use Delete for a subject
// that no longer exists. Update returns nil, without allocating, when nothing changed.
func (ix *Index) Update(subjectID string, s Subject, changed ...string) []Change {
	k := stripe(subjectID)
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	ix.locks[k].Lock()
	defer ix.locks[k].Unlock()
	var out []Change
	var at time.Time
	visit := func(g *seg) {
		in := g.expr.Match(s)
		if g.pending {
			g.touched[k][subjectID] = struct{}{}
			g.set(k, subjectID, in)
			return
		}
		if c, ok := ix.apply(g, k, subjectID, in, &at); ok {
			out = append(out, c)
		}
	}
	switch len(changed) {
	case 0:
		for _, g := range ix.all {
			visit(g)
		}
	case 1:
		for _, g := range ix.byRef[changed[0]] {
			visit(g)
		}
	default:
		for _, g := range ix.all {
			if g.reads(changed) {
				visit(g)
			}
		}
	}
	return out
}

// Delete removes a subject from every segment (an erased consumer) and returns the changes.
func (ix *Index) Delete(subjectID string) []Change {
	k := stripe(subjectID)
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	ix.locks[k].Lock()
	defer ix.locks[k].Unlock()
	var out []Change
	var at time.Time
	for _, g := range ix.all {
		if g.pending {
			g.touched[k][subjectID] = struct{}{}
			g.set(k, subjectID, false)
			continue
		}
		if c, ok := ix.apply(g, k, subjectID, false, &at); ok {
			out = append(out, c)
		}
	}
	return out
}

// apply sets the subject's membership of a live segment and reports the change, if any. at is
// the change time, read from the clock once per Update.
func (ix *Index) apply(g *seg, k int, subjectID string, in bool, at *time.Time) (Change, bool) {
	if g.has(k, subjectID) == in {
		return Change{}, false
	}
	g.set(k, subjectID, in)
	d := int64(-1)
	if in {
		d = 1
	}
	n := g.count.Add(d)
	g.version.Add(1)
	if at.IsZero() {
		*at = ix.now()
	}
	ix.record(g, *at)
	return Change{Segment: g.id, Subject: subjectID, Joined: in, Count: int(n), At: *at}, true
}

func (g *seg) has(k int, id string) bool {
	_, ok := g.members[k][id]
	return ok
}

func (g *seg) set(k int, id string, in bool) {
	if !in {
		delete(g.members[k], id)
		return
	}
	if g.members[k] == nil {
		g.members[k] = map[string]struct{}{}
	}
	g.members[k][id] = struct{}{}
}

// reads reports whether the segment's expression reads any of names.
func (g *seg) reads(names []string) bool {
	for _, r := range g.expr.refs {
		for _, n := range names {
			if r == n {
				return true
			}
		}
	}
	return false
}

// record sets the count of the history bucket holding at to the segment's current count.
// Reading the count under histMu makes the last writer record a count that includes every
// change recorded before it.
func (ix *Index) record(g *seg, at time.Time) {
	res, limit := ix.Resolution, ix.HistoryLimit
	if res <= 0 {
		res = time.Minute
	}
	if limit <= 0 {
		limit = 1440
	}
	bucket := at.Truncate(res)
	g.histMu.Lock()
	defer g.histMu.Unlock()
	n := int(g.count.Load())
	if l := len(g.history); l > 0 && !bucket.After(g.history[l-1].At) {
		g.history[l-1].Count = n // same bucket, or a clock that stepped back
		return
	}
	if len(g.history) >= limit {
		g.history = slices.Delete(g.history, 0, len(g.history)-limit+1)
	}
	g.history = append(g.history, CountSample{At: bucket, Count: n})
}

// lookup returns the live segment id.
func (ix *Index) lookup(id string) (*seg, bool) {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	g, ok := ix.segs[id]
	return g, ok
}

// Segments returns the ids of the defined segments, sorted.
func (ix *Index) Segments() []string {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	ids := make([]string, 0, len(ix.segs))
	for id := range ix.segs {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// Expr returns the segment's expression.
func (ix *Index) Expr(id string) (*Expr, bool) {
	g, ok := ix.lookup(id)
	if !ok {
		return nil, false
	}
	return g.expr, true
}

// Count returns the segment's number of members; ok is false for an unknown segment.
func (ix *Index) Count(id string) (n int, ok bool) {
	g, ok := ix.lookup(id)
	if !ok {
		return 0, false
	}
	return int(g.count.Load()), true
}

// Contains reports whether the subject is a member of the segment.
func (ix *Index) Contains(id, subjectID string) bool {
	g, ok := ix.lookup(id)
	if !ok {
		return false
	}
	k := stripe(subjectID)
	ix.locks[k].Lock()
	defer ix.locks[k].Unlock()
	return g.has(k, subjectID)
}

// Members returns up to limit member ids greater than after, in increasing order (limit <= 0:
// all of them). Page by passing the last id of one page as the next page's after. ok is false
// for an unknown segment.
func (ix *Index) Members(id, after string, limit int) (ids []string, ok bool) {
	g, ok := ix.lookup(id)
	if !ok {
		return nil, false
	}
	all := ix.sortedMembers(g)
	i := 0
	if after != "" {
		i = sort.Search(len(all), func(i int) bool { return all[i] > after })
	}
	end := len(all)
	if limit > 0 && i+limit < end {
		end = i + limit
	}
	return slices.Clone(all[i:end]), true
}

// Audience returns the members for whom consented returns true, in increasing order: the ids a
// targeted promotion may reach. consented is called without the Index's locks held, once per
// member. ok is false for an unknown segment.
func (ix *Index) Audience(id string, consented func(subjectID string) bool) (ids []string, ok bool) {
	g, ok := ix.lookup(id)
	if !ok {
		return nil, false
	}
	ids = []string{}
	for _, sid := range ix.sortedMembers(g) {
		if consented(sid) {
			ids = append(ids, sid)
		}
	}
	return ids, true
}

// History returns the segment's count samples, oldest first. ok is false for an unknown
// segment.
func (ix *Index) History(id string) (samples []CountSample, ok bool) {
	g, ok := ix.lookup(id)
	if !ok {
		return nil, false
	}
	g.histMu.Lock()
	defer g.histMu.Unlock()
	return slices.Clone(g.history), true
}

// sortedMembers returns the segment's members in order, sorting again only after a change.
// The returned slice must not be modified.
func (ix *Index) sortedMembers(g *seg) []string {
	g.sortMu.Lock()
	defer g.sortMu.Unlock()
	v := g.version.Load()
	if g.sorted != nil && g.sortedVer == v {
		return g.sorted
	}
	ids := make([]string, 0, g.count.Load())
	for k := range stripes {
		ix.locks[k].Lock()
		for sid := range g.members[k] {
			ids = append(ids, sid)
		}
		ix.locks[k].Unlock()
	}
	slices.Sort(ids)
	g.sorted, g.sortedVer = ids, v
	return ids
}
