package recommend

import (
	"cmp"
	"hash/fnv"
	"math"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/qianmian/qianmian"
)

// kind is an event type as live state keeps it, in increasing order of intent.
type kind uint8

const (
	kindView kind = iota + 1
	kindClick
	kindReview
	kindFavorite
	kindCart
	kindPurchase
	kindReturn
)

func kindOf(t qianmian.EventType) kind {
	switch t {
	case qianmian.EventView:
		return kindView
	case qianmian.EventClick:
		return kindClick
	case qianmian.EventReview:
		return kindReview
	case qianmian.EventFavorite:
		return kindFavorite
	case qianmian.EventCart:
		return kindCart
	case qianmian.EventPurchase:
		return kindPurchase
	case qianmian.EventReturn:
		return kindReturn
	}
	return 0
}

// liveEvent is one item event in a visitor's ring: 24 bytes.
type liveEvent struct {
	at   int64 // Unix seconds
	item int32 // registry index
	w    float32
	kind kind
}

type catAffinity struct {
	cat int32
	v   float32 // decayed weight as of at
	at  int64
}

type purchase struct {
	item int32
	at   int64
}

type pendingEvent struct {
	seq int64
	ev  liveEvent
	cat int32
}

// subject is one visitor's live state. Its size is bounded by EngineConfig: RingSize
// events of 24 bytes, MaxAffinities categories of 16, MaxPurchases items of 16, a few
// disliked items. With the defaults (48, 16, 64) a visitor costs at most about 2.7 KB; at
// the demo scale (about 20 events per consumer) 1.1 KB. LiveStats reports the sum.
type subject struct {
	ring     []liveEvent
	head     int // oldest entry once the ring is full
	aff      []catAffinity
	bought   []purchase
	disliked []int32

	user      bool  // a known user (consent applies), not an anonymous identity
	consentAt int64 // Unix nanoseconds of the last consent check
	lastUsed  atomic.Int64

	loading bool // a request is rebuilding it from the event log
	pending []pendingEvent
	maxSeq  int64
	version uint64 // counts changes, for the response cache
}

// push adds ev, overwriting the oldest event when the ring is full.
func (s *subject) push(ev liveEvent, size int) {
	if len(s.ring) < size {
		s.ring = append(s.ring, ev)
		return
	}
	s.ring[s.head] = ev
	s.head = (s.head + 1) % len(s.ring)
}

// events appends the ring to dst, oldest first.
func (s *subject) events(dst []liveEvent) []liveEvent {
	dst = append(dst, s.ring[s.head:]...)
	return append(dst, s.ring[:s.head]...)
}

// apply records ev (of leaf category cat) in the ring, the category affinity, and the
// purchased and disliked sets.
func (s *subject) apply(ev liveEvent, cat int32, c *EngineConfig) {
	s.version++
	s.push(ev, c.RingSize)
	if cat >= 0 {
		s.addAffinity(cat, ev.w, ev.at, c)
	}
	switch {
	case ev.kind == kindPurchase:
		s.addPurchase(ev.item, ev.at, c.MaxPurchases)
	case ev.kind == kindReturn || ev.w < 0:
		s.bought = slices.DeleteFunc(s.bought, func(p purchase) bool { return p.item == ev.item })
		if !slices.Contains(s.disliked, ev.item) {
			if len(s.disliked) >= maxDisliked {
				s.disliked = s.disliked[1:]
			}
			s.disliked = append(s.disliked, ev.item)
		}
	}
}

const maxDisliked = 16

func (s *subject) addAffinity(cat int32, w float32, at int64, c *EngineConfig) {
	hl := c.HistoryHalfLife.Seconds()
	for k := range s.aff {
		a := &s.aff[k]
		if a.cat != cat {
			continue
		}
		if at >= a.at {
			a.v = a.v*float32(halve(float64(at-a.at), hl)) + w
			a.at = at
		} else {
			a.v += w * float32(halve(float64(a.at-at), hl))
		}
		return
	}
	if len(s.aff) >= c.MaxAffinities {
		// Replace the weakest affinity as of this event.
		weakest := 0
		for k, a := range s.aff {
			if a.v*float32(halve(float64(at-a.at), hl)) < s.aff[weakest].v*float32(halve(float64(at-s.aff[weakest].at), hl)) {
				weakest = k
			}
		}
		s.aff[weakest] = catAffinity{cat, w, at}
		return
	}
	s.aff = append(s.aff, catAffinity{cat, w, at})
}

func (s *subject) addPurchase(item int32, at int64, limit int) {
	for k := range s.bought {
		if s.bought[k].item == item {
			s.bought[k].at = max(s.bought[k].at, at)
			return
		}
	}
	if len(s.bought) >= limit {
		oldest := 0
		for k, p := range s.bought {
			if p.at < s.bought[oldest].at {
				oldest = k
			}
		}
		s.bought = slices.Delete(s.bought, oldest, oldest+1)
	}
	s.bought = append(s.bought, purchase{item, at})
}

// merge folds o (an anonymous identity's state, now linked) into s.
func (s *subject) merge(o *subject, c *EngineConfig) {
	s.version++
	all := s.events(nil)
	all = o.events(all)
	slices.SortStableFunc(all, func(a, b liveEvent) int { return cmp.Compare(a.at, b.at) })
	s.ring, s.head = s.ring[:0], 0
	for _, ev := range all {
		s.push(ev, c.RingSize)
	}
	for _, a := range o.aff {
		s.addAffinity(a.cat, a.v, a.at, c)
	}
	for _, p := range o.bought {
		s.addPurchase(p.item, p.at, c.MaxPurchases)
	}
	for _, d := range o.disliked {
		if !slices.Contains(s.disliked, d) && len(s.disliked) < maxDisliked {
			s.disliked = append(s.disliked, d)
		}
	}
}

func (s *subject) bytes(key string) int64 {
	return int64(200 + len(key) + 24*cap(s.ring) + 16*cap(s.aff) + 16*cap(s.bought) + 4*cap(s.disliked) + 40*cap(s.pending))
}

// halve returns 2^(-age/halfLife), 1 for a non-positive age.
func halve(age, halfLife float64) float64 {
	if age <= 0 || halfLife <= 0 {
		return 1
	}
	return math.Exp2(-age / halfLife)
}

// visitorView is a request's private copy of a visitor's live state.
type visitorView struct {
	events   []liveEvent // oldest first
	aff      []catAffinity
	bought   []purchase
	disliked []int32

	src *subject // the state copied, and its version then (the response cache's key)
	ver uint64
}

func (v *visitorView) reset() {
	v.events, v.aff, v.bought, v.disliked = v.events[:0], v.aff[:0], v.bought[:0], v.disliked[:0]
	v.src, v.ver = nil, 0
}

func (v *visitorView) empty() bool { return len(v.events) == 0 && len(v.bought) == 0 }

const numShards = 64

// liveState holds every visitor's live state in shards, and the trending counters. One
// goroutine (the engine's updater) writes events into it; requests read copies and install
// rebuilt states.
type liveState struct {
	cfg    *EngineConfig
	shards [numShards]liveShard

	trendMu     sync.RWMutex
	storeTrend  map[string]*trendTable
	regionTrend map[string]*trendTable
}

type liveShard struct {
	mu       sync.RWMutex
	subjects map[string]*subject
}

func newLiveState(cfg *EngineConfig) *liveState {
	l := &liveState{cfg: cfg, storeTrend: map[string]*trendTable{}, regionTrend: map[string]*trendTable{}}
	for k := range l.shards {
		l.shards[k].subjects = map[string]*subject{}
	}
	return l
}

func (l *liveState) shard(key string) *liveShard {
	h := fnv.New32a()
	h.Write([]byte(key))
	return &l.shards[h.Sum32()%numShards]
}

// insert adds s under key, evicting the least recently used eighth of a full shard.
// The shard must be locked.
func (l *liveState) insert(sh *liveShard, key string, s *subject) {
	limit := max(l.cfg.MaxSubjects/numShards, 1)
	if len(sh.subjects) >= limit {
		type aged struct {
			key string
			at  int64
		}
		var all []aged
		for k, v := range sh.subjects {
			if !v.loading {
				all = append(all, aged{k, v.lastUsed.Load()})
			}
		}
		slices.SortFunc(all, func(a, b aged) int { return cmp.Compare(a.at, b.at) })
		for _, a := range all[:min(len(all), max(limit/8, 1))] {
			delete(sh.subjects, a.key)
		}
	}
	sh.subjects[key] = s
}

// record applies an event to key's state. Anonymous identities get a state on their first
// event; a user's state exists only once a request has built it (after checking consent),
// because the event log, not the bus, is what a user's state is built from.
func (l *liveState) record(key string, anonymous bool, seq int64, ev liveEvent, cat int32, now int64) {
	sh := l.shard(key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	s := sh.subjects[key]
	if s == nil {
		if !anonymous {
			return
		}
		s = &subject{}
		s.lastUsed.Store(now)
		l.insert(sh, key, s)
	}
	if s.loading {
		if len(s.pending) < 4*l.cfg.RingSize {
			s.pending = append(s.pending, pendingEvent{seq, ev, cat})
		}
		return
	}
	if seq > 0 && seq <= s.maxSeq {
		return // already in the rebuilt state
	}
	s.apply(ev, cat, l.cfg)
}

// link moves an anonymous identity's state into its user's, when the user's state exists.
// Otherwise it only drops it: the user's state will be rebuilt from the event log, which
// counts the identity's events for the user.
func (l *liveState) link(anonKey, userID string) {
	ash := l.shard(anonKey)
	ash.mu.Lock()
	o := ash.subjects[anonKey]
	delete(ash.subjects, anonKey)
	ash.mu.Unlock()
	if o == nil {
		return
	}
	ush := l.shard(userID)
	ush.mu.Lock()
	defer ush.mu.Unlock()
	if s := ush.subjects[userID]; s != nil && !s.loading {
		s.merge(o, l.cfg)
	}
}

// view copies key's state into v. It reports whether a usable state exists.
func (l *liveState) view(key string, now int64, v *visitorView) bool {
	sh := l.shard(key)
	sh.mu.RLock()
	defer sh.mu.RUnlock()
	s := sh.subjects[key]
	if s == nil || s.loading {
		return false
	}
	s.lastUsed.Store(now)
	v.src, v.ver = s, s.version
	v.events = s.events(v.events)
	v.aff = append(v.aff, s.aff...)
	v.bought = append(v.bought, s.bought...)
	v.disliked = append(v.disliked, s.disliked...)
	return true
}

// beginLoad marks a user's state as being rebuilt, so events arriving meanwhile are kept.
func (l *liveState) beginLoad(key string, now int64) {
	sh := l.shard(key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if sh.subjects[key] == nil {
		s := &subject{user: true, loading: true, consentAt: now}
		s.lastUsed.Store(now)
		l.insert(sh, key, s)
	}
}

// finishLoad installs a rebuilt state, replaying the events that arrived while it was
// read from the log. When another request finished first, its state is kept.
func (l *liveState) finishLoad(key string, built *subject, now int64) {
	sh := l.shard(key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	s := sh.subjects[key]
	if s != nil && !s.loading {
		return
	}
	built.user, built.consentAt = true, now
	built.lastUsed.Store(now)
	if s != nil {
		for _, p := range s.pending {
			if p.seq == 0 || p.seq > built.maxSeq {
				built.apply(p.ev, p.cat, l.cfg)
			}
		}
		sh.subjects[key] = built
		return
	}
	l.insert(sh, key, built)
}

// abortLoad removes a placeholder whose rebuild failed.
func (l *liveState) abortLoad(key string) {
	sh := l.shard(key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if s := sh.subjects[key]; s != nil && s.loading {
		delete(sh.subjects, key)
	}
}

// forget drops key's state: the user refused personalisation.
func (l *liveState) forget(key string) {
	sh := l.shard(key)
	sh.mu.Lock()
	delete(sh.subjects, key)
	sh.mu.Unlock()
}

// consentDue reports whether key is a user whose consent the updater should read again.
func (l *liveState) consentDue(key string, now int64) bool {
	sh := l.shard(key)
	sh.mu.RLock()
	defer sh.mu.RUnlock()
	s := sh.subjects[key]
	return s != nil && s.user && !s.loading && now-s.consentAt > l.cfg.ConsentTTL.Nanoseconds()
}

func (l *liveState) consentChecked(key string, now int64) {
	sh := l.shard(key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if s := sh.subjects[key]; s != nil {
		s.consentAt = now
	}
}

// trend returns the trending table of a store or region, creating it.
func (l *liveState) trend(tables map[string]*trendTable, key string) *trendTable {
	l.trendMu.RLock()
	t := tables[key]
	l.trendMu.RUnlock()
	if t != nil {
		return t
	}
	l.trendMu.Lock()
	defer l.trendMu.Unlock()
	if t = tables[key]; t == nil {
		t = &trendTable{counts: map[int32]trendCount{}}
		tables[key] = t
	}
	return t
}

// existingTrend returns a table without creating one.
func (l *liveState) existingTrend(tables map[string]*trendTable, key string) *trendTable {
	l.trendMu.RLock()
	defer l.trendMu.RUnlock()
	return tables[key]
}

// LiveStats describes the size of the engine's live state.
type LiveStats struct {
	Subjects  int   // visitors in live state
	Users     int   // of which known users
	Anonymous int   // of which anonymous identities
	Trending  int   // trending counters over all stores and regions
	Bytes     int64 // estimated memory
}

func (l *liveState) stats() LiveStats {
	var st LiveStats
	for k := range l.shards {
		sh := &l.shards[k]
		sh.mu.RLock()
		for key, s := range sh.subjects {
			st.Subjects++
			if s.user {
				st.Users++
			} else {
				st.Anonymous++
			}
			st.Bytes += s.bytes(key)
		}
		sh.mu.RUnlock()
	}
	l.trendMu.RLock()
	defer l.trendMu.RUnlock()
	for _, tables := range []map[string]*trendTable{l.storeTrend, l.regionTrend} {
		for _, t := range tables {
			t.mu.Lock()
			st.Trending += len(t.counts)
			st.Bytes += int64(48*len(t.counts) + 8*cap(t.top) + 64)
			t.mu.Unlock()
		}
	}
	return st
}
