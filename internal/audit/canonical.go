package audit

import (
	"bytes"
	"slices"
	"unicode/utf8"
)

// canonicalFast produces what compact's decode-and-marshal produces, without building a tree
// of interface values: it re-orders object members by key and drops insignificant space in one
// pass over the bytes. A bulk change (an HR import appends 300,000 events) otherwise spends more
// time re-encoding JSON than writing rows.
//
// It only handles input whose bytes json.Marshal would reproduce as they are: strings without
// escapes or characters Marshal escapes (<, >, &, U+2028, U+2029, control characters, invalid
// UTF-8), objects without duplicate keys, and exactly one value. Anything else answers ok=false
// and compact takes the slow path, so the result never depends on which path ran (the fuzz
// test checks this).
func canonicalFast(raw []byte) (out []byte, ok bool) {
	c := canonicalizer{in: raw, out: make([]byte, 0, len(raw))}
	if !c.value() {
		return nil, false
	}
	c.space()
	if c.pos != len(c.in) {
		return nil, false
	}
	return c.out, true
}

type canonicalizer struct {
	in  []byte
	pos int
	out []byte
	// members is scratch space for sorting one object's members, reused across objects.
	members []member
}

// member is one rendered "key":value of an object, as offsets into out.
type member struct{ keyStart, keyEnd, start, end int }

func (c *canonicalizer) space() {
	for c.pos < len(c.in) {
		switch c.in[c.pos] {
		case ' ', '\t', '\n', '\r':
			c.pos++
		default:
			return
		}
	}
}

func (c *canonicalizer) value() bool {
	c.space()
	if c.pos >= len(c.in) {
		return false
	}
	switch b := c.in[c.pos]; {
	case b == '{':
		return c.object()
	case b == '[':
		return c.array()
	case b == '"':
		return c.str()
	case b == 't':
		return c.literal("true")
	case b == 'f':
		return c.literal("false")
	case b == 'n':
		return c.literal("null")
	case b == '-' || (b >= '0' && b <= '9'):
		return c.number()
	}
	return false
}

func (c *canonicalizer) literal(lit string) bool {
	if !bytes.HasPrefix(c.in[c.pos:], []byte(lit)) {
		return false
	}
	c.out = append(c.out, lit...)
	c.pos += len(lit)
	return true
}

// str copies a string that Marshal would write back byte for byte.
func (c *canonicalizer) str() bool {
	start := c.pos
	c.pos++
	high := false
	for c.pos < len(c.in) {
		b := c.in[c.pos]
		switch {
		case b == '"':
			s := c.in[start+1 : c.pos]
			if high && (!utf8.Valid(s) || bytes.Contains(s, []byte("\u2028")) || bytes.Contains(s, []byte("\u2029"))) {
				return false
			}
			c.pos++
			c.out = append(c.out, c.in[start:c.pos]...)
			return true
		case b == '\\' || b < 0x20 || b == '<' || b == '>' || b == '&':
			return false
		case b >= 0x80:
			high = true
		}
		c.pos++
	}
	return false
}

// number copies a number literal of JSON's grammar; Marshal writes a json.Number as it is.
func (c *canonicalizer) number() bool {
	start := c.pos
	digits := func() int {
		n := 0
		for c.pos < len(c.in) && c.in[c.pos] >= '0' && c.in[c.pos] <= '9' {
			c.pos++
			n++
		}
		return n
	}
	if c.in[c.pos] == '-' {
		c.pos++
	}
	if c.pos >= len(c.in) {
		return false
	}
	if c.in[c.pos] == '0' {
		c.pos++
	} else if digits() == 0 {
		return false
	}
	if c.pos < len(c.in) && c.in[c.pos] == '.' {
		c.pos++
		if digits() == 0 {
			return false
		}
	}
	if c.pos < len(c.in) && (c.in[c.pos] == 'e' || c.in[c.pos] == 'E') {
		c.pos++
		if c.pos < len(c.in) && (c.in[c.pos] == '+' || c.in[c.pos] == '-') {
			c.pos++
		}
		if digits() == 0 {
			return false
		}
	}
	c.out = append(c.out, c.in[start:c.pos]...)
	return true
}

func (c *canonicalizer) array() bool {
	c.pos++
	c.out = append(c.out, '[')
	c.space()
	if c.pos < len(c.in) && c.in[c.pos] == ']' {
		c.pos++
		c.out = append(c.out, ']')
		return true
	}
	for {
		if !c.value() {
			return false
		}
		c.space()
		if c.pos >= len(c.in) {
			return false
		}
		switch c.in[c.pos] {
		case ',':
			c.pos++
			c.out = append(c.out, ',')
		case ']':
			c.pos++
			c.out = append(c.out, ']')
			return true
		default:
			return false
		}
	}
}

// object renders the members in input order, then sorts their rendered spans by key (as Marshal
// sorts a map's keys: bytewise, and the keys have no escapes) and rewrites them in place.
func (c *canonicalizer) object() bool {
	c.pos++
	c.out = append(c.out, '{')
	body := len(c.out)
	c.space()
	if c.pos < len(c.in) && c.in[c.pos] == '}' {
		c.pos++
		c.out = append(c.out, '}')
		return true
	}
	base := len(c.members)
	for {
		c.space()
		if c.pos >= len(c.in) || c.in[c.pos] != '"' {
			return false
		}
		m := member{start: len(c.out), keyStart: len(c.out) + 1}
		if !c.str() {
			return false
		}
		m.keyEnd = len(c.out) - 1
		c.space()
		if c.pos >= len(c.in) || c.in[c.pos] != ':' {
			return false
		}
		c.pos++
		c.out = append(c.out, ':')
		if !c.value() {
			return false
		}
		m.end = len(c.out)
		c.members = append(c.members, m)
		c.space()
		if c.pos >= len(c.in) {
			return false
		}
		if c.in[c.pos] == ',' {
			c.pos++
			c.out = append(c.out, ',')
			continue
		}
		if c.in[c.pos] != '}' {
			return false
		}
		c.pos++
		break
	}
	ms := c.members[base:]
	key := func(m member) []byte { return c.out[m.keyStart:m.keyEnd] }
	sorted := slices.IsSortedFunc(ms, func(a, b member) int { return bytes.Compare(key(a), key(b)) })
	if !sorted {
		slices.SortFunc(ms, func(a, b member) int { return bytes.Compare(key(a), key(b)) })
	}
	for i := 1; i < len(ms); i++ {
		if bytes.Equal(key(ms[i-1]), key(ms[i])) {
			return false // a duplicate key: the decoder keeps the last one
		}
	}
	if !sorted {
		buf := make([]byte, 0, len(c.out)-body)
		for i, m := range ms {
			if i > 0 {
				buf = append(buf, ',')
			}
			buf = append(buf, c.out[m.start:m.end]...)
		}
		c.out = append(c.out[:body], buf...)
	}
	c.members = c.members[:base]
	c.out = append(c.out, '}')
	return true
}
