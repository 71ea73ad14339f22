package jml

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
)

// TestPlanKeepAndWindow: with Keep the plan holds only the first items of each class, yet counts
// everyone; Window cuts a page and says where the next one starts.
func TestPlanKeepAndWindow(t *testing.T) {
	rs := roles(t)
	var cur, snap []*gatehouse.Identity
	for i := range 5000 {
		snap = append(snap, person(fmt.Sprintf("J%05d", 4999-i), "Eng", "active"))
	}
	for i := range 30 {
		emp := fmt.Sprintf("L%02d", i)
		cur = append(cur, stored(person(emp, "Eng", "active")))
		snap = append(snap, person(emp, "Eng", "terminated"))
	}
	p := MakePlan(now, cur, snap, rs, nil, Options{Keep: 7, Guard: gatehouse.LeaverGuard{MinCount: 100}})
	if p.Summary.Joiners != 5000 || p.Summary.Leavers != 30 || len(p.Items) != 14 {
		t.Fatalf("summary %+v, %d items", p.Summary, len(p.Items))
	}
	if p.Items[0].EmployeeID != "L00" || p.Items[7].EmployeeID != "J00000" || p.Items[13].EmployeeID != "J00006" {
		t.Fatalf("kept %s, %s, %s", p.Items[0].EmployeeID, p.Items[7].EmployeeID, p.Items[13].EmployeeID)
	}
	p.Window("", 5, 2)
	if len(p.Items) != 4 || p.Items[0].EmployeeID != "L05" || p.Items[2].EmployeeID != "J00005" ||
		p.Page.Total != 5030 || p.Page.Returned != 4 || p.Page.NextOffset != 7 {
		t.Fatalf("window: %d items, page %+v", len(p.Items), p.Page)
	}
}

// TestPlanGuardRecent: the removals of the window's earlier imports count with the plan's.
func TestPlanGuardRecent(t *testing.T) {
	rs := roles(t)
	var cur, snap []*gatehouse.Identity
	for i := range 40 {
		emp := fmt.Sprintf("E%02d", i)
		cur = append(cur, stored(person(emp, "Eng", "active")))
		status := "active"
		if i < 8 {
			status = "terminated"
		}
		snap = append(snap, person(emp, "Eng", status))
	}
	guard := gatehouse.LeaverGuard{MaxFraction: 0.05, MinCount: 20}
	p := MakePlan(now, cur, snap, rs, nil, Options{Guard: guard, Recent: Recent{Removals: 8, Window: 24 * time.Hour}})
	if p.Held || p.Summary.RecentRemovals != 8 {
		t.Fatalf("16 of 20: held %v %q", p.Held, p.HeldReason)
	}
	p = MakePlan(now, cur, snap, rs, nil, Options{Guard: guard, Recent: Recent{Removals: 16, Window: 24 * time.Hour}})
	if !p.Held || !strings.Contains(p.HeldReason, "8 people, 24 with the 16 that HR imports did within the last 24h0m0s") ||
		!strings.Contains(p.HeldReason, "× 56 active") {
		t.Fatalf("24 of 20: held %v %q", p.Held, p.HeldReason)
	}
}

// TestReadHRBoundsProblems: a file wrong on every row lists the first problems and a count.
func TestReadHRBoundsProblems(t *testing.T) {
	var b strings.Builder
	b.WriteString(header + "\n")
	for i := range 3000 {
		fmt.Fprintf(&b, "E%d,not-an-email,,,,,,,employee,active,2020-01-01,\n", i)
	}
	_, err := ReadHR("f.csv", strings.NewReader(b.String()))
	ps, ok := err.(Problems)
	if !ok || len(ps) != maxProblems+1 || !strings.Contains(ps[maxProblems].Message, "2000 more problems") {
		t.Fatalf("err: %d problems, last %v", len(ps), ps[len(ps)-1])
	}
}

// TestFeedIdentity: a Feed row builds the identity ParseHR returned for it.
func TestFeedIdentity(t *testing.T) {
	csv := "\xef\xbb\xbfemployee_id,email,first_name,last_name,department,title,manager_id,location,employment_type,status,start_date,end_date,Cost_Center\n" +
		"E1, a@x.io ,Ann,A,Eng,Head,,Berlin,employee,active,2020-01-01,,CC1\n"
	f, err := ReadHR("f.csv", strings.NewReader(csv))
	if err != nil {
		t.Fatal(err)
	}
	id := f.Identity(0)
	if f.Len() != 1 || f.EmployeeID(0) != "E1" || !f.Contains("E1") || f.Contains("E2") || id.Email != "a@x.io" ||
		id.Location != "Berlin" || id.Attributes["cost_center"] != "CC1" || id.EndDate != "" {
		t.Fatalf("identity %+v", id)
	}
}
