package profile

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"iter"
	"sync"

	"github.com/qianmian/qianmian"
	"github.com/qianmian/qianmian/profile/segment"
)

// Segments: the Service keeps the members of every stored segment (Service.Segments) in a
// segment.Index, over every consumer with behaviour in the event log.
//
// A segment defined (at Open, or by CreateSegment and UpdateSegment) is evaluated at once
// over the profiles in memory, then over every other consumer by a background backfill
// (backfill.go), which reads each profile from the log and drops it; SegmentBackfill
// reports its progress. From then on every consumer with a new event has their profile read
// (built from the event log when it is not in memory) and their membership updated in the
// same step that applies the batch, before the next batch is read; a live change wins over
// the backfill's older read of the same consumer. Consumers who turned personalisation off,
// or are unknown (erased), leave every segment.

var _ qianmian.SegmentService = (*Service)(nil)

// errNoSegments answers the segment methods of a Service without a SegmentStore.
var errNoSegments = qianmian.Errorf(qianmian.EUNAVAILABLE, "segments are not enabled")

// segments is the Service's segment state.
type segments struct {
	schema *segment.Schema
	ix     *segment.Index
	bf     *backfill
	mu     sync.Mutex // serialises definition changes: the store and the index agree
}

// openSegments loads the stored definitions and queues their backfill (nothing is in memory
// yet); it runs once Open starts the Service's goroutines.
func (s *Service) openSegments(ctx context.Context) error {
	if s.Segments == nil {
		return nil
	}
	g := &segments{schema: segment.DefaultSchema(), ix: segment.NewIndex(), bf: newBackfill()}
	g.ix.Now = s.Now
	list, err := s.Segments.FindSegments(ctx)
	if err != nil {
		return err
	}
	for _, d := range list {
		e, err := g.schema.Compile(d.Expression)
		if err != nil {
			s.Logger.Error("segment does not compile: skipped", "segment", d.ID, "err", err)
			continue
		}
		g.ix.Define(d.ID, e, nil) // nothing is in memory yet
		g.bf.queue(d.ID, s.Now())
	}
	s.segs = g
	return nil
}

// compile compiles a segment expression, answering a mistake as EINVALID naming
// "expression", with its column.
func (g *segments) compile(src string) (*segment.Expr, error) {
	e, err := g.schema.Compile(src)
	if err != nil {
		var se *segment.Error
		if errors.As(err, &se) {
			return nil, qianmian.Invalid("expression", "%s", se.Error())
		}
		return nil, qianmian.Invalid("expression", "%s", err.Error())
	}
	return e, nil
}

// inMemory yields the profiles of the consumers in memory who have personalisation on.
func (s *Service) inMemory(ctx context.Context) iter.Seq2[string, segment.Subject] {
	return func(yield func(string, segment.Subject) bool) {
		var ids []string
		for i := range s.cache.shards {
			sh := &s.cache.shards[i]
			sh.mu.Lock()
			for id := range sh.m {
				ids = append(ids, id)
			}
			sh.mu.Unlock()
		}
		for _, id := range ids {
			p, err := s.FindProfileByUserID(ctx, id)
			if err != nil || !p.Personalization {
				continue
			}
			if !yield(id, p) {
				return
			}
		}
	}
}

// updateSegments updates the memberships of the consumers of a batch just applied.
func (s *Service) updateSegments(ctx context.Context, batch []*qianmian.Event) {
	g := s.segs
	if g == nil || len(g.ix.Segments()) == 0 {
		return
	}
	seen := make(map[string]struct{}, len(batch))
	for _, e := range batch {
		if e.UserID == "" {
			continue
		}
		if _, ok := seen[e.UserID]; ok {
			continue
		}
		seen[e.UserID] = struct{}{}
		g.bf.stamp(e.UserID) // before the read: a backfill that read earlier gives way
		p, err := s.FindProfileByUserID(ctx, e.UserID)
		switch {
		case qianmian.ErrorCode(err) == qianmian.ENOTFOUND:
			g.ix.Delete(e.UserID)
		case err != nil:
			if ctx.Err() == nil {
				s.Logger.Error("segment update failed", "user_id", e.UserID, "err", err)
			}
		case !p.Personalization:
			g.ix.Delete(e.UserID)
		default:
			g.ix.Update(e.UserID, p)
		}
	}
}

// dropFromSegments removes a consumer from every segment (personalisation off, erasure).
func (s *Service) dropFromSegments(userID string) {
	if g := s.segs; g != nil {
		g.bf.stamp(userID)
		g.ix.Delete(userID)
	}
}

// ForgetSegmentMember removes an erased consumer from every segment at once; their next
// event, if any, is evaluated again.
func (s *Service) ForgetSegmentMember(userID string) { s.dropFromSegments(userID) }

func (s *Service) segState() (*segments, error) {
	if s.segs == nil {
		return nil, errNoSegments
	}
	return s.segs, nil
}

// newSegmentID returns a random segment id.
func newSegmentID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return "seg_" + hex.EncodeToString(b)
}

// CreateSegment compiles and stores a segment (a random id when it has none), computes its
// members among the profiles in memory, and queues its backfill over every consumer.
func (s *Service) CreateSegment(ctx context.Context, in *qianmian.Segment) (*qianmian.Segment, error) {
	g, err := s.segState()
	if err != nil {
		return nil, err
	}
	d := *in
	if d.ID == "" {
		d.ID = newSegmentID()
	}
	if err := d.Validate(); err != nil {
		return nil, err
	}
	e, err := g.compile(d.Expression)
	if err != nil {
		return nil, err
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if err := s.Segments.CreateSegment(ctx, &d); err != nil {
		return nil, err
	}
	g.ix.Define(d.ID, e, s.inMemory(ctx))
	g.bf.queue(d.ID, s.Now()) // after Define: the pass evaluates the segment from then on
	return &d, nil
}

// FindSegmentByID returns a segment's definition.
func (s *Service) FindSegmentByID(ctx context.Context, id string) (*qianmian.Segment, error) {
	if _, err := s.segState(); err != nil {
		return nil, err
	}
	return s.Segments.FindSegmentByID(ctx, id)
}

// FindSegments returns every segment's definition, by id.
func (s *Service) FindSegments(ctx context.Context) ([]*qianmian.Segment, error) {
	if _, err := s.segState(); err != nil {
		return nil, err
	}
	return s.Segments.FindSegments(ctx)
}

// UpdateSegment replaces a segment's name and expression, recomputes its members among the
// profiles in memory, and queues its backfill over every consumer again.
func (s *Service) UpdateSegment(ctx context.Context, in *qianmian.Segment) (*qianmian.Segment, error) {
	g, err := s.segState()
	if err != nil {
		return nil, err
	}
	d := *in
	if err := d.Validate(); err != nil {
		return nil, err
	}
	e, err := g.compile(d.Expression)
	if err != nil {
		return nil, err
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if err := s.Segments.UpdateSegment(ctx, &d); err != nil {
		return nil, err
	}
	g.ix.Define(d.ID, e, s.inMemory(ctx))
	g.bf.queue(d.ID, s.Now())
	return &d, nil
}

// DeleteSegment deletes a segment and its members.
func (s *Service) DeleteSegment(ctx context.Context, id string) error {
	g, err := s.segState()
	if err != nil {
		return err
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if err := s.Segments.DeleteSegment(ctx, id); err != nil {
		return err
	}
	g.ix.Remove(id)
	g.bf.forget(id)
	return nil
}

// defined returns the segment state, or ENOTFOUND for a segment the index does not hold.
func (s *Service) defined(id string) (*segments, error) {
	g, err := s.segState()
	if err != nil {
		return nil, err
	}
	if _, ok := g.ix.Expr(id); !ok {
		return nil, qianmian.Errorf(qianmian.ENOTFOUND, "no segment %q", id)
	}
	return g, nil
}

// SegmentMembers returns up to limit member ids greater than after, in order (limit <= 0:
// all of them).
func (s *Service) SegmentMembers(ctx context.Context, id, after string, limit int) ([]string, error) {
	g, err := s.defined(id)
	if err != nil {
		return nil, err
	}
	ids, ok := g.ix.Members(id, after, limit)
	if !ok {
		return nil, qianmian.Errorf(qianmian.ENOTFOUND, "no segment %q", id)
	}
	return ids, nil
}

// SegmentCount returns the number of members.
func (s *Service) SegmentCount(ctx context.Context, id string) (int, error) {
	g, err := s.defined(id)
	if err != nil {
		return 0, err
	}
	n, ok := g.ix.Count(id)
	if !ok {
		return 0, qianmian.Errorf(qianmian.ENOTFOUND, "no segment %q", id)
	}
	return n, nil
}

// SegmentHistory returns the member count over time, oldest first.
func (s *Service) SegmentHistory(ctx context.Context, id string) ([]qianmian.SegmentCount, error) {
	g, err := s.defined(id)
	if err != nil {
		return nil, err
	}
	h, ok := g.ix.History(id)
	if !ok {
		return nil, qianmian.Errorf(qianmian.ENOTFOUND, "no segment %q", id)
	}
	out := make([]qianmian.SegmentCount, len(h))
	for i, c := range h {
		out[i] = qianmian.SegmentCount{At: c.At.UTC(), Count: c.Count}
	}
	return out, nil
}

// SegmentAudience returns the members who consented to marketing, read from Users.
func (s *Service) SegmentAudience(ctx context.Context, id string) ([]string, error) {
	g, err := s.defined(id)
	if err != nil {
		return nil, err
	}
	var firstErr error
	ids, ok := g.ix.Audience(id, func(uid string) bool {
		if firstErr != nil {
			return false
		}
		u, err := s.Users.FindUserByID(ctx, uid)
		if err != nil {
			if qianmian.ErrorCode(err) != qianmian.ENOTFOUND {
				firstErr = err
			}
			return false
		}
		return u.Consent.Marketing
	})
	if firstErr != nil {
		return nil, firstErr
	}
	if !ok {
		return nil, qianmian.Errorf(qianmian.ENOTFOUND, "no segment %q", id)
	}
	return ids, nil
}

// SegmentBackfill returns the progress of the segment's backfill.
func (s *Service) SegmentBackfill(ctx context.Context, id string) (*qianmian.SegmentBackfill, error) {
	g, err := s.defined(id)
	if err != nil {
		return nil, err
	}
	st, ok := g.bf.status(id)
	if !ok {
		return nil, qianmian.Errorf(qianmian.ENOTFOUND, "no segment %q", id)
	}
	return &st, nil
}
