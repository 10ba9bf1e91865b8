package segment

import (
	"fmt"
	"sort"
	"strconv"
)

// Pos is a position in an expression's source: a 1-based line and a 1-based column counted in
// characters (Unicode code points), so a column points at what the author sees in an editor.
type Pos struct {
	Line   int
	Column int
}

// String renders p as "line:column".
func (p Pos) String() string { return strconv.Itoa(p.Line) + ":" + strconv.Itoa(p.Column) }

// Error is a syntax or type error in a segment expression. Line and Column point at the first
// character of the offending token.
type Error struct {
	Line   int
	Column int
	// Msg says what is wrong ("expected ')' but found end of input").
	Msg string
	// Hint, if not empty, says how to fix it ("did you mean \"affinity\"?").
	Hint string
}

// Error renders e as `MSG at column C[; HINT]`, naming the line too when it is not the first:
// `expected ')' but found end of input at column 17`,
// `unknown function "afinity" at column 1; did you mean "affinity"?`.
func (e *Error) Error() string {
	s := e.Msg + " at column " + strconv.Itoa(e.Column)
	if e.Line > 1 {
		s = e.Msg + " at line " + strconv.Itoa(e.Line) + ", column " + strconv.Itoa(e.Column)
	}
	if e.Hint != "" {
		s += "; " + e.Hint
	}
	return s
}

// Pos returns the position e points at.
func (e *Error) Pos() Pos { return Pos{Line: e.Line, Column: e.Column} }

func errorf(p Pos, format string, args ...any) *Error {
	return &Error{Line: p.Line, Column: p.Column, Msg: fmt.Sprintf(format, args...)}
}

// hint sets e's hint and returns e.
func (e *Error) hint(format string, args ...any) *Error {
	e.Hint = fmt.Sprintf(format, args...)
	return e
}

// suggest returns the candidate closest to name by edit distance, if it is close enough to
// be a likely typo (at most 2 edits, and fewer than half of name's length), else "".
func suggest(name string, candidates []string) string {
	sort.Strings(candidates) // ties go to the first in sorted order, so messages are stable
	best, bestD := "", 3
	for _, c := range candidates {
		if d := editDistance(name, c); d < bestD && 2*d < len(name) {
			best, bestD = c, d
		}
	}
	return best
}

// editDistance is the Damerau–Levenshtein (optimal string alignment) distance between a and b
// in bytes; names are ASCII.
func editDistance(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		return 1 << 30
	}
	var rows [3][65]int
	prev2, prev, cur := &rows[0], &rows[1], &rows[2]
	for j := 0; j <= len(b); j++ {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(b)]
}
