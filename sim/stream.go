package sim

import (
	"cmp"
	"iter"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/qianmian/qianmian"
)

// Events returns the world's history in time order (ties by consumer, then by the order in
// which they happened), each event a fresh *qianmian.Event the caller may keep. Every call
// generates the history again, identically. Collect a small world's events with
// slices.Collect(w.Events()); stream a large one.
//
// Generation cannot fail, hence iter.Seq rather than iter.Seq2. Memory is bounded by
// Config.MaxBufferedEvents compact events: a history longer than that is generated again
// for each window of days that fits.
func (w *World) Events() iter.Seq[*qianmian.Event] {
	return func(yield func(*qianmian.Event) bool) {
		g := w.g
		limit := g.cfg.MaxBufferedEvents
		if limit <= 0 {
			limit = 4 << 20
		}
		evs, perDay, overflow := g.generate(g.startUnix, g.endUnix, limit)
		if !overflow {
			g.yieldAll(evs, yield)
			return
		}
		for _, win := range windows(perDay, int64(limit)) {
			lo, hi := g.days[win[0]].midnight, g.days[win[1]-1].midnight+86400
			evs, _, _ := g.generate(max(lo, g.startUnix), min(hi, g.endUnix), 0)
			if !g.yieldAll(evs, yield) {
				return
			}
		}
	}
}

func (g *generator) yieldAll(evs []rawEvent, yield func(*qianmian.Event) bool) bool {
	for i := range evs {
		if !yield(g.event(&evs[i])) {
			return false
		}
	}
	return true
}

// windows groups consecutive days into [first, last) ranges of at most limit events each
// (a single day may exceed it).
func windows(perDay []int64, limit int64) [][2]int {
	var out [][2]int
	first, sum := 0, int64(0)
	for d, n := range perDay {
		if d > first && sum+n > limit {
			out = append(out, [2]int{first, d})
			first, sum = d, 0
		}
		sum += n
	}
	return append(out, [2]int{first, len(perDay)})
}

// sink collects one worker's events that fall in [lo, hi) and counts events per day.
type sink struct {
	g        *generator
	lo, hi   int64
	buf      []rawEvent
	perDay   []int64
	stored   *atomic.Int64
	overflow *atomic.Bool
	limit    int64 // 0: no limit
}

func (s *sink) add(e *rawEvent) {
	s.perDay[(e.at-s.g.days[0].midnight)/86400]++
	if e.at < s.lo || e.at >= s.hi || s.overflow.Load() {
		return
	}
	if s.limit > 0 && s.stored.Add(1) > s.limit {
		s.overflow.Store(true)
		s.buf = nil
		return
	}
	s.buf = append(s.buf, *e)
}

// generate runs every consumer's history on cfg.Workers goroutines and returns the events
// in [lo, hi), sorted, and the number of events per day. If more than limit (> 0) events
// fall in the window it keeps none and reports overflow.
func (g *generator) generate(lo, hi int64, limit int) ([]rawEvent, []int64, bool) {
	workers := g.cfg.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	var next atomic.Int64
	var stored atomic.Int64
	var overflow atomic.Bool
	sinks := make([]*sink, workers)
	var wg sync.WaitGroup
	const chunk = 256
	for i := range sinks {
		s := &sink{g: g, lo: lo, hi: hi, perDay: make([]int64, len(g.days)), stored: &stored, overflow: &overflow, limit: int64(limit)}
		sinks[i] = s
		wg.Go(func() {
			h := newHistory(g, s)
			for {
				from := int(next.Add(chunk)) - chunk
				if from >= len(g.users) {
					return
				}
				for u := from; u < min(from+chunk, len(g.users)); u++ {
					h.run(int32(u))
				}
			}
		})
	}
	wg.Wait()
	perDay := make([]int64, len(g.days))
	n := 0
	for _, s := range sinks {
		for d, c := range s.perDay {
			perDay[d] += c
		}
		n += len(s.buf)
	}
	if overflow.Load() {
		return nil, perDay, true
	}
	evs := make([]rawEvent, 0, n)
	for _, s := range sinks {
		evs = append(evs, s.buf...)
	}
	slices.SortFunc(evs, func(a, b rawEvent) int {
		if a.at != b.at {
			return cmp.Compare(a.at, b.at)
		}
		if a.user != b.user {
			return cmp.Compare(a.user, b.user)
		}
		return cmp.Compare(a.seq, b.seq)
	})
	return evs, perDay, false
}
