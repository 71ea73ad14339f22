package provision_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	goldap "github.com/go-ldap/ldap/v3"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/connector"
	"github.com/gatehouse/gatehouse/connector/connectors"
	"github.com/gatehouse/gatehouse/connector/ldap"
	"github.com/gatehouse/gatehouse/connector/ldap/ldaptest"
	"github.com/gatehouse/gatehouse/internal/catalog"
	"github.com/gatehouse/gatehouse/internal/provision"
	"github.com/gatehouse/gatehouse/internal/service"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

// firstLoadPeople is the company of the first-load tests: enough people that creations
// overlap on the connection (the default concurrency is 8) and groups take many members in one
// modify.
const firstLoadPeople = 300

// TestLDAPFirstLoadConcurrent: a first load into an empty slapd with account creations running
// concurrently (the default concurrency) leaves every account and membership in the
// directory, creates each account before it is added to its groups, records every operation
// as applied, and actually overlapped the creations. One person whose entry's place is taken
// by something that is not an account fails alone: their creation is reported with the reason and their
// memberships as not run, and everybody else is still provisioned.
func TestLDAPFirstLoadConcurrent(t *testing.T) {
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
	// p7's DN is taken by an entry that is not an account (no inventory sees it, so the
	// naming rule cannot avoid it): the directory refuses p7's account.
	c := slapd.Conn(t)
	taken := goldap.NewAddRequest("uid=p7,"+ldaptest.PeopleDN, nil)
	taken.Attribute("objectClass", []string{"account"})
	taken.Attribute("uid", []string{"p7"})
	if err := c.Add(taken); err != nil {
		t.Fatal(err)
	}
	var rows []string
	for n := 1; n <= firstLoadPeople; n++ {
		rows = append(rows, hrRow(n, []string{"Eng", "Sales"}[n%2], "active"))
	}
	res, err := svc.ImportHR(ctx, p, "hr.csv", []byte(hrHeader+strings.Join(rows, "")), false)
	if err != nil || res.Import.Status != gatehouse.ImportApplied {
		t.Fatalf("import: %v %+v", err, res)
	}
	rec := &provision.Reconciler{Store: st, Open: func(ctx context.Context, sys *gatehouse.System) (connector.Connector, error) {
		return connectors.Open(ctx, sys.Connector, nil)
	}}
	run, err := rec.Reconcile(ctx, "dir", provision.RunOptions{Cause: provision.CauseSchedule})
	if err == nil || !connector.IsPermanent(err) {
		t.Fatalf("reconcile: %v, want a permanent failure (p7)", err)
	}
	people := firstLoadPeople + 1 // and the catalog's owner
	if run.Applied != 3*people-4 || run.Failed != 3 {
		t.Fatalf("run applied %d, failed %d; want %d and 3 (p7's account and 2 memberships)", run.Applied, run.Failed, 3*people-4)
	}

	want := directory{groups: map[string][]string{gStaff: {}, gEng: {}, gSales: {}}}
	for n := 0; n <= firstLoadPeople; n++ {
		name := fmt.Sprintf("p%d", n)
		if n == 0 {
			name = "owner"
		}
		if n == 7 {
			continue
		}
		want.enabled = append(want.enabled, name)
		want.groups[gStaff] = append(want.groups[gStaff], name)
		if n > 0 {
			g := []string{gEng, gSales}[n%2]
			want.groups[g] = append(want.groups[g], name)
		}
	}
	for _, g := range want.groups {
		slices.Sort(g)
	}
	slices.Sort(want.enabled)
	if got := readDirectory(t, c); got.String() != want.String() {
		t.Fatalf("directory:\n got  %s\n want %s", got, want)
	}

	var ops []*gatehouse.Operation
	for cursor := ""; ; {
		page, err := st.ListOperations(ctx, gatehouse.OperationFilter{ReconcileID: run.ID, Limit: gatehouse.MaxLimit, Cursor: cursor})
		if err != nil {
			t.Fatal(err)
		}
		ops = append(ops, page.Items...)
		if cursor = page.NextCursor; cursor == "" {
			break
		}
	}
	if len(ops) != 3*people-1 {
		t.Fatalf("%d operations recorded, want %d", len(ops), 3*people-1)
	}
	createdAt := map[string]*gatehouse.Operation{} // identity → its creation
	for _, o := range ops {
		if o.Kind == "create_account" {
			createdAt[o.IdentityID] = o
		}
	}
	var creates []*gatehouse.Operation
	for _, o := range ops {
		if o.StartedAt == nil || o.FinishedAt == nil {
			t.Fatalf("operation without times: %+v", o)
		}
		if o.Username == "p7" {
			want := gatehouse.OpFailed
			if o.Status != want || (o.Kind == "create_account") != strings.Contains(o.Error, "is taken by an entry that is not an account") ||
				(o.Kind == "add_member") != strings.Contains(o.Error, "not run: the account could not be created") {
				t.Fatalf("p7's %s: %s %q", o.Kind, o.Status, o.Error)
			}
			continue
		}
		if o.Status != gatehouse.OpApplied || o.Error != "" {
			t.Fatalf("operation %s %s %s: %s %q", o.Kind, o.Username, o.Group, o.Status, o.Error)
		}
		switch o.Kind {
		case "create_account":
			creates = append(creates, o)
			if o.AccountRef == "" {
				t.Fatalf("creation of %s names no account", o.Username)
			}
		case "add_member":
			cr := createdAt[o.IdentityID]
			if cr == nil || o.StartedAt.Before(*cr.FinishedAt) || o.AccountRef != cr.AccountRef {
				t.Fatalf("%s added to %s at %s, before its account was created (%+v)", o.Username, o.Group, o.StartedAt, cr)
			}
		}
	}
	// Concurrent: some creation started before the one started before it had finished.
	overlapped := false
	for i := range creates {
		for j := range creates {
			if i != j && creates[j].StartedAt.After(*creates[i].StartedAt) && creates[j].StartedAt.Before(*creates[i].FinishedAt) {
				overlapped = true
			}
		}
	}
	if !overlapped {
		t.Fatal("no two creations overlapped: they ran one at a time")
	}

	// Converged apart from p7: the next run plans only p7's creation and memberships again.
	again, err := rec.Reconcile(ctx, "dir", provision.RunOptions{Cause: provision.CauseSchedule})
	if err == nil || again.Planned != 3 {
		t.Fatalf("second run: planned %d (%v), want p7's 3 operations again", again.Planned, err)
	}
}

// outageAfter is the LDAP connector with a real outage in the middle of a first load: after
// its n-th account creation begins, slapd is stopped. Embedding keeps every interface the
// connector has (batched memberships, concurrency), so the engine drives it as it drives the
// real one.
type outageAfter struct {
	*ldap.Connector
	n     int32
	calls atomic.Int32
	stop  func()
}

func (o *outageAfter) CreateAccount(ctx context.Context, spec connector.AccountSpec) (connector.AccountRef, error) {
	if o.calls.Add(1) == o.n {
		o.stop()
	}
	return o.Connector.CreateAccount(ctx, spec)
}

// TestLDAPFirstLoadOutage: slapd goes away while creations run concurrently. The run fails
// retryably; every creation recorded as applied exists, none that exists is recorded as not run
// (creations already sent when the error came are recorded as they ended), the creations not
// sent are recorded as not run, and no membership was applied for an account that was not
// created. With slapd back, the next run finishes the load.
func TestLDAPFirstLoadOutage(t *testing.T) {
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
	var rows []string
	for n := 1; n <= firstLoadPeople; n++ {
		rows = append(rows, hrRow(n, []string{"Eng", "Sales"}[n%2], "active"))
	}
	if res, err := svc.ImportHR(ctx, p, "hr.csv", []byte(hrHeader+strings.Join(rows, "")), false); err != nil || res.Import.Status != gatehouse.ImportApplied {
		t.Fatalf("import: %v %+v", err, res)
	}
	outage := true
	rec := &provision.Reconciler{Store: st, Open: func(ctx context.Context, sys *gatehouse.System) (connector.Connector, error) {
		c, err := connectors.Open(ctx, sys.Connector, nil)
		if err != nil || !outage {
			return c, err
		}
		return &outageAfter{Connector: c.(*ldap.Connector), n: firstLoadPeople / 3, stop: func() { _ = slapd.Stop() }}, nil
	}}
	run, err := rec.Reconcile(ctx, "dir", provision.RunOptions{Cause: provision.CauseSchedule})
	if err == nil || connector.IsPermanent(err) {
		t.Fatalf("reconcile during an outage: %v, want a retryable failure", err)
	}
	if err := slapd.Start(); err != nil {
		t.Fatal(err)
	}
	dir := readDirectory(t, slapd.Conn(t))
	exists := map[string]bool{}
	for _, u := range dir.enabled {
		exists[u] = true
	}
	var ops []*gatehouse.Operation
	for cursor := ""; ; {
		page, err := st.ListOperations(ctx, gatehouse.OperationFilter{ReconcileID: run.ID, Limit: gatehouse.MaxLimit, Cursor: cursor})
		if err != nil {
			t.Fatal(err)
		}
		ops = append(ops, page.Items...)
		if cursor = page.NextCursor; cursor == "" {
			break
		}
	}
	applied, notRun, failed := 0, 0, 0
	createdOK := map[string]bool{}
	for _, o := range ops {
		if o.Kind != "create_account" {
			continue
		}
		switch {
		case o.Status == gatehouse.OpApplied:
			applied++
			createdOK[o.IdentityID] = true
			if !exists[o.Username] {
				t.Errorf("creation of %s recorded as applied, but the directory has no such account", o.Username)
			}
		case strings.Contains(o.Error, "not run: an earlier operation failed"):
			notRun++
		default:
			failed++
		}
	}
	// An account whose creation was sent exists or not; one whose creation is recorded as
	// not run must not. (An add that slapd made just before it stopped, whose read-back
	// failed, is recorded as failed: its outcome was unknown, and the retry adopts it.)
	for u := range exists {
		for _, o := range ops {
			if o.Kind == "create_account" && o.Username == u && o.Status != gatehouse.OpApplied &&
				strings.Contains(o.Error, "not run") {
				t.Errorf("account %s exists but its creation is recorded as not run: %s", u, o.Error)
			}
		}
	}
	if applied == 0 || notRun == 0 || failed == 0 || applied+notRun+failed != firstLoadPeople+1 {
		t.Fatalf("creations: %d applied, %d failed, %d not run; want some of each, %d in all", applied, failed, notRun, firstLoadPeople+1)
	}
	for _, o := range ops {
		if o.Kind == "add_member" && o.Status == gatehouse.OpApplied && !createdOK[o.IdentityID] {
			t.Errorf("membership of %s in %s applied without its account", o.Username, o.Group)
		}
	}

	outage = false
	if _, err := rec.Reconcile(ctx, "dir", provision.RunOptions{Cause: provision.CauseSchedule}); err != nil {
		t.Fatalf("reconcile after the outage: %v", err)
	}
	if got := readDirectory(t, slapd.Conn(t)); len(got.enabled) != firstLoadPeople+1 || len(got.groups[gStaff]) != firstLoadPeople+1 ||
		len(got.groups[gEng])+len(got.groups[gSales]) != firstLoadPeople {
		t.Fatalf("after the outage: %d accounts, staff %d, eng+sales %d", len(got.enabled), len(got.groups[gStaff]),
			len(got.groups[gEng])+len(got.groups[gSales]))
	}
}
