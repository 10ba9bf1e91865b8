package segment

import (
	"fmt"
	"strings"
)

// binary compiles logical operators and comparisons.
func (c *compiler) binary(n *Binary) value {
	switch n.Op {
	case OpAnd, OpOr:
		x := c.operand(n.X, n.Op)
		y := c.operand(n.Y, n.Op)
		if n.Op == OpAnd {
			return value{t: Bool, n: n, cond: and(x.cond, y.cond)}
		}
		return value{t: Bool, n: n, cond: or(x.cond, y.cond)}
	}
	x := c.compile(n.X)
	c.textHint = n.Op == OpEq || n.Op == OpNe || n.Op == OpContains
	y := c.compile(n.Y)
	c.textHint = false
	v := value{t: Bool, n: n}
	switch n.Op {
	case OpEq, OpNe:
		v.cond = c.equal(n, x, y)
	case OpLt, OpLe, OpGt, OpGe:
		if x.t != Number || y.t != Number {
			bad := x
			if x.t == Number {
				bad = y
			}
			panic(errorf(n.OpPos, "%s compares numbers, but %s is a %v", quoteOp(n.Op), describe(bad.n), bad.t))
		}
		v.cond = compareNumbers(n.Op, x, y)
	case OpIn, OpNotIn:
		if !y.t.isList() {
			panic(errorf(n.OpPos, "%s needs a list on its right, but %s is a %v", quoteOp(n.Op), describe(n.Y), y.t).
				hint(`as in %s %s ["a", "b"]`, describe(n.X), n.Op))
		}
		v.cond = c.in(n, x, y)
		if n.Op == OpNotIn {
			v.cond = not(v.cond)
		}
	case OpContains:
		v.cond = c.contains(n, x, y)
	}
	return v
}

// quoteOp renders an operator for a message: 'and', '>='.
func quoteOp(o fmt.Stringer) string { return "'" + o.String() + "'" }

func not(x func(Subject) Truth) func(Subject) Truth {
	return func(s Subject) Truth {
		switch x(s) {
		case True:
			return False
		case False:
			return True
		}
		return Unknown
	}
}

// and is Kleene conjunction: false wins over Unknown, so y is not evaluated when x is false.
func and(x, y func(Subject) Truth) func(Subject) Truth {
	return func(s Subject) Truth {
		a := x(s)
		if a == False {
			return False
		}
		b := y(s)
		if b == False {
			return False
		}
		if a == True && b == True {
			return True
		}
		return Unknown
	}
}

// or is Kleene disjunction: true wins over Unknown, so y is not evaluated when x is true.
func or(x, y func(Subject) Truth) func(Subject) Truth {
	return func(s Subject) Truth {
		a := x(s)
		if a == True {
			return True
		}
		b := y(s)
		if b == True {
			return True
		}
		if a == False && b == False {
			return False
		}
		return Unknown
	}
}

// equal compiles = and != between two values of one scalar type.
func (c *compiler) equal(n *Binary, x, y value) func(Subject) Truth {
	if x.t.isList() || y.t.isList() {
		panic(errorf(n.OpPos, "%s cannot compare lists", quoteOp(n.Op)).hint("use in or contains"))
	}
	if x.t != y.t {
		panic(errorf(n.OpPos, "cannot compare %s (%v) with %s (%v)", describe(n.X), x.t, describe(n.Y), y.t))
	}
	ne := n.Op == OpNe
	switch x.t {
	case Number:
		op := OpEq
		if ne {
			op = OpNe
		}
		return compareNumbers(op, x, y)
	case String:
		if k, ok := n.Y.(*StringLit); ok {
			k := k.Value
			return func(s Subject) Truth {
				a, ok := x.str(s)
				if !ok {
					return Unknown
				}
				return truth((a == k) != ne)
			}
		}
		return func(s Subject) Truth {
			a, ok := x.str(s)
			if !ok {
				return Unknown
			}
			b, ok := y.str(s)
			if !ok {
				return Unknown
			}
			return truth((a == b) != ne)
		}
	}
	return func(s Subject) Truth { // Bool
		a := x.cond(s)
		if a == Unknown {
			return Unknown
		}
		b := y.cond(s)
		if b == Unknown {
			return Unknown
		}
		return truth((a == b) != ne)
	}
}

func compareNumbers(op Op, x, y value) func(Subject) Truth {
	if k, ok := y.n.(*NumberLit); ok {
		k := k.Value
		return func(s Subject) Truth {
			a, ok := x.num(s)
			if !ok {
				return Unknown
			}
			return truth(cmp(op, a, k))
		}
	}
	return func(s Subject) Truth {
		a, ok := x.num(s)
		if !ok {
			return Unknown
		}
		b, ok := y.num(s)
		if !ok {
			return Unknown
		}
		return truth(cmp(op, a, b))
	}
}

func cmp(op Op, a, b float64) bool {
	switch op {
	case OpEq:
		return a == b
	case OpNe:
		return a != b
	case OpLt:
		return a < b
	case OpLe:
		return a <= b
	case OpGt:
		return a > b
	}
	return a >= b
}

// setThreshold is the list length from which a literal list is looked up in a map rather than
// scanned.
const setThreshold = 8

// in compiles elem in list, where n names the operands for messages and list is a list type.
func (c *compiler) in(n *Binary, elem, list value) func(Subject) Truth {
	elemNode, listNode := n.X, n.Y
	if n.Op == OpContains {
		elemNode, listNode = n.Y, n.X
	}
	if elem.t != Number && elem.t != String || list.t != emptyList && list.t.elem() != elem.t {
		panic(errorf(n.OpPos, "cannot look for %s (%v) in %s (%v)", describe(elemNode), elem.t, describe(listNode), list.t))
	}
	if elem.t == String {
		return inStrings(elem, list, listNode)
	}
	return inNumbers(elem, list, listNode)
}

func inStrings(elem, list value, listNode Node) func(Subject) Truth {
	var lit []string
	if l, ok := listNode.(*ListLit); ok && len(l.Elems) >= setThreshold {
		for _, e := range l.Elems {
			lit = append(lit, e.(*StringLit).Value)
		}
	}
	return inList(elem.str, list.strs, lit)
}

func inNumbers(elem, list value, listNode Node) func(Subject) Truth {
	var lit []float64
	if l, ok := listNode.(*ListLit); ok && len(l.Elems) >= setThreshold {
		for _, e := range l.Elems {
			lit = append(lit, e.(*NumberLit).Value)
		}
	}
	return inList(elem.num, list.nums, lit)
}

// inList compiles membership of get's value in list's; a literal list long enough to be
// worth it (lit, at least setThreshold elements) becomes a set looked up once.
func inList[T comparable](get func(Subject) (T, bool), list func(Subject) ([]T, bool), lit []T) func(Subject) Truth {
	if lit != nil {
		set := make(map[T]struct{}, len(lit))
		for _, v := range lit {
			set[v] = struct{}{}
		}
		return func(s Subject) Truth {
			a, ok := get(s)
			if !ok {
				return Unknown
			}
			_, in := set[a]
			return truth(in)
		}
	}
	return func(s Subject) Truth {
		a, ok := get(s)
		if !ok {
			return Unknown
		}
		l, ok := list(s)
		if !ok {
			return Unknown
		}
		for _, b := range l {
			if a == b {
				return True
			}
		}
		return False
	}
}

// contains compiles x contains y: a substring test on strings, or list membership.
func (c *compiler) contains(n *Binary, x, y value) func(Subject) Truth {
	switch {
	case x.t == String && y.t == String:
		return func(s Subject) Truth {
			a, ok := x.str(s)
			if !ok {
				return Unknown
			}
			b, ok := y.str(s)
			if !ok {
				return Unknown
			}
			return truth(strings.Contains(a, b))
		}
	case x.t.isList():
		return c.in(n, y, x)
	case x.t == String:
		panic(errorf(n.OpPos, "cannot look for %s (%v) in %s (%v)", describe(n.Y), y.t, describe(n.X), x.t))
	}
	panic(errorf(n.OpPos, "contains needs a string or a list on its left, but %s is a %v", describe(n.X), x.t))
}
