package provision_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	goldap "github.com/go-ldap/ldap/v3"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/connector"
	"github.com/gatehouse/gatehouse/connector/connectors"
	"github.com/gatehouse/gatehouse/connector/ldap/ldaptest"
	"github.com/gatehouse/gatehouse/internal/catalog"
	"github.com/gatehouse/gatehouse/internal/jobs"
	"github.com/gatehouse/gatehouse/internal/provision"
	"github.com/gatehouse/gatehouse/internal/service"
	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

const (
	gStaff = "cn=staff,ou=groups,dc=example,dc=com"
	gEng   = "cn=engineering,ou=groups,dc=example,dc=com"
	gSales = "cn=sales,ou=groups,dc=example,dc=com"
)

func ldapCatalog(s *ldaptest.Server) string {
	set := s.Settings()
	return fmt.Sprintf(`
settings:
  leaver_guard: {max_fraction: 0.9, min_count: 5}
systems:
  - id: dir
    name: Corporate Directory
    owner: owner@example.com
    tier: critical
    connector:
      type: ldap
      url: %s
      bind_dn: %s
      bind_password_file: %s
      users_dn: %s
      groups_dn: %s
      disabled_dn: %s
      flavor: openldap
      timeout: 2s
      drift: {unknown_memberships: enforce, unknown_accounts: report}
entitlements:
  - {id: dir/staff, system: dir, name: Staff, kind: group, risk: standard, external_id: "%s"}
  - {id: dir/eng, system: dir, name: Engineering, kind: group, risk: standard, external_id: "%s"}
  - {id: dir/sales, system: dir, name: Sales, kind: group, risk: standard, external_id: "%s"}
roles:
  - {id: all-staff, name: All staff, entitlements: [dir/staff], birthright: 'identity.status == "active"'}
  - {id: eng, name: Engineering, entitlements: [dir/eng], birthright: 'identity.department == "Eng"'}
  - {id: sales, name: Sales, entitlements: [dir/sales], birthright: 'identity.department == "Sales"'}
`, set["url"], set["bind_dn"], set["bind_password_file"], set["users_dn"], set["groups_dn"], set["disabled_dn"],
		gStaff, gEng, gSales)
}

const hrHeader = "employee_id,email,first_name,last_name,department,title,manager_id,location,employment_type,status,start_date,end_date\n"

func hrRow(n int, dept, status string) string {
	return fmt.Sprintf("E%d,p%d@example.com,P,%d,%s,Staff,,HQ,employee,%s,2020-01-01,\n", n, n, n, dept, status)
}

// directory reads what slapd holds: enabled users (uid under ou=people), disabled users, and
// each group's members by uid.
type directory struct {
	enabled, disabled []string
	groups            map[string][]string
}

func (d directory) String() string {
	return fmt.Sprintf("enabled=%v disabled=%v staff=%v eng=%v sales=%v", d.enabled, d.disabled,
		d.groups[gStaff], d.groups[gEng], d.groups[gSales])
}

func readDirectory(t *testing.T, c *goldap.Conn) directory {
	t.Helper()
	d := directory{groups: map[string][]string{}}
	res, err := c.Search(goldap.NewSearchRequest(ldaptest.BaseDN, goldap.ScopeWholeSubtree, goldap.NeverDerefAliases,
		0, 0, false, "(objectClass=inetOrgPerson)", []string{"uid"}, nil))
	if err != nil {
		t.Fatalf("search users: %v", err)
	}
	for _, e := range res.Entries {
		uid := e.GetAttributeValue("uid")
		if strings.HasSuffix(e.DN, ","+ldaptest.DisabledDN) {
			d.disabled = append(d.disabled, uid)
		} else {
			d.enabled = append(d.enabled, uid)
		}
	}
	res, err = c.Search(goldap.NewSearchRequest(ldaptest.GroupsDN, goldap.ScopeSingleLevel, goldap.NeverDerefAliases,
		0, 0, false, "(objectClass=groupOfNames)", []string{"member"}, nil))
	if err != nil {
		t.Fatalf("search groups: %v", err)
	}
	for _, e := range res.Entries {
		var ms []string
		for _, m := range e.GetAttributeValues("member") {
			if uid, ok := strings.CutPrefix(m, "uid="); ok {
				uid, _, _ = strings.Cut(uid, ",")
				ms = append(ms, uid)
			}
		}
		slices.Sort(ms)
		d.groups[strings.ToLower(e.DN)] = ms
	}
	slices.Sort(d.enabled)
	slices.Sort(d.disabled)
	return d
}

type ldapFixture struct {
	t     *testing.T
	slapd *ldaptest.Server
	svc   *service.Service
	st    store.Store
	q     *jobs.Host
}

func (f *ldapFixture) importHR(rows ...string) string {
	f.t.Helper()
	res, err := f.svc.ImportHR(f.t.Context(), service.SystemPrincipal("test"), "hr.csv", []byte(hrHeader+strings.Join(rows, "")), false)
	if err != nil {
		f.t.Fatalf("import: %v", err)
	}
	if res.Import.Status != gatehouse.ImportApplied {
		f.t.Fatalf("import %s: %s", res.Import.Status, res.Import.Reason)
	}
	return provision.HRImportCause(res.Import.ID)
}

// reconcile enqueues a reconcile of every system and waits for the jobs to finish.
func (f *ldapFixture) reconcile(cause string) []provision.JobState {
	f.t.Helper()
	ids, err := f.q.EnqueueAll(f.t.Context(), cause, false)
	if err != nil {
		f.t.Fatal(err)
	}
	return f.wait(ids, func(js []provision.JobState) bool { return allDone(js) })
}

func allDone(js []provision.JobState) bool {
	for _, j := range js {
		if !j.Done {
			return false
		}
	}
	return true
}

func (f *ldapFixture) wait(ids []int64, ok func([]provision.JobState) bool) []provision.JobState {
	f.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		js, err := f.q.Jobs(f.t.Context(), ids)
		if err != nil {
			f.t.Fatal(err)
		}
		if ok(js) {
			return js
		}
		if time.Now().After(deadline) {
			f.t.Fatalf("jobs did not get there in 30s: %+v\nslapd: %s", js, f.slapd.Logs())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (f *ldapFixture) want(want directory) {
	f.t.Helper()
	got := readDirectory(f.t, f.slapd.Conn(f.t))
	if got.String() != want.String() {
		f.t.Fatalf("directory:\n got  %s\n want %s", got, want)
	}
}

// TestLDAPEndToEnd: catalog with an LDAP system → HR import → reconcile through the job queue
// → the directory holds exactly the users and memberships the birthright rules imply; then
// movers and leavers, a hand-made membership, and an outage of slapd.
func TestLDAPEndToEnd(t *testing.T) {
	slapd := ldaptest.Start(t, ldaptest.Options{})
	ctx := t.Context()
	st := storetest.OpenSQLite(t)
	svc := service.New(st, service.Options{Secrets: tempSecrets})
	p := service.SystemPrincipal("test")
	if _, err := svc.CreateIdentity(ctx, p, &gatehouse.Identity{Email: "owner@example.com", Kind: gatehouse.KindService}, "test"); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.ApplyCatalog(ctx, p, []catalog.File{{Name: "c.yaml", Content: []byte(ldapCatalog(slapd))}}, false, "test"); err != nil {
		t.Fatal(err)
	}
	rec := &provision.Reconciler{Store: st, Open: func(ctx context.Context, sys *gatehouse.System) (connector.Connector, error) {
		return connectors.Open(ctx, sys.Connector, nil)
	}}
	q, err := jobs.New(ctx, st, rec, jobs.Options{PollInterval: 50 * time.Millisecond,
		RetryBase: 100 * time.Millisecond, RetryMax: 500 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if err := q.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = q.Stop(context.Background()) })
	f := &ldapFixture{t: t, slapd: slapd, svc: svc, st: st, q: q}

	// Joiners.
	cause := f.importHR(hrRow(1, "Eng", "active"), hrRow(2, "Eng", "active"), hrRow(3, "Sales", "active"),
		hrRow(4, "Sales", "active"), hrRow(5, "Eng", "terminated"))
	f.reconcile(cause)
	f.want(directory{enabled: []string{"owner", "p1", "p2", "p3", "p4"}, groups: map[string][]string{
		gStaff: {"owner", "p1", "p2", "p3", "p4"}, gEng: {"p1", "p2"}, gSales: {"p3", "p4"}}})
	ops, err := st.ListOperations(ctx, gatehouse.OperationFilter{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	// The catalog owner (a service identity, active) is staff too.
	if len(ops.Items) != 5+9 {
		t.Fatalf("%d operations, want 5 accounts and 9 memberships", len(ops.Items))
	}
	for _, o := range ops.Items {
		if o.Status != gatehouse.OpApplied || o.FinishedAt == nil || !strings.HasPrefix(o.Cause, "grant:") || o.RequestedAt.IsZero() {
			t.Fatalf("operation = %+v", o)
		}
	}

	// Converged: a second reconcile changes nothing.
	f.reconcile(provision.CauseSchedule)
	if again, _ := st.ListOperations(ctx, gatehouse.OperationFilter{Limit: 1000}); len(again.Items) != len(ops.Items) {
		t.Fatalf("a converged reconcile planned %d operations", len(again.Items)-len(ops.Items))
	}

	// A mover (p2 Eng → Sales) and a leaver (p4).
	cause = f.importHR(hrRow(1, "Eng", "active"), hrRow(2, "Sales", "active"), hrRow(3, "Sales", "active"),
		hrRow(4, "Sales", "terminated"), hrRow(5, "Eng", "terminated"))
	f.reconcile(cause)
	f.want(directory{enabled: []string{"owner", "p1", "p2", "p3"}, disabled: []string{"p4"}, groups: map[string][]string{
		gStaff: {"owner", "p1", "p2", "p3"}, gEng: {"p1"}, gSales: {"p2", "p3"}}})

	// A membership added by hand is drift, removed under enforce, and reported.
	c := slapd.Conn(t)
	mod := goldap.NewModifyRequest(gSales, nil)
	mod.Add("member", []string{"uid=p1," + ldaptest.PeopleDN})
	if err := c.Modify(mod); err != nil {
		t.Fatal(err)
	}
	f.reconcile(provision.CauseSchedule)
	f.want(directory{enabled: []string{"owner", "p1", "p2", "p3"}, disabled: []string{"p4"}, groups: map[string][]string{
		gStaff: {"owner", "p1", "p2", "p3"}, gEng: {"p1"}, gSales: {"p2", "p3"}}})
	runs, err := st.ListReconciles(ctx, gatehouse.ReconcileFilter{Latest: true})
	if err != nil || len(runs.Items) != 1 {
		t.Fatalf("latest runs = %+v, %v", runs, err)
	}
	fs := runs.Items[0].Findings
	if len(fs) != 1 || fs[0].Kind != "unknown_membership" || fs[0].Username != "p1" || fs[0].Group != gSales || fs[0].Action != "enforce" {
		t.Fatalf("findings = %+v", fs)
	}

	// slapd down: the job fails retryably, and converges once it is back.
	cause = f.importHR(hrRow(1, "Eng", "active"), hrRow(2, "Sales", "active"), hrRow(3, "Sales", "active"),
		hrRow(4, "Sales", "terminated"), hrRow(5, "Eng", "terminated"), hrRow(6, "Eng", "active"))
	if err := slapd.Stop(); err != nil {
		t.Fatal(err)
	}
	ids, err := q.EnqueueAll(ctx, cause, false)
	if err != nil {
		t.Fatal(err)
	}
	js := f.wait(ids, func(js []provision.JobState) bool { return js[0].Attempt >= 2 && js[0].Error != "" })
	if js[0].Done {
		t.Fatalf("an outage ended the job: %+v", js[0])
	}
	failed, err := st.ListReconciles(ctx, gatehouse.ReconcileFilter{JobIDs: ids})
	if err != nil || len(failed.Items) == 0 || failed.Items[len(failed.Items)-1].Status != gatehouse.ReconcileFailed ||
		!strings.Contains(failed.Items[len(failed.Items)-1].Error, "connection refused") {
		t.Fatalf("first run during the outage = %+v, %v", failed.Items[len(failed.Items)-1], err)
	}
	if err := slapd.Start(); err != nil {
		t.Fatal(err)
	}
	js = f.wait(ids, allDone)
	if js[0].State != "completed" {
		t.Fatalf("after the outage: %+v", js[0])
	}
	f.want(directory{enabled: []string{"owner", "p1", "p2", "p3", "p6"}, disabled: []string{"p4"}, groups: map[string][]string{
		gStaff: {"owner", "p1", "p2", "p3", "p6"}, gEng: {"p1", "p6"}, gSales: {"p2", "p3"}}})
	t.Logf("outage: converged after %d attempts", js[0].Attempt)
}

// BenchmarkReconcileFirstLoad provisions 1,000 joiners (1,000 accounts, 2,000 memberships)
// into an empty slapd with one reconcile, then times a converged reconcile (inventory + plan,
// nothing to do). Run: go test -run XXX -bench ReconcileFirstLoad -benchtime 1x ./internal/provision/
func BenchmarkReconcileFirstLoad(b *testing.B) {
	slapd := ldaptest.Start(b, ldaptest.Options{})
	ctx := b.Context()
	st := storetest.OpenSQLite(b)
	svc := service.New(st, service.Options{Secrets: tempSecrets})
	p := service.SystemPrincipal("bench")
	if _, err := svc.CreateIdentity(ctx, p, &gatehouse.Identity{Email: "owner@example.com", Kind: gatehouse.KindService}, "bench"); err != nil {
		b.Fatal(err)
	}
	if _, err := svc.ApplyCatalog(ctx, p, []catalog.File{{Name: "c.yaml", Content: []byte(ldapCatalog(slapd))}}, false, "bench"); err != nil {
		b.Fatal(err)
	}
	var rows strings.Builder
	rows.WriteString(hrHeader)
	for n := range 1000 {
		rows.WriteString(hrRow(n, []string{"Eng", "Sales"}[n%2], "active"))
	}
	if _, err := svc.ImportHR(ctx, p, "hr.csv", []byte(rows.String()), false); err != nil {
		b.Fatal(err)
	}
	rec := &provision.Reconciler{Store: st, Open: func(ctx context.Context, sys *gatehouse.System) (connector.Connector, error) {
		return connectors.Open(ctx, sys.Connector, nil)
	}}
	for b.Loop() {
		start := time.Now()
		run, err := rec.Reconcile(ctx, "dir", provision.RunOptions{Cause: "bench"})
		if err != nil {
			b.Fatal(err)
		}
		first := time.Since(start)
		start = time.Now()
		again, err := rec.Reconcile(ctx, "dir", provision.RunOptions{Cause: "bench"})
		if err != nil || again.Planned != 0 {
			b.Fatalf("converged run = %+v, %v", again, err)
		}
		b.ReportMetric(float64(run.Applied)/first.Seconds(), "ops/s")
		b.ReportMetric(first.Seconds(), "first-s")
		b.ReportMetric(time.Since(start).Seconds(), "converged-s")
	}
}
