package jml

import (
	"strings"

	"github.com/gatehouse/gatehouse"
)

// Indexes of the contract columns in Columns.
const (
	colEmployeeID = iota
	colEmail
	colFirstName
	colLastName
	colDepartment
	colTitle
	colManagerID
	colLocation
	colEmploymentType
	colStatus
	colStartDate
	colEndDate
)

// Feed is a parsed, checked HR feed, held compactly: each row is one string holding its
// trimmed values end to end, and the ends of the values sit in one slab shared by all rows.
// A row costs its values plus about 4 bytes a column and 24 bytes of bookkeeping — no map and
// no identity per row. Identity builds a row's identity when the planner needs it, and the
// planner keeps only the people who change, so a snapshot of a whole company is never held as
// identities (an HR file of 64 MiB took 2.9 GB when it was).
type Feed struct {
	cols  []string
	at    [12]int // index in cols of each contract column (Columns order)
	extra []int   // indexes in cols of the other columns: identity attributes
	rows  []feedRow
	ends  []uint32
	byEmp map[string]int32 // employee_id → its (first) row
}

type feedRow struct {
	text  string // the values end to end
	start uint32 // the row's first end in Feed.ends
	n     uint16 // values stored; a JSON row read before a key was first met lacks it
	line  int32
}

// pack keeps one row and returns its index.
func (f *Feed) pack(line int, vals []string) int {
	size := 0
	for _, v := range vals {
		size += len(v)
	}
	var b strings.Builder
	b.Grow(size)
	start := len(f.ends)
	for _, v := range vals {
		b.WriteString(v)
		f.ends = append(f.ends, uint32(b.Len()))
	}
	f.rows = append(f.rows, feedRow{text: b.String(), start: uint32(start), n: uint16(len(vals)), line: int32(line)})
	return len(f.rows) - 1
}

// value is column c of row r ("" when the row lacks it). It shares the row's string.
func (f *Feed) value(r, c int) string {
	row := &f.rows[r]
	if c >= int(row.n) {
		return ""
	}
	from := uint32(0)
	if c > 0 {
		from = f.ends[int(row.start)+c-1]
	}
	return row.text[from:f.ends[int(row.start)+c]]
}

// Len is the number of rows.
func (f *Feed) Len() int { return len(f.rows) }

// EmployeeID is row r's employee_id.
func (f *Feed) EmployeeID(r int) string { return f.value(r, f.at[colEmployeeID]) }

// Contains reports whether some row has employee_id e.
func (f *Feed) Contains(e string) bool {
	_, ok := f.byEmp[e]
	return ok
}

// Identity builds row r's identity (a new value on every call; its strings share the row's).
// It has Kind person and Source "hr-csv"; the extra columns are its Attributes.
func (f *Feed) Identity(r int) *gatehouse.Identity {
	v := func(c int) string { return f.value(r, f.at[c]) }
	id := &gatehouse.Identity{
		EmployeeID: v(colEmployeeID), Email: v(colEmail), FirstName: v(colFirstName), LastName: v(colLastName),
		Department: v(colDepartment), Title: v(colTitle), ManagerID: v(colManagerID), Location: v(colLocation),
		EmploymentType: gatehouse.EmploymentType(v(colEmploymentType)), Status: gatehouse.IdentityStatus(v(colStatus)),
		StartDate: v(colStartDate), EndDate: v(colEndDate), Kind: gatehouse.KindPerson, Source: Source,
	}
	if len(f.extra) > 0 {
		id.Attributes = make(map[string]string, len(f.extra))
		for _, c := range f.extra {
			id.Attributes[f.cols[c]] = f.value(r, c)
		}
	}
	return id
}

// Identities builds every row's identity, in file order.
func (f *Feed) Identities() []*gatehouse.Identity {
	out := make([]*gatehouse.Identity, len(f.rows))
	for i := range f.rows {
		out[i] = f.Identity(i)
	}
	return out
}

// Rows is a snapshot as the planner reads it: a person at a time.
type Rows interface {
	Len() int
	EmployeeID(i int) string
	// Identity returns row i's identity; the planner does not change it.
	Identity(i int) *gatehouse.Identity
	// Contains reports whether some row has employee_id e.
	Contains(e string) bool
}

// IdentityRows is a snapshot already held as identities, for PlanRows.
func IdentityRows(ids []*gatehouse.Identity) Rows { return newIdentityRows(ids) }

// identityRows is a snapshot already held as identities (a SCIM change, the date check).
type identityRows struct {
	ids []*gatehouse.Identity
	emp map[string]bool
}

func newIdentityRows(ids []*gatehouse.Identity) *identityRows {
	r := &identityRows{ids: ids, emp: make(map[string]bool, len(ids))}
	for _, id := range ids {
		r.emp[id.EmployeeID] = true
	}
	return r
}

func (r *identityRows) Len() int                           { return len(r.ids) }
func (r *identityRows) EmployeeID(i int) string            { return r.ids[i].EmployeeID }
func (r *identityRows) Identity(i int) *gatehouse.Identity { return r.ids[i] }
func (r *identityRows) Contains(e string) bool             { return r.emp[e] }
