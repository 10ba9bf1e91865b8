package qianmian

import (
	"context"
	"strings"
	"time"
)

// Consent records what a consumer agreed to, per purpose.
type Consent struct {
	// Personalization allows profiling and personalised rankings. Without it the consumer's
	// events are stored but not profiled, and rankings are the store's non-personalised ones.
	Personalization bool `json:"personalization"`
	// Marketing allows the consumer to be included in marketing audiences and store follow-ups.
	Marketing bool `json:"marketing"`
	// Analytics allows the consumer's events to count in aggregate reports.
	Analytics bool `json:"analytics"`
	// StoreAlerts allows an offline store the consumer walks into to be told who they are
	// (user id and name) and, with Personalization, what they looked at online lately.
	// Without it a store alert names the visitor only by an opaque reference.
	StoreAlerts bool `json:"store_alerts"`
}

// DefaultConsent is the consent of a consumer who has not said otherwise: personalised
// service and analytics (the purpose of the platform the consumer signed up to), no marketing
// and no store alerts: being recognised on walking into a shop is asked for, not assumed.
func DefaultConsent() Consent {
	return Consent{Personalization: true, Marketing: false, Analytics: true, StoreAlerts: false}
}

// ConsentPurpose names one purpose of Consent, as its JSON field does.
type ConsentPurpose string

// Consent purposes, one per field of Consent.
const (
	PurposePersonalization ConsentPurpose = "personalization"
	PurposeMarketing       ConsentPurpose = "marketing"
	PurposeAnalytics       ConsentPurpose = "analytics"
	PurposeStoreAlerts     ConsentPurpose = "store_alerts"
)

// ConsentPurposes lists every purpose, in the order of Consent's fields.
func ConsentPurposes() []ConsentPurpose {
	return []ConsentPurpose{PurposePersonalization, PurposeMarketing, PurposeAnalytics, PurposeStoreAlerts}
}

// Validate reports an EINVALID error naming the field "purpose" and the value given if p
// is not one of the purposes.
func (p ConsentPurpose) Validate() error {
	switch p {
	case PurposePersonalization, PurposeMarketing, PurposeAnalytics, PurposeStoreAlerts:
		return nil
	}
	return Invalid("purpose", "unknown consent purpose %q: must be personalization, marketing, analytics or store_alerts", string(p))
}

// Allows reports whether c grants purpose p; false for an unknown purpose.
func (c Consent) Allows(p ConsentPurpose) bool {
	switch p {
	case PurposePersonalization:
		return c.Personalization
	case PurposeMarketing:
		return c.Marketing
	case PurposeAnalytics:
		return c.Analytics
	case PurposeStoreAlerts:
		return c.StoreAlerts
	}
	return false
}

// ConsentUpdate lists the purposes to change; nil leaves a purpose as it is.
type ConsentUpdate struct {
	Personalization *bool `json:"personalization,omitempty"`
	Marketing       *bool `json:"marketing,omitempty"`
	Analytics       *bool `json:"analytics,omitempty"`
	StoreAlerts     *bool `json:"store_alerts,omitempty"`
}

// Apply returns c with the non-nil fields of u.
func (u ConsentUpdate) Apply(c Consent) Consent {
	if u.Personalization != nil {
		c.Personalization = *u.Personalization
	}
	if u.Marketing != nil {
		c.Marketing = *u.Marketing
	}
	if u.Analytics != nil {
		c.Analytics = *u.Analytics
	}
	if u.StoreAlerts != nil {
		c.StoreAlerts = *u.StoreAlerts
	}
	return c
}

// Gender values a consumer may declare.
const (
	GenderFemale = "female"
	GenderMale   = "male"
	GenderOther  = "other"
)

// User is a consumer (the c of S2b2c). Gender, BirthYear and City are declared attributes,
// empty when not given. Name, Phone and Address are personal fields: stores encrypt them at
// rest and only roles entitled to them see them.
type User struct {
	ID        string    `json:"id"`
	Gender    string    `json:"gender,omitempty"`
	BirthYear int       `json:"birth_year,omitempty"`
	City      string    `json:"city,omitempty"`
	Consent   Consent   `json:"consent"`
	Name      string    `json:"name,omitempty"`
	Phone     string    `json:"phone,omitempty"`
	Address   string    `json:"address,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Validate reports an EINVALID error naming the field if the user cannot be stored.
func (u *User) Validate() error {
	if err := validID("id", u.ID); err != nil {
		return err
	}
	switch u.Gender {
	case "", GenderFemale, GenderMale, GenderOther:
	default:
		return Invalid("gender", "must be female, male or other, not %q", u.Gender)
	}
	if u.BirthYear != 0 && (u.BirthYear < 1900 || u.BirthYear > time.Now().Year()) {
		return Invalid("birth_year", "must be between 1900 and this year")
	}
	if len(u.Phone) > 32 {
		return Invalid("phone", "longer than 32 characters")
	}
	return nil
}

// UserService manages consumers.
type UserService interface {
	// UpsertUsers inserts or replaces users in one transaction. EINVALID if any is invalid.
	// CreatedAt of an existing user is kept.
	UpsertUsers(ctx context.Context, users []*User) error
	// FindUserByID returns the user with personal fields decrypted; ENOTFOUND if none.
	FindUserByID(ctx context.Context, id string) (*User, error)
	// Personalizes reports whether the user allows personalisation: the stored consent, or
	// DefaultConsent().Personalization for a user not stored. It is read on every ranking
	// request, so it is answered from memory: a change made through the same service is
	// seen by the next call; one made by another process on the same database (another
	// server, the CLI) within about a second. An error means the answer could not be
	// brought up to date.
	Personalizes(ctx context.Context, id string) (bool, error)
	// FindUsers lists users ordered by id.
	FindUsers(ctx context.Context, page Page) ([]*User, error)
	// FindRefusals returns the ids of the users whose consent to purpose is false, in id
	// order, without reading their personal fields: what jobs that must leave those users
	// out need, at the cost of one column rather than of every user decrypted. Empty (maybe
	// nil) when nobody refused; EINVALID naming the purpose if it is unknown
	// (ConsentPurpose.Validate).
	FindRefusals(ctx context.Context, purpose ConsentPurpose) ([]string, error)
	// UpdateConsent changes the user's consent and returns the new state; ENOTFOUND if none.
	UpdateConsent(ctx context.Context, id string, upd ConsentUpdate) (*User, error)
}

// IdentityType is the kind of an external identifier.
type IdentityType string

// Identity types.
const (
	IdentityDevice     IdentityType = "device"
	IdentityAccount    IdentityType = "account"
	IdentityPhoneHash  IdentityType = "phone_hash"
	IdentityMembership IdentityType = "membership_card"
)

// IdentityRef names an identifier a channel knows a person by, before or without knowing
// the user: a device id in the app, an account in the mini-program, a membership card at the
// till. Channel is the channel that issued it; identifiers of different channels never collide.
type IdentityRef struct {
	Channel Channel      `json:"channel"`
	Type    IdentityType `json:"type"`
	Value   string       `json:"value"`
}

// Key returns the identity's canonical key, "channel:type:value".
func (r IdentityRef) Key() string {
	return string(r.Channel) + ":" + string(r.Type) + ":" + r.Value
}

// Validate reports an EINVALID error naming the field under prefix ("identity").
// An empty prefix names the fields bare ("channel"), for a request body that is the
// identity itself.
func (r *IdentityRef) Validate(prefix string) error {
	field := func(name string) string {
		if prefix == "" {
			return name
		}
		return prefix + "." + name
	}
	if err := r.Channel.Validate(field("channel")); err != nil {
		return err
	}
	switch r.Type {
	case IdentityDevice, IdentityAccount, IdentityPhoneHash, IdentityMembership:
	default:
		return Invalid(field("type"), "must be device, account, phone_hash or membership_card, not %q", r.Type)
	}
	if r.Value == "" || len(r.Value) > MaxIDLength || strings.TrimSpace(r.Value) != r.Value {
		return Invalid(field("value"), "required, at most %d bytes, no surrounding space", MaxIDLength)
	}
	return nil
}

// AnonymousSubject returns the subject key events of an unlinked identity are kept under.
// It cannot collide with a user id because user ids have no "~" prefix by convention of
// this function's callers: stores keep subjects and user ids in separate columns.
func (r IdentityRef) AnonymousSubject() string { return "~" + r.Key() }

// ParseAnonymousSubject is the inverse of AnonymousSubject: it reports whether subject is
// the subject of a valid identity, and which.
func ParseAnonymousSubject(subject string) (IdentityRef, bool) {
	key, ok := strings.CutPrefix(subject, "~")
	if !ok {
		return IdentityRef{}, false
	}
	// Channel and type never contain ":", so the value is everything after the second.
	parts := strings.SplitN(key, ":", 3)
	if len(parts) != 3 {
		return IdentityRef{}, false
	}
	r := IdentityRef{Channel: Channel(parts[0]), Type: IdentityType(parts[1]), Value: parts[2]}
	if r.Validate("identity") != nil {
		return IdentityRef{}, false
	}
	return r, true
}

// Identity is an identifier linked to a user.
type Identity struct {
	IdentityRef
	UserID   string    `json:"user_id"`
	LinkedAt time.Time `json:"linked_at"`
}

// LinkedByAPI is LinkedIdentity.LinkedBy of a link made with LinkIdentity (the API or an
// import) rather than by an event.
const LinkedByAPI = "api"

// MaxUnlinkReasonLength bounds IdentityUnlink.Reason, in bytes.
const MaxUnlinkReasonLength = 500

// IdentityGraph is a person's identity graph as the store holds it: the identities linked
// to the user, what linked each and how many events it brought, and the links undone.
type IdentityGraph struct {
	UserID     string            `json:"user_id"`
	Identities []*LinkedIdentity `json:"identities"` // oldest link first
	Unlinks    []*IdentityUnlink `json:"unlinks"`    // oldest first
}

// LinkedIdentity is one identity of an IdentityGraph.
type LinkedIdentity struct {
	Identity
	// LinkedBy is what made the link: the id of the event that carried both the identity and
	// the user, LinkedByAPI, or "" for a link made before this was recorded.
	LinkedBy string `json:"linked_by"`
	// Events counts the events sent under the identity that count for the user: those sent
	// anonymously (before or after the link) and those sent with the user's id.
	Events int `json:"events"`
	// ExplicitEvents counts those of Events sent with the user's id as well as the identity:
	// they stay the user's if the identity is unlinked; the others go back to the identity.
	ExplicitEvents int `json:"explicit_events"`
}

// IdentityUnlink records an identity unlinked from a user. While it stands (RelinkedAt
// nil), events carrying both the identity and the user do not link them again; they stay
// the user's own events. Only an explicit LinkIdentity relinks the pair, which ends it.
type IdentityUnlink struct {
	IdentityRef
	UserID     string    `json:"user_id"`
	UnlinkedAt time.Time `json:"unlinked_at"`
	Reason     string    `json:"reason,omitempty"`
	// ResolvedEvents counts the events whose user had been resolved from the identity when
	// they arrived, and were given back to the identity by the unlink.
	ResolvedEvents int `json:"resolved_events"`
	// RelinkedAt is when LinkIdentity linked the pair again; nil while the unlink stands.
	RelinkedAt *time.Time `json:"relinked_at,omitempty"`
}

// ValidateUnlink reports an EINVALID error naming the field if UnlinkIdentity's arguments
// are not acceptable.
func ValidateUnlink(ref IdentityRef, userID, reason string) error {
	if err := ref.Validate("identity"); err != nil {
		return err
	}
	if err := validID("user_id", userID); err != nil {
		return err
	}
	if len(reason) > MaxUnlinkReasonLength {
		return Invalid("reason", "longer than %d bytes", MaxUnlinkReasonLength)
	}
	return nil
}

// IdentityService ties identifiers from every channel to one user.
type IdentityService interface {
	// LinkIdentity links ref to userID. Linking an identity to the user it already belongs
	// to is a no-op; ECONFLICT if it belongs to another user (the first link wins). It ends
	// an unlink of the pair that stands (IdentityUnlink), so events may link them again.
	LinkIdentity(ctx context.Context, ref IdentityRef, userID string) error
	// ResolveIdentity returns the user ref is linked to; ENOTFOUND if it is not linked.
	ResolveIdentity(ctx context.Context, ref IdentityRef) (string, error)
	// FindIdentities lists the identities linked to userID.
	FindIdentities(ctx context.Context, userID string) ([]*Identity, error)
	// IdentityGraph returns the user's identity graph. ENOTFOUND if the store knows nothing
	// of the user: no record, no event, no identity linked or unlinked.
	IdentityGraph(ctx context.Context, userID string) (*IdentityGraph, error)
	// UnlinkIdentity undoes the link of ref to userID, in one transaction: the link goes,
	// an IdentityUnlink with reason is recorded, and the identity's events whose user was
	// resolved from the link when they arrived become anonymous again (the identity's
	// subject's), as do, through the link's absence, those sent before it. Events sent
	// with the user's id stay the user's. ENOTFOUND if ref is not linked to userID;
	// EINVALID naming the field for a bad argument (ValidateUnlink).
	UnlinkIdentity(ctx context.Context, ref IdentityRef, userID, reason string) error
}
