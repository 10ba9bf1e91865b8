package recommend

import (
	"hash/maphash"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/qianmian/qianmian"
)

// The response cache keeps recent rankings, keyed by what a ranking is computed from:
// the store, the visitor's live state, N and the request's context. An entry is served
// only while all of these hold:
//
//   - the snapshot is the one it was ranked on: a new model or a reloaded catalogue
//     (assortments, stock, prices) replaces the snapshot and so retires every entry;
//   - the visitor's live state is the same state at the same version: every event applied
//     to it, a merge of an anonymous identity, an eviction and rebuild, or an opt-out (which
//     drops the state) changes one or the other;
//   - it is younger than EngineConfig.CacheTTL, which bounds how stale it may be with
//     respect to what changes for everyone: trending counters and time decay.
//
// So a visitor's own behaviour and a store's assortment invalidate exactly; other
// visitors' behaviour within CacheTTL. Requests that name a moment (Context.At) are never
// cached. Every response gets a fresh RecID.
type responseCache struct {
	seed   maphash.Seed
	shards [cacheShards]cacheShard
	limit  int   // entries per shard
	ttl    int64 // nanoseconds

	hits, misses atomic.Int64
}

const cacheShards = 32

type cacheShard struct {
	mu sync.RWMutex
	m  map[cacheKey]*cacheEntry
}

type cacheKey struct {
	store    string
	subj     *subject // nil: the non-personalised ranking of the store
	n        int
	channel  qianmian.Channel
	location qianmian.LocationType
}

type cacheEntry struct {
	snap     *snapshot
	ver      uint64 // subj.version when ranked
	at       int64  // Unix nanoseconds when ranked
	items    packedItems
	personal bool
}

// packedItems is a ranking in a form the garbage collector need not look into. A full
// cache holds tens of thousands of rankings; kept as ScoredItems, each with its own id,
// reason and source strings and slices, they were half of a serving process's heap
// objects (3.3 of 6.3 million on the large world), all of which every collection marks.
// Packed, a ranking is three objects without pointers: its strings end to end in one
// string, and fixed-size records.
type packedItems struct {
	text  string       // every item's id, reasons and sources, in that order
	items []packedItem // in ranking order
	lens  []uint32     // the length of each string of text, in order
}

type packedItem struct {
	score float64
	// The number of reasons and sources; -1 for a nil slice, so that the JSON of a hit
	// (null or []) is the JSON of the ranking.
	reasons, sources int32
}

// packItems packs items.
func packItems(items []qianmian.ScoredItem) packedItems {
	size, count := 0, 0
	for _, it := range items {
		size += len(it.ItemID)
		count++
		for _, r := range it.Reasons {
			size += len(r)
		}
		for _, src := range it.Sources {
			size += len(src)
		}
		count += len(it.Reasons) + len(it.Sources)
	}
	var b strings.Builder
	b.Grow(size)
	p := packedItems{items: make([]packedItem, len(items)), lens: make([]uint32, 0, count)}
	add := func(s string) {
		b.WriteString(s)
		p.lens = append(p.lens, uint32(len(s)))
	}
	for k, it := range items {
		p.items[k] = packedItem{score: it.Score, reasons: packedLen(it.Reasons), sources: packedLen(it.Sources)}
		add(it.ItemID)
		for _, r := range it.Reasons {
			add(r)
		}
		for _, src := range it.Sources {
			add(src)
		}
	}
	p.text = b.String()
	return p
}

func packedLen(s []string) int32 {
	if s == nil {
		return -1
	}
	return int32(len(s))
}

// unpack returns the items packItems packed. Their strings share the packed text, and
// their reasons and sources one backing array: two allocations in all.
func (p *packedItems) unpack() []qianmian.ScoredItem {
	items := make([]qianmian.ScoredItem, len(p.items))
	strs := make([]string, len(p.lens)-len(p.items))
	off, n := 0, 0
	next := func() string {
		s := p.text[off : off+int(p.lens[n])]
		off += len(s)
		n++
		return s
	}
	for k, pi := range p.items {
		items[k] = qianmian.ScoredItem{ItemID: next(), Score: pi.score}
		items[k].Reasons, strs = takeStrings(strs, pi.reasons, next)
		items[k].Sources, strs = takeStrings(strs, pi.sources, next)
	}
	return items
}

// takeStrings fills the first m of strs (m < 0: none, and a nil slice) with next and
// returns them, capped so that an append cannot reach the rest, and the rest.
func takeStrings(strs []string, m int32, next func() string) ([]string, []string) {
	if m < 0 {
		return nil, strs
	}
	out := strs[:m:m]
	for j := range out {
		out[j] = next()
	}
	return out, strs[m:]
}

func newResponseCache(size int, ttlNanos int64) *responseCache {
	if size <= 0 || ttlNanos <= 0 {
		return nil
	}
	c := &responseCache{seed: maphash.MakeSeed(), limit: max(size/cacheShards, 1), ttl: ttlNanos}
	for k := range c.shards {
		c.shards[k].m = make(map[cacheKey]*cacheEntry)
	}
	return c
}

func (c *responseCache) shard(k *cacheKey) *cacheShard {
	return &c.shards[maphash.Comparable(c.seed, *k)%cacheShards]
}

// get returns the cached ranking for k if it is still valid for snap, version ver at now.
func (c *responseCache) get(k *cacheKey, snap *snapshot, ver uint64, now int64) *cacheEntry {
	sh := c.shard(k)
	sh.mu.RLock()
	e := sh.m[*k]
	sh.mu.RUnlock()
	if e == nil || e.snap != snap || e.ver != ver || now-e.at >= c.ttl || now < e.at {
		c.misses.Add(1)
		return nil
	}
	c.hits.Add(1)
	return e
}

// put stores a ranking, dropping entries of retired snapshots or past their TTL first,
// then arbitrary ones, when the shard is full.
func (c *responseCache) put(k *cacheKey, e *cacheEntry) {
	sh := c.shard(k)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if len(sh.m) >= c.limit {
		for key, old := range sh.m {
			if old.snap != e.snap || e.at-old.at >= c.ttl {
				delete(sh.m, key)
			}
		}
		for key := range sh.m {
			if len(sh.m) < c.limit-c.limit/8 {
				break
			}
			delete(sh.m, key)
		}
	}
	sh.m[*k] = e
}

// CacheStats counts the response cache's lookups since Open.
type CacheStats struct {
	Entries      int
	Hits, Misses int64
}

func (c *responseCache) stats() CacheStats {
	if c == nil {
		return CacheStats{}
	}
	st := CacheStats{Hits: c.hits.Load(), Misses: c.misses.Load()}
	for k := range c.shards {
		c.shards[k].mu.RLock()
		st.Entries += len(c.shards[k].m)
		c.shards[k].mu.RUnlock()
	}
	return st
}
