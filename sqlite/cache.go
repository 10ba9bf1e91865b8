package sqlite

import (
	"sync"
	"time"
)

// Read caches. Every request asks who its API key belongs to, which would otherwise be a
// SQLite query. Writes through this DB drop the entry they change, so a revoked key takes
// effect on the next request served by this process; the TTL bounds how long a change made
// by another process (another node, or a CLI writing to the same file) may go unseen.
// Whether a visitor allows personalisation is not cached here: the DB keeps the whole set
// of refusals in memory (consent.go), since a cache of a million visitors' answers would
// miss nearly always.
const (
	// readCacheTTL is how long an entry is trusted without asking the database again.
	readCacheTTL = 2 * time.Second
	// readCacheMax bounds each cache; a full cache drops an eighth of its entries.
	readCacheMax = 200_000
)

// readCache is a bounded map with expiring entries, safe for concurrent use.
//
// A reader that misses reads the database and then puts what it read; a writer commits and
// then drops the key. If the drop fell between the reader's read and its put, the put would
// store what the write replaced: the generation, bumped by every drop, makes such a put a
// no-op.
type readCache[V any] struct {
	mu  sync.RWMutex
	m   map[string]cached[V]
	gen uint64
	now func() time.Time
}

type cached[V any] struct {
	v       V
	expires int64 // Unix nanoseconds
}

func newReadCache[V any](now func() time.Time) *readCache[V] {
	return &readCache[V]{m: make(map[string]cached[V]), now: now}
}

// get returns the cached value of key and the generation to pass to put after a miss.
func (c *readCache[V]) get(key string) (v V, gen uint64, ok bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	e, hit := c.m[key]
	if hit && c.now().UnixNano() < e.expires {
		return e.v, c.gen, true
	}
	return v, c.gen, false
}

// put stores v under key unless a drop happened since the get that returned gen.
func (c *readCache[V]) put(key string, v V, gen uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen != c.gen {
		return
	}
	if len(c.m) >= readCacheMax {
		n := readCacheMax / 8
		for k := range c.m { // map order is random enough for eviction
			delete(c.m, k)
			if n--; n == 0 {
				break
			}
		}
	}
	c.m[key] = cached[V]{v: v, expires: c.now().Add(readCacheTTL).UnixNano()}
}

// drop forgets keys after a write changed them.
func (c *readCache[V]) drop(keys ...string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	for _, k := range keys {
		delete(c.m, k)
	}
}
