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

// Feed is a parsed, checked HR feed, held compactly: each row is one string — the number of
// values and where each ends (2 bytes each), then the trimmed values end to end — and the rows'
// strings are cut from shared blocks of 1 MiB, so a row costs its bytes plus 24 bytes of
// bookkeeping: no map, no identity and no allocation of its own. Identity builds a row's
// identity when the planner needs it, and the planner keeps only the people who change, so a
// snapshot of a whole company is never held as identities (an HR file of 64 MiB took 2.9 GB
// when it was).
type Feed struct {
	cols   []string
	at     [12]int // index in cols of each contract column (Columns order)
	extra  []int   // indexes in cols of the other columns: identity attributes
	chunks [][]feedRow
	n      int
	block  strings.Builder  // the block rows are being cut from
	byEmp  map[string]int32 // employee_id → its (first) row
	// delta: the file lists only the people who change (ReadOptions.Delta); outside are the
	// rows whose manager_id is no row's employee_id, for the caller to find among the stored
	// people (CheckDeltaManagers).
	delta   bool
	outside []int32
	name    string // the file's name, for problems found later (CheckDeltaManagers)
}

type feedRow struct {
	text string
	line int32
}

const (
	feedChunk = 8192    // rows per chunk: no slice of every row, doubled as it grows
	feedBlock = 1 << 20 // bytes per text block
	// maxRowBytes bounds one row's values (2-byte offsets); maxColumns the columns of a feed.
	maxRowBytes = 1<<16 - 1
	maxColumns  = 1000
)

// pack keeps one row and returns its index. Values longer than maxRowBytes together are
// refused by the caller.
func (f *Feed) pack(line int, vals []string) int {
	size := 2 + 2*len(vals)
	for _, v := range vals {
		size += len(v)
	}
	b := &f.block
	if b.Cap()-b.Len() < size {
		// A new block; the strings cut from the old one keep it alive. strings.Builder never
		// rewrites what it holds, so a string cut from it stays valid while it grows.
		*b = strings.Builder{}
		b.Grow(max(feedBlock, size))
	}
	start := b.Len()
	var hdr [2]byte
	put := func(n int) {
		hdr[0], hdr[1] = byte(n), byte(n>>8)
		b.Write(hdr[:])
	}
	put(len(vals))
	end := 0
	for _, v := range vals {
		end += len(v)
		put(end)
	}
	for _, v := range vals {
		b.WriteString(v)
	}
	text := b.String()[start:]
	if f.n%feedChunk == 0 {
		f.chunks = append(f.chunks, make([]feedRow, 0, feedChunk))
	}
	c := &f.chunks[len(f.chunks)-1]
	*c = append(*c, feedRow{text: text, line: int32(line)})
	f.n++
	return f.n - 1
}

func (f *Feed) row(r int) *feedRow { return &f.chunks[r/feedChunk][r%feedChunk] }

// value is column c of row r ("" when the row lacks it). It shares the row's string.
func (f *Feed) value(r, c int) string {
	t := f.row(r).text
	u16 := func(i int) int { return int(t[i]) | int(t[i+1])<<8 }
	n := u16(0)
	if c >= n {
		return ""
	}
	base := 2 + 2*n
	from := 0
	if c > 0 {
		from = u16(2 + 2*(c-1))
	}
	return t[base+from : base+u16(2+2*c)]
}

func (f *Feed) line(r int) int { return int(f.row(r).line) }

// Len is the number of rows.
func (f *Feed) Len() int { return f.n }

// EmployeeID is row r's employee_id.
func (f *Feed) EmployeeID(r int) string { return f.value(r, f.at[colEmployeeID]) }

// Contains reports whether some row has employee_id e.
func (f *Feed) Contains(e string) bool {
	_, ok := f.byEmp[e]
	return ok
}

// Name is the file's name, as problems name it.
func (f *Feed) Name() string { return f.name }

// Delta reports whether the feed was read as a delta (ReadOptions.Delta): a plan of it must
// leave the people it does not list alone (Options.Partial).
func (f *Feed) Delta() bool { return f.delta }

// Identity builds row r's identity (a new value on every call; its strings share the row's).
// It has Kind person and Source "hr-csv"; the extra columns with a value are its Attributes.
// An empty cell sets no attribute (docs/hr.md): the person has none of that name, so an
// attribute they had is removed, and one they never had is not added as "".
func (f *Feed) Identity(r int) *gatehouse.Identity {
	v := func(c int) string { return f.value(r, f.at[c]) }
	id := &gatehouse.Identity{
		EmployeeID: v(colEmployeeID), Email: v(colEmail), FirstName: v(colFirstName), LastName: v(colLastName),
		Department: v(colDepartment), Title: v(colTitle), ManagerID: v(colManagerID), Location: v(colLocation),
		EmploymentType: gatehouse.EmploymentType(v(colEmploymentType)), Status: gatehouse.IdentityStatus(v(colStatus)),
		StartDate: v(colStartDate), EndDate: v(colEndDate), Kind: gatehouse.KindPerson, Source: Source,
	}
	for _, c := range f.extra {
		v := f.value(r, c)
		if v == "" {
			continue
		}
		if id.Attributes == nil {
			id.Attributes = make(map[string]string, len(f.extra))
		}
		id.Attributes[f.cols[c]] = v
	}
	return id
}

// Identities builds every row's identity, in file order.
func (f *Feed) Identities() []*gatehouse.Identity {
	out := make([]*gatehouse.Identity, f.n)
	for i := range f.n {
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
