package qianmian

import (
	"context"
	"time"
)

// Segment is a named set of consumers, defined by an expression in the segment language of
// package profile/segment (`affinity("beauty") > 0.3 and city = "Shanghai"`). Its members are
// kept current as events arrive; only the definition is stored.
type Segment struct {
	ID         string    `json:"id"`
	Name       string    `json:"name"`
	Expression string    `json:"expression"`
	CreatedAt  time.Time `json:"created_at"`
	UpdatedAt  time.Time `json:"updated_at"`
}

// Validate checks the fields a store can check without the segment language: an id and a
// name, and an expression that is not empty. Compiling the expression is the service's.
func (s *Segment) Validate() error {
	if err := validID("id", s.ID); err != nil {
		return err
	}
	if s.Name == "" || len(s.Name) > 200 {
		return Invalid("name", "required, at most 200 bytes")
	}
	if s.Expression == "" || len(s.Expression) > 4096 {
		return Invalid("expression", "required, at most 4096 bytes")
	}
	return nil
}

// SegmentCount is a segment's member count at the end of the history bucket that starts At.
type SegmentCount struct {
	At    time.Time `json:"at"`
	Count int       `json:"count"`
}

// BackfillState is where a segment's backfill stands.
type BackfillState string

// Backfill states.
const (
	// BackfillQueued: the segment waits for a pass to start (at start-up, for the first
	// population statistics).
	BackfillQueued BackfillState = "queued"
	// BackfillRunning: a pass is evaluating the segment over the consumers.
	BackfillRunning BackfillState = "running"
	// BackfillComplete: every consumer with behaviour in the log was evaluated; members
	// are kept current by their events from then on.
	BackfillComplete BackfillState = "complete"
	// BackfillFailed: the pass stopped on an error (Error); it is tried again.
	BackfillFailed BackfillState = "failed"
)

// SegmentBackfill is the progress of a segment's backfill: the background pass that
// evaluates a new or changed segment over every consumer the event log holds behaviour of,
// not only those whose profiles are in memory. Evaluated counts the consumers evaluated
// since the segment joined the pass; Total is the number to evaluate, counted when the pass
// started (consumers who arrive meanwhile are evaluated by their events).
type SegmentBackfill struct {
	State      BackfillState `json:"state"`
	Evaluated  int           `json:"evaluated"`
	Total      int           `json:"total"`
	StartedAt  time.Time     `json:"started_at,omitzero"`
	FinishedAt time.Time     `json:"finished_at,omitzero"`
	Error      string        `json:"error,omitempty"`
}

// SegmentStore keeps segment definitions.
type SegmentStore interface {
	// CreateSegment stores a new segment, stamping CreatedAt and UpdatedAt on it. EINVALID
	// if it is invalid, ECONFLICT if its id is taken.
	CreateSegment(ctx context.Context, s *Segment) error
	// FindSegmentByID returns a segment. ENOTFOUND if there is none.
	FindSegmentByID(ctx context.Context, id string) (*Segment, error)
	// FindSegments returns every segment, by id; empty when none.
	FindSegments(ctx context.Context) ([]*Segment, error)
	// UpdateSegment replaces a segment's name and expression, stamping UpdatedAt and
	// filling CreatedAt from the stored segment. ENOTFOUND if there is none.
	UpdateSegment(ctx context.Context, s *Segment) error
	// DeleteSegment deletes a segment. ENOTFOUND if there is none.
	DeleteSegment(ctx context.Context, id string) error
}

// SegmentService manages segments and answers their members (package profile).
type SegmentService interface {
	// CreateSegment compiles and stores a segment and computes its members: at once among
	// the profiles in memory, then over every consumer by a backfill (SegmentBackfill).
	// EINVALID naming "expression", with the column, for an expression that does not
	// compile.
	CreateSegment(ctx context.Context, s *Segment) (*Segment, error)
	FindSegmentByID(ctx context.Context, id string) (*Segment, error)
	FindSegments(ctx context.Context) ([]*Segment, error)
	// UpdateSegment replaces a segment's name and expression and recomputes its members, as
	// CreateSegment computes them.
	UpdateSegment(ctx context.Context, s *Segment) (*Segment, error)
	DeleteSegment(ctx context.Context, id string) error
	// SegmentMembers returns up to limit member ids greater than after, in order.
	SegmentMembers(ctx context.Context, id, after string, limit int) ([]string, error)
	// SegmentCount returns the number of members.
	SegmentCount(ctx context.Context, id string) (int, error)
	// SegmentHistory returns the member count over time, oldest first.
	SegmentHistory(ctx context.Context, id string) ([]SegmentCount, error)
	// SegmentAudience returns the members who consented to marketing: whom a promotion to
	// the segment may reach.
	SegmentAudience(ctx context.Context, id string) ([]string, error)
	// SegmentBackfill returns the progress of the segment's backfill. ENOTFOUND if there is
	// no such segment.
	SegmentBackfill(ctx context.Context, id string) (*SegmentBackfill, error)
}
