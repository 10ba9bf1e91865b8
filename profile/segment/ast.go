package segment

import (
	"math"
	"strconv"
	"strings"
)

// Node is a node of a parsed expression. String renders the node in canonical form: keywords
// in lower case, = for equality, strings in double quotes, single spaces around operators and
// parentheses only where precedence needs them. Parsing a canonical form gives a tree that
// renders the same.
type Node interface {
	// Pos is the position of the node's first character.
	Pos() Pos
	String() string
	node()
}

// Op is a binary operator.
type Op uint8

// The binary operators, loosest first.
const (
	OpOr Op = iota + 1
	OpAnd
	OpEq
	OpNe
	OpLt
	OpLe
	OpGt
	OpGe
	OpIn
	OpNotIn
	OpContains
)

var opText = [...]string{
	OpOr: "or", OpAnd: "and", OpEq: "=", OpNe: "!=", OpLt: "<", OpLe: "<=", OpGt: ">",
	OpGe: ">=", OpIn: "in", OpNotIn: "not in", OpContains: "contains",
}

// String returns the operator's canonical spelling.
func (o Op) String() string {
	if int(o) < len(opText) && opText[o] != "" {
		return opText[o]
	}
	return "Op(" + strconv.Itoa(int(o)) + ")"
}

// Precedence levels, loosest first.
const (
	precOr = iota + 1
	precAnd
	precNot
	precCompare
	precOperand
)

func (o Op) prec() int {
	switch o {
	case OpOr:
		return precOr
	case OpAnd:
		return precAnd
	}
	return precCompare
}

// Ident is a trait name, such as price_tier.
type Ident struct {
	NamePos Pos
	Name    string
}

// NumberLit is a number literal.
type NumberLit struct {
	ValuePos Pos
	Value    float64
}

// StringLit is a string literal; Value is decoded.
type StringLit struct {
	ValuePos Pos
	Value    string
}

// BoolLit is true or false.
type BoolLit struct {
	ValuePos Pos
	Value    bool
}

// ListLit is a list literal, [x, y, …]; each element is a *NumberLit or a *StringLit.
type ListLit struct {
	Lbrack Pos
	Elems  []Node
}

// Call is a function call, such as affinity("beauty").
type Call struct {
	NamePos Pos
	Name    string
	Args    []Node
}

// Not is not X.
type Not struct {
	NotPos Pos
	X      Node
}

// Binary is X Op Y: a logical operator or a comparison.
type Binary struct {
	Op    Op
	OpPos Pos
	X, Y  Node
}

func (n *Ident) Pos() Pos     { return n.NamePos }
func (n *NumberLit) Pos() Pos { return n.ValuePos }
func (n *StringLit) Pos() Pos { return n.ValuePos }
func (n *BoolLit) Pos() Pos   { return n.ValuePos }
func (n *ListLit) Pos() Pos   { return n.Lbrack }
func (n *Call) Pos() Pos      { return n.NamePos }
func (n *Not) Pos() Pos       { return n.NotPos }
func (n *Binary) Pos() Pos    { return n.X.Pos() }

func (*Ident) node()     {}
func (*NumberLit) node() {}
func (*StringLit) node() {}
func (*BoolLit) node()   {}
func (*ListLit) node()   {}
func (*Call) node()      {}
func (*Not) node()       {}
func (*Binary) node()    {}

func (n *Ident) String() string     { return render(n) }
func (n *NumberLit) String() string { return render(n) }
func (n *StringLit) String() string { return render(n) }
func (n *BoolLit) String() string   { return render(n) }
func (n *ListLit) String() string   { return render(n) }
func (n *Call) String() string      { return render(n) }
func (n *Not) String() string       { return render(n) }
func (n *Binary) String() string    { return render(n) }

func render(n Node) string {
	var b strings.Builder
	write(&b, n, 0)
	return b.String()
}

// prec is the binding strength of n's outermost construct.
func prec(n Node) int {
	switch n := n.(type) {
	case *Binary:
		return n.Op.prec()
	case *Not:
		return precNot
	}
	return precOperand
}

// write renders n into b, in parentheses if it binds looser than ctx.
func write(b *strings.Builder, n Node, ctx int) {
	if prec(n) < ctx {
		b.WriteByte('(')
		write(b, n, 0)
		b.WriteByte(')')
		return
	}
	switch n := n.(type) {
	case *Ident:
		b.WriteString(n.Name)
	case *NumberLit:
		b.WriteString(formatNumber(n.Value))
	case *StringLit:
		b.WriteString(quote(n.Value))
	case *BoolLit:
		b.WriteString(strconv.FormatBool(n.Value))
	case *ListLit:
		b.WriteByte('[')
		for i, e := range n.Elems {
			if i > 0 {
				b.WriteString(", ")
			}
			write(b, e, 0)
		}
		b.WriteByte(']')
	case *Call:
		b.WriteString(n.Name)
		b.WriteByte('(')
		for i, a := range n.Args {
			if i > 0 {
				b.WriteString(", ")
			}
			write(b, a, 0)
		}
		b.WriteByte(')')
	case *Not:
		b.WriteString("not ")
		write(b, n.X, precNot)
	case *Binary:
		p := n.Op.prec()
		left := p
		if p == precCompare { // comparisons do not chain
			left = precOperand
		}
		write(b, n.X, left)
		b.WriteByte(' ')
		b.WriteString(n.Op.String())
		b.WriteByte(' ')
		write(b, n.Y, p+1)
	}
}

// formatNumber renders v as the shortest literal that reads back as v, in plain decimal
// notation unless v is very large or very small.
func formatNumber(v float64) string {
	if a := math.Abs(v); a == 0 || a >= 1e-6 && a < 1e21 {
		return strconv.FormatFloat(v, 'f', -1, 64)
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}

// Walk calls fn for n and every node below it, parents before children, left to right.
func Walk(n Node, fn func(Node)) {
	fn(n)
	switch n := n.(type) {
	case *ListLit:
		for _, e := range n.Elems {
			Walk(e, fn)
		}
	case *Call:
		for _, a := range n.Args {
			Walk(a, fn)
		}
	case *Not:
		Walk(n.X, fn)
	case *Binary:
		Walk(n.X, fn)
		Walk(n.Y, fn)
	}
}
