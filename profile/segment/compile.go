package segment

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Expr is a compiled segment expression. It is immutable and safe for concurrent use.
type Expr struct {
	root  Node
	canon string
	refs  []string
	cond  func(Subject) Truth
}

// String returns the expression in canonical form (see Node).
func (e *Expr) String() string { return e.canon }

// Node returns the syntax tree. Callers must not change it.
func (e *Expr) Node() Node { return e.root }

// Refs returns the sorted names of the traits and host functions the expression reads: the
// names whose change can change its result.
func (e *Expr) Refs() []string { return slices.Clone(e.refs) }

// Eval evaluates the expression for s under three-valued logic.
func (e *Expr) Eval(s Subject) Truth { return e.cond(s) }

// Match reports whether s is a member: whether the expression is True for s (not False, not
// Unknown).
func (e *Expr) Match(s Subject) bool { return e.cond(s) == True }

// Compile parses src, checks its names and types against s and compiles it. A syntax or type
// error is an *Error pointing at the offending token.
func (s *Schema) Compile(src string) (*Expr, error) {
	root, err := Parse(src)
	if err != nil {
		return nil, err
	}
	return s.compileNode(root)
}

func (s *Schema) compileNode(root Node) (e *Expr, err error) {
	c := &compiler{s: s, refs: map[string]bool{}}
	defer func() {
		if r := recover(); r != nil {
			ce, ok := r.(*Error)
			if !ok {
				panic(r)
			}
			e, err = nil, ce
		}
	}()
	v := c.compile(root)
	if v.t != Bool {
		te := errorf(root.Pos(), "a segment must be a condition, but %s is a %v", describe(root), v.t)
		switch v.t {
		case Number:
			te.hint("compare it, as in %s > 0", describe(root))
		case String:
			te.hint(`compare it, as in %s = "…"`, describe(root))
		}
		panic(te)
	}
	refs := make([]string, 0, len(c.refs))
	for name := range c.refs {
		refs = append(refs, name)
	}
	slices.Sort(refs)
	return &Expr{root: root, canon: root.String(), refs: refs, cond: v.cond}, nil
}

// notOp names the not operator in messages, as Op names the binary ones.
type notOp struct{}

func (notOp) String() string { return "not" }

// value is a compiled, type-checked expression: exactly the function of its type is set.
type value struct {
	t    Type
	n    Node
	num  func(Subject) (float64, bool)
	str  func(Subject) (string, bool)
	cond func(Subject) Truth // Unknown when missing
	strs func(Subject) ([]string, bool)
	nums func(Subject) ([]float64, bool)
}

// compiler type-checks and compiles a tree; an error panics with an *Error.
type compiler struct {
	s        *Schema
	refs     map[string]bool
	textHint bool // the ident being compiled stands where a string literal would fit
}

func (c *compiler) compile(n Node) value {
	switch n := n.(type) {
	case *NumberLit:
		k := n.Value
		return value{t: Number, n: n, num: func(Subject) (float64, bool) { return k, true }}
	case *StringLit:
		k := n.Value
		return value{t: String, n: n, str: func(Subject) (string, bool) { return k, true }}
	case *BoolLit:
		k := truth(n.Value)
		return value{t: Bool, n: n, cond: func(Subject) Truth { return k }}
	case *ListLit:
		return c.list(n)
	case *Ident:
		return c.ident(n)
	case *Call:
		return c.call(n)
	case *Not:
		x := c.operand(n.X, notOp{})
		return value{t: Bool, n: n, cond: not(x.cond)}
	case *Binary:
		return c.binary(n)
	}
	panic(errorf(n.Pos(), "unexpected %T", n))
}

// operand compiles n, which must be a condition for op.
func (c *compiler) operand(n Node, op fmt.Stringer) value {
	v := c.compile(n)
	if v.t != Bool {
		panic(errorf(n.Pos(), "%s needs a condition, but %s is a %v", quoteOp(op), describe(n), v.t))
	}
	return v
}

func (c *compiler) list(n *ListLit) value {
	if len(n.Elems) == 0 {
		return value{t: emptyList, n: n,
			strs: func(Subject) ([]string, bool) { return nil, true },
			nums: func(Subject) ([]float64, bool) { return nil, true }}
	}
	if _, ok := n.Elems[0].(*NumberLit); ok {
		k := make([]float64, len(n.Elems))
		for i, e := range n.Elems {
			x, ok := e.(*NumberLit)
			if !ok {
				panic(errorf(e.Pos(), "list mixes numbers and strings").hint("the first element is a number"))
			}
			k[i] = x.Value
		}
		return value{t: Numbers, n: n, nums: func(Subject) ([]float64, bool) { return k, true }}
	}
	k := make([]string, len(n.Elems))
	for i, e := range n.Elems {
		x, ok := e.(*StringLit)
		if !ok {
			panic(errorf(e.Pos(), "list mixes strings and numbers").hint("the first element is a string"))
		}
		k[i] = x.Value
	}
	return value{t: Strings, n: n, strs: func(Subject) ([]string, bool) { return k, true }}
}

func (c *compiler) ident(n *Ident) value {
	t, ok := c.s.traits[n.Name]
	if ok {
		c.refs[n.Name] = true
		return lookup(n, n.Name, nil, t)
	}
	if f, ok := c.s.funcs[n.Name]; ok {
		panic(errorf(n.NamePos, "%q is a function", n.Name).hint("call it, as in %s", callExample(n.Name, f.Params)))
	}
	if builtins[n.Name] {
		panic(errorf(n.NamePos, "%q is a function", n.Name).hint("call it, as in %s(…)", n.Name))
	}
	e := errorf(n.NamePos, "unknown trait %q", n.Name)
	switch {
	case suggest(n.Name, c.s.Traits()) != "":
		e.hint("did you mean %q?", suggest(n.Name, c.s.Traits()))
	case suggest(n.Name, c.s.Funcs()) != "":
		f := suggest(n.Name, c.s.Funcs())
		e.hint("did you mean %s?", callExample(f, c.s.funcs[f].Params))
	case c.textHint:
		e.hint("if you meant the text %s, put it in quotes: %s", n.Name, quote(n.Name))
	}
	panic(e)
}

func callExample(name string, params int) string {
	return name + "(" + strings.TrimSuffix(strings.Repeat(`"…", `, params), ", ") + ")"
}

// lookup compiles a read of a trait or host function of type t.
func lookup(n Node, name string, args []string, t Type) value {
	v := value{t: t, n: n}
	switch t {
	case Number:
		v.num = lookupNumber(name, args)
	case String:
		v.str = lookupString(name, args)
	case Bool:
		v.cond = lookupBool(name, args)
	case Strings:
		v.strs = lookupStrings(name, args)
	case Numbers:
		v.nums = lookupNumbers(name, args)
	}
	return v
}

func (c *compiler) call(n *Call) value {
	c.textHint = false
	switch n.Name {
	case "known":
		return c.known(n)
	case "len":
		return c.len(n)
	}
	f, ok := c.s.funcs[n.Name]
	if !ok {
		if _, ok := c.s.traits[n.Name]; ok {
			panic(errorf(n.NamePos, "%q is a trait, not a function", n.Name).hint("write %s without parentheses", n.Name))
		}
		e := errorf(n.NamePos, "unknown function %q", n.Name)
		if s := suggest(n.Name, append(c.s.Funcs(), "known", "len")); s != "" {
			e.hint("did you mean %q?", s)
		}
		panic(e)
	}
	if len(n.Args) != f.Params {
		panic(errorf(n.NamePos, "%s takes %s but got %d", n.Name, plural(f.Params, "argument"), len(n.Args)).
			hint("as in %s", callExample(n.Name, f.Params)))
	}
	args := make([]string, len(n.Args))
	for i, a := range n.Args {
		switch a := a.(type) {
		case *StringLit:
			args[i] = a.Value
		case *NumberLit:
			args[i] = formatNumber(a.Value) // hour_share(9, 12) reads as hour_share("9", "12")
		default:
			e := errorf(a.Pos(), "arguments of %s must be literal strings or numbers", n.Name)
			if id, ok := a.(*Ident); ok {
				e.hint("write %s", quote(id.Name))
			}
			panic(e)
		}
	}
	c.refs[n.Name] = true
	return lookup(n, n.Name, args, f.Result)
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return strconv.Itoa(n) + " " + noun + "s"
}

// known compiles known(x): whether x has a value.
func (c *compiler) known(n *Call) value {
	if len(n.Args) != 1 {
		panic(errorf(n.NamePos, "known takes 1 argument but got %d", len(n.Args)).hint("as in known(city)"))
	}
	x := c.compile(n.Args[0])
	var f func(Subject) bool
	switch x.t {
	case Number:
		f = func(s Subject) bool { _, ok := x.num(s); return ok }
	case String:
		f = func(s Subject) bool { _, ok := x.str(s); return ok }
	case Bool:
		f = func(s Subject) bool { return x.cond(s) != Unknown }
	case Strings:
		f = func(s Subject) bool { _, ok := x.strs(s); return ok }
	default: // Numbers, emptyList
		f = func(s Subject) bool { _, ok := x.nums(s); return ok }
	}
	return value{t: Bool, n: n, cond: func(s Subject) Truth { return truth(f(s)) }}
}

// len compiles len(x) of a list.
func (c *compiler) len(n *Call) value {
	if len(n.Args) != 1 {
		panic(errorf(n.NamePos, "len takes 1 argument but got %d", len(n.Args)).hint("as in len(tags)"))
	}
	x := c.compile(n.Args[0])
	v := value{t: Number, n: n}
	switch x.t {
	case Strings:
		v.num = func(s Subject) (float64, bool) { l, ok := x.strs(s); return float64(len(l)), ok }
	case Numbers, emptyList:
		v.num = func(s Subject) (float64, bool) { l, ok := x.nums(s); return float64(len(l)), ok }
	default:
		panic(errorf(n.Args[0].Pos(), "len needs a list, but %s is a %v", describe(n.Args[0]), x.t))
	}
	return v
}

// describe renders n for a message, shortened if long.
func describe(n Node) string {
	s := n.String()
	if utf8.RuneCountInString(s) > 40 {
		r := []rune(s)
		s = string(r[:37]) + "…"
	}
	return s
}
