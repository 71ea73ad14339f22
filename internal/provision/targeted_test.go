package provision_test

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/connector"
	"github.com/gatehouse/gatehouse/internal/catalog"
	"github.com/gatehouse/gatehouse/internal/jobs"
	"github.com/gatehouse/gatehouse/internal/provision"
	"github.com/gatehouse/gatehouse/internal/service"
	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

// finderDir is a fakeDir that reads chosen accounts (connector.Finder), as the SCIM connector
// does, and counts full inventories.
type finderDir struct {
	*fakeDir
	full, targeted int
}

func (d *finderDir) Inventory(ctx context.Context, groups []string) (*connector.Inventory, error) {
	d.full++
	return d.fakeDir.Inventory(ctx, groups)
}

// InventoryOf finds accounts by id, else by employee id, email or username (the email's local
// part); groups come with every member, as the interface allows.
func (d *finderDir) InventoryOf(ctx context.Context, people []connector.Person, groups []string) (*connector.Inventory, error) {
	d.targeted++
	inv, err := d.fakeDir.Inventory(ctx, groups)
	if err != nil {
		return nil, err
	}
	exists := map[string]bool{}
	for _, a := range inv.Accounts {
		exists[a.Ref.ID] = true
	}
	want := func(a connector.Account) bool {
		for _, p := range people {
			if slices.ContainsFunc(p.Known, func(r connector.AccountRef) bool { return exists[r.ID] }) {
				if slices.ContainsFunc(p.Known, func(r connector.AccountRef) bool { return r.ID == a.Ref.ID }) {
					return true
				}
				continue
			}
			local, _, _ := strings.Cut(p.Spec.Email, "@")
			if (p.Spec.EmployeeID != "" && a.EmployeeID == p.Spec.EmployeeID) || strings.EqualFold(a.Email, p.Spec.Email) || a.Username == local {
				return true
			}
		}
		return false
	}
	inv.Accounts = slices.DeleteFunc(inv.Accounts, func(a connector.Account) bool { return !want(a) })
	return inv, nil
}

// TestTargetedReconcile: a run targeted at a leaver reads that person only (no full
// inventory), disables the account and removes it from its groups, and leaves everybody else
// alone: another person's drift and an unknown account are neither repaired nor reported, and
// their stored accounts are kept. The next full run still finds them.
func TestTargetedReconcile(t *testing.T) {
	st := storetest.OpenSQLite(t)
	ctx := t.Context()
	svc, rec, fake := fakeFixture(t, st)
	dir := &finderDir{fakeDir: fake}
	rec.Open = func(context.Context, *gatehouse.System) (connector.Connector, error) { return dir, nil }
	if _, err := rec.Reconcile(ctx, "app", provision.RunOptions{Cause: "test"}); err != nil {
		t.Fatal(err)
	}
	stored := func() map[string]*gatehouse.Account {
		accts, err := st.ListAccounts(ctx, gatehouse.AccountFilter{SystemID: "app"})
		if err != nil {
			t.Fatal(err)
		}
		m := map[string]*gatehouse.Account{}
		for _, a := range accts.Items {
			m[a.Username] = a
		}
		return m
	}
	if n := len(stored()); n != 3 {
		t.Fatalf("%d accounts stored after the first run, want 3", n)
	}

	// Drift of other people: u2's account disabled by hand, an unknown account in eng.
	fake.mu.Lock()
	for _, a := range fake.accounts {
		if a.Username == "u2" {
			a.Enabled = false
		}
	}
	fake.accounts["svc"] = &connector.Account{Ref: connector.AccountRef{ID: "svc"}, Username: "svc", Enabled: true}
	fake.groups["eng"]["svc"] = true
	fake.mu.Unlock()

	// u1 leaves: terminated, grants revoked.
	p := service.SystemPrincipal("test")
	u1, err := st.GetIdentity(ctx, "u1@example.com")
	if err != nil {
		t.Fatal(err)
	}
	terminated := gatehouse.StatusTerminated
	if _, err := svc.UpdateIdentity(ctx, p, u1.ID, service.IdentityPatch{Status: &terminated}, "test"); err != nil {
		t.Fatal(err)
	}
	grants, err := st.ListGrants(ctx, gatehouse.GrantFilter{IdentityID: u1.ID, Status: "active"})
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range grants.Items {
		if _, err := svc.RevokeGrant(ctx, p, g.ID, "leaver"); err != nil {
			t.Fatal(err)
		}
	}

	dir.full = 0
	run, err := rec.Reconcile(ctx, "app", provision.RunOptions{Cause: "hr-import:x", Identities: []string{u1.ID}})
	if err != nil {
		t.Fatal(err)
	}
	if dir.full != 0 || dir.targeted != 1 {
		t.Errorf("full inventories %d, targeted %d: want the targeted read only", dir.full, dir.targeted)
	}
	if run.Cause != "hr-import:x (targeted: 1 people)" || run.Accounts != 1 {
		t.Errorf("run cause %q, %d accounts: want it marked targeted, with u1's account only", run.Cause, run.Accounts)
	}
	for _, f := range run.Findings {
		if f.IdentityID != u1.ID {
			t.Errorf("finding about somebody else in a targeted run: %+v", f)
		}
	}
	if got := fake.members("eng"); !slices.Equal(got, []string{"svc", "u2", "u3"}) {
		t.Errorf("eng = %v, want u1 removed and the rest (the unknown svc too) untouched", got)
	}
	if got := fake.members("users"); !slices.Equal(got, []string{"u2", "u3"}) {
		t.Errorf("users = %v, want u1 removed", got)
	}
	fake.mu.Lock()
	for _, a := range fake.accounts {
		if (a.Username == "u1" || a.Username == "u2") && a.Enabled {
			t.Errorf("%s enabled: want u1 disabled (leaver), u2 left disabled (not in this run)", a.Username)
		}
	}
	fake.mu.Unlock()
	links := stored()
	if a := links["u1"]; a == nil || a.Enabled || len(a.Memberships) != 0 || a.IdentityID != u1.ID {
		t.Errorf("u1's stored account = %+v, want disabled without memberships", a)
	}
	if a := links["u2"]; a == nil || !a.Enabled || len(a.Memberships) != 2 {
		t.Errorf("u2's stored account = %+v, want it as the full run stored it", a)
	}
	if _, ok := links["svc"]; ok || len(links) != 3 {
		t.Errorf("stored accounts = %v, want u1..u3 only", links)
	}

	// The next full run still finds the rest.
	run, err = rec.Reconcile(ctx, "app", provision.RunOptions{Cause: "schedule"})
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]int{}
	for _, f := range run.Findings {
		kinds[f.Kind]++
	}
	if kinds["unknown_account"] != 1 || kinds["unknown_membership"] != 1 {
		t.Errorf("full run findings = %+v, want svc reported", run.Findings)
	}
	if got := fake.members("eng"); !slices.Equal(got, []string{"u2", "u3"}) {
		t.Errorf("eng after the full run = %v", got)
	}
}

// TestTargetedScope: a targeted run does not take another person's account for its own: an
// account carrying the person's email but somebody else's employee id is that somebody's. (u1's
// own account is gone, so the finder looks u1 up and finds it.)
func TestTargetedScope(t *testing.T) {
	st := storetest.OpenSQLite(t)
	ctx := t.Context()
	_, rec, fake := fakeFixture(t, st)
	dir := &finderDir{fakeDir: fake}
	rec.Open = func(context.Context, *gatehouse.System) (connector.Connector, error) { return dir, nil }
	if _, err := rec.Reconcile(ctx, "app", provision.RunOptions{Cause: "test"}); err != nil {
		t.Fatal(err)
	}
	u1, err := st.GetIdentity(ctx, "u1@example.com")
	if err != nil {
		t.Fatal(err)
	}
	// A hand-made account with u1's email but u2's employee id: u2's.
	fake.mu.Lock()
	for id, a := range fake.accounts {
		if a.Username == "u1" {
			delete(fake.accounts, id)
			delete(fake.groups["eng"], id)
			delete(fake.groups["users"], id)
		}
	}
	fake.accounts["odd"] = &connector.Account{Ref: connector.AccountRef{ID: "odd"}, Username: "u1x", Email: "U1@example.com",
		EmployeeID: "E2", Enabled: true}
	fake.mu.Unlock()
	run, err := rec.Reconcile(ctx, "app", provision.RunOptions{Cause: "grant:g", Identities: []string{u1.ID}})
	if err != nil {
		t.Fatal(err)
	}
	if run.Accounts != 0 || len(run.Findings) != 0 || run.Planned != 3 {
		t.Errorf("run = %d accounts, findings %+v, %d planned: want none of u1's, an account created and added to 2 groups",
			run.Accounts, run.Findings, run.Planned)
	}
	fake.mu.Lock()
	defer fake.mu.Unlock()
	if odd := fake.accounts["odd"]; !odd.Enabled {
		t.Errorf("u2's odd account was disabled by u1's run")
	}
}

// recordingQueue records the reconciles the service's changes ask for.
type recordingQueue struct {
	mu       sync.Mutex
	calls    []enqueued
	expiries []time.Time
}

type enqueued struct {
	all         bool
	systems     []string
	identities  []string
	cause       string
	deprovision bool
}

func (q *recordingQueue) record(e enqueued) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.calls = append(q.calls, e)
}

func (q *recordingQueue) ReconcileTx(_ context.Context, _ store.Tx, t provision.Trigger) error {
	q.record(enqueued{all: t.All, systems: t.Systems, identities: t.Identities, cause: t.Cause, deprovision: t.Deprovision})
	return nil
}

func (q *recordingQueue) ScheduleExpiryTx(_ context.Context, _ store.Tx, at time.Time) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.expiries = append(q.expiries, at)
	return nil
}

func (q *recordingQueue) last(t *testing.T) enqueued {
	t.Helper()
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.calls) == 0 {
		t.Fatal("nothing enqueued")
	}
	e := q.calls[len(q.calls)-1]
	q.calls = nil
	return e
}

// TestTriggerTargets: through the real service, an HR import's changes enqueue runs targeted
// at the people it touched (a mover, a leaver whose revocations name only the grants); a grant
// by hand targets its person; a catalog apply reconciles everybody.
func TestTriggerTargets(t *testing.T) {
	st := storetest.OpenSQLite(t)
	ctx := t.Context()
	q := &recordingQueue{}
	svc := service.New(st, service.Options{Jobs: q})
	p := service.SystemPrincipal("test")
	if _, err := svc.CreateIdentity(ctx, p, &gatehouse.Identity{Email: "owner@example.com", Kind: gatehouse.KindService}, "test"); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.ApplyCatalog(ctx, p, []catalog.File{{Name: "c.yaml", Content: []byte(fakeCatalog)}}, false, "test"); err != nil {
		t.Fatal(err)
	}
	if e := q.last(t); !e.all || e.identities != nil {
		t.Fatalf("catalog apply enqueued %+v, want a full run of every system", e)
	}
	importHR := func(rows ...string) {
		t.Helper()
		res, err := svc.ImportHR(ctx, p, "hr.csv", []byte(hrHeader+strings.Join(rows, "")), false)
		if err != nil || res.Import.Status != gatehouse.ImportApplied {
			t.Fatalf("import: %+v, %v", res, err)
		}
	}
	importHR(hrRow(1, "Eng", "active"), hrRow(2, "Eng", "active"), hrRow(3, "Eng", "active"), hrRow(4, "Eng", "active"),
		hrRow(5, "Eng", "active"), hrRow(6, "Eng", "active"))
	if e := q.last(t); !e.all || len(e.identities) != 6 || !strings.HasPrefix(e.cause, "hr-import:") {
		t.Fatalf("first import enqueued %+v, want a run of every system targeted at its 6 joiners", e)
	}
	id := func(email string) string {
		i, err := st.GetIdentity(ctx, email)
		if err != nil {
			t.Fatal(err)
		}
		return i.ID
	}
	// p2 moves to Sales, p3 leaves; the others do not change.
	importHR(hrRow(1, "Eng", "active"), hrRow(2, "Sales", "active"), hrRow(3, "Eng", "terminated"), hrRow(4, "Eng", "active"),
		hrRow(5, "Eng", "active"), hrRow(6, "Eng", "active"))
	want := []string{id("p2@example.com"), id("p3@example.com")}
	slices.Sort(want)
	if e := q.last(t); !e.all || !slices.Equal(e.identities, want) {
		t.Fatalf("mover and leaver import enqueued %+v, want every system targeted at %v", e, want)
	}

	g, err := svc.CreateGrant(ctx, p, service.NewGrant{Identity: id("p2@example.com"), Entitlement: "app/eng", Reference: "TICKET-1", Reason: "project"})
	if err != nil {
		t.Fatal(err)
	}
	if e := q.last(t); e.all || !slices.Equal(e.systems, []string{"app"}) || !slices.Equal(e.identities, []string{id("p2@example.com")}) {
		t.Fatalf("grant enqueued %+v, want app targeted at p2", e)
	}
	if _, err := svc.RevokeGrant(ctx, p, g.ID, "done"); err != nil {
		t.Fatal(err)
	}
	if e := q.last(t); !slices.Equal(e.identities, []string{id("p2@example.com")}) {
		t.Fatalf("revocation enqueued %+v, want app targeted at p2", e)
	}
}

// TestTargetedJobsCoalesce: the reconciles of one system that wait to run are one job: a
// targeted request merges its people into a waiting targeted job, and a full one makes it full
// (the coalescing in detail, on both engines: internal/jobs).
func TestTargetedJobsCoalesce(t *testing.T) {
	_, q := idleHost(t)
	ctx := t.Context()
	var ids []int64
	for _, who := range [][]string{{"a"}, {"b"}, {"a"}, nil, {"b", "a"}} {
		got, err := q.EnqueueFor(ctx, []string{"app"}, who, "grant:g", false)
		if err != nil || len(got) != 1 {
			t.Fatalf("enqueue for %v = %v, %v", who, got, err)
		}
		ids = append(ids, got[0])
	}
	if len(slices.Compact(slices.Clone(ids))) != 1 {
		t.Fatalf("job ids %v, want one job", ids)
	}
	js, err := q.Jobs(ctx, ids[:1])
	if err != nil || len(js) != 1 || js[0].State != "available" {
		t.Fatalf("jobs = %+v, %v; want one waiting", js, err)
	}
}

// TestJobsAnswersReconcilesOnly: GET /api/v1/reconcile/jobs follows reconciles; an id of other
// work in the queue (an expiry here; notifications, whose errors name mail hosts, alike) is not
// a reconcile job, and says nothing about it.
func TestJobsAnswersReconcilesOnly(t *testing.T) {
	st, q := idleHost(t)
	ctx := t.Context()
	if err := st.Update(ctx, func(tx store.Tx) error {
		return q.ScheduleExpiryTx(ctx, tx, time.Now().Add(time.Hour))
	}); err != nil {
		t.Fatal(err)
	}
	var other int64
	if err := st.(jobs.DB).DB().QueryRowContext(ctx, `SELECT id FROM river_job WHERE kind = 'expire_grants'`).Scan(&other); err != nil {
		t.Fatal(err)
	}
	mine, err := q.EnqueueFor(ctx, []string{"app"}, nil, "grant:g", false)
	if err != nil || len(mine) != 1 {
		t.Fatalf("enqueue = %v, %v", mine, err)
	}
	if js, err := q.Jobs(ctx, mine); err != nil || len(js) != 1 || js[0].SystemID != "app" {
		t.Fatalf("Jobs(reconcile) = %+v, %v; want the app's job", js, err)
	}
	_, err = q.Jobs(ctx, []int64{mine[0], other})
	if gatehouse.ErrorCode(err) != gatehouse.ENOTFOUND {
		t.Fatalf("Jobs(expiry job) = %v, want ENOTFOUND", err)
	}
}

// TestDeprovisionFirstWithoutCause: a change that takes access away but names no grant (a
// person terminated by hand, holding no grant) has the schedule's cause, yet its reconcile runs
// at the deprovisioning priority, ahead of the scheduled runs.
func TestDeprovisionFirstWithoutCause(t *testing.T) {
	ctx := t.Context()
	for _, tc := range []struct {
		deprovision bool
		want        int
	}{{true, jobs.PriorityDeprovision}, {false, jobs.PrioritySchedule}} {
		st, q := idleHost(t) // a fresh queue each: the second job would merge into the first
		ids, err := q.EnqueueFor(ctx, []string{"app"}, nil, provision.CauseSchedule, tc.deprovision)
		if err != nil || len(ids) != 1 {
			t.Fatalf("enqueue = %v, %v", ids, err)
		}
		var prio int
		if err := st.(jobs.DB).DB().QueryRowContext(ctx, `SELECT priority FROM river_job WHERE id = ?`, ids[0]).Scan(&prio); err != nil {
			t.Fatal(err)
		}
		if prio != tc.want {
			t.Errorf("deprovision %v with cause %q: priority %d, want %d", tc.deprovision, provision.CauseSchedule, prio, tc.want)
		}
	}
}

// idleHost is a job host over a fresh SQLite store and the fake connector, not started: the
// jobs it is given wait in the queue, where a test can look at them.
func idleHost(t *testing.T) (store.Store, *jobs.Host) {
	t.Helper()
	st := storetest.OpenSQLite(t)
	_, rec, _ := fakeFixture(t, st)
	q, err := jobs.New(t.Context(), st, rec, jobs.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return st, q
}
