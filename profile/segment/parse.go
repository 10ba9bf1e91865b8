package segment

// maxDepth bounds the nesting of parentheses, not, calls and lists, so a hostile expression
// cannot exhaust the stack.
const maxDepth = 100

// Parse parses src into a syntax tree without checking names or types (Schema.Compile does
// both). A syntax error is an *Error pointing at the offending token.
func Parse(src string) (n Node, err error) {
	if len(src) > maxSource {
		return nil, errorf(Pos{1, 1}, "expression is too long (%d bytes; the limit is %d)", len(src), maxSource)
	}
	p := &parser{lx: newLexer(src)}
	defer func() {
		if r := recover(); r != nil {
			e, ok := r.(*Error)
			if !ok {
				panic(r)
			}
			n, err = nil, e
		}
	}()
	p.next()
	if p.tok.kind == tokEOF {
		return nil, errorf(p.tok.pos, "empty expression")
	}
	n = p.or()
	if p.tok.kind != tokEOF {
		e := errorf(p.tok.pos, "unexpected %s", p.tok.describe())
		switch {
		case p.tok.kind == tokRParen:
			e.hint("no '(' is open")
		default:
			e.hint("join conditions with 'and' or 'or'")
		}
		panic(e)
	}
	return n, nil
}

// parser is a recursive-descent parser; a syntax error panics with an *Error, which Parse
// recovers.
type parser struct {
	lx    *lexer
	tok   token
	depth int
}

func (p *parser) next() {
	t, err := p.lx.next()
	if err != nil {
		panic(err)
	}
	p.tok = t
}

func (p *parser) fail(format string, args ...any) {
	panic(errorf(p.tok.pos, format, args...))
}

// enter counts one level of nesting at the current token; leave undoes it.
func (p *parser) enter() {
	if p.depth++; p.depth > maxDepth {
		p.fail("expression is nested too deeply (more than %d levels)", maxDepth)
	}
}

func (p *parser) leave() { p.depth-- }

// or parses OrExpr.
func (p *parser) or() Node {
	x := p.and()
	for p.tok.kind == tokOr {
		pos := p.tok.pos
		p.next()
		x = &Binary{Op: OpOr, OpPos: pos, X: x, Y: p.and()}
	}
	return x
}

// and parses AndExpr.
func (p *parser) and() Node {
	x := p.not()
	for p.tok.kind == tokAnd {
		pos := p.tok.pos
		p.next()
		x = &Binary{Op: OpAnd, OpPos: pos, X: x, Y: p.not()}
	}
	return x
}

// not parses NotExpr.
func (p *parser) not() Node {
	if p.tok.kind != tokNot {
		return p.comparison()
	}
	pos := p.tok.pos
	p.enter()
	p.next()
	x := p.not()
	p.leave()
	return &Not{NotPos: pos, X: x}
}

var compareOps = map[kind]Op{
	tokEq: OpEq, tokNe: OpNe, tokLt: OpLt, tokLe: OpLe, tokGt: OpGt, tokGe: OpGe,
	tokIn: OpIn, tokContains: OpContains,
}

func isCompare(k kind) bool { _, ok := compareOps[k]; return ok }

// comparison parses Comparison.
func (p *parser) comparison() Node {
	x := p.operand()
	pos := p.tok.pos
	op, ok := compareOps[p.tok.kind]
	switch {
	case p.tok.kind == tokNot:
		p.next()
		if p.tok.kind != tokIn {
			p.fail("expected 'in' after 'not' but found %s", p.tok.describe())
		}
		op = OpNotIn
	case !ok:
		return x
	}
	p.next()
	y := p.operand()
	if isCompare(p.tok.kind) {
		panic(errorf(p.tok.pos, "comparisons cannot be chained").hint("join them with 'and'"))
	}
	return &Binary{Op: op, OpPos: pos, X: x, Y: y}
}

// operand parses Operand.
func (p *parser) operand() Node {
	t := p.tok
	switch t.kind {
	case tokNumber:
		p.next()
		return &NumberLit{ValuePos: t.pos, Value: t.num}
	case tokString:
		p.next()
		return &StringLit{ValuePos: t.pos, Value: t.str}
	case tokTrue, tokFalse:
		p.next()
		return &BoolLit{ValuePos: t.pos, Value: t.kind == tokTrue}
	case tokLBrack:
		return p.list()
	case tokIdent:
		p.next()
		if p.tok.kind == tokLParen {
			return p.call(t)
		}
		return &Ident{NamePos: t.pos, Name: t.text}
	case tokLParen:
		p.enter()
		p.next()
		x := p.or()
		if p.tok.kind != tokRParen {
			p.fail("expected ')' but found %s", p.tok.describe())
		}
		p.next()
		p.leave()
		return x
	}
	p.fail("expected a value but found %s", t.describe())
	return nil
}

// call parses the arguments of a call to name; the current token is '('.
func (p *parser) call(name token) Node {
	p.enter()
	p.next()
	c := &Call{NamePos: name.pos, Name: name.text}
	if p.tok.kind == tokRParen {
		p.next()
		p.leave()
		return c
	}
	for {
		c.Args = append(c.Args, p.or())
		switch p.tok.kind {
		case tokComma:
			p.next()
			continue
		case tokRParen:
			p.next()
			p.leave()
			return c
		}
		p.fail("expected ',' or ')' but found %s", p.tok.describe())
	}
}

// list parses List; the current token is '['.
func (p *parser) list() Node {
	l := &ListLit{Lbrack: p.tok.pos}
	p.enter()
	p.next()
	if p.tok.kind == tokRBrack {
		p.next()
		p.leave()
		return l
	}
	for {
		switch t := p.tok; t.kind {
		case tokNumber:
			l.Elems = append(l.Elems, &NumberLit{ValuePos: t.pos, Value: t.num})
		case tokString:
			l.Elems = append(l.Elems, &StringLit{ValuePos: t.pos, Value: t.str})
		default:
			panic(errorf(t.pos, "expected a number or a string but found %s", t.describe()).
				hint("lists hold only literal numbers or strings"))
		}
		p.next()
		switch p.tok.kind {
		case tokComma:
			p.next()
			continue
		case tokRBrack:
			p.next()
			p.leave()
			return l
		}
		p.fail("expected ',' or ']' but found %s", p.tok.describe())
	}
}
