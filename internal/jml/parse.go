package jml

import (
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

// Columns are the HR feed's contract columns (DESIGN.md), in contract order. All are required in
// the header; any other column is kept as an identity attribute.
var Columns = []string{"employee_id", "email", "first_name", "last_name", "department", "title",
	"manager_id", "location", "employment_type", "status", "start_date", "end_date"}

// Source is the identity source of people created by an HR import.
const Source = "hr-csv"

// Problem is one thing wrong with an HR file: "file: line N: field: message". Line is the
// file's line (the header is line 1); for a JSON array it is the 1-based position of the object.
type Problem struct {
	File    string `json:"file,omitempty"`
	Line    int    `json:"line"`
	Field   string `json:"field,omitempty"`
	Message string `json:"message"`
}

func (p Problem) String() string {
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
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}

// As lets errors.As see Problems as a *gatehouse.Error (code EINVALID).
func (ps Problems) As(target any) bool {
	if t, ok := target.(**gatehouse.Error); ok {
		*t = &gatehouse.Error{Code: gatehouse.EINVALID, Message: fmt.Sprintf("HR file has %d problem(s); nothing was imported:\n%s", len(ps), ps.Error())}
		return true
	}
	return false
}

// row is one record of the feed, whatever its encoding, with the line it came from.
type row struct {
	line   int
	values map[string]string // column → trimmed value
}

// ParseHR reads an HR feed CSV (header row, UTF-8, a BOM tolerated) into identities, in file
// order. Any problem rejects the whole file: the error is Problems listing all of them, each
// prefixed with name. The identities have Kind person and Source "hr-csv"; extra columns are in
// Attributes.
func ParseHR(name string, r io.Reader) ([]*gatehouse.Identity, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	if !utf8.Valid(data) {
		// Report the line of the first bad byte: usually a file saved as Latin-1 or UTF-16.
		bad := len(data)
		for i := 0; i < len(data); {
			c, size := utf8.DecodeRune(data[i:])
			if c == utf8.RuneError && size == 1 {
				bad = i
				break
			}
			i += size
		}
		return nil, Problems{{File: name, Line: bytes.Count(data[:bad], []byte("\n")) + 1, Message: "not valid UTF-8 (save the file as UTF-8)"}}
	}
	cr := csv.NewReader(bytes.NewReader(data))
	cr.FieldsPerRecord = -1 // checked here, to report the line instead of stopping at it
	cr.ReuseRecord = true
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil, Problems{{File: name, Line: 1, Field: "header", Message: "the file is empty; a header row is required"}}
	}
	if err != nil {
		return nil, Problems{{File: name, Line: 1, Field: "header", Message: csvMessage(err)}}
	}
	cols := make([]string, len(header))
	for i, h := range header {
		cols[i] = strings.ToLower(strings.TrimSpace(h))
	}
	var probs Problems
	if p := checkHeader(cols); len(p) > 0 {
		for _, x := range p {
			x.File = name
			probs = append(probs, x)
		}
		return nil, probs
	}
	var rows []row
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
			probs = append(probs, Problem{File: name, Line: line, Message: csvMessage(err)})
			// A quoting error leaves the reader mid-field; what follows cannot be trusted.
			return nil, probs
		}
		line, _ := cr.FieldPos(0)
		if len(rec) != len(cols) {
			probs = append(probs, Problem{File: name, Line: line, Message: fmt.Sprintf("row has %d fields, the header has %d", len(rec), len(cols))})
			continue
		}
		vals := make(map[string]string, len(cols))
		for i, c := range cols {
			vals[c] = strings.TrimSpace(rec[i])
		}
		rows = append(rows, row{line: line, values: vals})
	}
	ids, rp := buildIdentities(rows, cols)
	for _, p := range rp {
		p.File = name
		probs = append(probs, p)
	}
	if len(probs) > 0 {
		sortProblems(probs)
		return nil, probs
	}
	return ids, nil
}

// ParseHRJSON reads the JSON form of the feed: an array of objects whose keys are the CSV column
// names (string values; null or a missing key is an empty value). It is checked exactly as
// ParseHR checks a CSV; "line N" in a problem is the Nth object.
func ParseHRJSON(name string, r io.Reader) ([]*gatehouse.Identity, error) {
	var objs []map[string]any
	dec := json.NewDecoder(r)
	dec.UseNumber() // an employee_id sent as a number keeps its digits (1000000, not 1e+06)
	if err := dec.Decode(&objs); err != nil {
		return nil, Problems{{File: name, Message: fmt.Sprintf("not a JSON array of objects: %v", err)}}
	}
	colSet := map[string]bool{}
	for _, c := range Columns {
		colSet[c] = true
	}
	var probs Problems
	rows := make([]row, 0, len(objs))
	for n, o := range objs {
		vals := make(map[string]string, len(o))
		for k, v := range o {
			k = strings.ToLower(strings.TrimSpace(k))
			switch v := v.(type) {
			case nil:
				vals[k] = ""
			case string:
				vals[k] = strings.TrimSpace(v)
			case json.Number:
				vals[k] = v.String()
			case bool:
				vals[k] = fmt.Sprint(v)
			default:
				probs = append(probs, Problem{File: name, Line: n + 1, Field: k, Message: "must be a string"})
			}
			colSet[k] = true
		}
		rows = append(rows, row{line: n + 1, values: vals})
	}
	cols := make([]string, 0, len(colSet))
	for c := range colSet {
		cols = append(cols, c)
	}
	slices.Sort(cols)
	for _, rw := range rows {
		for _, c := range cols {
			if _, ok := rw.values[c]; !ok {
				rw.values[c] = ""
			}
		}
	}
	ids, rp := buildIdentities(rows, cols)
	for _, p := range rp {
		p.File = name
		probs = append(probs, p)
	}
	if len(probs) > 0 {
		sortProblems(probs)
		return nil, probs
	}
	return ids, nil
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

// buildIdentities checks every row and the references between rows, and returns the identities
// when there is no problem.
func buildIdentities(rows []row, cols []string) ([]*gatehouse.Identity, []Problem) {
	var probs []Problem
	add := func(line int, field, format string, args ...any) {
		probs = append(probs, Problem{Line: line, Field: field, Message: fmt.Sprintf(format, args...)})
	}
	var extra []string
	for _, c := range cols {
		if !contract[c] && c != "" {
			extra = append(extra, c)
		}
	}
	byEmp := make(map[string]int, len(rows))   // employee_id → index in rows
	byEmail := make(map[string]int, len(rows)) // lowercased email → index
	ids := make([]*gatehouse.Identity, len(rows))
	for n, rw := range rows {
		v := rw.values
		id := &gatehouse.Identity{
			EmployeeID: v["employee_id"], Email: v["email"], FirstName: v["first_name"], LastName: v["last_name"],
			Department: v["department"], Title: v["title"], ManagerID: v["manager_id"], Location: v["location"],
			EmploymentType: gatehouse.EmploymentType(v["employment_type"]), Status: gatehouse.IdentityStatus(v["status"]),
			StartDate: v["start_date"], EndDate: v["end_date"], Kind: gatehouse.KindPerson, Source: Source,
		}
		if len(extra) > 0 {
			id.Attributes = make(map[string]string, len(extra))
			for _, c := range extra {
				id.Attributes[c] = v[c]
			}
		}
		ids[n] = id
		switch prev, dup := byEmp[id.EmployeeID]; {
		case id.EmployeeID == "":
			add(rw.line, "employee_id", "required")
		case dup:
			add(rw.line, "employee_id", "%q duplicates line %d", id.EmployeeID, rows[prev].line)
		default:
			byEmp[id.EmployeeID] = n
		}
		key := strings.ToLower(id.Email)
		switch prev, dup := byEmail[key]; {
		case id.Email == "":
			add(rw.line, "email", "required")
		case !gatehouse.ValidEmail(id.Email):
			add(rw.line, "email", "%q is not a valid email address", id.Email)
		case dup:
			add(rw.line, "email", "%q duplicates line %d (emails are compared ignoring case)", id.Email, rows[prev].line)
		default:
			byEmail[key] = n
		}
		if !id.EmploymentType.Valid() {
			add(rw.line, "employment_type", "%q is not one of employee, contractor, intern", id.EmploymentType)
		}
		if !id.Status.Valid() {
			add(rw.line, "status", "%q is not one of active, leave, terminated", id.Status)
		}
		start, startOK := checkDate(id.StartDate)
		if id.StartDate == "" {
			add(rw.line, "start_date", "required (YYYY-MM-DD)")
		} else if !startOK {
			add(rw.line, "start_date", "%q is not a date (YYYY-MM-DD)", id.StartDate)
		}
		if id.EndDate != "" {
			end, ok := checkDate(id.EndDate)
			switch {
			case !ok:
				add(rw.line, "end_date", "%q is not a date (YYYY-MM-DD)", id.EndDate)
			case startOK && end.Before(start):
				add(rw.line, "end_date", "%s is before start_date %s", id.EndDate, id.StartDate)
			}
		}
	}
	// Manager references, once every employee_id is known (a manager may come after a report).
	for n, id := range ids {
		if id.ManagerID == "" {
			continue
		}
		if id.ManagerID == id.EmployeeID {
			add(rows[n].line, "manager_id", "%q is the person themselves", id.ManagerID)
			continue
		}
		if _, ok := byEmp[id.ManagerID]; !ok {
			add(rows[n].line, "manager_id", "%q is not the employee_id of any row", id.ManagerID)
		}
	}
	probs = append(probs, managerCycles(rows, ids, byEmp)...)
	if len(probs) > 0 {
		return nil, probs
	}
	return ids, nil
}

func checkDate(s string) (time.Time, bool) {
	t, err := time.Parse(gatehouse.DateLayout, s)
	return t, err == nil
}

// managerCycles finds every cycle in the manager graph (each row has at most one manager, so a
// walk per row with colouring finds each cycle once) and reports it at the line of its member
// that comes first in the file, naming the whole cycle.
func managerCycles(rows []row, ids []*gatehouse.Identity, byEmp map[string]int) []Problem {
	const (
		unseen = iota
		onPath
		done
	)
	state := make([]uint8, len(ids))
	var probs []Problem
	var path []int
	for start := range ids {
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
				first := slices.MinFunc(cyc, func(a, b int) int { return rows[a].line - rows[b].line })
				j := slices.Index(cyc, first)
				names := make([]string, 0, len(cyc)+1)
				for k := range cyc {
					names = append(names, ids[cyc[(j+k)%len(cyc)]].EmployeeID)
				}
				names = append(names, ids[first].EmployeeID)
				if len(cyc) > 1 { // a self-reference is reported on its own
					probs = append(probs, Problem{Line: rows[first].line, Field: "manager_id",
						Message: "manager cycle: " + strings.Join(names, " → ")})
				}
				break
			}
			state[n] = onPath
			path = append(path, n)
			m, ok := byEmp[ids[n].ManagerID]
			if ids[n].ManagerID == "" || !ok || byEmpOwner(byEmp, ids[n].EmployeeID) != n {
				break
			}
			n = m
		}
		for _, k := range path {
			state[k] = done
		}
	}
	return probs
}

// byEmpOwner is the row index that owns employee id e (a duplicate row owns nothing, so the
// walk does not follow its manager twice).
func byEmpOwner(byEmp map[string]int, e string) int {
	if i, ok := byEmp[e]; ok {
		return i
	}
	return -1
}

func sortProblems(ps Problems) {
	slices.SortStableFunc(ps, func(a, b Problem) int { return a.Line - b.Line })
}
