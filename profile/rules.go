package profile

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/qianmian/qianmian"
)

// Rule tags the consumers whose profile meets its conditions. A condition compares a
// trait, or a sum of numeric traits, with a value (Profile.Lookup names the traits):
//
//	affinity(beauty) >= 0.2
//	affinity(beauty) + affinity(fashion/women) >= 0.35
//	affinity(electronics/gaming) + 0.5 * affinity(food/instant) >= 0.15
//	location_share(office) > 0.1
//	searched(perfume) > 0
//	gender == female
//	city in [Shanghai, Beijing, "Xi'an"]
//	tag(gender_female)                      (a boolean trait alone)
//
// A sum's terms may carry a weight (a number and *). Operators are >=, >, <=, <, ==, !=
// and in; values are numbers, words (quoted when they hold spaces or punctuation), true,
// false, or a [list] for in. A trait without a value (a price tier before any purchase)
// fails every condition on it.
type Rule struct {
	// Tag is the tag the rule gives (a qianmian.ValidateTag name); Label says it in words.
	Tag   string `json:"tag"`
	Label string `json:"label,omitempty"`
	// When: every condition must hold.
	When []string `json:"when"`
	// Any: at least MinAny (0 means 1) of these must hold, when there are any.
	Any    []string `json:"any,omitempty"`
	MinAny int      `json:"min_any,omitempty"`
	// Unless: none of these may hold.
	Unless []string `json:"unless,omitempty"`
	// Confidence is what the rule's author claims for it, reported with the tag; 0 means 1.
	Confidence float64 `json:"confidence,omitempty"`
}

// RuleFile is the JSON form of a rule set: {"rules": [{"tag": …, "when": […]}, …]}.
type RuleFile struct {
	Rules []Rule `json:"rules"`
}

// ReadRules parses and checks a JSON rule file.
func ReadRules(r io.Reader) ([]Rule, error) {
	var f RuleFile
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("profile rules: %w", err)
	}
	if _, err := CompileRules(f.Rules); err != nil {
		return nil, err
	}
	return f.Rules, nil
}

// RuleSet is a compiled list of rules.
type RuleSet struct {
	rules []compiledRule
}

type compiledRule struct {
	Rule
	when, any, unless []condition
}

// CompileRules checks and compiles rules; the error names the rule and condition at fault.
func CompileRules(rules []Rule) (*RuleSet, error) {
	rs := &RuleSet{}
	seen := map[string]bool{}
	for i, r := range rules {
		if err := qianmian.ValidateTag(fmt.Sprintf("rules[%d].tag", i), r.Tag); err != nil {
			return nil, fmt.Errorf("profile rules: %w", err)
		}
		if seen[r.Tag] {
			return nil, fmt.Errorf("profile rules: rule %s given twice", r.Tag)
		}
		seen[r.Tag] = true
		if len(r.When) == 0 && len(r.Any) == 0 {
			return nil, fmt.Errorf("profile rules: rule %s has no conditions", r.Tag)
		}
		if r.MinAny > len(r.Any) {
			return nil, fmt.Errorf("profile rules: rule %s: min_any %d of %d conditions", r.Tag, r.MinAny, len(r.Any))
		}
		if r.Confidence < 0 || r.Confidence > 1 {
			return nil, fmt.Errorf("profile rules: rule %s: confidence must be between 0 and 1", r.Tag)
		}
		c := compiledRule{Rule: r}
		for _, part := range []struct {
			src []string
			dst *[]condition
		}{{r.When, &c.when}, {r.Any, &c.any}, {r.Unless, &c.unless}} {
			for _, s := range part.src {
				cond, err := parseCondition(s)
				if err != nil {
					return nil, fmt.Errorf("profile rules: rule %s: %q: %w", r.Tag, s, err)
				}
				*part.dst = append(*part.dst, cond)
			}
		}
		rs.rules = append(rs.rules, c)
	}
	return rs, nil
}

// Apply returns the tags of the rules p meets, in rule order, each with the rule and the
// values that made it fire as its reason.
func (rs *RuleSet) Apply(p *qianmian.Profile) []qianmian.ProfileTag {
	var tags []qianmian.ProfileTag
	for i := range rs.rules {
		if reason, ok := rs.rules[i].eval(p); ok {
			r := &rs.rules[i]
			conf := r.Confidence
			if conf == 0 {
				conf = 1
			}
			tags = append(tags, qianmian.ProfileTag{Name: r.Tag, Label: r.Label, Source: qianmian.TagSourceRule,
				Rule: r.Tag, Confidence: conf, Reason: reason})
		}
	}
	return tags
}

func (r *compiledRule) eval(p *qianmian.Profile) (string, bool) {
	var held []string
	for _, c := range r.when {
		text, ok := c.eval(p)
		if !ok {
			return "", false
		}
		held = append(held, text)
	}
	if len(r.any) > 0 {
		need, n := max(r.MinAny, 1), 0
		for _, c := range r.any {
			if text, ok := c.eval(p); ok {
				held = append(held, text)
				n++
			}
		}
		if n < need {
			return "", false
		}
	}
	for _, c := range r.unless {
		if _, ok := c.eval(p); ok {
			return "", false
		}
	}
	label := r.Label
	if label == "" {
		label = r.Tag
	}
	return fmt.Sprintf("rule %s (%s): %s", r.Tag, label, strings.Join(held, "; ")), true
}

// condition is a parsed rule condition: terms op value.
type condition struct {
	src   string
	terms []term
	op    string // "" for a boolean term alone
	value any    // float64, string, bool or []string
}

type term struct {
	weight float64 // 0 means 1
	name   string
	args   []string
}

func (t term) String() string {
	s := t.name
	if len(t.args) > 0 {
		s += "(" + strings.Join(t.args, ", ") + ")"
	}
	if t.weight != 0 {
		s = fmtNum(t.weight) + "·" + s
	}
	return s
}

// eval reports whether the condition holds for p, and says so with the values seen.
func (c *condition) eval(p *qianmian.Profile) (string, bool) {
	if len(c.terms) > 1 || c.terms[0].weight != 0 || isNumber(c.value) {
		var sum float64
		for _, t := range c.terms {
			v, ok := p.Lookup(t.name, t.args...)
			x, isNum := v.(float64)
			if !ok || !isNum {
				return "", false
			}
			if t.weight != 0 {
				x *= t.weight
			}
			sum += x
		}
		want := c.value.(float64)
		var ok bool
		switch c.op {
		case ">=":
			ok = sum >= want
		case ">":
			ok = sum > want
		case "<=":
			ok = sum <= want
		case "<":
			ok = sum < want
		case "==":
			ok = sum == want
		case "!=":
			ok = sum != want
		}
		return fmt.Sprintf("%s = %s (%s %s)", c.lhs(), fmtNum(sum), c.op, fmtNum(want)), ok
	}
	v, ok := p.Lookup(c.terms[0].name, c.terms[0].args...)
	if !ok {
		return "", false
	}
	switch c.op {
	case "":
		b, isBool := v.(bool)
		return c.lhs(), isBool && b
	case "in":
		s, isStr := v.(string)
		return fmt.Sprintf("%s = %s (in %s)", c.lhs(), s, strings.Join(c.value.([]string), ", ")),
			isStr && slices.Contains(c.value.([]string), s)
	case "==", "!=":
		eq := fmt.Sprint(v) == fmt.Sprint(c.value)
		return fmt.Sprintf("%s = %v", c.lhs(), v), eq == (c.op == "==")
	}
	return "", false
}

func (c *condition) lhs() string {
	parts := make([]string, len(c.terms))
	for i, t := range c.terms {
		parts[i] = t.String()
	}
	return strings.Join(parts, " + ")
}

func isNumber(v any) bool { _, ok := v.(float64); return ok }

func fmtNum(x float64) string {
	if x == math.Trunc(x) && math.Abs(x) < 1e9 {
		return strconv.FormatInt(int64(x), 10)
	}
	return strconv.FormatFloat(math.Round(x*1000)/1000, 'f', -1, 64)
}

// parseCondition parses "term {+ term} [op value]".
func parseCondition(src string) (condition, error) {
	lx := &lexer{s: src}
	c := condition{src: src}
	for {
		t, err := lx.term()
		if err != nil {
			return c, err
		}
		c.terms = append(c.terms, t)
		if !lx.accept("+") {
			break
		}
	}
	lx.space()
	if lx.done() {
		if len(c.terms) > 1 {
			return c, fmt.Errorf("a sum needs a comparison")
		}
		return c, nil
	}
	c.op = lx.op()
	if c.op == "" {
		return c, fmt.Errorf("expected >=, >, <=, <, ==, != or in at %q", lx.rest())
	}
	v, err := lx.value(c.op == "in")
	if err != nil {
		return c, err
	}
	c.value = v
	if lx.space(); !lx.done() {
		return c, fmt.Errorf("unexpected %q", lx.rest())
	}
	switch {
	case c.op == "in":
	case (len(c.terms) > 1 || c.terms[0].weight != 0) && !isNumber(v):
		return c, fmt.Errorf("a sum compares with a number")
	case !isNumber(v) && c.op != "==" && c.op != "!=":
		return c, fmt.Errorf("%s compares numbers", c.op)
	}
	return c, nil
}

// lexer reads a condition.
type lexer struct {
	s string
	i int
}

func (l *lexer) space() {
	for l.i < len(l.s) && (l.s[l.i] == ' ' || l.s[l.i] == '\t') {
		l.i++
	}
}

func (l *lexer) done() bool   { return l.i >= len(l.s) }
func (l *lexer) rest() string { return l.s[l.i:] }

func (l *lexer) accept(tok string) bool {
	l.space()
	if strings.HasPrefix(l.s[l.i:], tok) {
		l.i += len(tok)
		return true
	}
	return false
}

func isWordByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
		c == '_' || c == '/' || c == '-' || c == '.' || c >= 0x80
}

// word reads a bare word or a double-quoted string.
func (l *lexer) word() (string, error) {
	l.space()
	if l.i < len(l.s) && l.s[l.i] == '"' {
		end := strings.IndexByte(l.s[l.i+1:], '"')
		if end < 0 {
			return "", fmt.Errorf("unterminated quote")
		}
		w := l.s[l.i+1 : l.i+1+end]
		l.i += end + 2
		return w, nil
	}
	start := l.i
	for l.i < len(l.s) && isWordByte(l.s[l.i]) {
		l.i++
	}
	if start == l.i {
		return "", fmt.Errorf("expected a word at %q", l.rest())
	}
	return l.s[start:l.i], nil
}

func (l *lexer) term() (term, error) {
	name, err := l.word()
	if err != nil {
		return term{}, err
	}
	t := term{name: name}
	if w, err := strconv.ParseFloat(name, 64); err == nil {
		if !l.accept("*") {
			return t, fmt.Errorf("expected * after the weight %s", name)
		}
		if t.name, err = l.word(); err != nil {
			return t, err
		}
		t.weight = w
		if w == 0 {
			return t, fmt.Errorf("a weight of 0")
		}
	}
	if !l.accept("(") {
		return t, nil
	}
	for {
		a, err := l.word()
		if err != nil {
			return t, err
		}
		t.args = append(t.args, a)
		if l.accept(")") {
			return t, nil
		}
		if !l.accept(",") {
			return t, fmt.Errorf("expected , or ) at %q", l.rest())
		}
	}
}

func (l *lexer) op() string {
	for _, op := range []string{">=", "<=", "==", "!=", ">", "<"} {
		if l.accept(op) {
			return op
		}
	}
	l.space()
	if strings.HasPrefix(l.s[l.i:], "in ") || strings.HasPrefix(l.s[l.i:], "in[") {
		l.i += 2
		return "in"
	}
	return ""
}

// value reads a number, true, false, a word, or (list) a [list] of words.
func (l *lexer) value(list bool) (any, error) {
	if list {
		if !l.accept("[") {
			return nil, fmt.Errorf("in needs a [list]")
		}
		var out []string
		for {
			w, err := l.word()
			if err != nil {
				return nil, err
			}
			out = append(out, w)
			if l.accept("]") {
				return out, nil
			}
			if !l.accept(",") {
				return nil, fmt.Errorf("expected , or ] at %q", l.rest())
			}
		}
	}
	l.space()
	quoted := l.i < len(l.s) && l.s[l.i] == '"'
	w, err := l.word()
	if err != nil {
		return nil, err
	}
	if quoted {
		return w, nil
	}
	if x, err := strconv.ParseFloat(w, 64); err == nil {
		return x, nil
	}
	switch w {
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	return w, nil
}
