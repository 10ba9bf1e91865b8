package segment

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// Type is the type of a value in an expression.
type Type uint8

// The types. A Subject answers a Number trait with a float64 (other Go integer and float
// types are accepted too), a String with a string, a Bool with a bool, Strings with a []string
// and Numbers with a []float64.
const (
	Number Type = iota + 1
	String
	Bool
	Strings // a list of strings, such as tags
	Numbers // a list of numbers

	emptyList // the type of [], a list of anything
)

// String names the type as messages do: "number", "list of strings".
func (t Type) String() string {
	switch t {
	case Number:
		return "number"
	case String:
		return "string"
	case Bool:
		return "bool"
	case Strings:
		return "list of strings"
	case Numbers:
		return "list of numbers"
	case emptyList:
		return "empty list"
	}
	return fmt.Sprintf("Type(%d)", uint8(t))
}

func (t Type) isList() bool { return t == Strings || t == Numbers || t == emptyList }

// elem is the element type of a list type; 0 for the empty list.
func (t Type) elem() Type {
	switch t {
	case Strings:
		return String
	case Numbers:
		return Number
	}
	return 0
}

// Func declares a host function: it takes Params literal arguments, which reach
// Subject.Lookup as strings, and returns a Result.
type Func struct {
	Params int
	Result Type
}

// Schema declares the traits and functions expressions may use, and their types. Declare
// everything before the first Compile; after that a Schema is only read, and may be shared by
// goroutines.
type Schema struct {
	traits map[string]Type
	funcs  map[string]Func
}

// NewSchema returns a Schema that declares nothing (only the built-ins known and len).
func NewSchema() *Schema {
	return &Schema{traits: map[string]Type{}, funcs: map[string]Func{}}
}

// builtins are the functions every schema has; their arguments are expressions.
var builtins = map[string]bool{"known": true, "len": true}

// DefaultSchema returns the traits and functions a qianmian consumer profile answers
// (qianmian.Profile.Lookup), the set docs/segments.md documents:
//
//	gender, age_band, city, top_store            string
//	personalization                              bool
//	birth_year, events, stores, store_loyalty    number
//	price_tier, price_percentile                 number
//	recency_days, frequency, monetary            number
//	r_score, f_score, m_score                    number
//	peak_hour, weekend_share                     number
//	bought, returned, return_rate                number
//	tags                                         list of strings
//	affinity(category), brand_affinity(brand)    number in [0, 1]
//	price_tier(category), price_percentile(category)
//	channel_share(channel), location_share(type) number in [0, 1]
//	weekday_share(day), hour_share(from, to)     number in [0, 1]
//	searched(term)                               number
//	tag(name), has_tag(name)                     bool
//
// A host may declare more on the returned Schema.
func DefaultSchema() *Schema {
	s := NewSchema()
	for _, name := range []string{"gender", "age_band", "city", "top_store"} {
		s.traits[name] = String
	}
	s.traits["personalization"] = Bool
	for _, name := range []string{
		"birth_year", "events", "stores", "store_loyalty", "price_tier", "price_percentile",
		"recency_days", "frequency", "monetary", "r_score", "f_score", "m_score",
		"peak_hour", "weekend_share", "bought", "returned", "return_rate",
	} {
		s.traits[name] = Number
	}
	s.traits["tags"] = Strings
	for _, name := range []string{
		"affinity", "brand_affinity", "price_tier", "price_percentile",
		"channel_share", "location_share", "weekday_share", "searched",
	} {
		s.funcs[name] = Func{Params: 1, Result: Number}
	}
	s.funcs["hour_share"] = Func{Params: 2, Result: Number}
	s.funcs["tag"] = Func{Params: 1, Result: Bool}
	s.funcs["has_tag"] = Func{Params: 1, Result: Bool}
	return s
}

// DeclareTrait declares a trait. It fails if name is not a valid name (letters, digits and
// underscores, not starting with a digit) or is a keyword or built-in. Declaring a trait again
// changes its type. A name may be both a trait and a function (price_tier and
// price_tier("beauty")): a bare name reads the trait, a call the function.
func (s *Schema) DeclareTrait(name string, t Type) error {
	if err := s.checkName(name, t); err != nil {
		return err
	}
	s.traits[name] = t
	return nil
}

// DeclareFunc declares a host function taking params literal arguments (0 to 8). It fails as
// DeclareTrait does.
func (s *Schema) DeclareFunc(name string, params int, result Type) error {
	if err := s.checkName(name, result); err != nil {
		return err
	}
	if params < 0 || params > 8 {
		return fmt.Errorf("segment: function %q: %d parameters; 0 to 8 are allowed", name, params)
	}
	s.funcs[name] = Func{Params: params, Result: result}
	return nil
}

func (s *Schema) checkName(name string, t Type) error {
	if t < Number || t > Numbers {
		return fmt.Errorf("segment: %q: invalid type %v", name, t)
	}
	if name == "" || isDigit(name[0]) {
		return fmt.Errorf("segment: invalid name %q", name)
	}
	for i := range len(name) {
		if !isLetter(name[i]) && !isDigit(name[i]) {
			return fmt.Errorf("segment: invalid name %q", name)
		}
	}
	if _, ok := keywords[strings.ToLower(name)]; ok || builtins[name] {
		return fmt.Errorf("segment: %q is reserved", name)
	}
	return nil
}

// Trait returns the type of a declared trait.
func (s *Schema) Trait(name string) (Type, bool) {
	t, ok := s.traits[name]
	return t, ok
}

// Func returns a declared host function.
func (s *Schema) Func(name string) (Func, bool) {
	f, ok := s.funcs[name]
	return f, ok
}

// Traits returns the declared trait names, sorted.
func (s *Schema) Traits() []string { return slices.Sorted(maps.Keys(s.traits)) }

// Funcs returns the declared host function names, sorted (without the built-ins).
func (s *Schema) Funcs() []string { return slices.Sorted(maps.Keys(s.funcs)) }
