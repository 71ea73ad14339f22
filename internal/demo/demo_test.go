package demo_test

import (
	"context"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/internal/demo"
	"github.com/gatehouse/gatehouse/internal/service"
	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

// allIdentities reads every identity, following cursors.
func allIdentities(t *testing.T, st store.Store) []*gatehouse.Identity {
	t.Helper()
	var out []*gatehouse.Identity
	f := gatehouse.IdentityFilter{Limit: gatehouse.MaxLimit}
	for {
		page, err := st.ListIdentities(context.Background(), f)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, page.Items...)
		if page.NextCursor == "" {
			return out
		}
		f.Cursor = page.NextCursor
	}
}

func allGrants(t *testing.T, st store.Store) []*gatehouse.Grant {
	t.Helper()
	var out []*gatehouse.Grant
	f := gatehouse.GrantFilter{Limit: gatehouse.MaxLimit}
	for {
		page, err := st.ListGrants(context.Background(), f)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, page.Items...)
		if page.NextCursor == "" {
			return out
		}
		f.Cursor = page.NextCursor
	}
}

func TestSeed(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := storetest.OpenSQLite(t)
	svc := service.New(st, service.Options{})
	res, err := demo.Seed(ctx, svc, demo.Options{})
	if err != nil {
		t.Fatalf("Seed: %v", err)
	}
	t.Logf("seeded in %s: %+v", res.Took, res)

	people := allIdentities(t, st)
	if len(people) < 200 || res.Identities != len(people) {
		t.Errorf("identities: stored %d, result %d; want ≥ 200 and equal", len(people), res.Identities)
	}
	byEmp := map[string]*gatehouse.Identity{}
	emails := map[string]bool{}
	for _, p := range people {
		byEmp[p.EmployeeID] = p
		if emails[p.Email] {
			t.Errorf("email %s twice", p.Email)
		}
		emails[p.Email] = true
	}
	depts := map[string]bool{}
	count := map[string]int{}
	tops := 0
	for _, p := range people {
		depts[p.Department] = true
		count[string(p.EmploymentType)]++
		count[string(p.Status)]++
		if p.ManagerID == "" {
			tops++
			if p.Email != demo.CEOEmail {
				t.Errorf("%s has no manager; only the CEO may", p.Email)
			}
			continue
		}
		m := byEmp[p.ManagerID]
		if m == nil {
			t.Errorf("%s: manager %s does not exist", p.Email, p.ManagerID)
		} else if m.Status == gatehouse.StatusTerminated {
			t.Errorf("%s reports to terminated %s", p.Email, m.Email)
		}
		if p.Attributes["cost_center"] == "" {
			t.Errorf("%s has no cost_center", p.Email)
		}
		if p.EmploymentType == gatehouse.Contractor && p.EndDate == "" {
			count["contractor without end date"]++
		}
	}
	if tops != 1 {
		t.Errorf("%d people without a manager, want 1 (the CEO)", tops)
	}
	if len(depts) < 8 {
		t.Errorf("%d departments, want ≥ 8", len(depts))
	}
	share := float64(count["contractor"]) / float64(len(people))
	if share < 0.08 || share > 0.25 {
		t.Errorf("contractors are %.0f%% of people, want about 15%%", share*100)
	}
	for _, k := range []string{"intern", "leave", "terminated", "contractor without end date"} {
		if count[k] == 0 {
			t.Errorf("no %s in the demo company", k)
		}
	}
	t.Logf("counts: %v, departments %d", count, len(depts))

	roles := map[string]gatehouse.AccessRole{demo.AdminEmail: gatehouse.RoleAdmin, demo.AuditorEmail: gatehouse.RoleAuditor}
	for _, e := range demo.OperatorEmails {
		roles[e] = gatehouse.RoleOperator
	}
	for email, r := range roles {
		id, err := st.GetIdentity(ctx, email)
		if err != nil {
			t.Fatalf("%s: %v", email, err)
		}
		if !id.HasRole(r) {
			t.Errorf("%s has roles %v, want %s", email, id.Roles, r)
		}
	}
	if emp, err := st.GetIdentity(ctx, demo.EmployeeEmail); err != nil || len(emp.Roles) > 0 || emp.Status != gatehouse.StatusActive {
		t.Errorf("employee %s: %+v, %v; want an active identity without Gatehouse roles", demo.EmployeeEmail, emp, err)
	}

	// The README tour's approvers: the employee's manager, and github's owner.
	if emp, err := st.GetIdentity(ctx, res.Employee); err != nil || byEmp[emp.ManagerID] == nil || byEmp[emp.ManagerID].Email != res.Manager {
		t.Errorf("the manager of %s is not %s (%v)", res.Employee, res.Manager, err)
	}

	cat, err := st.LoadCatalog(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range cat.Systems {
		if s.ID == "github" && s.Owner != res.Owner {
			t.Errorf("github's owner is %s, the demo names %s", s.Owner, res.Owner)
		}
	}
	if len(cat.Systems) < 10 {
		t.Errorf("%d systems, want ≥ 10", len(cat.Systems))
	}
	if len(cat.Entitlements) < 60 {
		t.Errorf("%d entitlements, want ≥ 60", len(cat.Entitlements))
	}
	risks := map[gatehouse.Risk]int{}
	for _, e := range cat.Entitlements {
		risks[e.Risk]++
		if _, err := st.GetIdentity(ctx, e.Owner); err != nil {
			t.Errorf("entitlement %s: owner %s is not a demo identity", e.ID, e.Owner)
		}
	}
	for _, r := range []gatehouse.Risk{gatehouse.RiskStandard, gatehouse.RiskSensitive, gatehouse.RiskPrivileged} {
		if risks[r] == 0 {
			t.Errorf("no %s entitlements", r)
		}
	}
	birthright := map[string]bool{}
	for _, r := range cat.Roles {
		if r.Birthright != "" {
			birthright[r.ID] = true
		}
	}
	if len(birthright) < 5 {
		t.Errorf("%d birthright roles, want several", len(birthright))
	}
	if len(cat.SoD) < 2 {
		t.Errorf("%d SoD rules, want several", len(cat.SoD))
	}
	for _, s := range cat.Systems {
		for k := range s.Connector.Settings {
			if k == "password" || k == "token" || k == "bind_password" {
				t.Errorf("system %s holds an inline secret %s", s.ID, k)
			}
		}
	}

	grants := allGrants(t, st)
	sources := map[gatehouse.GrantSource]int{}
	withGrants := map[string]bool{}
	status := map[string]gatehouse.IdentityStatus{}
	for _, p := range people {
		status[p.ID] = p.Status
	}
	for _, g := range grants {
		sources[g.Source]++
		withGrants[g.IdentityID] = true
		if g.Source == gatehouse.SourceBirthright && !birthright[g.Reference] {
			t.Errorf("birthright grant %s references %q, not a birthright role", g.ID, g.Reference)
		}
	}
	if sources[gatehouse.SourceBirthright] < 500 || sources[gatehouse.SourceRequest] == 0 ||
		sources[gatehouse.SourceException] == 0 || sources[gatehouse.SourceEmergency] == 0 {
		t.Errorf("grants by source: %v; want hundreds of birthright grants and some of every other kind", sources)
	}
	if res.BirthrightGrants+res.OtherGrants != len(grants) {
		t.Errorf("result counts %d+%d grants, store holds %d", res.BirthrightGrants, res.OtherGrants, len(grants))
	}
	// Every active person holds something; leavers with access are the planted finding.
	leaversWithAccess := 0
	for _, p := range people {
		switch {
		case p.Status == gatehouse.StatusActive && !withGrants[p.ID]:
			t.Errorf("active %s holds no grant", p.Email)
		case p.Status == gatehouse.StatusTerminated && withGrants[p.ID]:
			leaversWithAccess++
		}
	}
	if leaversWithAccess == 0 {
		t.Error("no terminated identity still holds access; the demo should show one")
	}

	v, err := service.VerifyStore(ctx, st)
	if err != nil {
		t.Fatal(err)
	}
	if !v.OK {
		t.Fatalf("audit chain broken: %+v", v.Break)
	}
	if v.Count < int64(len(people)+len(grants)) {
		t.Errorf("%d audit events for %d identities and %d grants: something was not audited", v.Count, len(people), len(grants))
	}
}

// TestSeedDeterministic checks that the same seed gives the same company whatever the clock
// says, so that docs, screenshots and examples/people.csv can name demo people and their dates.
func TestSeedDeterministic(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	var emails [2][]string
	for i := range emails {
		now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC).AddDate(0, 0, 400*i) // days apart
		st := storetest.OpenSQLite(t)
		svc := service.New(st, service.Options{Now: func() time.Time { return now }})
		if _, err := demo.Seed(ctx, svc, demo.Options{}); err != nil {
			t.Fatal(err)
		}
		for _, p := range allIdentities(t, st) {
			emails[i] = append(emails[i], p.EmployeeID+" "+p.Email+" "+p.Title+" "+string(p.Status)+" "+p.StartDate+" "+p.EndDate)
		}
	}
	if len(emails[0]) != len(emails[1]) {
		t.Fatalf("%d vs %d identities", len(emails[0]), len(emails[1]))
	}
	for i := range emails[0] {
		if emails[0][i] != emails[1][i] {
			t.Fatalf("identity %d differs: %q vs %q", i, emails[0][i], emails[1][i])
		}
	}
}

// TestSeedRefusesNonEmpty checks that seeding twice is refused rather than doubling everyone.
func TestSeedRefusesNonEmpty(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := storetest.OpenSQLite(t)
	svc := service.New(st, service.Options{})
	if _, err := svc.CreateIdentity(ctx, service.SystemPrincipal("test"), &gatehouse.Identity{
		EmployeeID: "X1", Email: "x@example.com",
	}, "test"); err != nil {
		t.Fatal(err)
	}
	_, err := demo.Seed(ctx, svc, demo.Options{})
	if gatehouse.ErrorCode(err) != gatehouse.ECONFLICT {
		t.Fatalf("Seed on a non-empty database: %v, want a conflict", err)
	}
}

// BenchmarkSeed measures a whole seed into a fresh SQLite file: `gatehouse demo` must be
// serving in under 3 seconds, and the seed is most of that.
func BenchmarkSeed(b *testing.B) {
	ctx := context.Background()
	for b.Loop() {
		b.StopTimer()
		st := storetest.OpenSQLite(b)
		svc := service.New(st, service.Options{})
		b.StartTimer()
		if _, err := demo.Seed(ctx, svc, demo.Options{}); err != nil {
			b.Fatal(err)
		}
	}
}
