package segment

import (
	"math"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// kind is the kind of a token.
type kind uint8

const (
	tokEOF kind = iota
	tokIdent
	tokNumber
	tokString
	tokLParen
	tokRParen
	tokLBrack
	tokRBrack
	tokComma
	tokEq
	tokNe
	tokLt
	tokLe
	tokGt
	tokGe
	tokAnd
	tokOr
	tokNot
	tokIn
	tokContains
	tokTrue
	tokFalse
)

// keywords maps the lower-case spelling of each keyword to its kind.
var keywords = map[string]kind{
	"and": tokAnd, "or": tokOr, "not": tokNot, "in": tokIn,
	"contains": tokContains, "true": tokTrue, "false": tokFalse,
}

// token is one lexical token. text is its source spelling; str and num hold the decoded value
// of string and number literals.
type token struct {
	kind kind
	pos  Pos
	text string
	str  string
	num  float64
}

// describe names the token for an error message.
func (t token) describe() string {
	switch t.kind {
	case tokEOF:
		return "end of input"
	case tokString:
		return "string " + quote(t.str)
	}
	return "'" + t.text + "'"
}

// maxSource bounds the length of an expression, in bytes.
const maxSource = 64 << 10

// lexer splits a source into tokens, tracking 1-based lines and columns in characters.
type lexer struct {
	src  string
	off  int // byte offset of the next character
	line int
	col  int // column of the next character
}

func newLexer(src string) *lexer { return &lexer{src: src, line: 1, col: 1} }

func (l *lexer) pos() Pos { return Pos{Line: l.line, Column: l.col} }

// peekByte returns the byte at l.off+i, or 0 past the end.
func (l *lexer) peekByte(i int) byte {
	if l.off+i < len(l.src) {
		return l.src[l.off+i]
	}
	return 0
}

// advance moves past one character and returns it.
func (l *lexer) advance() rune {
	r, n := utf8.DecodeRuneInString(l.src[l.off:])
	l.off += n
	if r == '\n' {
		l.line++
		l.col = 1
	} else {
		l.col++
	}
	return r
}

// next returns the next token, or an *Error for a character or literal that cannot start or
// make one.
func (l *lexer) next() (token, error) {
	for l.off < len(l.src) {
		if c := l.src[l.off]; c != ' ' && c != '\t' && c != '\n' && c != '\r' {
			break
		}
		l.advance()
	}
	start, startOff := l.pos(), l.off
	if l.off >= len(l.src) {
		return token{kind: tokEOF, pos: start}, nil
	}
	c := l.src[l.off]
	switch {
	case isLetter(c):
		for l.off < len(l.src) && (isLetter(l.src[l.off]) || isDigit(l.src[l.off])) {
			l.advance()
		}
		text := l.src[startOff:l.off]
		if k, ok := keywords[strings.ToLower(text)]; ok {
			return token{kind: k, pos: start, text: strings.ToLower(text)}, nil
		}
		return token{kind: tokIdent, pos: start, text: text}, nil
	case isDigit(c) || c == '.' && isDigit(l.peekByte(1)) ||
		c == '-' && (isDigit(l.peekByte(1)) || l.peekByte(1) == '.' && isDigit(l.peekByte(2))):
		return l.number(start, startOff)
	case c == '"' || c == '\'':
		return l.string(start)
	}
	return l.operator(start, startOff)
}

// operator lexes punctuation and comparison operators.
func (l *lexer) operator(start Pos, startOff int) (token, error) {
	two := ""
	if l.off+1 < len(l.src) {
		two = l.src[l.off : l.off+2]
	}
	tok := func(k kind, n int) (token, error) {
		for range n {
			l.advance()
		}
		return token{kind: k, pos: start, text: l.src[startOff:l.off]}, nil
	}
	switch two {
	case "==":
		return tok(tokEq, 2)
	case "!=":
		return tok(tokNe, 2)
	case "<=":
		return tok(tokLe, 2)
	case ">=":
		return tok(tokGe, 2)
	case "&&":
		return token{}, errorf(start, "unexpected '&&'").hint("write 'and'")
	case "||":
		return token{}, errorf(start, "unexpected '||'").hint("write 'or'")
	}
	switch l.src[l.off] {
	case '(':
		return tok(tokLParen, 1)
	case ')':
		return tok(tokRParen, 1)
	case '[':
		return tok(tokLBrack, 1)
	case ']':
		return tok(tokRBrack, 1)
	case ',':
		return tok(tokComma, 1)
	case '=':
		return tok(tokEq, 1)
	case '<':
		return tok(tokLt, 1)
	case '>':
		return tok(tokGt, 1)
	case '!':
		return token{}, errorf(start, "unexpected '!'").hint("write 'not'")
	}
	r, n := utf8.DecodeRuneInString(l.src[l.off:])
	if r == utf8.RuneError && n == 1 {
		return token{}, errorf(start, "invalid UTF-8")
	}
	e := errorf(start, "unexpected character %s", quoteRune(r))
	if r >= utf8.RuneSelf {
		e = e.hint("put text in double quotes")
	}
	return token{}, e
}

// number lexes a number literal; the caller has checked that one starts here.
func (l *lexer) number(start Pos, startOff int) (token, error) {
	if l.src[l.off] == '-' {
		l.advance()
	}
	digits := func() {
		for isDigit(l.peekByte(0)) {
			l.advance()
		}
	}
	digits()
	if l.peekByte(0) == '.' && isDigit(l.peekByte(1)) {
		l.advance()
		digits()
	}
	if c := l.peekByte(0); c == 'e' || c == 'E' {
		i := 1
		if s := l.peekByte(1); s == '+' || s == '-' {
			i = 2
		}
		if isDigit(l.peekByte(i)) {
			for range i {
				l.advance()
			}
			digits()
		}
	}
	if c := l.peekByte(0); isLetter(c) || isDigit(c) || c == '.' {
		for c := l.peekByte(0); isLetter(c) || isDigit(c) || c == '.'; c = l.peekByte(0) {
			l.advance()
		}
		return token{}, errorf(start, "invalid number %q", l.src[startOff:l.off])
	}
	text := l.src[startOff:l.off]
	v, err := strconv.ParseFloat(text, 64)
	if err != nil || math.IsInf(v, 0) {
		return token{}, errorf(start, "number %s is out of range", text)
	}
	return token{kind: tokNumber, pos: start, text: text, num: v}, nil
}

// string lexes a quoted string, decoding its escapes.
func (l *lexer) string(start Pos) (token, error) {
	startOff := l.off
	q := l.src[l.off]
	l.advance()
	var b strings.Builder
	for {
		if l.off >= len(l.src) || l.src[l.off] == '\n' {
			return token{}, errorf(start, "unterminated string").hint("close it with %c", q)
		}
		p := l.pos()
		if r, n := utf8.DecodeRuneInString(l.src[l.off:]); r == utf8.RuneError && n == 1 {
			return token{}, errorf(p, "invalid UTF-8 in string")
		}
		r := l.advance()
		switch {
		case r == rune(q):
			return token{kind: tokString, pos: start, text: l.src[startOff:l.off], str: b.String()}, nil
		case r == '\\':
			r, err := l.escape(p)
			if err != nil {
				return token{}, err
			}
			b.WriteRune(r)
		default:
			b.WriteRune(r)
		}
	}
}

// escape decodes the escape sequence after a backslash at p.
func (l *lexer) escape(p Pos) (rune, error) {
	if l.off >= len(l.src) {
		return 0, errorf(p, "unterminated escape sequence")
	}
	switch c := l.src[l.off]; c {
	case '"', '\'', '\\', '/':
		l.advance()
		return rune(c), nil
	case 'b':
		l.advance()
		return '\b', nil
	case 'f':
		l.advance()
		return '\f', nil
	case 'n':
		l.advance()
		return '\n', nil
	case 'r':
		l.advance()
		return '\r', nil
	case 't':
		l.advance()
		return '\t', nil
	case 'u':
		l.advance()
		r, ok := l.hex4()
		if !ok {
			return 0, errorf(p, `invalid \u escape`).hint(`write \u and four hex digits`)
		}
		if utf16.IsSurrogate(r) {
			if r >= 0xDC00 || l.peekByte(0) != '\\' || l.peekByte(1) != 'u' {
				return 0, errorf(p, "unpaired surrogate in \\u escape")
			}
			l.advance()
			l.advance()
			r2, ok := l.hex4()
			if pair := utf16.DecodeRune(r, r2); ok && pair != utf8.RuneError {
				return pair, nil
			}
			return 0, errorf(p, "unpaired surrogate in \\u escape")
		}
		return r, nil
	}
	r, _ := utf8.DecodeRuneInString(l.src[l.off:])
	return 0, errorf(p, "unknown escape sequence \\%c", r).hint(`use \" \' \\ \/ \b \f \n \r \t or \uXXXX`)
}

// hex4 reads four hex digits.
func (l *lexer) hex4() (rune, bool) {
	if l.off+4 > len(l.src) {
		return 0, false
	}
	v, err := strconv.ParseUint(l.src[l.off:l.off+4], 16, 32)
	if err != nil {
		return 0, false
	}
	for range 4 {
		l.advance()
	}
	return rune(v), true
}

func isLetter(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c == '_' }
func isDigit(c byte) bool  { return '0' <= c && c <= '9' }

// quoteRune renders r for a message: printable characters in single quotes, others as U+XXXX.
func quoteRune(r rune) string {
	if strconv.IsPrint(r) {
		return "'" + string(r) + "'"
	}
	return "U+" + strings.ToUpper(strconv.FormatInt(int64(r), 16))
}

// quote renders s as a double-quoted string literal that the lexer reads back as s: printable
// characters as they are, the rest with the escapes of the grammar.
func quote(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 2)
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\n':
			b.WriteString(`\n`)
		case '\t':
			b.WriteString(`\t`)
		case '\r':
			b.WriteString(`\r`)
		default:
			if strconv.IsPrint(r) {
				b.WriteRune(r)
				continue
			}
			if r > 0xFFFF {
				r1, r2 := utf16.EncodeRune(r)
				writeU(&b, r1)
				writeU(&b, r2)
				continue
			}
			writeU(&b, r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

func writeU(b *strings.Builder, r rune) {
	const hex = "0123456789abcdef"
	b.WriteString(`\u`)
	for shift := 12; shift >= 0; shift -= 4 {
		b.WriteByte(hex[r>>shift&0xF])
	}
}
