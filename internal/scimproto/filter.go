package scimproto

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// The filter grammar of RFC 7644 section 3.4.2.2, parsed by recursive descent:
//
//	filter    = or
//	or        = and *("or" and)
//	and       = unary *("and" unary)
//	unary     = "not" "(" filter ")" / "(" filter ")" / attrPath "[" filter "]" / attrExp
//	attrExp   = attrPath "pr" / attrPath compareOp compValue
//
// so not binds tighter than and, and tighter than or. Keywords and operators are
// case-insensitive. Whitespace between tokens is not required where a bracket or a quote
// already separates them ("not(x pr)" parses); nothing else in the RFC relies on it.

// maxDepth bounds nesting of parentheses, not and value filters: real filters nest a few
// levels, and a bound keeps hostile input ("((((...") from costing stack and time.
const maxDepth = 64

type tokKind int

const (
	tokEOF tokKind = iota
	tokLParen
	tokRParen
	tokLBrack
	tokRBrack
	tokString // a JSON string; val holds the decoded text
	tokWord   // a run of anything else but whitespace: attribute paths, keywords, numbers
)

type token struct {
	kind tokKind
	pos  int    // byte offset in the input
	text string // the source text of the token
	val  string // decoded string for tokString
}

func (t token) describe() string {
	switch t.kind {
	case tokEOF:
		return "end of input"
	case tokString:
		return "string " + t.text
	default:
		return strconv.Quote(t.text)
	}
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func isDelim(c byte) bool {
	return isSpace(c) || c == '(' || c == ')' || c == '[' || c == ']' || c == '"'
}

// parser holds the tokens of one filter or path. scimType says which error a problem becomes
// (invalidFilter for filters, invalidPath for PATCH paths).
type parser struct {
	src      string
	toks     []token
	i        int
	depth    int
	scimType string
	what     string // "filter" or "path", for messages
}

func (p *parser) errorf(pos int, format string, args ...any) *Error {
	return Errorf(400, p.scimType, "invalid %s at position %d: %s", p.what, pos+1, fmt.Sprintf(format, args...))
}

func newParser(s, scimType, what string) (*parser, error) {
	p := &parser{src: s, scimType: scimType, what: what, toks: make([]token, 0, 8)}
	i := 0
	for i < len(s) {
		c := s[i]
		switch {
		case isSpace(c):
			i++
		case c == '(':
			p.toks = append(p.toks, token{kind: tokLParen, pos: i, text: "("})
			i++
		case c == ')':
			p.toks = append(p.toks, token{kind: tokRParen, pos: i, text: ")"})
			i++
		case c == '[':
			p.toks = append(p.toks, token{kind: tokLBrack, pos: i, text: "["})
			i++
		case c == ']':
			p.toks = append(p.toks, token{kind: tokRBrack, pos: i, text: "]"})
			i++
		case c == '"':
			start := i
			i++
			for i < len(s) && s[i] != '"' {
				if s[i] == '\\' {
					i++
				}
				i++
			}
			if i >= len(s) {
				return nil, p.errorf(start, "string starting here is not terminated")
			}
			i++
			text := s[start:i]
			val, plain := text[1:len(text)-1], true
			for j := 0; j < len(val) && plain; j++ {
				plain = val[j] >= 0x20 && val[j] < 0x80 && val[j] != '\\'
			}
			// Only strings with escapes or non-ASCII text need the JSON decoder.
			if plain {
				p.toks = append(p.toks, token{kind: tokString, pos: start, text: text, val: val})
				continue
			}
			if err := json.Unmarshal([]byte(text), &val); err != nil {
				return nil, p.errorf(start, "string is not a valid JSON string (check its escapes)")
			}
			p.toks = append(p.toks, token{kind: tokString, pos: start, text: text, val: val})
		default:
			start := i
			for i < len(s) && !isDelim(s[i]) {
				i++
			}
			p.toks = append(p.toks, token{kind: tokWord, pos: start, text: s[start:i]})
		}
	}
	p.toks = append(p.toks, token{kind: tokEOF, pos: len(s)})
	return p, nil
}

func (p *parser) peek() token { return p.toks[p.i] }

func (p *parser) peekAt(n int) token {
	if p.i+n < len(p.toks) {
		return p.toks[p.i+n]
	}
	return p.toks[len(p.toks)-1]
}

func (p *parser) next() token {
	t := p.toks[p.i]
	if t.kind != tokEOF {
		p.i++
	}
	return t
}

func (p *parser) isKeyword(t token, kw string) bool {
	return t.kind == tokWord && strings.EqualFold(t.text, kw)
}

// ParseFilter parses a filter (RFC 7644 section 3.4.2.2). Errors are *Error with status 400
// and scimType invalidFilter, naming the position (1-based, in bytes) and what was expected.
func ParseFilter(s string) (Expr, error) {
	p, err := newParser(s, ScimTypeInvalidFilter, "filter")
	if err != nil {
		return nil, err
	}
	if p.peek().kind == tokEOF {
		return nil, p.errorf(0, "the filter is empty")
	}
	e, perr := p.parseOr(false)
	if perr != nil {
		return nil, perr
	}
	if t := p.peek(); t.kind != tokEOF {
		return nil, p.errorf(t.pos, "expected \"and\", \"or\" or the end of the filter, found %s", t.describe())
	}
	return e, nil
}

func (p *parser) parseOr(inValuePath bool) (Expr, *Error) {
	left, err := p.parseAnd(inValuePath)
	if err != nil {
		return nil, err
	}
	for p.isKeyword(p.peek(), "or") {
		p.next()
		right, err := p.parseAnd(inValuePath)
		if err != nil {
			return nil, err
		}
		left = &LogicalExpr{Op: "or", Left: left, Right: right}
	}
	return left, nil
}

func (p *parser) parseAnd(inValuePath bool) (Expr, *Error) {
	left, err := p.parseUnary(inValuePath)
	if err != nil {
		return nil, err
	}
	for p.isKeyword(p.peek(), "and") {
		p.next()
		right, err := p.parseUnary(inValuePath)
		if err != nil {
			return nil, err
		}
		left = &LogicalExpr{Op: "and", Left: left, Right: right}
	}
	return left, nil
}

// parseGroup parses "filter closer" after an opening token at open.
func (p *parser) parseGroup(open token, closer tokKind, inValuePath bool) (Expr, *Error) {
	p.depth++
	defer func() { p.depth-- }()
	if p.depth > maxDepth {
		return nil, p.errorf(open.pos, "nested more than %d levels deep", maxDepth)
	}
	x, err := p.parseOr(inValuePath)
	if err != nil {
		return nil, err
	}
	t := p.next()
	if t.kind != closer {
		want := ")"
		if closer == tokRBrack {
			want = "]"
		}
		return nil, p.errorf(t.pos, "expected %q to close the %q at position %d, found %s", want, open.text, open.pos+1, t.describe())
	}
	return x, nil
}

func (p *parser) parseUnary(inValuePath bool) (Expr, *Error) {
	t := p.peek()
	switch {
	case t.kind == tokLParen:
		p.next()
		return p.parseGroup(t, tokRParen, inValuePath)
	case p.isKeyword(t, "not") && p.peekAt(1).kind == tokLParen:
		p.next()
		open := p.next()
		x, err := p.parseGroup(open, tokRParen, inValuePath)
		if err != nil {
			return nil, err
		}
		return &NotExpr{X: x}, nil
	case t.kind == tokWord:
		p.next()
		path, err := p.attrPath(t)
		if err != nil {
			return nil, err
		}
		if open := p.peek(); open.kind == tokLBrack {
			if inValuePath {
				return nil, p.errorf(open.pos, "a value filter cannot be nested inside another")
			}
			if path.SubAttr != "" {
				return nil, p.errorf(open.pos, "a value filter follows a multi-valued attribute, not a sub-attribute (%s)", path)
			}
			p.next()
			f, err := p.parseGroup(open, tokRBrack, true)
			if err != nil {
				return nil, err
			}
			return &ValuePathExpr{Path: path, Filter: f}, nil
		}
		return p.attrExpr(path)
	default:
		return nil, p.errorf(t.pos, "expected an attribute path, \"not (\" or \"(\", found %s", t.describe())
	}
}

var compareOps = map[string]CompareOp{
	"eq": OpEq, "ne": OpNe, "co": OpCo, "sw": OpSw, "ew": OpEw,
	"gt": OpGt, "ge": OpGe, "lt": OpLt, "le": OpLe, "pr": OpPr,
}

func (p *parser) attrExpr(path AttrPath) (Expr, *Error) {
	t := p.next()
	op, ok := CompareOp(""), false
	if t.kind == tokWord {
		op, ok = compareOps[strings.ToLower(t.text)]
	}
	if !ok {
		return nil, p.errorf(t.pos, "expected a comparison operator (eq, ne, co, sw, ew, gt, ge, lt, le or pr) after %s, found %s", path, t.describe())
	}
	if op == OpPr {
		return &AttrExpr{Path: path, Op: op}, nil
	}
	v := p.next()
	val, err := p.value(v)
	if err != nil {
		return nil, err
	}
	return &AttrExpr{Path: path, Op: op, Value: val}, nil
}

func (p *parser) value(t token) (any, *Error) {
	switch t.kind {
	case tokString:
		return t.val, nil
	case tokWord:
		switch strings.ToLower(t.text) {
		case "true":
			return true, nil
		case "false":
			return false, nil
		case "null":
			return nil, nil
		}
		if isJSONNumber(t.text) {
			f, err := strconv.ParseFloat(t.text, 64)
			if err != nil {
				return nil, p.errorf(t.pos, "number %s is out of range", t.text)
			}
			return f, nil
		}
	}
	return nil, p.errorf(t.pos, "expected a value (a JSON string, a number, true, false or null), found %s", t.describe())
}

// isJSONNumber reports whether s is a number in JSON syntax (RFC 8259 section 6).
func isJSONNumber(s string) bool {
	i := 0
	if i < len(s) && s[i] == '-' {
		i++
	}
	switch {
	case i < len(s) && s[i] == '0':
		i++
	case i < len(s) && s[i] >= '1' && s[i] <= '9':
		for i < len(s) && isDigit(s[i]) {
			i++
		}
	default:
		return false
	}
	if i < len(s) && s[i] == '.' {
		i++
		if i >= len(s) || !isDigit(s[i]) {
			return false
		}
		for i < len(s) && isDigit(s[i]) {
			i++
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		if i >= len(s) || !isDigit(s[i]) {
			return false
		}
		for i < len(s) && isDigit(s[i]) {
			i++
		}
	}
	return i == len(s)
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
func isAlpha(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

// validAttrName checks ATTRNAME of RFC 7643 section 2.1: ALPHA *(ALPHA / DIGIT / "-" / "_"),
// plus a leading "$" for "$ref", which the RFC's own schemas use.
func validAttrName(s string) bool {
	if s == "" {
		return false
	}
	start := 0
	if s[0] == '$' {
		start = 1
	}
	if start >= len(s) || !isAlpha(s[start]) {
		return false
	}
	for i := start + 1; i < len(s); i++ {
		c := s[i]
		if !isAlpha(c) && !isDigit(c) && c != '-' && c != '_' {
			return false
		}
	}
	return true
}

// attrPath parses a word as [URN ":"] name ["." subAttr]. The URN ends at the last colon:
// the attribute name holds no colon, while the URN holds dots ("2.0"), so splitting at the
// first dot would cut the URN.
func (p *parser) attrPath(t token) (AttrPath, *Error) {
	ap, msg, off := parseAttrPath(t.text)
	if msg != "" {
		return AttrPath{}, p.errorf(t.pos+off, "%s", msg)
	}
	return ap, nil
}

// parseAttrPath returns the path, or a message and the offset in s it applies to.
func parseAttrPath(s string) (AttrPath, string, int) {
	var ap AttrPath
	rest, restOff := s, 0
	if i := strings.LastIndexByte(s, ':'); i >= 0 {
		ap.URN, rest, restOff = s[:i], s[i+1:], i+1
		if ap.URN == "" || !isAlpha(ap.URN[0]) {
			return AttrPath{}, fmt.Sprintf("%q does not start with a schema URN", s), 0
		}
		for j := 0; j < len(ap.URN); j++ {
			if c := ap.URN[j]; c <= ' ' || c >= 0x7f {
				return AttrPath{}, fmt.Sprintf("schema URN %q holds a character a URN cannot", ap.URN), j
			}
		}
	}
	ap.Name = rest
	if i := strings.IndexByte(rest, '.'); i >= 0 {
		ap.Name, ap.SubAttr = rest[:i], rest[i+1:]
		if !validAttrName(ap.SubAttr) {
			return AttrPath{}, fmt.Sprintf("expected a sub-attribute name after %q, found %q", s[:restOff+i+1], ap.SubAttr), restOff + i + 1
		}
	}
	if !validAttrName(ap.Name) {
		return AttrPath{}, fmt.Sprintf("expected an attribute name, found %q", rest), restOff
	}
	return ap, "", 0
}

// String renders the path as it is written in a filter: [URN:]name[.subAttr].
func (a AttrPath) String() string {
	var b strings.Builder
	if a.URN != "" {
		b.WriteString(a.URN)
		b.WriteByte(':')
	}
	b.WriteString(a.Name)
	if a.SubAttr != "" {
		b.WriteByte('.')
		b.WriteString(a.SubAttr)
	}
	return b.String()
}

// Quote renders s as a filter string literal (a JSON string), so that a filter built from
// untrusted text cannot be broken out of: "userName eq " + Quote(name).
func Quote(s string) string {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s) // a string always encodes
	return strings.TrimSuffix(buf.String(), "\n")
}

// formatValue renders a comparison value as filter text.
func formatValue(v any) string {
	switch v := v.(type) {
	case nil:
		return "null"
	case string:
		return Quote(v)
	case bool:
		return strconv.FormatBool(v)
	case float64:
		return strconv.FormatFloat(v, 'g', -1, 64)
	case float32:
		return strconv.FormatFloat(float64(v), 'g', -1, 32)
	case int:
		return strconv.Itoa(v)
	case int64:
		return strconv.FormatInt(v, 10)
	case json.Number:
		return v.String()
	default:
		return Quote(fmt.Sprint(v))
	}
}

// String renders the expression as filter text that parses back to an equal expression.
func (e *AttrExpr) String() string {
	if e.Op == OpPr {
		return e.Path.String() + " pr"
	}
	return e.Path.String() + " " + string(e.Op) + " " + formatValue(e.Value)
}

func precedence(e Expr) int {
	if l, ok := e.(*LogicalExpr); ok {
		if strings.EqualFold(l.Op, "or") {
			return 1
		}
		return 2
	}
	return 3
}

func exprString(e Expr) string {
	if e == nil {
		return ""
	}
	if s, ok := e.(fmt.Stringer); ok {
		return s.String()
	}
	return fmt.Sprint(e)
}

// String renders the expression with the parentheses its tree needs and no others: the parser
// groups and/or to the left, so a right operand of the same precedence needs them.
func (e *LogicalExpr) String() string {
	l, r := exprString(e.Left), exprString(e.Right)
	if precedence(e.Left) < precedence(e) {
		l = "(" + l + ")"
	}
	if precedence(e.Right) <= precedence(e) {
		r = "(" + r + ")"
	}
	return l + " " + strings.ToLower(e.Op) + " " + r
}

// String renders "not (x)".
func (e *NotExpr) String() string { return "not (" + exprString(e.X) + ")" }

// String renders "attr[filter]".
func (e *ValuePathExpr) String() string {
	return e.Path.String() + "[" + exprString(e.Filter) + "]"
}

// String renders the PATCH path as written: attr[filter].subAttr.
func (p Path) String() string {
	s := p.Attr.String()
	if p.Filter != nil {
		s += "[" + exprString(p.Filter) + "]"
	}
	if p.SubAttr != "" {
		s += "." + p.SubAttr
	}
	return s
}

// ParsePath parses a PATCH path (RFC 7644 section 3.5.2): attrPath, or valuePath followed
// by an optional sub-attribute. Errors are *Error 400 invalidPath naming the position.
func ParsePath(s string) (Path, error) {
	p, err := newParser(s, ScimTypeInvalidPath, "path")
	if err != nil {
		return Path{}, err
	}
	t := p.next()
	if t.kind != tokWord {
		return Path{}, p.errorf(t.pos, "expected an attribute path, found %s", t.describe())
	}
	ap, perr := p.attrPath(t)
	if perr != nil {
		return Path{}, perr
	}
	path := Path{Attr: ap}
	if open := p.peek(); open.kind == tokLBrack {
		if ap.SubAttr != "" {
			return Path{}, p.errorf(open.pos, "a value filter follows a multi-valued attribute, not a sub-attribute (%s)", ap)
		}
		p.next()
		f, ferr := p.parseGroup(open, tokRBrack, true)
		if ferr != nil {
			return Path{}, ferr
		}
		path.Filter = f
		if sub := p.peek(); sub.kind == tokWord {
			p.next()
			name, ok := strings.CutPrefix(sub.text, ".")
			if !ok || !validAttrName(name) {
				return Path{}, p.errorf(sub.pos, "expected \".\" and a sub-attribute name after the value filter, found %s", sub.describe())
			}
			path.SubAttr = name
		}
	}
	if t := p.peek(); t.kind != tokEOF {
		return Path{}, p.errorf(t.pos, "expected the end of the path, found %s", t.describe())
	}
	return path, nil
}
