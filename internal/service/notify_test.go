package service_test

import (
	"context"
	"database/sql"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/internal/notify"
	"github.com/gatehouse/gatehouse/internal/service"
	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

// recorder is a service.Notifier that keeps what it is given (and can refuse it).
type recorder struct {
	t    testing.TB
	mu   sync.Mutex
	msgs []notify.Message
	fail error
}

func (r *recorder) EnqueueTx(_ context.Context, _ *sql.Tx, m notify.Message) error {
	if err := m.Validate(); err != nil {
		r.t.Errorf("the service built an invalid message: %v", err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.msgs = append(r.msgs, m)
	return r.fail
}

func (r *recorder) Link(path string) string { return "https://gatehouse.example.com" + path }

// take returns the messages received since the last take.
func (r *recorder) take() []notify.Message {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.msgs
	r.msgs = nil
	return out
}

func rcpts(m notify.Message) string {
	var out []string
	for _, r := range m.To {
		out = append(out, strings.TrimSuffix(r.Email, "@example.com"))
	}
	slices.Sort(out)
	return strings.Join(out, ",")
}

func field(m notify.Message, key string) string {
	for _, f := range m.Fields {
		if f.Key == key {
			return f.Value
		}
	}
	return ""
}

// expectMsgs checks the messages since the last call: one "event to recipients" each, in order.
func expectMsgs(t *testing.T, rec *recorder, want ...string) []notify.Message {
	t.Helper()
	got := rec.take()
	var have []string
	for _, m := range got {
		have = append(have, string(m.Event)+" to "+rcpts(m))
	}
	if strings.Join(have, "; ") != strings.Join(want, "; ") {
		t.Fatalf("messages = %q\nwant       %q", have, want)
	}
	return got
}

func notifyingFixture(t *testing.T) (*reqFixture, *recorder) {
	f := newReqFixture(t, storetest.OpenSQLite(t))
	rec := &recorder{t: t}
	f.svc = service.New(f.st, service.Options{Now: f.clock, Notifier: rec})
	return f, rec
}

// applied records that the target added ben to group after approval, so SyncRequests
// fulfils the request.
func applied(t *testing.T, f *reqFixture, ben, group string) {
	t.Helper()
	ctx := context.Background()
	done := f.clock()
	err := f.st.Update(ctx, func(tx store.Tx) error {
		rec := &gatehouse.Reconcile{SystemID: "app", Cause: "test", StartedAt: f.clock(), Status: gatehouse.ReconcileRunning}
		if err := tx.CreateReconcile(ctx, rec); err != nil {
			return err
		}
		op := &gatehouse.Operation{SystemID: "app", Kind: "add_member", IdentityID: f.id[ben].ID, Group: group, Cause: "grant",
			Status: gatehouse.OpApplied, FinishedAt: &done, ReconcileID: rec.ID}
		if err := tx.CreateOperations(ctx, []*gatehouse.Operation{op}); err != nil {
			return err
		}
		return tx.AppendAudit(ctx, &gatehouse.AuditEvent{Actor: "test", Action: "test.op", ObjectType: "operation", ObjectID: op.ID})
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestRequestNotifications(t *testing.T) {
	t.Parallel()
	f, rec := notifyingFixture(t)
	ctx := context.Background()
	// The manager is away: cid decides as delegate, and is told too.
	if _, err := f.svc.SetDelegation(ctx, f.p["boss"], service.NewDelegation{To: "cid@example.com", EndsAt: f.clock().Add(24 * time.Hour), Reason: "holiday"}); err != nil {
		t.Fatal(err)
	}
	expectMsgs(t, rec)

	r := f.create(t, "ann", service.NewRequest{Entitlement: "app/eng"})
	m := expectMsgs(t, rec, "approval_needed to boss,cid")[0]
	if !strings.Contains(m.Subject, "REQ-000001") || m.Link != "https://gatehouse.example.com/requests/REQ-000001" ||
		m.What != "Add Eng (app)" || m.ForWhom != "ann@example.com" || m.Why != "deploy the billing fix for INC-4211 this week" ||
		field(m, "Step") != "1 of 2 (manager)" || field(m, "Why you") == "" || field(m, "Requested by") != "ann@example.com" {
		t.Fatalf("approval needed = %+v", m)
	}

	// The first step's approval asks the next step; only the last one is a decision.
	if _, err := f.svc.ApproveRequest(ctx, f.p["cid"], r.Ref, "fine"); err != nil {
		t.Fatal(err)
	}
	m = expectMsgs(t, rec, "approval_needed to owner")[0]
	if field(m, "Step") != "2 of 2 (owner)" {
		t.Fatalf("second step = %+v", m)
	}
	// A refused decision tells nobody.
	if _, err := f.svc.ApproveRequest(ctx, f.p["boss"], r.Ref, ""); gatehouse.ErrorCode(err) != gatehouse.EFORBIDDEN {
		t.Fatalf("boss at the owner step: %v", err)
	}
	expectMsgs(t, rec)
	if _, err := f.svc.ApproveRequest(ctx, f.p["owner"], r.Ref, "ok for the billing fix"); err != nil {
		t.Fatal(err)
	}
	m = expectMsgs(t, rec, "decision to ann")[0] // requester and beneficiary are one person
	if field(m, "Decision") != "approved" || m.Why != "ok for the billing fix" {
		t.Fatalf("decision = %+v", m)
	}
	if !strings.Contains(m.Subject, "[REQ-000001] Request approved: Add Eng (app) for ann@example.com") {
		t.Fatalf("decision subject = %q", m.Subject)
	}
	if n, err := f.svc.SyncRequests(ctx); err != nil || n != 0 {
		t.Fatalf("sync before provisioning: %d %v", n, err)
	}
	expectMsgs(t, rec)
	f.advance(time.Minute)
	applied(t, f, "ann", "eng")
	if n, err := f.svc.SyncRequests(ctx); err != nil || n != 1 {
		t.Fatalf("sync: %d %v", n, err)
	}
	expectMsgs(t, rec, "fulfilled to ann")

	// On someone's behalf: the requester and the beneficiary hear the decision.
	r2 := f.create(t, "op", service.NewRequest{For: "cid@example.com", Entitlement: "app/ledger"})
	expectMsgs(t, rec, "approval_needed to owner")
	if _, err := f.svc.DenyRequest(ctx, f.p["owner"], r2.Ref, "use the reporting role instead"); err != nil {
		t.Fatal(err)
	}
	m = expectMsgs(t, rec, "decision to cid,op")[0]
	if field(m, "Decision") != "denied" || m.Why != "use the reporting role instead" {
		t.Fatalf("denial = %+v", m)
	}

	// Returned (by an approver, or by intake for a weak justification): the requester hears what is missing.
	r3 := f.create(t, "cid", service.NewRequest{Entitlement: "app/pay", Justification: "pls"})
	m = expectMsgs(t, rec, "decision to cid")[0]
	if r3.State != gatehouse.RequestReturned || field(m, "Decision") != "returned" || !strings.HasPrefix(m.Why, "needs ") {
		t.Fatalf("intake return = %s, %+v", r3.State, m)
	}
	if _, err := f.svc.ResubmitRequest(ctx, f.p["cid"], r3.Ref, "reconcile the March payroll run for audit ticket FIN-77"); err != nil {
		t.Fatal(err)
	}
	expectMsgs(t, rec, "approval_needed to owner")
	if _, err := f.svc.ReturnRequest(ctx, f.p["owner"], r3.Ref, "which payroll run?"); err != nil {
		t.Fatal(err)
	}
	m = expectMsgs(t, rec, "decision to cid")[0]
	if field(m, "Decision") != "returned" || !strings.Contains(m.Why, "which payroll run?") {
		t.Fatalf("return = %+v", m)
	}
	// Cancelling tells nobody: the one who cancels knows.
	if _, err := f.svc.CancelRequest(ctx, f.p["cid"], r3.Ref, "not needed"); err != nil {
		t.Fatal(err)
	}
	expectMsgs(t, rec)
}

// A notifier that fails does not fail the request: the change is committed, the failure logged.
func TestRequestSurvivesFailingNotifier(t *testing.T) {
	t.Parallel()
	f, rec := notifyingFixture(t)
	rec.fail = errors.New("outbox: database is locked")
	ctx := context.Background()
	r := f.create(t, "ann", service.NewRequest{Entitlement: "app/ledger"})
	if r.State != gatehouse.RequestPendingApproval {
		t.Fatalf("state %s", r.State)
	}
	if _, err := f.svc.ApproveRequest(ctx, f.p["owner"], r.Ref, "ok"); err != nil {
		t.Fatalf("approve with a failing notifier: %v", err)
	}
	got, err := f.st.GetRequest(ctx, r.Ref)
	if err != nil || got.State != gatehouse.RequestProvisioning {
		t.Fatalf("stored: %+v, %v", got, err)
	}
	expectMsgs(t, rec, "approval_needed to owner", "decision to ann")
}

func TestRequestSLAs(t *testing.T) {
	t.Parallel()
	f, rec := notifyingFixture(t)
	ctx := context.Background()
	check := func(want service.SLAReport) {
		t.Helper()
		got, err := f.svc.CheckRequestSLAs(ctx)
		if err != nil || got != want {
			t.Fatalf("CheckRequestSLAs = %+v, %v; want %+v", got, err, want)
		}
	}
	r := f.create(t, "ann", service.NewRequest{Entitlement: "app/eng", Priority: gatehouse.PriorityHigh}) // 8h SLA
	expectMsgs(t, rec, "approval_needed to boss")
	f.advance(7 * time.Hour)
	check(service.SLAReport{})
	expectMsgs(t, rec)

	f.advance(2 * time.Hour) // 1h overdue: the step's approvers are reminded, once
	check(service.SLAReport{Reminded: 1})
	m := expectMsgs(t, rec, "overdue to boss")[0]
	if !strings.Contains(m.Subject, "[REQ-000001] Overdue: Add Eng (app) for ann@example.com (due 2026-03-02 17:00 UTC)") ||
		m.Link != "https://gatehouse.example.com/requests/REQ-000001" || !strings.Contains(m.Why, "step 1 (manager)") {
		t.Fatalf("reminder = %+v", m)
	}
	f.advance(time.Hour)
	check(service.SLAReport{})
	expectMsgs(t, rec)

	// The service restarts: the timeline remembers the reminder.
	f.svc = service.New(f.st, service.Options{Now: f.clock, Notifier: rec})
	f.advance(7 * time.Hour) // 17h after the due time: overdue by more than the SLA again
	check(service.SLAReport{Escalated: 1})
	m = expectMsgs(t, rec, "overdue to op")[0]
	if !strings.Contains(m.Why, "escalated to operators") || field(m, "Approvers") != "boss@example.com" {
		t.Fatalf("escalation = %+v", m)
	}
	check(service.SLAReport{})

	// The manager approves; the owner's step is overdue too and is reminded once.
	if _, err := f.svc.ApproveRequest(ctx, f.p["boss"], r.Ref, "fine"); err != nil {
		t.Fatal(err)
	}
	expectMsgs(t, rec, "approval_needed to owner")
	check(service.SLAReport{Reminded: 1})
	expectMsgs(t, rec, "overdue to owner")
	check(service.SLAReport{})

	// No decision within 14 days: expired, audited with its number, the requester told.
	f.advance(service.DefaultRequestExpiry)
	check(service.SLAReport{Expired: 1})
	m = expectMsgs(t, rec, "decision to ann")[0]
	if field(m, "Decision") != "expired" || !strings.Contains(m.Why, "no decision within 14 days of submission (2026-03-02 09:00 UTC)") {
		t.Fatalf("expiry = %+v", m)
	}
	got, err := f.svc.GetRequest(ctx, f.p["ann"], r.Ref)
	if err != nil || got.State != gatehouse.RequestExpired {
		t.Fatalf("after expiry: %+v, %v", got, err)
	}
	if _, err := f.svc.ApproveRequest(ctx, f.p["owner"], r.Ref, "late"); gatehouse.ErrorCode(err) != gatehouse.ECONFLICT {
		t.Fatalf("approving an expired request: %v", err)
	}
	check(service.SLAReport{})
	evs, err := f.st.ListAuditEvents(ctx, gatehouse.AuditFilter{Action: "request.", Ascending: true, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, ev := range evs.Items {
		if ev.Reference == "REQ-000001" {
			actions = append(actions, string(ev.Action))
		}
	}
	want := "request.create request.remind request.escalate request.approve request.remind request.expire"
	if strings.Join(actions, " ") != want {
		t.Fatalf("audit = %s\nwant %s", strings.Join(actions, " "), want)
	}
	if v, err := f.svc.VerifyAudit(ctx, service.SystemPrincipal("test")); err != nil || !v.OK {
		t.Fatalf("verify: %+v %v", v, err)
	}
}

// Expiry is measured from the last submission, and a shorter setting applies without a notifier.
func TestRequestExpirySetting(t *testing.T) {
	t.Parallel()
	f := newReqFixture(t, storetest.OpenSQLite(t))
	f.svc = service.New(f.st, service.Options{Now: f.clock, RequestExpiry: 48 * time.Hour})
	r := f.create(t, "ann", service.NewRequest{Entitlement: "app/ledger", Priority: gatehouse.PriorityHigh}) // overdue, but nobody to remind
	f.advance(47 * time.Hour)
	if rep, err := f.svc.CheckRequestSLAs(context.Background()); err != nil || rep != (service.SLAReport{}) {
		t.Fatalf("before: %+v %v", rep, err)
	}
	f.advance(time.Hour)
	if rep, err := f.svc.CheckRequestSLAs(context.Background()); err != nil || rep.Expired != 1 {
		t.Fatalf("at 48h: %+v %v", rep, err)
	}
	if got, _ := f.st.GetRequest(context.Background(), r.ID); got.State != gatehouse.RequestExpired {
		t.Fatalf("state %s", got.State)
	}
}

func TestNotifyExpiringGrants(t *testing.T) {
	t.Parallel()
	f, rec := notifyingFixture(t)
	ctx := context.Background()
	for _, g := range []service.NewGrant{
		{Identity: "cid@example.com", Entitlement: "app/pay", Reference: "CHG-1", Reason: "setup", Duration: gatehouse.Duration(48 * time.Hour)},
		{Identity: "ann@example.com", Entitlement: "app/eng", Reference: "CHG-2", Reason: "setup", Duration: gatehouse.Duration(10 * 24 * time.Hour)},
		{Identity: "boss@example.com", Entitlement: "app/ledger", Reference: "CHG-3", Reason: "setup"},
	} {
		if _, err := f.svc.CreateGrant(ctx, f.p["op"], g); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := f.svc.NotifyExpiringGrants(ctx, 72*time.Hour); err != nil || n != 1 {
		t.Fatalf("notices = %d, %v", n, err)
	}
	m := expectMsgs(t, rec, "expiring to cid")[0]
	if m.Reference != "CHG-1" || m.What != "Pay (app)" || field(m, "Expires") != "2026-03-04 09:00 UTC" ||
		!strings.Contains(m.Why, "submit a new request") || !strings.HasPrefix(m.Link, "https://gatehouse.example.com/grants/") {
		t.Fatalf("notice = %+v", m)
	}
	// Told once, across a restart.
	if n, err := f.svc.NotifyExpiringGrants(ctx, 72*time.Hour); err != nil || n != 0 {
		t.Fatalf("second run = %d, %v", n, err)
	}
	f.svc = service.New(f.st, service.Options{Now: f.clock, Notifier: rec})
	f.advance(8 * 24 * time.Hour) // cid's grant ended; ann's is now within the window
	if n, err := f.svc.NotifyExpiringGrants(ctx, 72*time.Hour); err != nil || n != 1 {
		t.Fatalf("after restart = %d, %v", n, err)
	}
	expectMsgs(t, rec, "expiring to ann")
	// Without a notifier nobody is told, and nothing is recorded as told.
	quiet := service.New(f.st, service.Options{Now: f.clock})
	if n, err := quiet.NotifyExpiringGrants(ctx, 30*24*time.Hour); err != nil || n != 0 {
		t.Fatalf("without a notifier = %d, %v", n, err)
	}
}

// Replicas checking at the same time tell a beneficiary once.
func TestNotifyExpiringGrantsConcurrently(t *testing.T) {
	t.Parallel()
	for _, e := range []struct {
		name string
		open func(testing.TB) store.Store
	}{{"sqlite", storetest.OpenSQLite}, {"postgres", storetest.OpenPostgres}} {
		t.Run(e.name, func(t *testing.T) {
			t.Parallel()
			f := newReqFixture(t, e.open(t))
			ctx := context.Background()
			for _, who := range []string{"ann", "cid", "boss"} {
				if _, err := f.svc.CreateGrant(ctx, f.p["op"], service.NewGrant{Identity: who + "@example.com", Entitlement: "app/pay",
					Reference: "CHG-1", Reason: "setup", Duration: gatehouse.Duration(24 * time.Hour)}); err != nil {
					t.Fatal(err)
				}
			}
			rec := &recorder{t: t}
			var wg sync.WaitGroup
			for range 4 {
				svc := service.New(f.st, service.Options{Now: f.clock, Notifier: rec})
				wg.Go(func() {
					if _, err := svc.NotifyExpiringGrants(ctx, 48*time.Hour); err != nil {
						t.Error(err)
					}
				})
			}
			wg.Wait()
			var to []string
			for _, m := range rec.take() {
				to = append(to, rcpts(m))
			}
			slices.Sort(to)
			if strings.Join(to, " ") != "ann boss cid" {
				t.Fatalf("told %v; want each of ann, boss, cid once", to)
			}
		})
	}
}
