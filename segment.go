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
	// CreateSegment compiles and stores a segment and computes its members. EINVALID
	// naming "expression", with the column, for an expression that does not compile.
	CreateSegment(ctx context.Context, s *Segment) (*Segment, error)
	FindSegmentByID(ctx context.Context, id string) (*Segment, error)
	FindSegments(ctx context.Context) ([]*Segment, error)
	// UpdateSegment replaces a segment's name and expression and recomputes its members.
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
}
