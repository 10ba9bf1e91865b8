package qianmian

import (
	"context"
	"time"
)

// Role is the kind of party a request speaks for.
type Role string

// Roles.
const (
	// RoleOperator is the platform: it sees everything.
	RoleOperator Role = "operator"
	// RoleSupplier sees its own items, their assortment entries and aggregates of their demand.
	RoleSupplier Role = "supplier"
	// RoleStore sees its own store, its assortment and the consumers who interacted with it,
	// and ranks any visitor in its own shop.
	RoleStore Role = "store"
	// RoleConsumer sees only their own data.
	RoleConsumer Role = "consumer"
)

// Valid reports whether r is a known role.
func (r Role) Valid() bool {
	switch r {
	case RoleOperator, RoleSupplier, RoleStore, RoleConsumer:
		return true
	}
	return false
}

// Principal is who a request speaks for: a role and, except for the operator, the id of the
// supplier, store or consumer.
type Principal struct {
	Role Role   `json:"role"`
	ID   string `json:"id,omitempty"`
}

// Validate reports an EINVALID error if the principal is incomplete.
func (p Principal) Validate() error {
	if !p.Role.Valid() {
		return Invalid("role", "must be operator, supplier, store or consumer, not %q", p.Role)
	}
	if p.Role != RoleOperator {
		if err := validID("id", p.ID); err != nil {
			return err
		}
	}
	return nil
}

// IsOperator reports whether p is the platform operator.
func (p Principal) IsOperator() bool { return p.Role == RoleOperator }

// IsStore reports whether p is the store with the given id.
func (p Principal) IsStore(id string) bool { return p.Role == RoleStore && p.ID == id }

// IsSupplier reports whether p is the supplier with the given id.
func (p Principal) IsSupplier(id string) bool { return p.Role == RoleSupplier && p.ID == id }

type principalKey struct{}

// NewContextWithPrincipal returns ctx carrying p.
func NewContextWithPrincipal(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// PrincipalFromContext returns the principal of ctx and whether there is one.
func PrincipalFromContext(ctx context.Context) (Principal, bool) {
	p, ok := ctx.Value(principalKey{}).(Principal)
	return p, ok
}

// APIKey describes an issued key. The secret itself is shown once, at creation, and only
// its hash is stored.
type APIKey struct {
	ID        string    `json:"id"`
	Principal Principal `json:"principal"`
	CreatedAt time.Time `json:"created_at"`
}

// KeyService issues and checks API keys.
type KeyService interface {
	// CreateKey issues a key for p and returns its description and the secret token to send
	// as "Authorization: Bearer TOKEN". EINVALID if p is invalid.
	CreateKey(ctx context.Context, p Principal) (*APIKey, string, error)
	// FindPrincipalByToken returns the principal of a token; EUNAUTHORIZED if it is unknown
	// or revoked.
	FindPrincipalByToken(ctx context.Context, token string) (Principal, error)
	// RevokeKey revokes the key with the given id; ENOTFOUND if none.
	RevokeKey(ctx context.Context, id string) error
}
