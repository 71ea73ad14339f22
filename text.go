package gatehouse

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Length limits of text fields, in characters (Unicode code points), documented in docs/api.md
// under "Limits". They keep one record from carrying a megabyte of prose into every page, log
// line and audit event that shows it.
const (
	MaxEmailLength       = 254  // RFC 5321's limit on a forward path
	MaxIDLength          = 128  // employee_id, manager_id, ids and references
	MaxNameLength        = 200  // first and last names, department, title, location, names
	MaxAttributeLength   = 1000 // a value of an extra HR column (attributes)
	MaxDescriptionLength = 2000 // descriptions (tokens, catalog objects)
	MaxReasonLength      = 4000 // reasons, justifications, comments and notes
)

// CheckBytes refuses a value that PostgreSQL cannot store and no person means: a NUL byte or
// bytes that are not UTF-8. field names the value in the error ("first_name: contains a NUL
// byte"). Every input boundary (API, SCIM, UI, HR feed) applies it to every value it reads.
func CheckBytes(field, s string) error {
	if !utf8.ValidString(s) {
		return Errorf(EINVALID, "%s: is not valid UTF-8", field)
	}
	if strings.IndexByte(s, 0) >= 0 {
		return Errorf(EINVALID, "%s: contains a NUL byte", field)
	}
	return nil
}

// CheckLine checks a one-line value (an email, an id, a name): valid UTF-8, no control
// character at all (no line break, tab or terminal escape) and no bidirectional override, which
// could make a listing show something other than what is stored; and at most max characters.
func CheckLine(field, s string, max int) error {
	if err := CheckBytes(field, s); err != nil {
		return err
	}
	for _, c := range s {
		if isControl(c) || isBidiControl(c) {
			return Errorf(EINVALID, "%s: contains the control character %U", field, c)
		}
	}
	return checkLength(field, s, max)
}

// CheckText checks free text (a reason, a justification, a comment): valid UTF-8, no control
// character other than tab and line breaks, and at most max characters.
func CheckText(field, s string, max int) error {
	if err := CheckBytes(field, s); err != nil {
		return err
	}
	for _, c := range s {
		if isControl(c) && c != '\t' && c != '\n' && c != '\r' {
			return Errorf(EINVALID, "%s: contains the control character %U", field, c)
		}
	}
	return checkLength(field, s, max)
}

func checkLength(field, s string, max int) error {
	if max > 0 && len(s) > max { // bytes ≥ characters: count only when it may matter
		if n := utf8.RuneCountInString(s); n > max {
			return Errorf(EINVALID, "%s: is %d characters long; the limit is %d", field, n, max)
		}
	}
	return nil
}

// isControl reports C0 and C1 control characters and DEL: the characters a terminal acts on.
func isControl(c rune) bool { return c < 0x20 || c >= 0x7f && c < 0xa0 }

// isBidiControl reports the Unicode bidirectional embedding, override and isolate characters
// (and the line and paragraph separators): invisible, and able to reorder what is displayed.
func isBidiControl(c rune) bool {
	return c >= 0x202a && c <= 0x202e || c >= 0x2066 && c <= 0x2069 || c == 0x2028 || c == 0x2029 ||
		c == 0x200e || c == 0x200f || c == 0x061c
}

// CheckJSON refuses a JSON document in which a string (a value or a member name) holds a NUL
// (raw or escaped as \u0000) or bytes that are not UTF-8, naming the string by its path
// ("first_name", "attributes.cost_center", "members[2].value"). encoding/json would silently
// turn such bytes into U+FFFD, so the check reads the raw bytes. Any other malformation is left
// to the decoder that reads the document afterwards, which says it better.
func CheckJSON(raw []byte) error {
	if utf8.Valid(raw) && bytes.IndexByte(raw, 0) < 0 && !bytes.Contains(raw, []byte(`\u0000`)) {
		return nil // the common case: nothing to look for
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var stack []*jsonFrame
	path := func() string {
		var b strings.Builder
		for _, f := range stack {
			if f.object {
				if f.key == "" {
					continue
				}
				if b.Len() > 0 {
					b.WriteByte('.')
				}
				b.WriteString(f.key)
			} else {
				b.WriteString("[" + strconv.Itoa(f.index) + "]")
			}
		}
		if b.Len() == 0 {
			return "body"
		}
		return b.String()
	}
	prev := int64(0)
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			// A raw NUL in a string is a syntax error. When it sits in the next string, name
			// where; anything else is left to the decoder.
			rest := raw[prev:]
			if i := bytes.IndexByte(rest, 0); i >= 0 && bytes.Count(rest[:i], []byte(`"`))-bytes.Count(rest[:i], []byte(`\"`)) <= 1 {
				return Errorf(EINVALID, "%s: contains a NUL byte", path())
			}
			return nil
		}
		off := dec.InputOffset()
		seg := raw[prev:off]
		prev = off
		var top *jsonFrame
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		s, isString := tok.(string)
		isKey := isString && top != nil && top.object && top.wantKey
		if isString {
			if isKey {
				top.key = s
			}
			where := path()
			if isKey {
				where += " (member name)"
			}
			if !utf8.Valid(seg) {
				return Errorf(EINVALID, "%s: is not valid UTF-8", where)
			}
			if strings.IndexByte(s, 0) >= 0 {
				return Errorf(EINVALID, "%s: contains a NUL byte", where)
			}
		}
		if isKey {
			top.wantKey = false
			continue
		}
		switch tok {
		case json.Delim('{'):
			stack = append(stack, &jsonFrame{object: true, wantKey: true})
			continue
		case json.Delim('['):
			stack = append(stack, &jsonFrame{index: 0})
			continue
		case json.Delim('}'), json.Delim(']'):
			stack = stack[:len(stack)-1]
		}
		// A value ended: the enclosing object wants its next key, the array its next index.
		if len(stack) > 0 {
			if t := stack[len(stack)-1]; t.object {
				t.wantKey, t.key = true, ""
			} else {
				t.index++
			}
		}
	}
}

// jsonFrame is one open object or array while CheckJSON walks a document.
type jsonFrame struct {
	object  bool
	wantKey bool
	key     string
	index   int
}
