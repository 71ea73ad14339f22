package jml

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/gatehouse/gatehouse"
)

// columnLimits are the one-line contract columns and their length limits (docs/hr.md, "Text
// rules"). Any other column is an attribute: free text up to gatehouse.MaxAttributeLength.
var columnLimits = map[string]int{
	"employee_id":     gatehouse.MaxIDLength,
	"email":           gatehouse.MaxEmailLength,
	"first_name":      gatehouse.MaxNameLength,
	"last_name":       gatehouse.MaxNameLength,
	"department":      gatehouse.MaxNameLength,
	"title":           gatehouse.MaxNameLength,
	"manager_id":      gatehouse.MaxIDLength,
	"location":        gatehouse.MaxNameLength,
	"employment_type": gatehouse.MaxIDLength,
	"status":          gatehouse.MaxIDLength,
	"start_date":      gatehouse.MaxIDLength,
	"end_date":        gatehouse.MaxIDLength,
}

// checkText reports, by line and column, the values of a row that no identity may hold: a NUL
// byte, a control character in a one-line field (a line break in a first name would forge a
// line wherever the name is printed), or more characters than the column's limit. The same
// rules hold for identities from the API and SCIM (gatehouse.Identity.Validate).
func (b *feedBuilder) checkText(line int, vals []string) {
	for i, v := range vals {
		if i >= len(b.cols) {
			break
		}
		col := b.cols[i]
		var err error
		if max, ok := columnLimits[col]; ok {
			err = gatehouse.CheckLine(col, v, max)
		} else if err = gatehouse.CheckLine(col, col, gatehouse.MaxIDLength); err == nil {
			err = gatehouse.CheckText(col, v, gatehouse.MaxAttributeLength)
		} else if b.badName[i] {
			continue // reported at the first row that has the column
		} else {
			// An extra column is an attribute name, stored with every row's value, empty ones
			// too: a bad name is refused once, whatever the values.
			if b.badName == nil {
				b.badName = map[int]bool{}
			}
			b.badName[i] = true
			b.probs.add(Problem{Line: line, Field: printableField(col), Message: "the column name " + strings.TrimPrefix(gatehouse.ErrorMessage(err), col+": ")})
			continue
		}
		if err != nil {
			b.probs.add(Problem{Line: line, Field: printableField(col), Message: strings.TrimPrefix(gatehouse.ErrorMessage(err), col+": ")})
		}
	}
}

// printableField is a column name fit to show in a problem, whatever bytes it holds.
func printableField(s string) string {
	if gatehouse.CheckLine("", s, gatehouse.MaxIDLength) == nil {
		return s
	}
	q := fmt.Sprintf("%q", s)
	return q[1 : len(q)-1]
}

// errNotUTF8 is what a utf8Reader fails with.
var errNotUTF8 = errors.New("not valid UTF-8 (save the file as UTF-8)")

// utf8Reader fails at the first byte sequence that is not UTF-8. encoding/json would turn such
// bytes into U+FFFD without a word, so a JSON feed is read through one; the CSV reader checks
// each value itself.
type utf8Reader struct {
	r       io.Reader
	pending []byte // an incomplete rune at the end of the last read
	off     int64
}

func (u *utf8Reader) Read(p []byte) (int, error) {
	n, err := u.r.Read(p)
	buf := append(u.pending, p[:n]...)
	i := 0
	for i < len(buf) {
		if buf[i] < utf8.RuneSelf {
			i++
			continue
		}
		if !utf8.FullRune(buf[i:]) {
			if err == nil {
				break // the rest of the rune comes with the next read
			}
			return 0, fmt.Errorf("byte %d: %w", u.off+int64(i), errNotUTF8)
		}
		c, size := utf8.DecodeRune(buf[i:])
		if c == utf8.RuneError && size == 1 {
			return 0, fmt.Errorf("byte %d: %w", u.off+int64(i), errNotUTF8)
		}
		i += size
	}
	u.off += int64(i)
	u.pending = append(u.pending[:0:0], buf[i:]...)
	return n, err
}

// notUTF8In is notUTF8 naming the column of the value, when the row has one there.
func notUTF8In(name string, line int, cols []string, i int) Problems {
	probs := notUTF8(name, line)
	if i < len(cols) {
		probs[0].Field = printableField(cols[i])
	}
	return probs
}
