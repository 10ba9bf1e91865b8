package segment

// Subject is what an expression is evaluated against: one consumer's profile.
//
// Lookup answers a trait (no args) or a host function (its string arguments, as written in
// the expression) with a value of the declared type: a float64 for Number, a string, a bool,
// a []string for Strings, a []float64 for Numbers. ok is false when the subject has no value,
// and the expression then treats it as missing (see the package documentation); a value of the
// wrong Go type counts as missing too. A known absence is a value, not a missing one: a profile
// without beauty events should answer affinity("beauty") with (0.0, true) and has_tag("x")
// with (false, true), and keep ok == false for what it cannot tell (a city never declared).
//
// Lookup is called during evaluation, under the Index's per-subject lock when the Index
// evaluates; it must not call the Index. Returning values that are already boxed (stored as
// any) keeps evaluation free of allocations; see NumberSubject for numbers computed on the fly.
type Subject interface {
	Lookup(name string, args ...string) (value any, ok bool)
}

// NumberSubject is an optional fast path for Subjects that compute numbers on demand: when a
// Subject implements it, numeric traits and functions are read through LookupNumber, which
// (unlike returning a float64 as an any) does not allocate.
type NumberSubject interface {
	Subject
	LookupNumber(name string, args ...string) (value float64, ok bool)
}

// Truth is the result of a condition under three-valued logic.
type Truth int8

// The truth values. Unknown is the result of a comparison that reads a missing value.
const (
	False Truth = iota
	True
	Unknown
)

// String returns "false", "true" or "unknown".
func (t Truth) String() string {
	switch t {
	case False:
		return "false"
	case True:
		return "true"
	}
	return "unknown"
}

func truth(b bool) Truth {
	if b {
		return True
	}
	return False
}

func toNumber(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case float32:
		return float64(x), true
	case int:
		return float64(x), true
	case int64:
		return float64(x), true
	case int32:
		return float64(x), true
	case int16:
		return float64(x), true
	case int8:
		return float64(x), true
	case uint:
		return float64(x), true
	case uint64:
		return float64(x), true
	case uint32:
		return float64(x), true
	case uint16:
		return float64(x), true
	case uint8:
		return float64(x), true
	}
	return 0, false
}

func lookupNumber(name string, args []string) func(Subject) (float64, bool) {
	return func(s Subject) (float64, bool) {
		if ns, ok := s.(NumberSubject); ok {
			return ns.LookupNumber(name, args...)
		}
		v, ok := s.Lookup(name, args...)
		if !ok {
			return 0, false
		}
		return toNumber(v)
	}
}

func lookupString(name string, args []string) func(Subject) (string, bool) {
	return func(s Subject) (string, bool) {
		v, ok := s.Lookup(name, args...)
		if !ok {
			return "", false
		}
		x, ok := v.(string)
		return x, ok
	}
}

func lookupBool(name string, args []string) func(Subject) Truth {
	return func(s Subject) Truth {
		v, ok := s.Lookup(name, args...)
		if !ok {
			return Unknown
		}
		if x, ok := v.(bool); ok {
			return truth(x)
		}
		return Unknown
	}
}

func lookupStrings(name string, args []string) func(Subject) ([]string, bool) {
	return func(s Subject) ([]string, bool) {
		v, ok := s.Lookup(name, args...)
		if !ok {
			return nil, false
		}
		x, ok := v.([]string)
		return x, ok
	}
}

func lookupNumbers(name string, args []string) func(Subject) ([]float64, bool) {
	return func(s Subject) ([]float64, bool) {
		v, ok := s.Lookup(name, args...)
		if !ok {
			return nil, false
		}
		x, ok := v.([]float64)
		return x, ok
	}
}
