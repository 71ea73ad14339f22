package service_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/internal/catalog"
	"github.com/gatehouse/gatehouse/internal/service"
	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

const requestCatalog = `
settings:
  security_approvers: [sec@example.com]
systems:
  - id: app
    name: App
    owner: owner@example.com
    tier: standard
    connector: {type: manual}
entitlements:
  - {id: app/eng, system: app, name: Eng, kind: group, risk: standard, requestable: true, external_id: eng, approval: [manager, owner]}
  - {id: app/admins, system: app, name: Admins, kind: group, risk: privileged, requestable: true, max_duration: 8h, external_id: admins, approval: [manager, owner]}
  - {id: app/hidden, system: app, name: Hidden, kind: group, risk: standard, requestable: false}
  - {id: app/pay, system: app, name: Pay, kind: group, risk: sensitive, requestable: true, external_id: pay, approval: [owner]}
  - {id: app/approve, system: app, name: Approve, kind: group, risk: sensitive, requestable: true, external_id: approve, approval: [owner]}
  - {id: app/ledger, system: app, name: Ledger, kind: group, risk: standard, requestable: true, external_id: ledger, approval: [owner]}
  - {id: app/vault, system: app, name: Vault, kind: group, risk: standard, requestable: true, external_id: vault, approval: [cid@example.com]}
roles:
  - {id: bundle, name: Bundle, entitlements: [app/eng, app/ledger]}
  - {id: mixed, name: Mixed, entitlements: [app/eng, app/hidden]}
sod:
  - {id: pay-vs-approve, left: [app/pay], right: [app/approve], severity: critical, on_violation: block}
  - {id: eng-vs-vault, left: [app/eng], right: [app/vault], severity: high, on_violation: exception}
  - {id: ledger-vs-pay, left: [app/ledger], right: [app/pay], severity: low, on_violation: record}
`

// reqFixture is a service over st with an organization: boss manages ann and cid (peers: Eng,
// Dev); owner owns the app; sec is the security approver; op an operator; a leaver; orphan has
// no manager; gone's manager left.
type reqFixture struct {
	svc *service.Service
	st  store.Store
	p   map[string]*gatehouse.Principal
	id  map[string]*gatehouse.Identity
	now *time.Time
	mu  sync.Mutex
}

func newReqFixture(t testing.TB, st store.Store) *reqFixture {
	t.Helper()
	ctx := context.Background()
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	f := &reqFixture{st: st, p: map[string]*gatehouse.Principal{}, id: map[string]*gatehouse.Identity{}, now: &now}
	f.svc = service.New(st, service.Options{Now: f.clock})
	sys := service.SystemPrincipal("test")
	for _, x := range []*gatehouse.Identity{
		{EmployeeID: "E1", Email: "boss@example.com", Department: "Eng", Title: "Lead"},
		{EmployeeID: "E2", Email: "ann@example.com", Department: "Eng", Title: "Dev", ManagerID: "E1"},
		{EmployeeID: "E3", Email: "cid@example.com", Department: "Eng", Title: "Dev", ManagerID: "E1"},
		{EmployeeID: "E4", Email: "owner@example.com", Department: "IT", Title: "Owner"},
		{EmployeeID: "E5", Email: "sec@example.com", Department: "Security", Title: "Analyst"},
		{EmployeeID: "E6", Email: "op@example.com", Department: "IT", Title: "Ops"},
		{EmployeeID: "E7", Email: "leaver@example.com", Department: "Eng", Title: "Dev", Status: gatehouse.StatusTerminated},
		{EmployeeID: "E8", Email: "orphan@example.com", Department: "Sales", Title: "Rep"},
		{EmployeeID: "E9", Email: "gone@example.com", Department: "Sales", Title: "Rep", ManagerID: "E7"},
	} {
		id, err := f.svc.CreateIdentity(ctx, sys, x, "test")
		if err != nil {
			t.Fatal(err)
		}
		name := strings.TrimSuffix(x.Email, "@example.com")
		f.id[name] = id
		f.p[name] = &gatehouse.Principal{IdentityID: id.ID, Email: id.Email}
	}
	op, err := f.svc.SetRoles(ctx, sys, "op@example.com", []gatehouse.AccessRole{gatehouse.RoleOperator}, "test")
	if err != nil {
		t.Fatal(err)
	}
	f.p["op"].Roles = op.Roles
	if _, err := f.svc.ApplyCatalog(ctx, sys, []catalog.File{{Name: "c.yaml", Content: []byte(requestCatalog)}}, false, "test"); err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *reqFixture) clock() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return *f.now
}

func (f *reqFixture) advance(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	*f.now = f.now.Add(d)
}

func (f *reqFixture) create(t testing.TB, who string, in service.NewRequest) *gatehouse.AccessRequest {
	t.Helper()
	if in.Justification == "" {
		in.Justification = "deploy the billing fix for INC-4211 this week"
	}
	r, err := f.svc.CreateRequest(context.Background(), f.p[who], in)
	if err != nil {
		t.Fatalf("%s creates %+v: %v", who, in, err)
	}
	return r
}

func TestRequestRouting(t *testing.T) {
	t.Parallel()
	f := newReqFixture(t, storetest.OpenSQLite(t))
	ctx := context.Background()
	type step struct {
		kind   gatehouse.StepKind
		emails string
		why    string // substring
	}
	for _, tc := range []struct {
		name string
		who  string
		in   service.NewRequest
		want []step
	}{
		{"manager then owner", "ann", service.NewRequest{Entitlement: "app/eng"},
			[]step{{gatehouse.StepManager, "boss@example.com", "manager of ann@example.com"}, {gatehouse.StepOwner, "owner@example.com", "owner of app/eng"}}},
		{"privileged adds security", "ann", service.NewRequest{Entitlement: "app/admins", Duration: gatehouse.Duration(4 * time.Hour)},
			[]step{{gatehouse.StepManager, "boss@example.com", ""}, {gatehouse.StepOwner, "owner@example.com", ""},
				{gatehouse.StepSecurity, "sec@example.com", "privileged, which always needs security"}}},
		{"no manager: system owner", "orphan", service.NewRequest{Entitlement: "app/eng"},
			// One person decides at most one step: the owner, who took the manager step, is not
			// asked again, and the owner step falls to the operators.
			[]step{{gatehouse.StepManager, "owner@example.com", "has no manager in HR; so it goes to the owner of system app"},
				{gatehouse.StepOwner, "op@example.com", "owner@example.com already decides the manager step (one person decides at most one step of a request)"}}},
		{"terminated manager: system owner", "gone", service.NewRequest{Entitlement: "app/eng"},
			[]step{{gatehouse.StepManager, "owner@example.com", "leaver@example.com is terminated"}, {gatehouse.StepOwner, "op@example.com", "already decides the manager step"}}},
		{"owner asks: operators", "owner", service.NewRequest{Entitlement: "app/ledger"},
			[]step{{gatehouse.StepOwner, "op@example.com", "owner@example.com is the beneficiary (no one approves their own access); the system owner cannot approve either, so it goes to the operators"}}},
		{"named person", "ann", service.NewRequest{Entitlement: "app/vault"},
			[]step{{gatehouse.StepPerson, "cid@example.com", "named in the approval chain of app/vault"}}},
		{"operator for ann: the operator is left out", "op", service.NewRequest{For: "ann@example.com", Entitlement: "app/eng"},
			[]step{{gatehouse.StepManager, "boss@example.com", ""}, {gatehouse.StepOwner, "owner@example.com", ""}}},
		{"role: steps asked once", "ann", service.NewRequest{Role: "bundle"},
			[]step{{gatehouse.StepManager, "boss@example.com", ""}, {gatehouse.StepOwner, "owner@example.com", ""}}},
		{"role: a step routed on is still asked once", "orphan", service.NewRequest{Role: "bundle"},
			[]step{{gatehouse.StepManager, "owner@example.com", "so it goes to the owner of system app"},
				{gatehouse.StepOwner, "op@example.com", "already decides the manager step"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.in.Justification = "deploy the billing fix for INC-4211 this week"
			pv, err := f.svc.PreviewRequest(ctx, f.p[tc.who], tc.in)
			if err != nil {
				t.Fatal(err)
			}
			if len(pv.Steps) != len(tc.want) {
				t.Fatalf("steps = %+v, want %d", pv.Steps, len(tc.want))
			}
			for i, w := range tc.want {
				got := pv.Steps[i]
				if got.Kind != w.kind || strings.Join(got.Emails, ",") != w.emails || !strings.Contains(got.Why, w.why) {
					t.Errorf("step %d = %s %v why %q; want %s %s why containing %q", i, got.Kind, got.Emails, got.Why, w.kind, w.emails, w.why)
				}
			}
		})
	}
	// A preview creates nothing.
	if page, err := f.st.ListRequests(ctx, gatehouse.RequestFilter{}); err != nil || len(page.Items) != 0 {
		t.Fatalf("after previews: %d requests, %v", len(page.Items), err)
	}
}

func TestRequestRefusals(t *testing.T) {
	t.Parallel()
	f := newReqFixture(t, storetest.OpenSQLite(t))
	ctx := context.Background()
	f.create(t, "ann", service.NewRequest{Entitlement: "app/ledger"}) // pending
	if _, err := f.svc.CreateGrant(ctx, f.p["op"], service.NewGrant{Identity: "cid@example.com", Entitlement: "app/eng", Reference: "CHG-1", Reason: "setup"}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		who  string
		in   service.NewRequest
		code string
		msg  string
	}{
		{"ann", service.NewRequest{Entitlement: "app/hidden"}, gatehouse.EINVALID, "app/hidden is not requestable"},
		{"ann", service.NewRequest{Role: "mixed"}, gatehouse.EINVALID, "role mixed includes app/hidden, which is not requestable"},
		{"cid", service.NewRequest{Entitlement: "app/eng"}, gatehouse.ECONFLICT, "cid@example.com already holds app/eng"},
		{"ann", service.NewRequest{Entitlement: "app/ledger"}, gatehouse.ECONFLICT, "app/ledger is already requested for ann@example.com in REQ-000001"},
		{"op", service.NewRequest{For: "leaver@example.com", Entitlement: "app/eng"}, gatehouse.ECONFLICT, "leaver@example.com is terminated"},
		{"ann", service.NewRequest{Entitlement: "app/admins"}, gatehouse.EINVALID, "app/admins is privileged: say for how long (at most 8h0m0s)"},
		{"ann", service.NewRequest{Entitlement: "app/admins", Duration: gatehouse.Duration(9 * time.Hour)}, gatehouse.EINVALID, "exceeds the max_duration 8h0m0s"},
		{"ann", service.NewRequest{Action: gatehouse.ActionRemove, Entitlement: "app/eng"}, gatehouse.ECONFLICT, "ann@example.com does not hold app/eng"},
		{"ann", service.NewRequest{For: "cid@example.com", Entitlement: "app/eng"}, gatehouse.EFORBIDDEN, "only operators request access on someone else's behalf"},
		{"ann", service.NewRequest{Entitlement: "app/eng", Role: "bundle"}, gatehouse.EINVALID, "name one entitlement or one role"},
		{"ann", service.NewRequest{Entitlement: "app/eng", Priority: "whenever"}, gatehouse.EINVALID, "priority"},
	} {
		tc.in.Justification = "deploy the billing fix for INC-4211 this week"
		_, err := f.svc.CreateRequest(ctx, f.p[tc.who], tc.in)
		if gatehouse.ErrorCode(err) != tc.code || !strings.Contains(gatehouse.ErrorMessage(err), tc.msg) {
			t.Errorf("%s %+v: err = %v; want %s containing %q", tc.who, tc.in, err, tc.code, tc.msg)
		}
	}
	if _, err := f.svc.CreateRequest(ctx, nil, service.NewRequest{Entitlement: "app/eng"}); gatehouse.ErrorCode(err) != gatehouse.EUNAUTHORIZED {
		t.Errorf("anonymous: %v", err)
	}
}

func TestRequestSoDPolicy(t *testing.T) {
	t.Parallel()
	f := newReqFixture(t, storetest.OpenSQLite(t))
	ctx := context.Background()
	for _, e := range []string{"app/pay", "app/eng"} {
		if _, err := f.svc.CreateGrant(ctx, f.p["op"], service.NewGrant{Identity: "ann@example.com", Entitlement: e, Reference: "CHG-1", Reason: "setup"}); err != nil {
			t.Fatal(err)
		}
	}
	_, err := f.svc.CreateRequest(ctx, f.p["ann"], service.NewRequest{Entitlement: "app/approve", Justification: "approve vendor invoices this quarter"})
	if gatehouse.ErrorCode(err) != gatehouse.ECONFLICT || !strings.Contains(err.Error(), "blocked by SoD rule pay-vs-approve") {
		t.Errorf("block rule: %v", err)
	}
	_, err = f.svc.CreateRequest(ctx, f.p["ann"], service.NewRequest{Entitlement: "app/vault", Justification: "rotate the vault keys this quarter"})
	if gatehouse.ErrorCode(err) != gatehouse.ECONFLICT || !strings.Contains(err.Error(), "need an approved exception") {
		t.Errorf("exception rule: %v", err)
	}
	r := f.create(t, "ann", service.NewRequest{Entitlement: "app/ledger"})
	if len(r.Findings.SoD) != 1 || r.Findings.SoD[0].Rule != "ledger-vs-pay" || r.Findings.SoD[0].OnViolation != "record" {
		t.Errorf("record rule findings = %+v", r.Findings.SoD)
	}
}

// TestRequestLifecycle follows a request from submission to grants, with the decisions that
// must be refused on the way, and checks the audit trail.
func TestRequestLifecycle(t *testing.T) {
	t.Parallel()
	f := newReqFixture(t, storetest.OpenSQLite(t))
	ctx := context.Background()
	if _, err := f.svc.CreateGrant(ctx, f.p["op"], service.NewGrant{Identity: "cid@example.com", Entitlement: "app/admins",
		Reference: "CHG-1", Reason: "setup", Duration: gatehouse.Duration(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	r := f.create(t, "ann", service.NewRequest{Entitlement: "app/admins", Duration: gatehouse.Duration(4 * time.Hour), Priority: gatehouse.PriorityHigh})
	if r.Ref != "REQ-000001" || r.State != gatehouse.RequestPendingApproval || !r.DueAt.Equal(f.clock().Add(8*time.Hour)) {
		t.Fatalf("created %s %s due %v", r.Ref, r.State, r.DueAt)
	}
	if r.Findings.Risk != gatehouse.RiskPrivileged || len(r.Findings.Peers) != 1 || r.Findings.Peers[0].Peers != 1 || r.Findings.Peers[0].Holding != 1 {
		t.Fatalf("findings = %+v; want privileged, 1 of 1 peer (cid) holding it", r.Findings)
	}
	refuse := func(who string, code string, call func(ctx context.Context, p *gatehouse.Principal, id, c string) (*gatehouse.AccessRequest, error), comment string) {
		t.Helper()
		if _, err := call(ctx, f.p[who], r.Ref, comment); gatehouse.ErrorCode(err) != code {
			t.Fatalf("%s: err = %v, want %s", who, err, code)
		}
	}
	refuse("ann", gatehouse.EFORBIDDEN, f.svc.ApproveRequest, "")   // self-approval
	refuse("owner", gatehouse.EFORBIDDEN, f.svc.ApproveRequest, "") // not the current step
	refuse("op", gatehouse.EFORBIDDEN, f.svc.ApproveRequest, "")    // operators do not bypass
	refuse("boss", gatehouse.EINVALID, f.svc.DenyRequest, " ")      // a denial says why
	refuse("cid", gatehouse.EFORBIDDEN, f.svc.ApproveRequest, "")   // a peer
	admin := service.SystemPrincipal("admin")                       // admins do not bypass either
	if _, err := f.svc.ApproveRequest(ctx, admin, r.Ref, ""); gatehouse.ErrorCode(err) != gatehouse.EFORBIDDEN {
		t.Fatalf("admin: %v", err)
	}
	// The manager is away: cid decides as delegate.
	if _, err := f.svc.SetDelegation(ctx, f.p["boss"], service.NewDelegation{To: "cid@example.com", EndsAt: f.clock().Add(24 * time.Hour), Reason: "holiday"}); err != nil {
		t.Fatal(err)
	}
	if inbox, err := f.svc.ListRequests(ctx, f.p["cid"], service.ViewPendingMe, gatehouse.RequestFilter{}); err != nil || len(inbox.Items) != 1 {
		t.Fatalf("delegate's inbox = %v, %v", inbox.Items, err)
	}
	f.advance(time.Minute)
	r, err := f.svc.ApproveRequest(ctx, f.p["cid"], r.Ref, "fine")
	if err != nil || r.Steps[0].Decision != gatehouse.DecisionApproved || !strings.Contains(r.Steps[0].Comment, "as delegate of "+f.id["boss"].ID) {
		t.Fatalf("delegate approves: %+v, %v", r, err)
	}
	if _, err := f.svc.ApproveRequest(ctx, f.p["owner"], r.Ref, "ok"); err != nil {
		t.Fatal(err)
	}
	if mine, _ := f.svc.ListRequests(ctx, f.p["owner"], service.ViewPendingMe, gatehouse.RequestFilter{}); len(mine.Items) != 0 {
		t.Fatalf("owner's inbox still holds %d", len(mine.Items))
	}
	approvedAt := f.clock()
	r, err = f.svc.ApproveRequest(ctx, f.p["sec"], r.Ref, "time-bound, fine")
	if err != nil {
		t.Fatal(err)
	}
	if r.State != gatehouse.RequestProvisioning || len(r.GrantIDs) != 1 || r.ApprovedAt == nil {
		t.Fatalf("after the last approval: %s, grants %v", r.State, r.GrantIDs)
	}
	g, err := f.st.GetGrant(ctx, r.GrantIDs[0])
	if err != nil || g.Source != gatehouse.SourceRequest || g.Reference != "REQ-000001" || g.IdentityID != f.id["ann"].ID ||
		g.ExpiresAt == nil || !g.ExpiresAt.Equal(approvedAt.Add(4*time.Hour)) {
		t.Fatalf("grant = %+v, %v", g, err)
	}
	refuse("boss", gatehouse.ECONFLICT, f.svc.ApproveRequest, "") // decided already
	refuse("ann", gatehouse.ECONFLICT, f.svc.CancelRequest, "")   // no longer open

	// Fulfillment follows the operations: pending, then applied after approval.
	op := &gatehouse.Operation{SystemID: "app", Kind: "add_member", IdentityID: f.id["ann"].ID, Group: "admins", Cause: "grant", Status: gatehouse.OpPending}
	err = f.st.Update(ctx, func(tx store.Tx) error {
		rec := &gatehouse.Reconcile{SystemID: "app", Cause: "test", StartedAt: f.clock(), Status: gatehouse.ReconcileRunning}
		if err := tx.CreateReconcile(ctx, rec); err != nil {
			return err
		}
		op.ReconcileID = rec.ID
		if err := tx.CreateOperations(ctx, []*gatehouse.Operation{op}); err != nil {
			return err
		}
		return tx.AppendAudit(ctx, &gatehouse.AuditEvent{Actor: "test", Action: "test.op", ObjectType: "operation", ObjectID: op.ID})
	})
	if err != nil {
		t.Fatal(err)
	}
	if n, err := f.svc.SyncRequests(ctx); err != nil || n != 0 {
		t.Fatalf("sync with a pending operation: %d, %v", n, err)
	}
	done := f.clock().Add(90 * time.Second)
	op.Status, op.FinishedAt = gatehouse.OpApplied, &done
	if err := f.st.Update(ctx, func(tx store.Tx) error {
		if err := tx.UpdateOperation(ctx, op); err != nil {
			return err
		}
		return tx.AppendAudit(ctx, &gatehouse.AuditEvent{Actor: "test", Action: "test.op", ObjectType: "operation", ObjectID: op.ID})
	}); err != nil {
		t.Fatal(err)
	}
	if n, err := f.svc.SyncRequests(ctx); err != nil || n != 1 {
		t.Fatalf("sync: %d, %v", n, err)
	}
	r, err = f.svc.GetRequest(ctx, f.p["ann"], "REQ-000001")
	if err != nil || r.State != gatehouse.RequestFulfilled || time.Duration(r.TimeToProvision) != 90*time.Second {
		t.Fatalf("after sync: %+v, %v", r, err)
	}

	// Every change is audited with the request number, and the chain holds.
	evs, err := f.st.ListAuditEvents(ctx, gatehouse.AuditFilter{Ascending: true, Limit: gatehouse.MaxLimit})
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, ev := range evs.Items {
		if ev.Reference == "REQ-000001" {
			actions = append(actions, string(ev.Action))
		}
	}
	want := "request.create request.approve request.approve request.approve grant.create request.provision request.fulfill"
	if got := strings.Join(actions, " "); got != want {
		t.Errorf("audit with REQ-000001 = %s\nwant %s", got, want)
	}
	if v, err := f.svc.VerifyAudit(ctx, service.SystemPrincipal("test")); err != nil || !v.OK {
		t.Fatalf("verify: %+v %v", v, err)
	}
	// Who sees it: the parties and approvers and readers, nobody else.
	if _, err := f.svc.GetRequest(ctx, f.p["orphan"], r.Ref); gatehouse.ErrorCode(err) != gatehouse.EFORBIDDEN {
		t.Errorf("a stranger reads it: %v", err)
	}
	if _, err := f.svc.GetRequest(ctx, f.p["sec"], r.Ref); err != nil {
		t.Errorf("an approver reads it: %v", err)
	}
}

func TestRequestReturnResubmitDenyCancel(t *testing.T) {
	t.Parallel()
	f := newReqFixture(t, storetest.OpenSQLite(t))
	ctx := context.Background()
	weak := f.create(t, "ann", service.NewRequest{Entitlement: "app/eng", Justification: "need access"})
	if weak.State != gatehouse.RequestReturned || len(weak.Missing) == 0 || !strings.Contains(weak.Missing[0], "what task needs it") {
		t.Fatalf("weak justification: %s %q", weak.State, weak.Missing)
	}
	if _, err := f.svc.ApproveRequest(ctx, f.p["boss"], weak.Ref, ""); gatehouse.ErrorCode(err) != gatehouse.ECONFLICT {
		t.Fatalf("approve a returned request: %v", err)
	}
	if _, err := f.svc.ResubmitRequest(ctx, f.p["ann"], weak.Ref, "pls"); gatehouse.ErrorCode(err) != gatehouse.EINVALID {
		t.Fatalf("resubmit still weak: %v", err)
	}
	if _, err := f.svc.ResubmitRequest(ctx, f.p["boss"], weak.Ref, "deploy the billing fix for INC-4211"); gatehouse.ErrorCode(err) != gatehouse.EFORBIDDEN {
		t.Fatalf("someone else resubmits: %v", err)
	}
	r, err := f.svc.ResubmitRequest(ctx, f.p["ann"], weak.Ref, "deploy the billing fix for INC-4211")
	if err != nil || r.State != gatehouse.RequestPendingApproval || len(r.Missing) != 0 {
		t.Fatalf("resubmit: %+v %v", r, err)
	}
	// The manager returns it, she resubmits, the manager denies it.
	if r, err = f.svc.ReturnRequest(ctx, f.p["boss"], r.Ref, "which environment?"); err != nil || r.State != gatehouse.RequestReturned {
		t.Fatalf("return: %v", err)
	}
	if r, err = f.svc.ResubmitRequest(ctx, f.p["ann"], r.Ref, "deploy the billing fix for INC-4211 to production"); err != nil || r.Steps[0].Decision != "" {
		t.Fatalf("resubmit after return: %+v %v", r, err)
	}
	if r, err = f.svc.DenyRequest(ctx, f.p["boss"], r.Ref, "use staging"); err != nil || r.State != gatehouse.RequestDenied {
		t.Fatalf("deny: %v", err)
	}
	// Cancel: the requester or beneficiary only, while open.
	c := f.create(t, "op", service.NewRequest{For: "cid@example.com", Entitlement: "app/ledger"})
	if _, err := f.svc.CancelRequest(ctx, f.p["boss"], c.Ref, ""); gatehouse.ErrorCode(err) != gatehouse.EFORBIDDEN {
		t.Fatalf("stranger cancels: %v", err)
	}
	if c, err = f.svc.CancelRequest(ctx, f.p["cid"], c.Ref, "not needed"); err != nil || c.State != gatehouse.RequestCancelled {
		t.Fatalf("beneficiary cancels: %v", err)
	}
	// A removal revokes at once.
	if _, err := f.svc.CreateGrant(ctx, f.p["op"], service.NewGrant{Identity: "cid@example.com", Entitlement: "app/pay", Reference: "CHG-1", Reason: "setup"}); err != nil {
		t.Fatal(err)
	}
	rm := f.create(t, "cid", service.NewRequest{Action: gatehouse.ActionRemove, Entitlement: "app/pay", Justification: "moved off payments"})
	if rm.State != gatehouse.RequestProvisioning || len(rm.GrantIDs) != 1 {
		t.Fatalf("removal: %s %v", rm.State, rm.GrantIDs)
	}
	if g, err := f.st.GetGrant(ctx, rm.GrantIDs[0]); err != nil || g.RevokedAt == nil {
		t.Fatalf("removed grant = %+v %v", g, err)
	}
	mine, err := f.svc.ListRequests(ctx, f.p["cid"], service.ViewMine, gatehouse.RequestFilter{})
	if err != nil || len(mine.Items) != 2 {
		t.Fatalf("cid's requests: %d %v", len(mine.Items), err)
	}
	if _, err := f.svc.ListRequests(ctx, f.p["cid"], service.ViewAll, gatehouse.RequestFilter{}); gatehouse.ErrorCode(err) != gatehouse.EFORBIDDEN {
		t.Fatalf("all, not a reader: %v", err)
	}
}

// TestRequestConcurrentDecisions: 200 requests decided at once leave each approved exactly
// once, and racing decisions on one request leave exactly one outcome, on both databases.
func TestRequestConcurrentDecisions(t *testing.T) {
	t.Parallel()
	for _, eng := range []struct {
		name string
		open func(testing.TB) store.Store
	}{{"sqlite", storetest.OpenSQLite}, {"postgres", storetest.OpenPostgres}} {
		t.Run(eng.name, func(t *testing.T) {
			t.Parallel()
			f := newReqFixture(t, eng.open(t))
			ctx := context.Background()
			const n = 200
			var people []*gatehouse.Identity
			sys := service.SystemPrincipal("test")
			for i := range n {
				people = append(people, &gatehouse.Identity{EmployeeID: fmt.Sprintf("P%03d", i), Email: fmt.Sprintf("p%03d@example.com", i), ManagerID: "E1"})
			}
			people, err := f.svc.CreateIdentities(ctx, sys, people, "test")
			if err != nil {
				t.Fatal(err)
			}
			refs := make([]string, n)
			var wg sync.WaitGroup
			errs := make(chan error, 4*n)
			for i := range n {
				wg.Go(func() {
					p := &gatehouse.Principal{IdentityID: people[i].ID, Email: people[i].Email}
					r, err := f.svc.CreateRequest(ctx, p, service.NewRequest{Entitlement: "app/ledger", Justification: "quarter-end reconciliation of ledgers"})
					if err != nil {
						errs <- err
						return
					}
					refs[i] = r.Ref
				})
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Fatal(err)
			}
			seen := map[string]bool{}
			for _, ref := range refs {
				if seen[ref] {
					t.Fatalf("number %s given twice", ref)
				}
				seen[ref] = true
			}
			// The owner decides all 200 at once, and two more decisions race on each of the
			// first 20: exactly one of them wins.
			var mu sync.Mutex
			outcomes := map[string][]string{}
			for i, ref := range refs {
				deciders := 1
				if i < 20 {
					deciders = 3
				}
				for d := range deciders {
					wg.Go(func() {
						var err error
						if d%2 == 0 {
							_, err = f.svc.ApproveRequest(ctx, f.p["owner"], ref, "ok")
						} else {
							_, err = f.svc.DenyRequest(ctx, f.p["owner"], ref, "no")
						}
						mu.Lock()
						defer mu.Unlock()
						if err == nil {
							outcomes[ref] = append(outcomes[ref], "ok")
						} else if c := gatehouse.ErrorCode(err); c != gatehouse.ECONFLICT {
							t.Errorf("%s: %v", ref, err)
						}
					})
				}
			}
			wg.Wait()
			for _, ref := range refs {
				if len(outcomes[ref]) != 1 {
					t.Errorf("%s: %d successful decisions, want exactly 1", ref, len(outcomes[ref]))
				}
				r, err := f.st.GetRequest(ctx, ref)
				if err != nil {
					t.Fatal(err)
				}
				grants, err := f.st.ListGrants(ctx, gatehouse.GrantFilter{IdentityID: r.BeneficiaryID})
				if err != nil {
					t.Fatal(err)
				}
				switch r.State {
				case gatehouse.RequestProvisioning:
					if len(grants.Items) != 1 || len(r.GrantIDs) != 1 {
						t.Errorf("%s approved with %d grants", ref, len(grants.Items))
					}
				case gatehouse.RequestDenied:
					if len(grants.Items) != 0 {
						t.Errorf("%s denied with %d grants", ref, len(grants.Items))
					}
				default:
					t.Errorf("%s is %s", ref, r.State)
				}
			}
			if v, err := f.svc.VerifyAudit(ctx, sys); err != nil || !v.OK {
				t.Fatalf("verify: %+v %v", v, err)
			}
		})
	}
}

// TestRequestSyncFailure: a failed target operation makes the request failed, with the error.
func TestRequestSyncFailure(t *testing.T) {
	t.Parallel()
	f := newReqFixture(t, storetest.OpenSQLite(t))
	ctx := context.Background()
	addOp := func(status gatehouse.OperationStatus, msg string) {
		t.Helper()
		op := &gatehouse.Operation{SystemID: "app", Kind: "add_member", IdentityID: f.id["ann"].ID, Group: "ledger", Cause: "grant",
			Status: status, Error: msg}
		err := f.st.Update(ctx, func(tx store.Tx) error {
			rec := &gatehouse.Reconcile{SystemID: "app", Cause: "test", StartedAt: time.Now(), Status: gatehouse.ReconcileRunning}
			if err := tx.CreateReconcile(ctx, rec); err != nil {
				return err
			}
			op.ReconcileID = rec.ID
			if err := tx.CreateOperations(ctx, []*gatehouse.Operation{op}); err != nil {
				return err
			}
			return tx.AppendAudit(ctx, &gatehouse.AuditEvent{Actor: "test", Action: "test.op", ObjectType: "operation", ObjectID: op.ID})
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	r := f.create(t, "ann", service.NewRequest{Entitlement: "app/ledger"})
	// The fixture's clock is fixed in March 2026; the store stamps operations with the real
	// clock, so the operation below counts as made after the approval.
	if _, err := f.svc.ApproveRequest(ctx, f.p["owner"], r.Ref, ""); err != nil {
		t.Fatal(err)
	}
	if n, err := f.svc.SyncRequests(ctx); err != nil || n != 0 {
		t.Fatalf("sync without operations: %d %v", n, err)
	}
	addOp(gatehouse.OpFailed, "LDAP: insufficient access")
	if n, err := f.svc.SyncRequests(ctx); err != nil || n != 1 {
		t.Fatalf("sync: %d %v", n, err)
	}
	got, err := f.st.GetRequest(ctx, r.Ref)
	if err != nil || got.State != gatehouse.RequestFailed || !strings.Contains(got.Error, "insufficient access") {
		t.Fatalf("after a failed operation: %s %q %v", got.State, got.Error, err)
	}
}

// TestLeaverRequestsCancelled: when the HR feed makes someone a leaver, their open requests are
// cancelled in the same import, audited with the request number, and leave the approver's inbox.
func TestLeaverRequestsCancelled(t *testing.T) {
	t.Parallel()
	f := newReqFixture(t, storetest.OpenSQLite(t))
	ctx := context.Background()
	r := f.create(t, "ann", service.NewRequest{Entitlement: "app/eng", Justification: "code review of the billing service"})
	if r.State != gatehouse.RequestPendingApproval {
		t.Fatalf("state = %s", r.State)
	}
	csv := "employee_id,email,first_name,last_name,department,title,manager_id,location,employment_type,status,start_date,end_date\n"
	for _, name := range []string{"boss", "ann", "cid", "owner", "sec", "op", "leaver", "orphan", "gone"} {
		id := f.id[name]
		status := id.Status
		if name == "ann" {
			status = gatehouse.StatusTerminated
		}
		csv += fmt.Sprintf("%s,%s,,,%s,%s,%s,,employee,%s,2025-01-01,\n", id.EmployeeID, id.Email, id.Department, id.Title, id.ManagerID, status)
	}
	if _, err := f.svc.ImportHR(ctx, f.p["op"], "hr.csv", []byte(csv), false); err != nil {
		t.Fatal(err)
	}
	got, err := f.svc.GetRequest(ctx, f.p["boss"], r.Ref)
	if err != nil || got.State != gatehouse.RequestCancelled || !strings.Contains(got.Events[len(got.Events)-1].Comment, "the beneficiary left") {
		t.Fatalf("after the leaver import: %+v, %v", got, err)
	}
	inbox, err := f.svc.ListRequests(ctx, f.p["boss"], service.ViewPendingMe, gatehouse.RequestFilter{})
	if err != nil || len(inbox.Items) != 0 {
		t.Fatalf("boss's inbox = %+v, %v", inbox.Items, err)
	}
	evs, err := f.st.ListAuditEvents(ctx, gatehouse.AuditFilter{Action: "request.cancel", Limit: 5})
	if err != nil || len(evs.Items) != 1 || evs.Items[0].Reference != r.Ref {
		t.Fatalf("audit = %+v, %v", evs.Items, err)
	}
}

// TestTerminateByHand: an operator terminating someone directly applies the leaver policy as the
// HR feed would: every grant revoked (audited, with the reason) and open requests cancelled.
func TestTerminateByHand(t *testing.T) {
	t.Parallel()
	f := newReqFixture(t, storetest.OpenSQLite(t))
	ctx := context.Background()
	if _, err := f.svc.CreateGrant(ctx, f.p["op"], service.NewGrant{Identity: "ann@example.com", Entitlement: "app/pay", Reference: "CHG-9", Reason: "setup"}); err != nil {
		t.Fatal(err)
	}
	r := f.create(t, "ann", service.NewRequest{Entitlement: "app/eng", Justification: "code review of the billing service"})
	term := gatehouse.StatusTerminated
	if _, err := f.svc.UpdateIdentity(ctx, f.p["op"], "ann@example.com", service.IdentityPatch{Status: &term}, "resigned"); err != nil {
		t.Fatal(err)
	}
	active, err := f.st.ListGrants(ctx, gatehouse.GrantFilter{IdentityID: f.id["ann"].ID, Status: "active"})
	if err != nil || len(active.Items) != 0 {
		t.Fatalf("active grants after termination = %+v, %v", active.Items, err)
	}
	evs, err := f.st.ListAuditEvents(ctx, gatehouse.AuditFilter{Action: "grant.revoke", Limit: 5})
	if err != nil || len(evs.Items) != 1 || !strings.Contains(evs.Items[0].Reason, "resigned") || evs.Items[0].Reference != "CHG-9" {
		t.Fatalf("revocation events = %+v, %v", evs.Items, err)
	}
	got, err := f.svc.GetRequest(ctx, f.p["boss"], r.Ref)
	if err != nil || got.State != gatehouse.RequestCancelled {
		t.Fatalf("request after termination = %+v, %v", got, err)
	}
	// Terminating again changes nothing more.
	if _, err := f.svc.UpdateIdentity(ctx, f.p["op"], "ann@example.com", service.IdentityPatch{Status: &term}, "again"); err != nil {
		t.Fatal(err)
	}
	if again, _ := f.st.ListAuditEvents(ctx, gatehouse.AuditFilter{Action: "grant.revoke", Limit: 5}); len(again.Items) != 1 {
		t.Fatalf("a second termination revoked again: %+v", again.Items)
	}
}
