package jml

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gatehouse/gatehouse"
)

// Columns are the HR feed's contract columns (docs/hr.md), in contract order. All are required in
// the header; any other column is kept as an identity attribute.
var Columns = []string{"employee_id", "email", "first_name", "last_name", "department", "title",
	"manager_id", "location", "employment_type", "status", "start_date", "end_date"}

// Source is the identity source of people created by an HR import.
const Source = "hr-csv"

// Problem is one thing wrong with an HR file (the domain's one problem shape). Line is the
// file's line (the header is line 1); for a JSON array it is the 1-based position of the object.
type Problem = gatehouse.Problem

// ProblemText renders an HR problem as HR files' problems are written (docs/hr.md):
// "file: line N: field: message". It says "line N" rather than "file:N" because a row of a
// spreadsheet, or an object of a JSON array, is what a person looks for, not an editor position.
func ProblemText(p Problem) string {
	var b strings.Builder
	if p.File != "" {
		b.WriteString(p.File)
		b.WriteString(": ")
	}
	if p.Line > 0 {
		b.WriteString("line ")
		b.WriteString(strconv.Itoa(p.Line))
		b.WriteString(": ")
	}
	if p.Field != "" {
		b.WriteString(p.Field)
		b.WriteString(": ")
	}
	b.WriteString(p.Message)
	return b.String()
}

// Problems is every problem of a rejected HR file. It reads as a *gatehouse.Error with code
// EINVALID under errors.As, so the API and CLI map it like any invalid input.
type Problems []Problem

// Error lists the problems one per line, by line.
func (ps Problems) Error() string {
	lines := make([]string, len(ps))
	for i, p := range ps {
		lines[i] = ProblemText(p)
	}
	return strings.Join(lines, "\n")
}

// List returns the problems as the domain's list, for whoever reports them (the API's error
// details).
func (ps Problems) List() []gatehouse.Problem { return ps }

// As lets errors.As see Problems as a *gatehouse.Error (code EINVALID).
func (ps Problems) As(target any) bool {
	if t, ok := target.(**gatehouse.Error); ok {
		*t = &gatehouse.Error{Code: gatehouse.EINVALID, Message: fmt.Sprintf("HR file has %d problem(s); nothing was imported:\n%s", len(ps), ps.Error())}
		return true
	}
	return false
}

// maxProblems bounds the problems listed for one file: a file that is wrong on every row (a
// wrong delimiter, say) must not answer with a message as large as itself.
const maxProblems = 1000

// ParseHR reads an HR feed CSV (header row, UTF-8, a BOM tolerated) into identities, in file
// order. Any problem rejects the whole file: the error is Problems listing all of them, each
// prefixed with name. The identities have Kind person and Source "hr-csv"; extra columns are in
// Attributes. Large feeds are read with ReadHR, which keeps them compact.
func ParseHR(name string, r io.Reader) ([]*gatehouse.Identity, error) {
	f, err := ReadHR(name, r)
	if err != nil {
		return nil, err
	}
	return f.Identities(), nil
}

// ParseHRJSON reads the JSON form of the feed: an array of objects whose keys are the CSV column
// names (string values; null or a missing key is an empty value). It is checked exactly as
// ParseHR checks a CSV; "line N" in a problem is the Nth object.
func ParseHRJSON(name string, r io.Reader) ([]*gatehouse.Identity, error) {
	f, err := ReadHRJSON(name, r)
	if err != nil {
		return nil, err
	}
	return f.Identities(), nil
}

// ReadOptions tune how a feed is read.
type ReadOptions struct {
	// Delta: the file lists only the people who change (gatehouse hr import --delta), so a
	// manager_id that is no row's employee_id is not an error here: it names a stored person,
	// which the caller checks (Feed.OutsideManagers, CheckDeltaManagers).
	Delta bool
}

// ReadHR reads an HR feed CSV as ParseHR does, a record at a time: the file is never held
// whole, and each row is kept as a Feed row (its values end to end in one string), not as an
// identity. Memory is about the size of the values plus a few dozen bytes a row.
func ReadHR(name string, r io.Reader) (*Feed, error) {
	return ReadHRWith(name, r, ReadOptions{})
}

// ReadHRWith is ReadHR with options (a delta file).
func ReadHRWith(name string, r io.Reader, o ReadOptions) (*Feed, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	if bom, _ := br.Peek(3); bytes.Equal(bom, []byte("\xef\xbb\xbf")) {
		_, _ = br.Discard(3)
	}
	cr := csv.NewReader(br)
	cr.FieldsPerRecord = -1 // checked here, to report the line instead of stopping at it
	cr.ReuseRecord = true
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil, Problems{{File: name, Line: 1, Field: "header", Message: "the file is empty; a header row is required"}}
	}
	if err != nil {
		return nil, Problems{{File: name, Line: 1, Field: "header", Message: csvMessage(err)}}
	}
	for _, h := range header {
		if !utf8.ValidString(h) {
			return nil, notUTF8(name, 1)
		}
	}
	if len(header) > maxColumns {
		return nil, Problems{{File: name, Line: 1, Field: "header", Message: fmt.Sprintf("%d columns; at most %d", len(header), maxColumns)}}
	}
	cols := make([]string, len(header))
	for i, h := range header {
		cols[i] = strings.ToLower(strings.TrimSpace(h))
	}
	if p := checkHeader(cols); len(p) > 0 {
		probs := make(Problems, 0, len(p))
		for _, x := range p {
			x.File = name
			probs = append(probs, x)
		}
		return nil, probs
	}
	b := newFeedBuilder(name, cols, o)
	vals := make([]string, len(cols))
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			line := 0
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				line = pe.StartLine
			}
			b.problem(Problem{Line: line, Message: csvMessage(err)})
			// A quoting error leaves the reader mid-field; what follows cannot be trusted.
			return nil, b.probs.list(name)
		}
		line, _ := cr.FieldPos(0)
		for i, v := range rec {
			if !utf8.ValidString(v) {
				// Usually a file saved as Latin-1 or UTF-16: one problem says it all.
				l, _ := cr.FieldPos(i)
				return nil, notUTF8In(name, l, cols, i) // text.go: names the column
			}
		}
		if len(rec) != len(cols) {
			b.problem(Problem{Line: line, Message: fmt.Sprintf("row has %d fields, the header has %d", len(rec), len(cols))})
			continue
		}
		for i, v := range rec {
			vals[i] = strings.TrimSpace(v)
		}
		b.add(line, vals)
	}
	return b.finish()
}

func notUTF8(name string, line int) Problems {
	return Problems{{File: name, Line: line, Message: "not valid UTF-8 (save the file as UTF-8)"}}
}

// ReadHRJSON reads the JSON form of the feed as ParseHRJSON does, an object at a time, into a
// Feed.
func ReadHRJSON(name string, r io.Reader) (*Feed, error) {
	return ReadHRJSONWith(name, r, ReadOptions{})
}

// ReadHRJSONWith is ReadHRJSON with options (a delta file).
func ReadHRJSONWith(name string, r io.Reader, o ReadOptions) (*Feed, error) {
	// utf8Reader (text.go): the decoder would hide bytes that are not UTF-8 as U+FFFD.
	dec := json.NewDecoder(&utf8Reader{r: r})
	dec.UseNumber() // an employee_id sent as a number keeps its digits (1000000, not 1e+06)
	notArray := func(err error) error {
		return Problems{{File: name, Message: fmt.Sprintf("not a JSON array of objects: %v", err)}}
	}
	tok, err := dec.Token()
	if err != nil {
		return nil, notArray(err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '[' {
		return nil, notArray(fmt.Errorf("starts with %v", tok))
	}
	// The contract columns come first, in contract order; other keys are added as they are met
	// (a row read before a key was first seen has "" for it, as a missing key has).
	b := newFeedBuilder(name, slices.Clone(Columns), o)
	var vals []string
	for n := 1; dec.More(); n++ {
		var o map[string]any
		if err := dec.Decode(&o); err != nil {
			return nil, notArray(err)
		}
		vals = vals[:0]
		for range b.cols {
			vals = append(vals, "")
		}
		for k, v := range o {
			k = strings.ToLower(strings.TrimSpace(k))
			var s string
			switch v := v.(type) {
			case nil:
			case string:
				s = strings.TrimSpace(v)
			case json.Number:
				s = v.String()
			case bool:
				s = fmt.Sprint(v)
			default:
				b.problem(Problem{Line: n, Field: k, Message: "must be a string"})
				continue
			}
			c := b.column(k)
			if c < 0 {
				return nil, Problems{{File: name, Line: n, Field: k, Message: fmt.Sprintf("more than %d different keys in the file", maxColumns)}}
			}
			for len(vals) <= c {
				vals = append(vals, "")
			}
			vals[c] = s
		}
		b.add(n, vals)
	}
	if _, err := dec.Token(); err != nil {
		return nil, notArray(err)
	}
	return b.finish()
}

func csvMessage(err error) string {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return "CSV: " + pe.Err.Error()
	}
	return "CSV: " + err.Error()
}

// checkHeader reports missing contract columns, duplicates and empty column names.
func checkHeader(cols []string) []Problem {
	var probs []Problem
	seen := map[string]bool{}
	for i, c := range cols {
		switch {
		case c == "":
			probs = append(probs, Problem{Line: 1, Field: "header", Message: fmt.Sprintf("column %d has no name", i+1)})
		case seen[c]:
			probs = append(probs, Problem{Line: 1, Field: "header", Message: fmt.Sprintf("column %q appears twice", c)})
		}
		seen[c] = true
	}
	for _, c := range Columns {
		if !seen[c] {
			probs = append(probs, Problem{Line: 1, Field: "header", Message: fmt.Sprintf("required column %q is missing", c)})
		}
	}
	return probs
}

var contract = func() map[string]bool {
	m := map[string]bool{}
	for _, c := range Columns {
		m[c] = true
	}
	return m
}()

// problemList collects a file's problems, at most maxProblems of them.
type problemList struct {
	probs   Problems
	dropped int
}

func (l *problemList) add(p Problem) {
	if len(l.probs) < maxProblems {
		l.probs = append(l.probs, p)
		return
	}
	l.dropped++
}

// list returns the problems by line, each prefixed with the file name.
func (l *problemList) list(name string) Problems {
	for i := range l.probs {
		l.probs[i].File = name
	}
	sortProblems(l.probs)
	if l.dropped > 0 {
		l.probs = append(l.probs, Problem{File: name, Message: fmt.Sprintf("%d more problems are not listed; correct these first", l.dropped)})
	}
	return l.probs
}

// feedBuilder checks each row as it is read and packs it into the Feed; the references between
// rows (managers) are checked once every row is in.
type feedBuilder struct {
	name    string
	cols    []string
	colIdx  map[string]int
	f       *Feed
	byEmail map[string]int32 // lowercased email → row, only while reading
	probs   problemList
	badName map[int]bool // columns whose name is no attribute name, reported once
}

func newFeedBuilder(name string, cols []string, o ReadOptions) *feedBuilder {
	b := &feedBuilder{name: name, colIdx: map[string]int{}, f: &Feed{byEmp: map[string]int32{}, delta: o.Delta, name: name}, byEmail: map[string]int32{}}
	for _, c := range cols {
		b.column(c)
	}
	return b
}

// column returns the index of column c, adding it if it is new (a JSON key first met).
func (b *feedBuilder) column(c string) int {
	if i, ok := b.colIdx[c]; ok {
		return i
	}
	if len(b.cols) >= maxColumns {
		return -1
	}
	i := len(b.cols)
	b.cols = append(b.cols, c)
	b.colIdx[c] = i
	if k := slices.Index(Columns, c); k >= 0 {
		b.f.at[k] = i
	} else if c != "" {
		b.f.extra = append(b.f.extra, i)
	}
	return i
}

func (b *feedBuilder) problem(p Problem) { b.probs.add(p) }

// add checks one row's values (by column index) and keeps it.
func (b *feedBuilder) add(line int, vals []string) {
	f := b.f
	add := func(field, format string, args ...any) {
		b.probs.add(Problem{Line: line, Field: field, Message: fmt.Sprintf(format, args...)})
	}
	b.checkText(line, vals) // text.go: NULs, control characters, lengths
	size := 0
	for _, v := range vals {
		size += len(v)
	}
	if size > maxRowBytes-2-2*len(vals) {
		add("", "the row is longer than %d bytes", maxRowBytes-2-2*len(vals))
		return
	}
	n := f.pack(line, vals)
	v := func(c int) string { return f.value(n, f.at[c]) }
	emp, email := v(colEmployeeID), v(colEmail)
	switch prev, dup := f.byEmp[emp]; {
	case emp == "":
		add("employee_id", "required")
	case dup:
		add("employee_id", "%q duplicates line %d", emp, f.line(int(prev)))
	default:
		f.byEmp[emp] = int32(n)
	}
	key := strings.ToLower(email)
	switch prev, dup := b.byEmail[key]; {
	case email == "":
		add("email", "required")
	case !gatehouse.ValidEmail(email):
		add("email", "%q is not a valid email address", email)
	case dup:
		add("email", "%q duplicates line %d (emails are compared ignoring case)", email, f.line(int(prev)))
	default:
		b.byEmail[key] = int32(n)
	}
	if et := gatehouse.EmploymentType(v(colEmploymentType)); !et.Valid() {
		add("employment_type", "%q is not one of employee, contractor, intern", et)
	}
	if st := gatehouse.IdentityStatus(v(colStatus)); !st.Valid() {
		add("status", "%q is not one of active, leave, terminated", st)
	}
	startDate, endDate := v(colStartDate), v(colEndDate)
	start, startOK := checkDate(startDate)
	if startDate == "" {
		add("start_date", "required (YYYY-MM-DD)")
	} else if !startOK {
		add("start_date", "%q is not a date (YYYY-MM-DD)", startDate)
	}
	if endDate != "" {
		end, ok := checkDate(endDate)
		switch {
		case !ok:
			add("end_date", "%q is not a date (YYYY-MM-DD)", endDate)
		case startOK && end.Before(start):
			add("end_date", "%s is before start_date %s", endDate, startDate)
		}
	}
}

// finish checks the manager references, once every employee_id is known (a manager may come
// after a report), and returns the feed or every problem.
func (b *feedBuilder) finish() (*Feed, error) {
	f := b.f
	b.byEmail = nil
	f.cols = b.cols
	hinted := false
	for n := range f.n {
		mgr, emp := f.value(n, f.at[colManagerID]), f.value(n, f.at[colEmployeeID])
		if mgr == "" {
			continue
		}
		if mgr == emp {
			b.probs.add(Problem{Line: f.line(n), Field: "manager_id", Message: fmt.Sprintf("%q is the person themselves", mgr)})
			continue
		}
		if _, ok := f.byEmp[mgr]; ok {
			continue
		}
		if f.delta {
			// A stored person, perhaps: the caller knows them (CheckDeltaManagers).
			f.outside = append(f.outside, int32(n))
			continue
		}
		msg := fmt.Sprintf("%q is not the employee_id of any row", mgr)
		if !hinted {
			// Said once, at the first such row: the usual cause is a file of changes only.
			msg += ": " + SnapshotHint
			hinted = true
		}
		b.probs.add(Problem{Line: f.line(n), Field: "manager_id", Message: msg})
	}
	for _, p := range managerCycles(f) {
		b.probs.add(p)
	}
	if len(b.probs.probs) > 0 {
		return nil, b.probs.list(b.name)
	}
	return f, nil
}

func checkDate(s string) (time.Time, bool) {
	t, err := time.Parse(gatehouse.DateLayout, s)
	return t, err == nil
}

// managerCycles finds every cycle in the manager graph (each row has at most one manager, so a
// walk per row with colouring finds each cycle once) and reports it at the line of its member
// that comes first in the file, naming the whole cycle.
func managerCycles(f *Feed) []Problem {
	const (
		unseen = iota
		onPath
		done
	)
	emp := func(n int) string { return f.value(n, f.at[colEmployeeID]) }
	mgr := func(n int) string { return f.value(n, f.at[colManagerID]) }
	state := make([]uint8, f.n)
	var probs []Problem
	var path []int
	for start := range f.n {
		if state[start] != unseen {
			continue
		}
		path = path[:0]
		n := start
		for {
			if state[n] == done {
				break
			}
			if state[n] == onPath {
				// n..end of path is a cycle.
				i := slices.Index(path, n)
				cyc := path[i:]
				first := slices.MinFunc(cyc, func(a, b int) int { return f.line(a) - f.line(b) })
				j := slices.Index(cyc, first)
				names := make([]string, 0, len(cyc)+1)
				for k := range cyc {
					names = append(names, emp(cyc[(j+k)%len(cyc)]))
				}
				names = append(names, emp(first))
				if len(cyc) > 1 { // a self-reference is reported on its own
					probs = append(probs, Problem{Line: f.line(first), Field: "manager_id",
						Message: "manager cycle: " + strings.Join(names, " → ")})
				}
				break
			}
			state[n] = onPath
			path = append(path, n)
			m, ok := f.byEmp[mgr(n)]
			// A duplicate row owns no employee id, so the walk does not follow its manager twice.
			if owner, own := f.byEmp[emp(n)]; mgr(n) == "" || !ok || !own || int(owner) != n {
				break
			}
			n = int(m)
		}
		for _, k := range path {
			state[k] = done
		}
	}
	return probs
}

func sortProblems(ps Problems) {
	slices.SortStableFunc(ps, func(a, b Problem) int { return a.Line - b.Line })
}
