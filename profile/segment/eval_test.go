package segment_test

import (
	"fmt"
	"slices"
	"testing"

	"github.com/qianmian/qianmian/profile/segment"
)

func TestEval_Kleene(t *testing.T) {
	t.Parallel()
	s := segment.NewSchema()
	if err := s.DeclareTrait("p", segment.Bool); err != nil {
		t.Fatal(err)
	}
	if err := s.DeclareTrait("q", segment.Bool); err != nil {
		t.Fatal(err)
	}
	compile := func(src string) *segment.Expr {
		e, err := s.Compile(src)
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	and, or, not := compile(`p and q`), compile(`p or q`), compile(`not p`)
	eq, ne := compile(`p = q`), compile(`p != q`)
	known := compile(`known(p)`)
	// values: true, false, missing (nil)
	vals := []any{true, false, nil}
	T, F, U := segment.True, segment.False, segment.Unknown
	wantAnd := [3][3]segment.Truth{{T, F, U}, {F, F, F}, {U, F, U}}
	wantOr := [3][3]segment.Truth{{T, T, T}, {T, F, U}, {T, U, U}}
	wantEq := [3][3]segment.Truth{{T, F, U}, {F, T, U}, {U, U, U}}
	wantNe := [3][3]segment.Truth{{F, T, U}, {T, F, U}, {U, U, U}}
	wantNot := [3]segment.Truth{F, T, U}
	wantKnown := [3]segment.Truth{T, T, F}
	for i, p := range vals {
		for j, q := range vals {
			m := map[string]any{}
			if p != nil {
				m["p"] = p
			}
			if q != nil {
				m["q"] = q
			}
			sub := newSubject(m)
			for _, c := range []struct {
				name string
				e    *segment.Expr
				want segment.Truth
			}{
				{"and", and, wantAnd[i][j]}, {"or", or, wantOr[i][j]},
				{"=", eq, wantEq[i][j]}, {"!=", ne, wantNe[i][j]},
				{"not", not, wantNot[i]}, {"known", known, wantKnown[i]},
			} {
				if got := c.e.Eval(sub); got != c.want {
					t.Errorf("p=%v q=%v: %s = %v, want %v", p, q, c.name, got, c.want)
				}
				if c.e.Match(sub) != (c.want == segment.True) {
					t.Errorf("p=%v q=%v: %s Match disagrees with Eval", p, q, c.name)
				}
			}
		}
	}
}

func TestEval(t *testing.T) {
	t.Parallel()
	s := testSchema(t)
	shanghai := map[string]any{
		"affinity(beauty)": 0.8, "affinity(sports)": 0.1, "brand_affinity(acme)": 0.3,
		"price_tier": 4, "city": "Shanghai", "gender": "female", "recency_days": float32(2),
		"tags": []string{"urban-white-collar", "new-mom"}, "has_tag(new-mom)": true,
		"has_tag(student)": false, "tag_confidence(new-mom)": 0.9, "vip": true,
		"scores": []float64{1, 2.5}, "bought(beauty,acme)": uint8(3),
	}
	empty := map[string]any{}
	wrongTypes := map[string]any{"price_tier": "4", "city": 7, "tags": []any{"x"}, "vip": "yes"}
	T, F, U := segment.True, segment.False, segment.Unknown
	for _, tt := range []struct {
		src                  string
		full, missing, wrong segment.Truth
	}{
		{`affinity("beauty") > 0.5 and price_tier >= 4 and city in ["Shanghai", "Beijing"]`, T, U, U},
		{`affinity("sports") > 0.5 and price_tier >= 4`, F, U, U},
		{`affinity("sports") > 0.5 or price_tier >= 4`, T, U, U},
		{`affinity("unknown") >= 0`, U, U, U},
		{`price_tier = 4`, T, U, U},
		{`price_tier != 4`, F, U, U},
		{`price_tier < 4 or price_tier > 4`, F, U, U},
		{`price_tier <= 4 and price_tier >= 4`, T, U, U},
		{`recency_days < 7`, T, U, U},
		{`bought("beauty", "acme") = 3`, T, U, U},
		{`city = "Shanghai"`, T, U, U},
		{`city == 'Beijing'`, F, U, U},
		{`city != "Beijing"`, T, U, U},
		{`not city = "Beijing"`, T, U, U},
		{`city = gender`, F, U, U},
		{`city in ["Beijing", "Shenzhen"]`, F, U, U},
		{`city not in ["Beijing", "Shenzhen"]`, T, U, U},
		{`city in []`, F, U, U},
		{`city not in []`, T, U, U},
		{`city in ["a", "b", "c", "d", "e", "f", "g", "h", "Shanghai"]`, T, U, U}, // a set
		{`price_tier in [1, 2, 3, 4]`, T, U, U},
		{`price_tier in [1, 2, 3, 5, 6, 7, 8, 9, 10]`, F, U, U}, // a set
		{`price_tier not in [1, 2]`, T, U, U},
		{`"new-mom" in tags`, T, U, U},
		{`"student" in tags`, F, U, U},
		{`tags contains "urban-white-collar"`, T, U, U},
		{`tags contains "x"`, F, U, U},
		{`2.5 in scores`, T, U, U},
		{`scores contains 3`, F, U, U},
		{`city contains "hang"`, T, U, U},
		{`city contains "x"`, F, U, U},
		{`has_tag("new-mom")`, T, U, U},
		{`has_tag("student")`, F, U, U},
		{`not has_tag("student")`, T, U, U},
		{`tag_confidence("new-mom") > 0.8`, T, U, U},
		{`vip`, T, U, U},
		{`vip = true`, T, U, U},
		{`vip and city = "Shanghai"`, T, U, U},
		{`known(city)`, T, F, F},
		{`not known(city) or city = "Shanghai"`, T, T, T},
		{`known(tags) and len(tags) = 2`, T, F, F},
		{`len(tags) >= 1`, T, U, U},
		{`len([]) = 0 and len(["a"]) = 1`, T, T, T},
		{`true`, T, T, T},
		{`false or not false`, T, T, T},
		{`1 = 1 and "a" != "b"`, T, T, T},
		{`(price_tier > 3) = true`, T, U, U},
	} {
		e, err := s.Compile(tt.src)
		if err != nil {
			t.Errorf("Compile(%q): %v", tt.src, err)
			continue
		}
		for _, c := range []struct {
			name string
			m    map[string]any
			want segment.Truth
		}{{"full", shanghai, tt.full}, {"missing", empty, tt.missing}, {"wrong types", wrongTypes, tt.wrong}} {
			if got := e.Eval(newSubject(c.m)); got != c.want {
				t.Errorf("%s (%s) = %v, want %v", tt.src, c.name, got, c.want)
			}
		}
	}
}

func TestEval_ShortCircuit(t *testing.T) {
	t.Parallel()
	e, err := testSchema(t).Compile(`price_tier > 4 and city = "Shanghai"`)
	if err != nil {
		t.Fatal(err)
	}
	sub := newSubject(map[string]any{"price_tier": 3.0, "city": "Shanghai"})
	if e.Match(sub) {
		t.Fatal("matched")
	}
	if sub.lookups["city"] != 0 {
		t.Fatalf("city was read although the left side was false")
	}
}

// fastSubject answers from typed maps without allocating, as a profile would.
type fastSubject struct {
	traits     map[string]any
	aff        map[string]float64
	numLookups int
}

func (s *fastSubject) Lookup(name string, args ...string) (any, bool) {
	v, ok := s.traits[name]
	return v, ok
}

func (s *fastSubject) LookupNumber(name string, args ...string) (float64, bool) {
	s.numLookups++
	if name == "affinity" && len(args) == 1 {
		v, ok := s.aff[args[0]]
		return v, ok
	}
	v, ok := s.traits[name].(float64)
	return v, ok
}

func TestEval_NumberSubject(t *testing.T) {
	t.Parallel()
	e, err := segment.DefaultSchema().Compile(`affinity("beauty") > 0.5 and price_tier >= 4`)
	if err != nil {
		t.Fatal(err)
	}
	sub := &fastSubject{traits: map[string]any{"price_tier": 4.0}, aff: map[string]float64{"beauty": 0.7}}
	if !e.Match(sub) {
		t.Fatal("no match")
	}
	if sub.numLookups != 2 {
		t.Fatalf("LookupNumber called %d times, want 2", sub.numLookups)
	}
}

func ExampleSchema_Compile() {
	e, err := segment.DefaultSchema().Compile(
		`affinity("beauty") > 0.5 AND price_tier >= 4 and city in ['Shanghai', "Beijing"]`)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(e)
	fmt.Println(e.Refs())
	_, err = segment.DefaultSchema().Compile(`afinity("beauty") > 0.5`)
	fmt.Println(err)
	_, err = segment.DefaultSchema().Compile(`(affinity("beauty") > 0.5 and city = 5`)
	fmt.Println(err)
	// Output:
	// affinity("beauty") > 0.5 and price_tier >= 4 and city in ["Shanghai", "Beijing"]
	// [affinity city price_tier]
	// unknown function "afinity" at column 1; did you mean "affinity"?
	// expected ')' but found end of input at column 39
}

// BenchmarkExpr_Eval evaluates a four-clause expression against a map-backed subject whose
// values are stored boxed, and against a NumberSubject.
func BenchmarkExpr_Eval(b *testing.B) {
	e, err := segment.DefaultSchema().Compile(
		`affinity("beauty") > 0.5 and price_tier >= 4 and city in ["Shanghai", "Beijing"] and not has_tag("churned")`)
	if err != nil {
		b.Fatal(err)
	}
	boxed := boxedSubject{
		"affinity\x00beauty": 0.8, "price_tier": 4.0, "city": "Beijing", "has_tag\x00churned": false,
	}
	b.Run("boxed", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if !e.Match(boxed) {
				b.Fatal("no match")
			}
		}
	})
	fast := &fastSubject{
		traits: map[string]any{"price_tier": 4.0, "city": "Beijing", "has_tag": false},
		aff:    map[string]float64{"beauty": 0.8},
	}
	b.Run("number_subject", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if !e.Match(fast) {
				b.Fatal("no match")
			}
		}
	})
}

// boxedSubject keys host functions by name NUL argument; one-argument functions only.
type boxedSubject map[string]any

func (s boxedSubject) Lookup(name string, args ...string) (any, bool) {
	if len(args) == 1 {
		var buf [64]byte
		k := append(append(append(buf[:0], name...), 0), args[0]...)
		v, ok := s[string(k)] // no allocation: the compiler recognises map[string(bytes)]
		return v, ok
	}
	v, ok := s[name]
	return v, ok
}

func BenchmarkSchema_Compile(b *testing.B) {
	s := segment.DefaultSchema()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Compile(`affinity("beauty") > 0.5 and price_tier >= 4 and city in ["Shanghai", "Beijing"] and not has_tag("churned")`); err != nil {
			b.Fatal(err)
		}
	}
}

func TestEval_DefaultSchemaCallsAndOverloads(t *testing.T) {
	t.Parallel()
	e, err := segment.DefaultSchema().Compile(
		`price_tier >= 4 and price_tier("beauty") >= 3 and hour_share(9, 12.5) > 0.2 and tag("new-mom")`)
	if err != nil {
		t.Fatal(err)
	}
	sub := newSubject(map[string]any{
		"price_tier": 4.0, "price_tier(beauty)": 3.0, "hour_share(9,12.5)": 0.3, "tag(new-mom)": true,
	})
	if got := e.Eval(sub); got != segment.True {
		t.Fatalf("Eval = %v, want true (lookups %v)", got, sub.lookups)
	}
	if got, want := e.Refs(), []string{"hour_share", "price_tier", "tag"}; !slices.Equal(got, want) {
		t.Fatalf("Refs() = %q, want %q", got, want)
	}
}
