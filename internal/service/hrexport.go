package service

import (
	"context"
	"fmt"
	"io"
	"maps"
	"slices"

	"github.com/google/uuid"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/internal/jml"
	"github.com/gatehouse/gatehouse/internal/store"
)

// HR export, and the parts of a delta import that need the stored people.

// HRExport is what an export's audit event records: how many people left the system, with
// which columns.
type HRExport struct {
	People     int      `json:"people"`
	Attributes []string `json:"attributes,omitempty"`
}

// HRExportStarter is a writer that is told the export's counts before its first byte (the
// API's answer puts them in a header).
type HRExportStarter interface {
	StartHRExport(HRExport)
}

// ExportHR writes the people an HR snapshot owns (jml.Exported: persons of source hr-csv,
// api, demo or none, with an employee_id, whatever their status) to w as an HR feed CSV in the
// contract's format (readers: auditors, operators, admins — the same people who may list
// identities). Imported back as a snapshot against the same state it changes nothing.
//
// It reads the store a page at a time, twice: once for the count and the attribute names (the
// header needs every name before the first row), then for the rows. The export is personal data
// leaving the system, so it is audited (gatehouse.AuditIdentitiesExport, with the count) before the first byte is
// written: an export whose audit event cannot be written sends nothing. A person changed
// between the two passes is written as the second pass finds them; an attribute name first
// seen in between is not a column.
func (s *HR) ExportHR(ctx context.Context, p *gatehouse.Principal, w io.Writer) (*HRExport, error) {
	if err := requireReadAll(p); err != nil {
		return nil, err
	}
	attrs := map[string]bool{}
	out := &HRExport{}
	err := eachPerson(ctx, s.store, func(id *gatehouse.Identity) error {
		out.People++
		for k := range id.Attributes {
			if jml.ExportedAttribute(k) {
				attrs[k] = true
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	out.Attributes = slices.Sorted(maps.Keys(attrs))
	u, err := uuid.NewV7()
	if err != nil {
		return nil, fmt.Errorf("new export id: %w", err)
	}
	err = s.update(ctx, func(tx store.Tx) error {
		ev := s.event(p, gatehouse.AuditIdentitiesExport, "identities", u.String(), nil, out, fmt.Sprintf("HR export of %d people", out.People))
		return tx.AppendAudit(ctx, ev)
	})
	if err != nil {
		return nil, err
	}
	if st, ok := w.(HRExportStarter); ok {
		st.StartHRExport(*out)
	}
	e, err := jml.NewExport(w, out.Attributes)
	if err != nil {
		return nil, err
	}
	if err := eachPerson(ctx, s.store, e.Write); err != nil {
		return nil, err
	}
	return out, e.Flush()
}

// eachPerson calls fn for every exported person (jml.Exported), a page of the store at a time:
// never everyone in one slice.
func eachPerson(ctx context.Context, r store.Reader, fn func(*gatehouse.Identity) error) error {
	f := gatehouse.IdentityFilter{Kind: gatehouse.KindPerson, Limit: gatehouse.MaxLimit}
	for {
		page, err := r.ListIdentities(ctx, f)
		if err != nil {
			return fmt.Errorf("HR export: list identities: %w", err)
		}
		for _, id := range page.Items {
			if !jml.Exported(id) {
				continue
			}
			if err := fn(id); err != nil {
				return err
			}
		}
		if page.NextCursor == "" {
			return nil
		}
		f.Cursor = page.NextCursor
	}
}

// checkDeltaManagers checks a delta's managers that are not rows of it against the stored
// people (jml.CheckDeltaManagers).
func checkDeltaManagers(feed *jml.Feed, current []*gatehouse.Identity) error {
	byEmp := make(map[string]*gatehouse.Identity, len(current))
	for _, c := range current {
		if c.EmployeeID != "" {
			byEmp[c.EmployeeID] = c
		}
	}
	return jml.CheckDeltaManagers(feed, func(emp string) (string, bool) {
		c, ok := byEmp[emp]
		if !ok {
			return "", false
		}
		return c.ManagerID, true
	})
}

// currentPeople counts the people HR owns who are not terminated (active or on leave): what a
// snapshot that looks partial is measured against (jml.Plan.NotePartial).
func currentPeople(current []*gatehouse.Identity) int {
	n := 0
	for _, c := range current {
		if c.Status != gatehouse.StatusTerminated && c.EmployeeID != "" && jml.DefaultOwned(c) {
			n++
		}
	}
	return n
}
