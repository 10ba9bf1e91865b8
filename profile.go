package qianmian

import (
	"context"
	"slices"
	"strings"
	"time"
)

// Profile is what the engine believes about a consumer, and why: the attributes they
// declared, traits computed from their behaviour in every channel (the events of every
// identity linked to them count for them), and tags inferred from the traits, by a rule or
// by a learned classifier, each with its reason. A consumer who turned personalisation off
// has their declared attributes only: no traits, no tags.
type Profile struct {
	UserID string `json:"user_id"`
	// Personalization is the consumer's consent to profiling and personalised rankings.
	Personalization bool               `json:"personalization"`
	Declared        DeclaredAttributes `json:"declared"`
	// Identities are the identifiers linked to the user: their events count in the profile.
	Identities []IdentityRef `json:"identities"`
	// Traits is nil when personalisation is off.
	Traits *Traits `json:"traits,omitempty"`
	// Explanations say each trait in words, in the order of the Traits fields.
	Explanations []TraitExplanation `json:"explanations"`
	// Tags are the inferred tags, the deleted ones left out.
	Tags []ProfileTag `json:"tags"`
	// DeletedTags are the tags the consumer deleted: they never come back.
	DeletedTags []string `json:"deleted_tags"`
	// Note says in words what the profile does not hold and why ("personalisation off").
	Note string `json:"note,omitempty"`
	// UpdatedAt is when the profile was computed.
	UpdatedAt time.Time `json:"updated_at"`
}

// DeclaredAttributes are what the consumer told the platform (User.Gender, BirthYear, City).
type DeclaredAttributes struct {
	Gender    string `json:"gender,omitempty"`
	BirthYear int    `json:"birth_year,omitempty"`
	AgeBand   string `json:"age_band,omitempty"` // AgeBand of BirthYear, "" when undeclared
	City      string `json:"city,omitempty"`
}

// Traits are computed from a consumer's events. Shares are in [0, 1].
type Traits struct {
	Events    int       `json:"events"`
	FirstSeen time.Time `json:"first_seen"`
	LastSeen  time.Time `json:"last_seen"`
	// CategoryAffinity is the time-decayed share of the consumer's attention (views,
	// clicks, favourites, carts, purchases, reviews, weighted by how much each says) per
	// category path at every level ("beauty", "beauty/fragrance", …); levels sum to 1.
	CategoryAffinity map[string]float64 `json:"category_affinity"`
	// BrandAffinity is the same share per brand, over events on items with a brand.
	BrandAffinity map[string]float64 `json:"brand_affinity"`
	// PriceTier is 1–5 (0 unknown): the quintile of PricePercentile, the consumer's spend per
	// item compared with the other buyers of the same top-level categories, weighted by the
	// consumer's spend in each.
	PriceTier       int                      `json:"price_tier"`
	PricePercentile float64                  `json:"price_percentile"`
	CategoryPrices  map[string]CategoryPrice `json:"category_prices"`
	// RFM is nil before the first purchase.
	RFM *RFM `json:"rfm,omitempty"`
	// HourShares is the share of events per local hour; WeekdayShares per weekday, Monday
	// first.
	HourShares     [24]float64              `json:"hour_shares"`
	WeekdayShares  [7]float64               `json:"weekday_shares"`
	ChannelShares  map[Channel]float64      `json:"channel_shares"`
	LocationShares map[LocationType]float64 `json:"location_shares"` // among events with a known location
	// TopStore is the store with most of the consumer's events; StoreLoyalty its share.
	TopStore     string  `json:"top_store,omitempty"`
	StoreLoyalty float64 `json:"store_loyalty"`
	Stores       int     `json:"stores"`
	// Bought and Returned count units; ReturnRate is Returned / Bought.
	Bought     int     `json:"bought"`
	Returned   int     `json:"returned"`
	ReturnRate float64 `json:"return_rate"`
	// SearchTerms are the words the consumer searched for, with time-decayed counts.
	SearchTerms map[string]float64 `json:"search_terms"`
}

// CategoryPrice is the consumer's price level within one top-level category.
type CategoryPrice struct {
	Tier       int     `json:"tier"`       // 1–5, 0 when too few buyers to compare with
	Percentile float64 `json:"percentile"` // share of the category's buyers who spend less per item
	MeanPrice  float64 `json:"mean_price"` // the consumer's spend per item
	Units      int     `json:"units"`
	Buyers     int     `json:"buyers"` // buyers compared with
}

// RFM is recency, frequency and monetary value of a consumer's purchases, each also scored
// 1–5 against the other buyers (0 when there are too few to compare with).
type RFM struct {
	RecencyDays float64 `json:"recency_days"` // since the last purchase
	Frequency   int     `json:"frequency"`    // purchase events
	Monetary    float64 `json:"monetary"`     // money spent
	R           int     `json:"r"`
	F           int     `json:"f"`
	M           int     `json:"m"`
}

// TraitExplanation says one trait in plain language ("price tier 4 of 5: spends more per
// item than 78% of buyers in beauty").
type TraitExplanation struct {
	Trait string `json:"trait"`
	Text  string `json:"text"`
}

// Sources of a ProfileTag.
const (
	TagSourceRule  = "rule"
	TagSourceModel = "model"
)

// ProfileTag is an inferred tag ("white_collar_woman", "gender_female") with where it came
// from and why.
type ProfileTag struct {
	Name   string `json:"name"`
	Label  string `json:"label,omitempty"`
	Source string `json:"source"` // TagSourceRule or TagSourceModel
	// Rule names the rule that fired, for rule tags.
	Rule string `json:"rule,omitempty"`
	// Confidence is the calibrated probability for model tags and the rule's stated
	// confidence for rule tags.
	Confidence float64 `json:"confidence"`
	Reason     string  `json:"reason"`
}

// MaxTagLength bounds a tag name.
const MaxTagLength = 64

// ValidateTag reports an EINVALID error naming field if tag is not a tag name: 1 to 64
// lowercase letters, digits, '_', '-' or '.'.
func ValidateTag(field, tag string) error {
	if tag == "" || len(tag) > MaxTagLength {
		return Invalid(field, "must be 1 to %d characters", MaxTagLength)
	}
	for _, c := range tag {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.') {
			return Invalid(field, "may hold lowercase letters, digits, '_', '-' and '.' only")
		}
	}
	return nil
}

// AgeBand returns the age band of someone born in birthYear, at t: "under_18", "18_24",
// "25_34", "35_44", "45_54", "55_64" or "65_plus"; "" for an undeclared (0) year.
func AgeBand(birthYear int, t time.Time) string {
	if birthYear <= 0 {
		return ""
	}
	switch age := t.Year() - birthYear; {
	case age < 18:
		return "under_18"
	case age < 25:
		return "18_24"
	case age < 35:
		return "25_34"
	case age < 45:
		return "35_44"
	case age < 55:
		return "45_54"
	case age < 65:
		return "55_64"
	default:
		return "65_plus"
	}
}

// ProfileStore keeps what profiles cannot rebuild from the event log: the tags each
// consumer deleted.
type ProfileStore interface {
	// DeleteProfileTag records, for good, that the user deleted tag; deleting it again is a
	// no-op. EINVALID for a malformed user id or tag.
	DeleteProfileTag(ctx context.Context, userID, tag string) error
	// FindDeletedTags returns the tags the user deleted, sorted; empty when none.
	FindDeletedTags(ctx context.Context, userID string) ([]string, error)
}

// ProfileService answers consumer profiles and carries out the consumer's controls over
// them (PIPL Art. 24: an off switch and tag deletion).
type ProfileService interface {
	// FindProfileByUserID returns the user's profile, computed from the event log and kept
	// current as events arrive. ENOTFOUND if the user is unknown and has no events.
	FindProfileByUserID(ctx context.Context, userID string) (*Profile, error)
	// DeleteProfileTag deletes a tag from the user's profile for good: rules and retrained
	// models never give it back. EINVALID for a malformed tag.
	DeleteProfileTag(ctx context.Context, userID, tag string) error
	// SetPersonalization turns profiling and personalised rankings on or off for the user
	// (their consent), from the next request on, and returns the profile as it then is.
	SetPersonalization(ctx context.Context, userID string, enabled bool) (*Profile, error)
}

// Lookup returns a trait by name, for segment and rule expressions. Numbers are float64,
// and ok is false for an unknown name, wrong arguments, or a trait that has no value (a
// price tier before any purchase; a city never declared; any computed trait when
// personalisation is off). A known absence is a value: affinity of a category never seen is
// (0, true).
//
//	declared:  gender, age_band, city (string), birth_year
//	consent:   personalization (bool)
//	activity:  events, stores, store_loyalty, top_store (string)
//	affinity:  affinity(category path), brand_affinity(brand)
//	price:     price_tier, price_tier(top category), price_percentile, price_percentile(top category)
//	RFM:       recency_days, frequency, monetary, r_score, f_score, m_score
//	rhythm:    hour_share(from, to) (local hours [from, to), wrapping past midnight),
//	           peak_hour, weekend_share, weekday_share(mon … sun)
//	mix:       channel_share(app|miniprogram|web|offline),
//	           location_share(home|office|mall|transit|store)
//	returns:   bought, returned, return_rate
//	search:    searched(term) (time-decayed count of searches whose words include term)
//	tags:      tag(name) or has_tag(name) (bool), tags ([]string)
func (p *Profile) Lookup(name string, args ...string) (value any, ok bool) {
	if x, ok, known := p.number(name, args); known {
		if !ok {
			return nil, false
		}
		return x, true
	}
	d := p.Declared
	switch {
	case len(args) == 0 && name == "gender":
		return d.Gender, d.Gender != ""
	case len(args) == 0 && name == "age_band":
		return d.AgeBand, d.AgeBand != ""
	case len(args) == 0 && name == "city":
		return d.City, d.City != ""
	case len(args) == 0 && name == "personalization":
		return p.Personalization, true
	case len(args) == 0 && name == "top_store":
		if p.Traits == nil || p.Traits.TopStore == "" {
			return nil, false
		}
		return p.Traits.TopStore, true
	case len(args) == 0 && name == "tags":
		names := make([]string, len(p.Tags))
		for i, t := range p.Tags {
			names[i] = t.Name
		}
		return names, true
	case len(args) == 1 && (name == "tag" || name == "has_tag"):
		return slices.ContainsFunc(p.Tags, func(t ProfileTag) bool { return t.Name == args[0] }), true
	}
	return nil, false
}

// LookupNumber answers the numeric traits of Lookup without boxing them.
func (p *Profile) LookupNumber(name string, args ...string) (value float64, ok bool) {
	x, ok, _ := p.number(name, args)
	return x, ok
}

// number answers the numeric traits; known is false for a name that is not one.
func (p *Profile) number(name string, args []string) (x float64, ok, known bool) {
	if name == "birth_year" {
		return float64(p.Declared.BirthYear), len(args) == 0 && p.Declared.BirthYear != 0, true
	}
	t := p.Traits
	if t == nil {
		t = &Traits{}
		x, _, known = t.number(name, args)
		return 0, false, known
	}
	return t.number(name, args)
}

// number answers the numeric computed traits.
func (t *Traits) number(name string, args []string) (x float64, ok, known bool) {
	if len(args) == 0 {
		return t.scalar(name)
	}
	a := args[0]
	one := len(args) == 1
	switch name {
	case "affinity":
		return t.CategoryAffinity[strings.Trim(a, "/")], one, true
	case "brand_affinity":
		return t.BrandAffinity[a], one, true
	case "price_tier":
		c, has := t.CategoryPrices[a]
		return float64(c.Tier), one && has && c.Tier > 0, true
	case "price_percentile":
		c, has := t.CategoryPrices[a]
		return c.Percentile, one && has && c.Tier > 0, true
	case "channel_share":
		return t.ChannelShares[Channel(a)], one, true
	case "location_share":
		return t.LocationShares[LocationType(a)], one, true
	case "searched":
		return t.SearchTerms[strings.ToLower(a)], one, true
	case "weekday_share":
		for i, d := range []string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"} {
			if strings.EqualFold(a, d) {
				return t.WeekdayShares[i], one, true
			}
		}
		return 0, false, true
	case "hour_share":
		if len(args) != 2 {
			return 0, false, true
		}
		x, ok := t.hourShare(a, args[1])
		return x, ok, true
	}
	return 0, false, isScalarTrait(name)
}

// isScalarTrait reports whether name is a numeric trait without arguments.
func isScalarTrait(name string) bool {
	_, _, known := (&Traits{}).scalar(name)
	return known
}

// scalar answers the numeric traits that take no argument.
func (t *Traits) scalar(name string) (x float64, ok, known bool) {
	rfm := func(f func(*RFM) float64) (float64, bool, bool) {
		if t.RFM == nil {
			return 0, false, true
		}
		x := f(t.RFM)
		return x, x != 0 || name == "recency_days", true
	}
	switch name {
	case "events":
		return float64(t.Events), true, true
	case "stores":
		return float64(t.Stores), true, true
	case "store_loyalty":
		return t.StoreLoyalty, t.Stores > 0, true
	case "price_tier":
		return float64(t.PriceTier), t.PriceTier > 0, true
	case "price_percentile":
		return t.PricePercentile, t.PriceTier > 0, true
	case "recency_days":
		return rfm(func(r *RFM) float64 { return r.RecencyDays })
	case "frequency":
		return rfm(func(r *RFM) float64 { return float64(r.Frequency) })
	case "monetary":
		return rfm(func(r *RFM) float64 { return r.Monetary })
	case "r_score":
		return rfm(func(r *RFM) float64 { return float64(r.R) })
	case "f_score":
		return rfm(func(r *RFM) float64 { return float64(r.F) })
	case "m_score":
		return rfm(func(r *RFM) float64 { return float64(r.M) })
	case "peak_hour":
		best := 0
		for h, s := range t.HourShares {
			if s > t.HourShares[best] {
				best = h
			}
		}
		return float64(best), t.Events > 0, true
	case "weekend_share":
		return t.WeekdayShares[5] + t.WeekdayShares[6], true, true
	case "bought":
		return float64(t.Bought), true, true
	case "returned":
		return float64(t.Returned), true, true
	case "return_rate":
		return t.ReturnRate, t.Bought > 0, true
	}
	return 0, false, false
}

// hourShare is the share of events in local hours [from, to), wrapping past midnight.
func (t *Traits) hourShare(from, to string) (float64, bool) {
	f, ok1 := parseHour(from)
	e, ok2 := parseHour(to)
	if !ok1 || !ok2 || f == 24 {
		return 0, false
	}
	n := (e - f + 24) % 24
	if n == 0 && e != f {
		n = 24 // [0, 24)
	}
	var s float64
	for k := range n {
		s += t.HourShares[(f+k)%24]
	}
	return s, true
}

func parseHour(s string) (int, bool) {
	if s == "" || len(s) > 2 {
		return 0, false
	}
	n := 0
	for _, c := range s {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, n <= 24
}
