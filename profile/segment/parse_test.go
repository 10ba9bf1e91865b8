package segment_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/qianmian/qianmian/profile/segment"
)

// sexpr renders a tree with every construct parenthesised, so tests can see its shape.
func sexpr(n segment.Node) string {
	switch n := n.(type) {
	case *segment.Binary:
		return "(" + n.Op.String() + " " + sexpr(n.X) + " " + sexpr(n.Y) + ")"
	case *segment.Not:
		return "(not " + sexpr(n.X) + ")"
	case *segment.Call:
		parts := []string{n.Name}
		for _, a := range n.Args {
			parts = append(parts, sexpr(a))
		}
		return "(call " + strings.Join(parts, " ") + ")"
	}
	return n.String()
}

func TestParse_Canonical(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ in, want string }{
		{`affinity("beauty") > 0.5 and price_tier >= 4 and city in ["Shanghai", "Beijing"]`,
			`affinity("beauty") > 0.5 and price_tier >= 4 and city in ["Shanghai", "Beijing"]`},
		{`a==1`, `a = 1`},
		{`a = 1`, `a = 1`},
		{"a\t!=\n1", `a != 1`},
		{`A AND b Or NOT c`, `A and b or not c`},
		{`x = TRUE or y = False`, `x = true or y = false`},
		{`(a or b) and c`, `(a or b) and c`},
		{`a or (b and c)`, `a or b and c`},
		{`((a))`, `a`},
		{`a and (b and c)`, `a and (b and c)`},
		{`(a and b) and c`, `a and b and c`},
		{`not (a and b)`, `not (a and b)`},
		{`not not a`, `not not a`},
		{`not (x = 1)`, `not x = 1`},
		{`(not a) and b`, `not a and b`},
		{`(a = 1) = true`, `(a = 1) = true`},
		{`x not in [1,2,3]`, `x not in [1, 2, 3]`},
		{`x NOT  IN []`, `x not in []`},
		{`tags contains 'urban'`, `tags contains "urban"`},
		{`city = 'it\'s'`, `city = "it's"`},
		{`s = "a\"b\\c\/d\n\t\r\b\f"`, `s = "a\"b\\c/d\n\t\r\u0008\u000c"`},
		{`s = "\u4e0a\u6d77"`, `s = "上海"`},
		{`s = "\ud83d\ude00"`, `s = "😀"`},
		{`s = "上海"`, `s = "上海"`},
		{`s = "\u0000"`, `s = "\u0000"`},
		{`n = 007`, `n = 7`},
		{`n = .5`, `n = 0.5`},
		{`n = -0.25`, `n = -0.25`},
		{`n>-1`, `n > -1`},
		{`n = 1e3`, `n = 1000`},
		{`n = 1E-7`, `n = 1e-07`},
		{`n = 1e21`, `n = 1e+21`},
		{`n = 123456789012345678`, `n = 123456789012345680`},
		{`f()`, `f()`},
		{`f(a, "b", 1, [1])`, `f(a, "b", 1, [1])`},
		{`known(city) or len(tags) > 2`, `known(city) or len(tags) > 2`},
		{`f(a or b)`, `f(a or b)`},
		{"a\n  and\n  b", `a and b`},
	} {
		n, err := segment.Parse(tt.in)
		if err != nil {
			t.Errorf("Parse(%q): %v", tt.in, err)
			continue
		}
		if got := n.String(); got != tt.want {
			t.Errorf("Parse(%q).String() = %q, want %q", tt.in, got, tt.want)
			continue
		}
		again, err := segment.Parse(tt.want)
		if err != nil {
			t.Errorf("Parse(%q) (canonical): %v", tt.want, err)
			continue
		}
		if sexpr(again) != sexpr(n) {
			t.Errorf("canonical %q parses to %s, the source to %s", tt.want, sexpr(again), sexpr(n))
		}
	}
}

func TestParse_Precedence(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ in, want string }{
		{`a or b and c`, `(or a (and b c))`},
		{`a and b or c`, `(or (and a b) c)`},
		{`a or b or c`, `(or (or a b) c)`},
		{`a and b and c`, `(and (and a b) c)`},
		{`not a and b`, `(and (not a) b)`},
		{`not a or b and not c`, `(or (not a) (and b (not c)))`},
		{`not x = 1`, `(not (= x 1))`},
		{`not not x in [1]`, `(not (not (in x [1])))`},
		{`x = 1 and y != "a" or z < 2`, `(or (and (= x 1) (!= y "a")) (< z 2))`},
		{`x not in ["a"] and tags contains "b"`, `(and (not in x ["a"]) (contains tags "b"))`},
		{`(a or b) and c`, `(and (or a b) c)`},
		{`affinity("beauty") >= 0.5`, `(>= (call affinity "beauty") 0.5)`},
	} {
		n, err := segment.Parse(tt.in)
		if err != nil {
			t.Errorf("Parse(%q): %v", tt.in, err)
			continue
		}
		if got := sexpr(n); got != tt.want {
			t.Errorf("Parse(%q) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

func TestParse_Errors(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		in        string
		line, col int
		want      string // the whole Error()
	}{
		{``, 1, 1, `empty expression at column 1`},
		{`   `, 1, 4, `empty expression at column 4`},
		{`(affinity("beauty") > 0.5`, 1, 26, `expected ')' but found end of input at column 26`},
		{`(a > 1 b`, 1, 8, `expected ')' but found 'b' at column 8`},
		{`a > 1)`, 1, 6, `unexpected ')' at column 6; no '(' is open`},
		{`a > 1 b = 2`, 1, 7, `unexpected 'b' at column 7; join conditions with 'and' or 'or'`},
		{`a < b < c`, 1, 7, `comparisons cannot be chained at column 7; join them with 'and'`},
		{`a = 1 = 2`, 1, 7, `comparisons cannot be chained at column 7; join them with 'and'`},
		{`a and`, 1, 6, `expected a value but found end of input at column 6`},
		{`and a`, 1, 1, `expected a value but found 'and' at column 1`},
		{`a = not b`, 1, 5, `expected a value but found 'not' at column 5`},
		{`a not b`, 1, 7, `expected 'in' after 'not' but found 'b' at column 7`},
		{`a && b`, 1, 3, `unexpected '&&' at column 3; write 'and'`},
		{`a || b`, 1, 3, `unexpected '||' at column 3; write 'or'`},
		{`!a`, 1, 1, `unexpected '!' at column 1; write 'not'`},
		{`a = 1 # c`, 1, 7, `unexpected character '#' at column 7`},
		{`city = 上海`, 1, 8, `unexpected character '上' at column 8; put text in double quotes`},
		{`s = "上海" and t = 上`, 1, 18, `unexpected character '上' at column 18; put text in double quotes`},
		{`city = "Shanghai`, 1, 8, `unterminated string at column 8; close it with "`},
		{`city = 'Shanghai"`, 1, 8, `unterminated string at column 8; close it with '`},
		{"city = \"a\nb\"", 1, 8, `unterminated string at column 8; close it with "`},
		{`s = "a\qb"`, 1, 7, `unknown escape sequence \q at column 7; use \" \' \\ \/ \b \f \n \r \t or \uXXXX`},
		{`s = "\u12"`, 1, 6, `invalid \u escape at column 6; write \u and four hex digits`},
		{`s = "\ud83d"`, 1, 6, `unpaired surrogate in \u escape at column 6`},
		{`s = "\ude00"`, 1, 6, `unpaired surrogate in \u escape at column 6`},
		{"s = \"a\xffb\"", 1, 7, `invalid UTF-8 in string at column 7`},
		{`n = 1.2.3`, 1, 5, `invalid number "1.2.3" at column 5`},
		{`n = 4abc`, 1, 5, `invalid number "4abc" at column 5`},
		{`n = 1e999`, 1, 5, `number 1e999 is out of range at column 5`},
		{`n = -`, 1, 5, `unexpected character '-' at column 5`},
		{`x in [1, city]`, 1, 10, `expected a number or a string but found 'city' at column 10; lists hold only literal numbers or strings`},
		{`x in [1 2]`, 1, 9, `expected ',' or ']' but found '2' at column 9`},
		{`x in [1,]`, 1, 9, `expected a number or a string but found ']' at column 9; lists hold only literal numbers or strings`},
		{`f(1 2)`, 1, 5, `expected ',' or ')' but found '2' at column 5`},
		{`f(`, 1, 3, `expected a value but found end of input at column 3`},
		{"a = 1 and\n  (b = 2", 2, 9, `expected ')' but found end of input at line 2, column 9`},
		{"a = 1\nor\n b ==", 3, 6, `expected a value but found end of input at line 3, column 6`},
		{strings.Repeat("(", 101) + "a" + strings.Repeat(")", 101), 1, 101, `expression is nested too deeply (more than 100 levels) at column 101`},
		{strings.Repeat("not ", 101) + "a", 1, 401, `expression is nested too deeply (more than 100 levels) at column 401`},
		{strings.Repeat(" ", 64<<10+1), 1, 1, `expression is too long (65537 bytes; the limit is 65536) at column 1`},
	} {
		_, err := segment.Parse(tt.in)
		var e *segment.Error
		if !errors.As(err, &e) {
			t.Errorf("Parse(%q) = %v, want an *Error", tt.in, err)
			continue
		}
		if e.Line != tt.line || e.Column != tt.col || e.Error() != tt.want {
			t.Errorf("Parse(%q):\n got %d:%d %s\nwant %d:%d %s", tt.in, e.Line, e.Column, e, tt.line, tt.col, tt.want)
		}
	}
}

func TestParse_Deep(t *testing.T) {
	t.Parallel()
	src := strings.Repeat("(", 100) + "a" + strings.Repeat(")", 100)
	if _, err := segment.Parse(src); err != nil {
		t.Fatalf("100 levels: %v", err)
	}
	long := "a = 1" + strings.Repeat(" or a = 1", 5000) // long but flat
	n, err := segment.Parse(long)
	if err != nil {
		t.Fatal(err)
	}
	if n.String() != long {
		t.Fatal("long expression does not render back")
	}
}

// FuzzParse checks that the parser never panics and that the canonical form of anything it
// accepts parses again to the same canonical form and the same tree.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		`affinity("beauty") > 0.5 and price_tier >= 4 and city in ["Shanghai", "Beijing"]`,
		`not (a or b) and c`, `x not in [1, -2.5e-3]`, `s = "\u4e0a\n\"" or t contains 'x'`,
		`(a = 1) = true`, `known(city) or len(tags) >= 2`, `n = 1e21 or m = -0`, `a < b < c`, `((`,
		`"\ud83d\ude00"`, `f(g(h()))`, "a\n\tand b",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		n, err := segment.Parse(src)
		if err != nil {
			var e *segment.Error
			if !errors.As(err, &e) || e.Line < 1 || e.Column < 1 {
				t.Fatalf("Parse(%q): bad error %#v", src, err)
			}
			return
		}
		canon := n.String()
		again, err := segment.Parse(canon)
		if err != nil {
			t.Fatalf("Parse(%q) canonical %q: %v", src, canon, err)
		}
		if got := again.String(); got != canon {
			t.Fatalf("canonical of %q: %q, then %q", src, canon, got)
		}
		if sexpr(again) != sexpr(n) {
			t.Fatalf("tree of %q: %s, then %s", src, sexpr(n), sexpr(again))
		}
		// Compiling must not panic either, whatever the names and types.
		_, _ = segment.DefaultSchema().Compile(src)
	})
}
