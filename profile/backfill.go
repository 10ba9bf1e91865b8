package profile

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/qianmian/qianmian"
)

// Backfill: a segment defined at Open, or by CreateSegment or UpdateSegment, is evaluated at
// once over the profiles in memory, and then by a background pass over every consumer the
// log holds behaviour of (EventService.FindEventUsers: users named by an event or linked to
// an identity), so that it covers consumers idle since the service started too.
//
// Memory: the pass reads consumer ids a page at a time, and for each consumer builds the
// profile from the log (a state of its own, never the Service's cache, so the profiles the
// bus keeps current are not pushed out), evaluates it and drops it.
//
// One pass for all: each consumer's profile is evaluated against every segment
// (segment.Index.Update, a microsecond for ten segments; building the profile costs a
// thousand times more), so segments waiting together are filled together. A segment that
// arrives during a pass joins it where it is: the pass runs on to the end of the log, then
// wraps round to the first consumer and stops, for that segment, once past the point where
// it joined (mark: the last id of the page being read, which may have been evaluated before
// the segment existed). The pass ends when no segment needs it.
//
// Ordering: the pass reads a consumer's profile at one moment and applies it a little later,
// while the bus may have changed their membership meanwhile with a newer profile. So while a
// pass runs, every live change of a consumer's membership (an event step, personalisation
// turned off, an erasure) is stamped with a clock tick before its profile is read, and the
// pass applies a profile only when no stamp of that consumer is newer than the tick it took
// before reading: otherwise the live change, which read a profile at least as new, wins. A
// live change stamped before the pass read the profile is in what the pass read. Check and
// apply hold the consumer's stripe lock, which stamping takes too.

// backfillPage is how many consumer ids a pass reads at a time.
const backfillPage = 500

// backfillRetry is how long a pass that failed waits before it is tried again.
const backfillRetry = time.Minute

// backfillLogEvery is how often a running pass logs its progress.
const backfillLogEvery = 30 * time.Second

// stampStripes is the number of locks over consumers that order live changes and the pass.
const stampStripes = 64

// fill is one segment's backfill.
type fill struct {
	status qianmian.SegmentBackfill
	// from is where the segment joined the running pass: the consumers up to it were read
	// before, or while, it was defined, so the pass must wrap round and pass from again
	// ("" when it joined at the start of the log).
	from   string
	lapped bool // the pass wrapped round since the segment joined
	// midPage: the segment joined while a page was read; that page counts for it only when
	// the pass comes round to it again.
	midPage bool
}

// backfill is the state of the segments' backfill.
type backfill struct {
	wake chan struct{} // a segment was queued; buffered, one wake-up is enough

	mu      sync.Mutex
	fills   map[string]*fill
	running bool   // a pass is under way: a queued segment joins it
	mark    string // the last id of the page the pass reads, or read last ("" before the first)
	inPage  bool   // the pass is reading the page that ends at mark
	total   int    // consumers the running pass counted

	stamping atomic.Bool // a pass is under way: live changes are stamped
	clock    atomic.Uint64
	locks    [stampStripes]sync.Mutex
	stamps   [stampStripes]map[string]uint64
}

func newBackfill() *backfill {
	return &backfill{wake: make(chan struct{}, 1), fills: map[string]*fill{}}
}

// stampStripe is FNV-1a of the consumer id, reduced to a stripe number.
func stampStripe(id string) int {
	h := uint32(2166136261)
	for i := range len(id) {
		h ^= uint32(id[i])
		h *= 16777619
	}
	return int(h % stampStripes)
}

// stamp records that a live change of the consumer's membership is about to read their
// profile, so that a pass that read it earlier gives way.
func (b *backfill) stamp(userID string) {
	if !b.stamping.Load() {
		return // no pass: nothing read earlier is waiting to be applied
	}
	k := stampStripe(userID)
	b.locks[k].Lock()
	if b.stamps[k] == nil {
		b.stamps[k] = map[string]uint64{}
	}
	b.stamps[k][userID] = b.clock.Add(1)
	b.locks[k].Unlock()
}

// queue asks for a segment's backfill: it joins the running pass where it is, or waits for
// the next.
func (b *backfill) queue(id string, now time.Time) {
	b.mu.Lock()
	f := &fill{status: qianmian.SegmentBackfill{State: qianmian.BackfillQueued}}
	if b.running {
		f.status = qianmian.SegmentBackfill{State: qianmian.BackfillRunning, Total: b.total, StartedAt: now.UTC()}
		f.from, f.midPage = b.mark, b.inPage
	}
	b.fills[id] = f
	b.mu.Unlock()
	select {
	case b.wake <- struct{}{}:
	default:
	}
}

// forget drops a deleted segment's backfill.
func (b *backfill) forget(id string) {
	b.mu.Lock()
	delete(b.fills, id)
	b.mu.Unlock()
}

// status returns a copy of the segment's backfill progress.
func (b *backfill) status(id string) (qianmian.SegmentBackfill, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	f, ok := b.fills[id]
	if !ok {
		return qianmian.SegmentBackfill{}, false
	}
	return f.status, true
}

// waiting reports whether a segment waits for a pass (queued, or failed and due again).
func (b *backfill) waiting() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, f := range b.fills {
		if f.status.State == qianmian.BackfillQueued || f.status.State == qianmian.BackfillFailed {
			return true
		}
	}
	return false
}

// begin starts a pass: the waiting segments join it from the start of the log.
func (b *backfill) begin(now time.Time) []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.running, b.mark, b.inPage, b.total = true, "", false, 0
	b.stamping.Store(true)
	var ids []string
	for id, f := range b.fills {
		if f.status.State == qianmian.BackfillQueued || f.status.State == qianmian.BackfillFailed {
			f.status = qianmian.SegmentBackfill{State: qianmian.BackfillRunning, StartedAt: now.UTC()}
			f.from, f.lapped = "", false
		}
		if f.status.State == qianmian.BackfillRunning {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return ids
}

// counted sets the number of consumers the pass found.
func (b *backfill) counted(n int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.total = n
	for _, f := range b.fills {
		if f.status.State == qianmian.BackfillRunning {
			f.status.Total = n
		}
	}
}

// reading records the last id of the page the pass is about to evaluate.
func (b *backfill) reading(last string) {
	b.mu.Lock()
	b.mark, b.inPage = last, true
	b.mu.Unlock()
}

// progress records a page of n consumers evaluated, up to last ("" at the end of the log,
// where the pass wraps round), and returns the segments it completed and whether any
// segment still needs the pass.
func (b *backfill) progress(n int, last string, now time.Time) (done []string, more bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.inPage = false
	for id, f := range b.fills {
		if f.status.State != qianmian.BackfillRunning {
			continue
		}
		if f.midPage {
			f.midPage = false
		} else {
			// The last page a segment needs may hold consumers it had: Evaluated stops at
			// Total, the number counted at the start (newcomers are evaluated by their events).
			f.status.Evaluated = min(f.status.Evaluated+n, f.status.Total)
		}
		complete := false
		switch {
		case last == "" && (f.from == "" || f.lapped):
			complete = true // the whole log since it joined
		case last == "":
			f.lapped = true
		case f.lapped && last >= f.from:
			complete = true
		}
		if complete {
			f.status.State, f.status.FinishedAt = qianmian.BackfillComplete, now.UTC()
			done = append(done, id)
		} else {
			more = true
		}
	}
	if last == "" {
		b.mark = ""
	}
	slices.Sort(done)
	return done, more
}

// end finishes the pass; err marks the segments it was filling as failed. A segment that
// joined after the pass decided to stop waits for the next.
func (b *backfill) end(err error, now time.Time) {
	b.mu.Lock()
	b.running, b.mark, b.inPage, b.total = false, "", false, 0
	b.stamping.Store(false)
	for _, f := range b.fills {
		switch {
		case f.status.State != qianmian.BackfillRunning:
		case err != nil:
			f.status.State, f.status.FinishedAt, f.status.Error = qianmian.BackfillFailed, now.UTC(), err.Error()
		default:
			f.status = qianmian.SegmentBackfill{State: qianmian.BackfillQueued}
		}
	}
	b.mu.Unlock()
	for k := range b.locks {
		b.locks[k].Lock()
		b.stamps[k] = nil
		b.locks[k].Unlock()
	}
}

// startBackfill starts the goroutine that runs the segments' backfills until ctx ends. Open
// calls it.
func (s *Service) startBackfill(ctx context.Context) {
	g := s.segs
	if g == nil {
		return
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		s.backfillLoop(ctx, g)
	}()
}

// backfillLoop runs a pass whenever a segment waits for one. It first waits for the
// population statistics, without which price tiers and RFM scores would be missing.
func (s *Service) backfillLoop(ctx context.Context, g *segments) {
	for s.stats.Load() == nil {
		select {
		case <-ctx.Done():
			return
		case <-time.After(20 * time.Millisecond):
		}
	}
	var retry <-chan time.Time
	for {
		if g.bf.waiting() {
			err := s.backfillPass(ctx, g)
			if ctx.Err() != nil {
				return
			}
			retry = nil
			if err != nil {
				s.Logger.Error("segment backfill failed; trying again later", "err", err, "retry_in", backfillRetry)
				retry = time.After(backfillRetry)
			} else {
				continue
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-g.bf.wake:
		case <-retry:
		}
	}
}

// backfillPass evaluates the waiting segments, and those that join meanwhile, over every
// consumer with behaviour in the log.
func (s *Service) backfillPass(ctx context.Context, g *segments) (err error) {
	b := g.bf
	started := time.Now()
	ids := b.begin(s.Now())
	defer func() { b.end(err, s.Now()) }()
	total, err := s.countEventUsers(ctx)
	if err != nil {
		return err
	}
	b.counted(total)
	s.Logger.Info("segment backfill started", "segments", ids, "consumers", total,
		"count_seconds", time.Since(started).Seconds())

	workers := max(1, runtime.GOMAXPROCS(0)/2) // the other half serves
	evaluated, lastLog := 0, time.Now()
	cursor := ""
	for {
		page, err := s.Events.FindEventUsers(ctx, qianmian.Page{After: cursor, Limit: backfillPage})
		if err != nil {
			return fmt.Errorf("segment backfill: %w", err)
		}
		last := ""
		if len(page) > 0 {
			last = page[len(page)-1]
			b.reading(last)
			if err := s.backfillConsumers(ctx, g, page, workers); err != nil {
				return err
			}
			evaluated += len(page)
		}
		done, more := b.progress(len(page), last, s.Now())
		for _, id := range done {
			n, _ := g.ix.Count(id)
			s.Logger.Info("segment backfill complete", "segment", id, "members", n)
		}
		if !more {
			break
		}
		cursor = last
		if time.Since(lastLog) >= backfillLogEvery {
			lastLog = time.Now()
			s.Logger.Info("segment backfill progress", "evaluated", evaluated, "consumers", total,
				"ms_per_1000", msPer1000(time.Since(started), evaluated))
		}
	}
	s.Logger.Info("segment backfill done", "evaluated", evaluated, "consumers", total,
		"seconds", time.Since(started).Seconds(), "ms_per_1000", msPer1000(time.Since(started), evaluated))
	return nil
}

func msPer1000(d time.Duration, n int) float64 {
	if n == 0 {
		return 0
	}
	return float64(d.Milliseconds()) * 1000 / float64(n)
}

// countEventUsers counts the consumers with behaviour in the log, walking their ids.
func (s *Service) countEventUsers(ctx context.Context) (int, error) {
	n, after := 0, ""
	for {
		ids, err := s.Events.FindEventUsers(ctx, qianmian.Page{After: after, Limit: 10_000})
		if err != nil {
			return 0, fmt.Errorf("segment backfill: count consumers: %w", err)
		}
		if len(ids) == 0 {
			return n, nil
		}
		n += len(ids)
		after = ids[len(ids)-1]
	}
}

// backfillConsumers evaluates a page of consumers on workers goroutines.
func (s *Service) backfillConsumers(ctx context.Context, g *segments, ids []string, workers int) error {
	var next atomic.Int64
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= len(ids) {
					return
				}
				if err := s.backfillConsumer(ctx, g, ids[i]); err != nil {
					errs[w] = err
					return
				}
			}
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

// backfillConsumer brings one consumer's memberships up to date from the log, unless a live
// change since the read wins (see the top of this file).
func (s *Service) backfillConsumer(ctx context.Context, g *segments, userID string) error {
	b := g.bf
	tick := b.clock.Add(1)
	p, err := s.logProfile(ctx, userID)
	gone := qianmian.ErrorCode(err) == qianmian.ENOTFOUND
	if err != nil && !gone {
		return fmt.Errorf("segment backfill: %w", err)
	}
	k := stampStripe(userID)
	b.locks[k].Lock()
	defer b.locks[k].Unlock()
	if b.stamps[k][userID] > tick {
		return nil // changed live since we read: that newer view stands
	}
	if gone || !p.Personalization {
		g.ix.Delete(userID)
	} else {
		g.ix.Update(userID, p)
	}
	return nil
}

// logProfile builds the consumer's profile from the log as FindProfileByUserID answers it,
// without the Service's cache, so a pass over every consumer leaves the profiles in memory
// alone. A consumer without personalisation gets no traits (they leave every segment).
func (s *Service) logProfile(ctx context.Context, userID string) (*qianmian.Profile, error) {
	return s.profile(ctx, userID, s.fromLog)
}

// fromLog builds a consumer's state from the log for one read, outside the cache.
func (s *Service) fromLog(ctx context.Context, userID string, links []string, fn func(*state)) error {
	st, err := s.build(ctx, userID, links)
	if err != nil {
		return err
	}
	fn(st)
	return nil
}
