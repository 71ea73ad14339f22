package jml

import (
	"encoding/csv"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/gatehouse/gatehouse"
)

// Export writes people as an HR feed CSV in the contract's format (docs/hr.md, "Export"): the
// contract columns in contract order, then one column per attribute name, sorted; one row a
// person, values as stored (dates YYYY-MM-DD), an empty cell for an attribute a person does not
// have. Read back by ReadHR and planned against the same state, it changes nothing. It writes a
// person at a time: the caller pages through the store.
type Export struct {
	w     *csv.Writer
	attrs []string
	rec   []string
}

// Exported reports whether an export includes id: the people an HR snapshot owns (a person
// DefaultOwned would let HR change) with an employee_id. Service accounts and the people of a
// SCIM client are their source's, not HR's: a snapshot never changes them, so it need not list
// them.
func Exported(id *gatehouse.Identity) bool {
	return id.Kind == gatehouse.KindPerson && id.EmployeeID != "" && DefaultOwned(id)
}

// ExportedAttribute reports whether an attribute becomes a column of an export: a name a feed
// column can carry (ReadHR lowercases and trims column names, and a contract column is no
// attribute), and not AttrLifecycle, which the plan decides from start_date rather than HR.
func ExportedAttribute(name string) bool {
	if name == "" || name == AttrLifecycle || contract[name] || name != strings.ToLower(strings.TrimSpace(name)) {
		return false
	}
	return gatehouse.CheckLine(name, name, gatehouse.MaxIDLength) == nil
}

// NewExport writes the header: the contract columns, then attrs (the exported attribute names
// of the people to come; others are ignored), sorted.
func NewExport(w io.Writer, attrs []string) (*Export, error) {
	var names []string
	for _, a := range attrs {
		if ExportedAttribute(a) && !slices.Contains(names, a) {
			names = append(names, a)
		}
	}
	slices.Sort(names)
	if len(Columns)+len(names) > maxColumns {
		return nil, gatehouse.Errorf(gatehouse.EINVALID, "the people have %d attribute names; an HR file has at most %d columns", len(names), maxColumns)
	}
	e := &Export{w: csv.NewWriter(w), attrs: names, rec: make([]string, 0, len(Columns)+len(names))}
	if err := e.w.Write(append(slices.Clone(Columns), names...)); err != nil {
		return nil, fmt.Errorf("write HR export header: %w", err)
	}
	return e, nil
}

// Write writes one person's row.
func (e *Export) Write(id *gatehouse.Identity) error {
	e.rec = append(e.rec[:0], id.EmployeeID, id.Email, id.FirstName, id.LastName, id.Department, id.Title,
		id.ManagerID, id.Location, string(id.EmploymentType), string(id.Status), id.StartDate, id.EndDate)
	for _, a := range e.attrs {
		e.rec = append(e.rec, id.Attributes[a])
	}
	if err := e.w.Write(e.rec); err != nil {
		return fmt.Errorf("write HR export row %s: %w", id.EmployeeID, err)
	}
	return nil
}

// Flush writes what is buffered.
func (e *Export) Flush() error {
	e.w.Flush()
	if err := e.w.Error(); err != nil {
		return fmt.Errorf("write HR export: %w", err)
	}
	return nil
}
