package demo

import (
	"bytes"
	"context"
	"encoding/csv"
	"flag"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/internal/jml"
	"github.com/gatehouse/gatehouse/internal/service"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

// examples/people.csv is the README tour's HR feed: a full snapshot of the demo company with
// exactly one joiner, one mover and one leaver. These tests keep it in step with the company:
// TestPeopleCSV regenerates it and fails if the file differs (go test ./internal/demo -run
// PeopleCSV -update rewrites it), TestPeopleCSVPlan imports it (dry run) into a fresh demo and
// checks the plan, and TestDemoEndDatesAhead fails a year before an active person's end date
// would pass and turn into a leaver nobody planned.

var update = flag.Bool("update", false, "rewrite examples/people.csv from the demo company")

const peopleCSV = "../../examples/people.csv"

// The tour's changes, by name so that the README can name them.
const (
	tourJoinerEmail = "alex.morgan@example.com" // joins Mei Lin's Platform team
	tourManager     = "mei.lin@example.com"     // the mover's new manager, who confirms their access
)

// tourPeople returns the demo company as an HR snapshot with the tour's three changes, and the
// emails of the mover and the leaver.
func tourPeople() (rows []*gatehouse.Identity, mover, leaver string) {
	people, late := company(DefaultSeed, ReferenceDate)
	// The late leavers are terminated after the seed's grants (see Seed): in the snapshot they
	// are terminated, as Seed leaves them.
	for _, l := range late {
		l.Status = gatehouse.StatusTerminated
		l.EndDate = ReferenceDate.AddDate(0, 0, -2).Format(gatehouse.DateLayout)
	}
	managers := map[string]bool{}
	var lead *gatehouse.Identity
	for _, p := range people {
		managers[p.ManagerID] = true
		if p.Email == tourManager {
			lead = p
		}
	}
	rows = make([]*gatehouse.Identity, 0, len(people)+1)
	var moved, left bool
	for _, p := range people {
		c := *p
		c.Attributes = map[string]string{"cost_center": p.Attributes["cost_center"]}
		switch {
		// The mover: the first site reliability engineer on call (who holds requested access,
		// grantHistory) from another team joins the Platform team. Their requested grants stay,
		// each with a confirmation for the new manager.
		case !moved && c.Title == "Site Reliability Engineer" && c.Status == gatehouse.StatusActive &&
			c.EmploymentType == gatehouse.Employee && c.ManagerID != lead.EmployeeID:
			c.ManagerID, c.Attributes["cost_center"] = lead.EmployeeID, lead.Attributes["cost_center"]
			mover, moved = c.Email, true
		// The leaver: the first support contractor whose contract ends early.
		case !left && c.Department == "Support" && c.EmploymentType == gatehouse.Contractor &&
			c.Status == gatehouse.StatusActive && c.EndDate != "" && !managers[c.EmployeeID]:
			c.Status = gatehouse.StatusTerminated
			leaver, left = c.Email, true
		}
		rows = append(rows, &c)
	}
	rows = append(rows, &gatehouse.Identity{
		EmployeeID: fmt.Sprintf("E%d", 1000+len(people)), Email: tourJoinerEmail, FirstName: "Alex", LastName: "Morgan",
		Department: "Engineering", Title: "Site Reliability Engineer", ManagerID: lead.EmployeeID, Location: "London",
		EmploymentType: gatehouse.Employee, Status: gatehouse.StatusActive, StartDate: ReferenceDate.Format(gatehouse.DateLayout),
		Attributes: map[string]string{"cost_center": lead.Attributes["cost_center"]},
	})
	return rows, mover, leaver
}

// tourCSV is examples/people.csv as it should be.
func tourCSV(t *testing.T) []byte {
	t.Helper()
	rows, mover, leaver := tourPeople()
	if mover == "" || leaver == "" {
		t.Fatalf("the demo company has no candidate mover (%q) or leaver (%q)", mover, leaver)
	}
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	_ = w.Write([]string{"employee_id", "email", "first_name", "last_name", "department", "title", "manager_id",
		"location", "employment_type", "status", "start_date", "end_date", "cost_center"})
	for _, p := range rows {
		_ = w.Write([]string{p.EmployeeID, p.Email, p.FirstName, p.LastName, p.Department, p.Title, p.ManagerID,
			p.Location, string(p.EmploymentType), string(p.Status), p.StartDate, p.EndDate, p.Attributes["cost_center"]})
	}
	w.Flush()
	if err := w.Error(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestPeopleCSV(t *testing.T) {
	want := tourCSV(t)
	if *update {
		if err := os.WriteFile(peopleCSV, want, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	got, err := os.ReadFile(peopleCSV)
	if err != nil {
		t.Fatalf("%v (go test ./internal/demo -run PeopleCSV -update writes it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("examples/people.csv is not the demo company with the tour's joiner, mover and leaver; " +
			"if the company changed on purpose, run go test ./internal/demo -run PeopleCSV -update")
	}
}

// TestPeopleCSVPlan imports examples/people.csv, as it is on disk, into a fresh demo (dry run,
// then for real) on a clock far from the reference date: one joiner, one mover (with access to
// confirm), one leaver, nothing else, and not held by the leaver guard.
func TestPeopleCSVPlan(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	content, err := os.ReadFile(peopleCSV)
	if err != nil {
		t.Fatal(err)
	}
	_, mover, leaver := tourPeople()
	for _, now := range []time.Time{time.Now(), ReferenceDate.AddDate(1, 3, 7)} {
		t.Run(now.Format(gatehouse.DateLayout), func(t *testing.T) {
			t.Parallel()
			st := storetest.OpenSQLite(t)
			svc := service.New(st, service.Options{Now: func() time.Time { return now }})
			res, err := Seed(ctx, svc, Options{})
			if err != nil {
				t.Fatal(err)
			}
			admin, err := st.GetIdentity(ctx, res.Admin)
			if err != nil {
				t.Fatal(err)
			}
			p := &gatehouse.Principal{IdentityID: admin.ID, Email: admin.Email, Roles: admin.Roles}
			for _, dry := range []bool{true, false} {
				r, err := svc.ImportHR(ctx, p, filepath.Base(peopleCSV), content, dry)
				if err != nil {
					t.Fatalf("import (dry run %v): %v", dry, err)
				}
				s := r.Plan.Summary
				other := s.PreHires + s.NewTerminated + s.Updated + s.Leave + s.Returners + s.Rehires + s.Missing + s.Skipped
				if s.Joiners != 1 || s.Movers != 1 || s.Leavers != 1 || other != 0 || r.Plan.Held || s.ToConfirm == 0 {
					t.Fatalf("dry run %v: %+v (held %v: %s); want 1 joiner, 1 mover with access to confirm, 1 leaver, nothing else",
						dry, s, r.Plan.Held, r.Plan.HeldReason)
				}
				got := map[jml.Class]string{}
				for _, it := range r.Plan.Items {
					got[it.Class] = it.Email
				}
				want := map[jml.Class]string{jml.Joiner: tourJoinerEmail, jml.Mover: mover, jml.Leaver: leaver}
				if !maps.Equal(got, want) {
					t.Errorf("dry run %v: people %v, want %v", dry, got, want)
				}
			}
			// Applied, the file is the company: importing it again changes nothing.
			r, err := svc.ImportHR(ctx, p, filepath.Base(peopleCSV), content, true)
			if err != nil {
				t.Fatal(err)
			}
			if len(r.Plan.Items) != 0 {
				t.Errorf("the second import plans %+v, want no change", r.Plan.Summary)
			}
		})
	}
}

// TestDemoEndDatesAhead fails a year before the first contract or internship of the demo ends:
// from that day the tour's HR import would find leavers nobody planned.
func TestDemoEndDatesAhead(t *testing.T) {
	t.Parallel()
	people, _ := company(DefaultSeed, ReferenceDate)
	var ends []string
	for _, p := range people {
		if p.Status == gatehouse.StatusActive && p.EndDate != "" {
			ends = append(ends, p.EndDate)
		}
	}
	if len(ends) == 0 {
		t.Fatal("no active person with an end date")
	}
	first := slices.Min(ends)
	if limit := time.Now().AddDate(1, 0, 0).Format(gatehouse.DateLayout); first < limit {
		t.Fatalf("the demo's first end date %s is less than a year ahead: move demo.ReferenceDate and demo.EndDatesFrom "+
			"forward, then run go test ./internal/demo -run PeopleCSV -update", first)
	}
	if ReferenceDate.After(time.Now()) {
		t.Fatalf("demo.ReferenceDate %s is in the future: everyone would be a pre-hire", ReferenceDate.Format(gatehouse.DateLayout))
	}
}
