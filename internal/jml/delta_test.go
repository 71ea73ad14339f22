package jml

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
)

// TestSnapshotManagerHint: a file of changes sent as a snapshot names every unknown manager by
// line and field, and says once what a snapshot is and how to send changes.
func TestSnapshotManagerHint(t *testing.T) {
	csv := header + "\n" +
		"E1,a@x.io,,,,,E0042,,employee,active,2020-01-01,\n" +
		"E2,b@x.io,,,,,E0042,,employee,active,2020-01-01,\n" +
		"E3,c@x.io,,,,,E1,,employee,terminated,2020-01-01,\n"
	_, err := ReadHR("people.csv", strings.NewReader(csv))
	want := `people.csv: line 2: manager_id: "E0042" is not the employee_id of any row: an HR file is a full snapshot of everyone; to send only changes use ` + "`gatehouse hr import --delta`\n" +
		`people.csv: line 3: manager_id: "E0042" is not the employee_id of any row`
	if err == nil || err.Error() != want {
		t.Fatalf("err =\n%v\nwant\n%s", err, want)
	}
	if strings.Count(err.Error(), "--delta") != 1 {
		t.Errorf("the hint is not said once: %v", err)
	}
}

func TestDeltaManagers(t *testing.T) {
	// Stored people: S1 (top), S2 reports to S1, S3 reports to E1 (a row of the file).
	stored := map[string]string{"S1": "", "S2": "S1", "S3": "E1", "E1": ""}
	lookup := func(e string) (string, bool) { m, ok := stored[e]; return m, ok }
	tests := []struct {
		name string
		rows string
		want []string // problems, in order; nil: accepted
	}{
		{"stored manager", "E9,e9@x.io,,,,,S2,,employee,active,2020-01-01,\n", nil},
		{"manager in the file", "E9,e9@x.io,,,,,E8,,employee,active,2020-01-01,\nE8,e8@x.io,,,,,S1,,employee,active,2020-01-01,\n", nil},
		{"unknown manager", "E9,e9@x.io,,,,,X1,,employee,active,2020-01-01,\nE8,e8@x.io,,,,,S1,,employee,terminated,2020-01-01,\n",
			[]string{`d.csv: line 2: manager_id: "X1" is neither the employee_id of a row nor of a stored person`}},
		{"cycle through stored people", "E1,e1@x.io,,,,,S3,,employee,active,2020-01-01,\n",
			[]string{"d.csv: line 2: manager_id: manager cycle with the stored people: E1 → S3 → E1"}},
		{"cycle the file breaks", "E1,e1@x.io,,,,,S3,,employee,active,2020-01-01,\nS3,s3@x.io,,,,,S1,,employee,active,2020-01-01,\n", nil},
		{"cycle in the file", "E1,e1@x.io,,,,,E2,,employee,active,2020-01-01,\nE2,e2@x.io,,,,,E1,,employee,active,2020-01-01,\n",
			[]string{"d.csv: line 2: manager_id: manager cycle: E1 → E2 → E1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := ReadHRWith("d.csv", strings.NewReader(header+"\n"+tt.rows), ReadOptions{Delta: true})
			if err == nil {
				if !f.Delta() {
					t.Fatal("not read as a delta")
				}
				err = CheckDeltaManagers(f, lookup)
			}
			var got []string
			if err != nil {
				got = strings.Split(err.Error(), "\n")
			}
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Fatalf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

// TestEmptyAttributes: an empty cell sets no attribute; a person without the attribute is
// unchanged by it, one with it loses it.
func TestEmptyAttributes(t *testing.T) {
	tests := []struct {
		name   string
		row    string // cost_center, badge
		want   map[string]string
		class  Class // against stored E1 with Attributes stored (nil: unchanged)
		stored map[string]string
	}{
		{"empty cells, none stored", ",", nil, "", nil},
		{"one value", "C1,", map[string]string{"cost_center": "C1"}, "", map[string]string{"cost_center": "C1"}},
		{"empty removes a stored one", ",", nil, Updated, map[string]string{"cost_center": "C1"}},
		{"new value", ",B7", map[string]string{"badge": "B7"}, Updated, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			csv := header + ",cost_center,badge\nE1,a@x.io,A,A,Eng,Dev,,Berlin,employee,active,2020-01-01,," + tt.row + "\n"
			f, err := ReadHR("f.csv", strings.NewReader(csv))
			if err != nil {
				t.Fatal(err)
			}
			id := f.Identity(0)
			if len(id.Attributes) != len(tt.want) {
				t.Fatalf("attributes = %#v, want %#v", id.Attributes, tt.want)
			}
			for k, v := range tt.want {
				if id.Attributes[k] != v {
					t.Fatalf("attributes = %#v, want %#v", id.Attributes, tt.want)
				}
			}
			cur := &gatehouse.Identity{ID: "i1", EmployeeID: "E1", Email: "a@x.io", FirstName: "A", LastName: "A", Department: "Eng", Title: "Dev",
				Location: "Berlin", EmploymentType: gatehouse.Employee, Status: gatehouse.StatusActive, StartDate: "2020-01-01",
				Kind: gatehouse.KindPerson, Source: Source, Attributes: tt.stored}
			p := PlanRows(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), []*gatehouse.Identity{cur}, f, nil, nil, Options{})
			var got Class
			if len(p.Items) > 0 {
				got = p.Items[0].Class
			}
			if got != tt.class {
				t.Fatalf("class = %q, want %q (items %+v)", got, tt.class, p.Items)
			}
		})
	}
}

func TestNotePartial(t *testing.T) {
	tests := []struct {
		name               string
		removals, active   int
		held               bool
		wantWarn, wantHeld bool
	}{
		{"half is not most", 2, 4, false, false, false},
		{"most, not held", 3, 4, false, true, false},
		{"most, held", 30, 40, true, false, true},
		{"nobody active", 1, 0, false, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := &Plan{Held: tt.held, HeldReason: "guard"}
			p.Summary.Removals = tt.removals
			p.NotePartial(tt.active)
			if got := len(p.Warnings) > 0; got != tt.wantWarn {
				t.Errorf("warnings = %v", p.Warnings)
			}
			if got := strings.Contains(p.HeldReason, "partial file"); got != tt.wantHeld {
				t.Errorf("held reason = %q", p.HeldReason)
			}
			for _, w := range append(p.Warnings, p.HeldReason) {
				if strings.Contains(w, "partial") && !strings.Contains(w, "--delta") {
					t.Errorf("no pointer to --delta: %q", w)
				}
			}
		})
	}
}

// TestExportRoundTrip: what Export writes reads back as the same people, and plans to nothing.
func TestExportRoundTrip(t *testing.T) {
	people := []*gatehouse.Identity{
		{ID: "1", EmployeeID: "E1", Email: "zoë@example.com", FirstName: "Zoë", LastName: "Ångström, Jr.", Department: "R&D", Title: `"Chief" scientist`,
			Location: "Zürich", EmploymentType: gatehouse.Employee, Status: gatehouse.StatusActive, StartDate: "2019-03-01",
			Kind: gatehouse.KindPerson, Source: Source, Attributes: map[string]string{"cost_center": "C1", "note": "two\nlines"}},
		{ID: "2", EmployeeID: "E2", Email: "li@example.com", FirstName: "李", LastName: "雷", Department: "R&D", Title: "Engineer", ManagerID: "E1",
			Location: "東京", EmploymentType: gatehouse.Contractor, Status: gatehouse.StatusActive, StartDate: "2024-01-01", EndDate: "2030-12-31",
			Kind: gatehouse.KindPerson, Source: "demo", Attributes: map[string]string{"badge": "B2"}},
		{ID: "3", EmployeeID: "E3", Email: "pre@example.com", FirstName: "Pre", LastName: "Hire", Department: "Ops", Title: "Analyst", ManagerID: "E1",
			EmploymentType: gatehouse.Intern, Status: gatehouse.StatusActive, StartDate: "2031-01-01",
			Kind: gatehouse.KindPerson, Source: Source, Attributes: map[string]string{AttrLifecycle: LifecyclePreHire}},
		{ID: "4", EmployeeID: "E4", Email: "gone@example.com", FirstName: "Gone", LastName: "Away", Department: "Ops", Title: "Analyst",
			EmploymentType: gatehouse.Employee, Status: gatehouse.StatusTerminated, StartDate: "2010-01-01", EndDate: "2020-01-01",
			Kind: gatehouse.KindPerson, Source: Source},
	}
	scim := &gatehouse.Identity{ID: "5", EmployeeID: "S1", Email: "s@example.com", Kind: gatehouse.KindPerson, Source: "scim:okta", Status: gatehouse.StatusActive}
	svc := &gatehouse.Identity{ID: "6", Email: "bot@example.com", Kind: gatehouse.KindService, Source: "api", Status: gatehouse.StatusActive}
	all := append(append([]*gatehouse.Identity{}, people...), scim, svc)

	var attrs []string
	for _, id := range all {
		if Exported(id) {
			for k := range id.Attributes {
				attrs = append(attrs, k)
			}
		}
	}
	var buf bytes.Buffer
	e, err := NewExport(&buf, attrs)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, id := range all {
		if Exported(id) {
			if err := e.Write(id); err != nil {
				t.Fatal(err)
			}
			n++
		}
	}
	if err := e.Flush(); err != nil {
		t.Fatal(err)
	}
	if n != 4 {
		t.Fatalf("exported %d people, want the 4 HR owns", n)
	}
	head, _, _ := strings.Cut(buf.String(), "\n")
	if head != header+",badge,cost_center,note" {
		t.Fatalf("header = %q", head)
	}
	f, err := ReadHR("export.csv", bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatalf("export does not read back: %v\n%s", err, buf.String())
	}
	p := PlanRows(time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC), all, f, nil, nil, Options{})
	if len(p.Items) != 0 || p.Summary.Unchanged != 4 {
		t.Fatalf("round trip changes something: %+v %+v\n%s", p.Summary, p.Items, buf.String())
	}
}
