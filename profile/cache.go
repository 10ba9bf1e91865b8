package profile

import (
	"cmp"
	"context"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/qianmian/qianmian"
)

// maxPending bounds the events kept for a profile while it is rebuilt from the log.
const maxPending = 10_000

// entry is one consumer's state in memory. While loading, events from the bus wait in
// pending and done is open; once loaded, mu guards st.
type entry struct {
	mu       sync.Mutex
	st       *state
	loading  bool
	pending  []*qianmian.Event
	done     chan struct{}
	err      error
	lastUsed atomic.Int64
}

// cache holds the states of the consumers whose profiles were asked for, in shards.
type cache struct {
	shards [16]cacheShard
	limit  int // per shard
}

type cacheShard struct {
	mu sync.Mutex
	m  map[string]*entry
}

func newCache(maxSubjects int) *cache {
	c := &cache{limit: max(1, maxSubjects/16)}
	for i := range c.shards {
		c.shards[i].m = map[string]*entry{}
	}
	return c
}

func (c *cache) shard(key string) *cacheShard {
	var h uint32 = 2166136261
	for i := 0; i < len(key); i++ {
		h = (h ^ uint32(key[i])) * 16777619
	}
	return &c.shards[h%16]
}

// acquire returns the entry of key, creating a loading one (created true) when there is
// none: its creator must build it and call finish.
func (c *cache) acquire(key string, now int64) (e *entry, created bool) {
	sh := c.shard(key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if e = sh.m[key]; e != nil {
		e.lastUsed.Store(now)
		return e, false
	}
	if len(sh.m) >= c.limit {
		sh.evict(max(c.limit/8, 1))
	}
	e = &entry{loading: true, done: make(chan struct{})}
	e.lastUsed.Store(now)
	sh.m[key] = e
	return e, true
}

// evict drops the n least recently used loaded entries.
func (sh *cacheShard) evict(n int) {
	type aged struct {
		key string
		at  int64
	}
	var all []aged
	for k, e := range sh.m {
		if !e.isLoading() {
			all = append(all, aged{k, e.lastUsed.Load()})
		}
	}
	slices.SortFunc(all, func(a, b aged) int { return cmp.Compare(a.at, b.at) })
	for _, a := range all[:min(n, len(all))] {
		delete(sh.m, a.key)
	}
}

func (e *entry) isLoading() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.loading
}

// finish installs a built state, applying the events that arrived meanwhile, or, on
// error, removes the entry so the next reader builds it again.
func (c *cache) finish(key string, e *entry, st *state, err error, item func(*qianmian.Event) *itemInfo) {
	if err != nil {
		c.remove(key, e)
	}
	e.mu.Lock()
	if err == nil {
		for _, ev := range e.pending {
			if ev.Seq == 0 || ev.Seq > st.maxSeq {
				st.apply(ev, item(ev))
			}
		}
		e.st = st
	}
	e.pending, e.loading, e.err = nil, false, err
	e.mu.Unlock()
	close(e.done)
}

// wait blocks until e is loaded.
func (e *entry) wait(ctx context.Context) error {
	select {
	case <-e.done:
		return e.err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// remove drops key's entry if it is still e (nil: whatever it is).
func (c *cache) remove(key string, e *entry) {
	sh := c.shard(key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if cur := sh.m[key]; cur != nil && (e == nil || cur == e) {
		delete(sh.m, key)
	}
}

// lookup returns key's entry, nil when there is none.
func (c *cache) lookup(key string) *entry {
	sh := c.shard(key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	return sh.m[key]
}

// size returns the number of entries.
func (c *cache) size() int {
	n := 0
	for i := range c.shards {
		sh := &c.shards[i]
		sh.mu.Lock()
		n += len(sh.m)
		sh.mu.Unlock()
	}
	return n
}
