package recommend

import (
	"hash/maphash"
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
	items    []qianmian.ScoredItem
	personal bool
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
