package segment_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/qianmian/qianmian/profile/segment"
)

// testSchema is the default schema plus a bool trait, a list of numbers, a number trait and
// two functions, one of them overloading the trait "bought".
func testSchema(tb testing.TB) *segment.Schema {
	tb.Helper()
	s := segment.DefaultSchema()
	for _, err := range []error{
		s.DeclareTrait("vip", segment.Bool),
		s.DeclareTrait("scores", segment.Numbers),
		s.DeclareFunc("bought", 2, segment.Number),
		s.DeclareFunc("tag_confidence", 1, segment.Number),
		s.DeclareTrait("age", segment.Number),
	} {
		if err != nil {
			tb.Fatal(err)
		}
	}
	return s
}

// subject is a test Subject: a map from "name" or "name(arg,arg)" to value, counting lookups.
type subject struct {
	values  map[string]any
	lookups map[string]int
}

func newSubject(values map[string]any) *subject {
	return &subject{values: values, lookups: map[string]int{}}
}

func (s *subject) Lookup(name string, args ...string) (any, bool) {
	s.lookups[name]++
	key := name
	if len(args) > 0 {
		key += "(" + strings.Join(args, ",") + ")"
	}
	v, ok := s.values[key]
	return v, ok
}

func TestCompile_TypeErrors(t *testing.T) {
	t.Parallel()
	s := testSchema(t)
	for _, tt := range []struct {
		in   string
		col  int
		want string
	}{
		{`afinity("beauty") > 0.5`, 1, `unknown function "afinity" at column 1; did you mean "affinity"?`},
		{`price_tier >= 4 and brand_afinity("acme") > 0`, 21, `unknown function "brand_afinity" at column 21; did you mean "brand_affinity"?`},
		{`frobnicate("x")`, 1, `unknown function "frobnicate" at column 1`},
		{`prce_tier > 3`, 1, `unknown trait "prce_tier" at column 1; did you mean "price_tier"?`},
		{`afinity > 0.5`, 1, `unknown trait "afinity" at column 1; did you mean affinity("…")?`},
		{`city = Shanghai`, 8, `unknown trait "Shanghai" at column 8; if you meant the text Shanghai, put it in quotes: "Shanghai"`},
		{`zzz > 1`, 1, `unknown trait "zzz" at column 1`},
		{`affinity > 0.5`, 1, `"affinity" is a function at column 1; call it, as in affinity("…")`},
		{`known`, 1, `"known" is a function at column 1; call it, as in known(…)`},
		{`city("x") = "a"`, 1, `"city" is a trait, not a function at column 1; write city without parentheses`},
		{`affinity() > 0`, 1, `affinity takes 1 argument but got 0 at column 1; as in affinity("…")`},
		{`bought("a") > 0`, 1, `bought takes 2 arguments but got 1 at column 1; as in bought("…", "…")`},
		{`affinity(beauty) > 0`, 10, `arguments of affinity must be literal strings or numbers at column 10; write "beauty"`},
		{`affinity(true) > 0`, 10, `arguments of affinity must be literal strings or numbers at column 10`},
		{`city = 5`, 6, `cannot compare city (string) with 5 (number) at column 6`},
		{`price_tier != "4"`, 12, `cannot compare price_tier (number) with "4" (string) at column 12`},
		{`vip = 1`, 5, `cannot compare vip (bool) with 1 (number) at column 5`},
		{`city > "B"`, 6, `'>' compares numbers, but city is a string at column 6`},
		{`4 <= city`, 3, `'<=' compares numbers, but city is a string at column 3`},
		{`tags = ["a"]`, 6, `'=' cannot compare lists at column 6; use in or contains`},
		{`city in "Shanghai"`, 6, `'in' needs a list on its right, but "Shanghai" is a string at column 6; as in city in ["a", "b"]`},
		{`price_tier in ["4", "5"]`, 12, `cannot look for price_tier (number) in ["4", "5"] (list of strings) at column 12`},
		{`city not in [1]`, 6, `cannot look for city (string) in [1] (list of numbers) at column 6`},
		{`vip in []`, 5, `cannot look for vip (bool) in [] (empty list) at column 5`},
		{`city in [1, "a"]`, 13, `list mixes numbers and strings at column 13; the first element is a number`},
		{`city in ["a", 1]`, 15, `list mixes strings and numbers at column 15; the first element is a string`},
		{`tags contains 1`, 6, `cannot look for 1 (number) in tags (list of strings) at column 6`},
		{`city contains 1`, 6, `cannot look for 1 (number) in city (string) at column 6`},
		{`price_tier contains 1`, 12, `contains needs a string or a list on its left, but price_tier is a number at column 12`},
		{`price_tier and vip`, 1, `'and' needs a condition, but price_tier is a number at column 1`},
		{`vip or city`, 8, `'or' needs a condition, but city is a string at column 8`},
		{`not price_tier`, 5, `'not' needs a condition, but price_tier is a number at column 5`},
		{`price_tier`, 1, `a segment must be a condition, but price_tier is a number at column 1; compare it, as in price_tier > 0`},
		{`city`, 1, `a segment must be a condition, but city is a string at column 1; compare it, as in city = "…"`},
		{`tags`, 1, `a segment must be a condition, but tags is a list of strings at column 1`},
		{`len(city) > 1`, 5, `len needs a list, but city is a string at column 5`},
		{`known(a, b)`, 1, `known takes 1 argument but got 2 at column 1; as in known(city)`},
		{"vip and\n  city > 1", 8, `'>' compares numbers, but city is a string at line 2, column 8`},
		{`city = "上海" and age > "30"`, 21, `'>' compares numbers, but "30" is a string at column 21`},
		{`affinity("a-very-long-category-name-that-goes-on") = "x"`, 52, `cannot compare affinity("a-very-long-category-name-t… (number) with "x" (string) at column 52`},
	} {
		_, err := s.Compile(tt.in)
		var e *segment.Error
		if !errors.As(err, &e) {
			t.Errorf("Compile(%q) = %v, want an *Error", tt.in, err)
			continue
		}
		if e.Column != tt.col || e.Error() != tt.want {
			t.Errorf("Compile(%q):\n got col %d: %s\nwant col %d: %s", tt.in, e.Column, e, tt.col, tt.want)
		}
	}
}

func TestCompile_Refs(t *testing.T) {
	t.Parallel()
	e, err := testSchema(t).Compile(`affinity("beauty") > 0.5 and (price_tier >= 4 or known(city)) and ` +
		`affinity("fragrance") > 0 and "x" in tags and len(scores) > 1 and true`)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"affinity", "city", "price_tier", "scores", "tags"}
	if got := e.Refs(); !slices.Equal(got, want) {
		t.Fatalf("Refs() = %q, want %q", got, want)
	}
}

func TestSchema_Declare(t *testing.T) {
	t.Parallel()
	s := segment.NewSchema()
	for _, tt := range []struct {
		name string
		err  error
	}{
		{"loyalty", s.DeclareTrait("loyalty", segment.Number)},
		{"visited", s.DeclareFunc("visited", 1, segment.Bool)},
		{"overload", s.DeclareFunc("loyalty", 1, segment.Number)},
		{"keyword", s.DeclareTrait("AND", segment.Bool)},
		{"builtin", s.DeclareFunc("len", 1, segment.Number)},
		{"bad name", s.DeclareTrait("2x", segment.Number)},
		{"bad char", s.DeclareTrait("a-b", segment.Number)},
		{"bad type", s.DeclareTrait("t", segment.Type(0))},
		{"params", s.DeclareFunc("f", 9, segment.Number)},
	} {
		if ok := tt.name == "loyalty" || tt.name == "visited" || tt.name == "overload"; ok != (tt.err == nil) {
			t.Errorf("%s: err = %v", tt.name, tt.err)
		}
	}
	if got := s.Traits(); !slices.Equal(got, []string{"loyalty"}) {
		t.Errorf("Traits() = %q", got)
	}
	if got := s.Funcs(); !slices.Equal(got, []string{"loyalty", "visited"}) {
		t.Errorf("Funcs() = %q", got)
	}
	e, err := s.Compile(`loyalty > 2 and visited("s1") and loyalty(7) = 1`)
	if err != nil {
		t.Fatal(err)
	}
	if !e.Match(newSubject(map[string]any{"loyalty": 3, "visited(s1)": true, "loyalty(7)": 1})) {
		t.Error("declared trait and functions do not evaluate")
	}
	if got := e.Refs(); !slices.Equal(got, []string{"loyalty", "visited"}) {
		t.Errorf("Refs() = %q", got)
	}
}
