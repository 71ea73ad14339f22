package service_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/connector/connectors"
	"github.com/gatehouse/gatehouse/internal/catalog"
	"github.com/gatehouse/gatehouse/internal/jobs"
	"github.com/gatehouse/gatehouse/internal/service"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

const excDay = 24 * time.Hour

// vaultException is op's exception for ann to hold app/eng and app/vault (rule eng-vs-vault).
func vaultException(onExpiry gatehouse.OnExpiry) service.NewException {
	return service.NewException{For: "ann@example.com", Rule: "eng-vs-vault", Rationale: "ann rotates the vault keys while the vault team is hiring",
		Controls: "every vault login is reviewed weekly by security", Expires: gatehouse.Duration(30 * excDay), Review: gatehouse.Duration(14 * excDay), OnExpiry: onExpiry}
}

func TestExceptionDenials(t *testing.T) {
	t.Parallel()
	f := newReqFixture(t, storetest.OpenSQLite(t))
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		who  string
		in   service.NewException
		code string
		msg  string
	}{
		{"no rationale", "op", service.NewException{For: "ann@example.com", Rule: "eng-vs-vault", Controls: "x", Expires: gatehouse.Duration(excDay)}, gatehouse.EINVALID, "rationale"},
		{"no controls", "op", service.NewException{For: "ann@example.com", Rule: "eng-vs-vault", Rationale: "x", Expires: gatehouse.Duration(excDay)}, gatehouse.EINVALID, "controls"},
		{"no expiry", "op", service.NewException{For: "ann@example.com", Rule: "eng-vs-vault", Rationale: "x", Controls: "y"}, gatehouse.EINVALID, "expires"},
		{"too long", "op", service.NewException{For: "ann@example.com", Rule: "eng-vs-vault", Rationale: "x", Controls: "y", Expires: gatehouse.Duration(400 * excDay)}, gatehouse.EINVALID, "366d"},
		{"review after expiry", "op", service.NewException{For: "ann@example.com", Rule: "eng-vs-vault", Rationale: "x", Controls: "y", Expires: gatehouse.Duration(excDay), Review: gatehouse.Duration(2 * excDay)}, gatehouse.EINVALID, "review"},
		{"bad on_expiry", "op", service.NewException{For: "ann@example.com", Rule: "eng-vs-vault", Rationale: "x", Controls: "y", Expires: gatehouse.Duration(excDay), OnExpiry: "forget"}, gatehouse.EINVALID, "on_expiry"},
		{"no rule", "op", service.NewException{For: "ann@example.com", Rationale: "x", Controls: "y", Expires: gatehouse.Duration(excDay)}, gatehouse.EINVALID, "rule"},
		{"unknown rule", "op", service.NewException{For: "ann@example.com", Rule: "nope", Rationale: "x", Controls: "y", Expires: gatehouse.Duration(excDay)}, gatehouse.ENOTFOUND, "nope"},
		{"entitlement off the rule", "op", service.NewException{For: "ann@example.com", Rule: "eng-vs-vault", Entitlements: []string{"app/pay"}, Rationale: "x", Controls: "y", Expires: gatehouse.Duration(excDay)}, gatehouse.EINVALID, "app/pay"},
		{"for someone else", "cid", vaultException(""), gatehouse.EFORBIDDEN, "operator"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := f.svc.CreateException(ctx, f.p[tc.who], tc.in)
			if gatehouse.ErrorCode(err) != tc.code || !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("err = %v, want %s mentioning %q", err, tc.code, tc.msg)
			}
		})
	}
	if _, err := f.svc.CreateException(ctx, nil, vaultException("")); gatehouse.ErrorCode(err) != gatehouse.EUNAUTHORIZED {
		t.Fatalf("anonymous create: %v", err)
	}

	e, err := f.svc.CreateException(ctx, f.p["op"], vaultException(""))
	if err != nil {
		t.Fatal(err)
	}
	if e.Ref != "EXC-000001" || e.Status != gatehouse.ExceptionPending || e.OnExpiry != gatehouse.ExpiryRevoke ||
		!e.ExpiresAt.Equal(f.clock().Add(30*excDay)) || !e.ReviewAt.Equal(f.clock().Add(14*excDay)) {
		t.Fatalf("created %+v", e)
	}
	// Ann may ask for her own; she still cannot approve it.
	own, err := f.svc.CreateException(ctx, f.p["ann"], service.NewException{Rule: "eng-vs-vault", Rationale: "r", Controls: "c", Expires: gatehouse.Duration(excDay)})
	if err != nil || own.IdentityID != f.id["ann"].ID {
		t.Fatalf("own exception: %v", err)
	}
	admin := &gatehouse.Principal{IdentityID: f.id["ann"].ID, Email: "ann@example.com", Roles: []gatehouse.AccessRole{gatehouse.RoleAdmin}}
	opAdmin := &gatehouse.Principal{IdentityID: f.id["op"].ID, Email: "op@example.com", Roles: []gatehouse.AccessRole{gatehouse.RoleAdmin}}
	for _, tc := range []struct {
		name string
		p    *gatehouse.Principal
		ref  string
		code string
	}{
		{"anonymous", nil, e.Ref, gatehouse.EUNAUTHORIZED},
		{"the requester, even as admin", opAdmin, e.Ref, gatehouse.EFORBIDDEN},
		{"the person concerned, even as admin", admin, e.Ref, gatehouse.EFORBIDDEN},
		{"a manager", f.p["boss"], e.Ref, gatehouse.EFORBIDDEN},
		{"an operator", f.p["op"], own.Ref, gatehouse.EFORBIDDEN},
		{"unknown", f.p["sec"], "EXC-000099", gatehouse.ENOTFOUND},
	} {
		t.Run("approve by "+tc.name, func(t *testing.T) {
			if _, err := f.svc.ApproveException(ctx, tc.p, tc.ref, service.ExceptionDecision{Comment: "ok"}); gatehouse.ErrorCode(err) != tc.code {
				t.Fatalf("err = %v, want %s", err, tc.code)
			}
		})
	}
	if _, err := f.svc.ApproveException(ctx, f.p["sec"], e.Ref, service.ExceptionDecision{}); gatehouse.ErrorCode(err) != gatehouse.EINVALID {
		t.Fatalf("approval without a comment: %v", err)
	}
	got, err := f.svc.ApproveException(ctx, f.p["sec"], e.Ref, service.ExceptionDecision{Comment: "weekly log review is in place"})
	if err != nil || got.Status != gatehouse.ExceptionApproved || got.ApprovedBy != "sec@example.com" || got.ApprovedAt == nil {
		t.Fatalf("approve: %+v, %v", got, err)
	}
	if _, err := f.svc.RejectException(ctx, f.p["sec"], e.Ref, service.ExceptionDecision{Comment: "no"}); gatehouse.ErrorCode(err) != gatehouse.ECONFLICT {
		t.Fatalf("deciding twice: %v", err)
	}
	// An admin who is neither requester nor concerned rejects.
	boss := &gatehouse.Principal{IdentityID: f.id["boss"].ID, Email: "boss@example.com", Roles: []gatehouse.AccessRole{gatehouse.RoleAdmin}}
	if r, err := f.svc.RejectException(ctx, boss, own.Ref, service.ExceptionDecision{Comment: "use a request"}); err != nil || r.Status != gatehouse.ExceptionRejected {
		t.Fatalf("admin rejects: %v", err)
	}

	// Reading: one's own, or everyone's for readers; others' are not found.
	if _, err := f.svc.GetException(ctx, f.p["ann"], e.Ref); err != nil {
		t.Fatalf("ann reads her own: %v", err)
	}
	if _, err := f.svc.GetException(ctx, f.p["cid"], e.Ref); gatehouse.ErrorCode(err) != gatehouse.ENOTFOUND {
		t.Fatalf("cid reads ann's: %v", err)
	}
	if _, err := f.svc.ListExceptions(ctx, f.p["cid"], service.ExceptionQuery{Identity: "ann@example.com"}); gatehouse.ErrorCode(err) != gatehouse.EFORBIDDEN {
		t.Fatalf("cid lists ann's: %v", err)
	}
	// Nor may cid learn who exists: an unknown person is answered as somebody else is.
	_, unknown := f.svc.ListExceptions(ctx, f.p["cid"], service.ExceptionQuery{Identity: "nobody@example.com"})
	if _, err := f.svc.ListExceptions(ctx, f.p["cid"], service.ExceptionQuery{Identity: "ann@example.com"}); unknown == nil || err == nil || unknown.Error() != err.Error() {
		t.Fatalf("cid lists an unknown person's: %v; somebody else's: %v — want the same refusal", unknown, err)
	}
	mine, err := f.svc.ListExceptions(ctx, f.p["cid"], service.ExceptionQuery{})
	if err != nil || len(mine.Items) != 0 {
		t.Fatalf("cid's own list: %d, %v", len(mine.Items), err)
	}
	all, err := f.svc.ListExceptions(ctx, f.p["op"], service.ExceptionQuery{})
	if err != nil || len(all.Items) != 2 {
		t.Fatalf("operator's list: %d, %v", len(all.Items), err)
	}
	if all, err := f.svc.ListExceptions(ctx, f.p["sec"], service.ExceptionQuery{}); err != nil || len(all.Items) != 2 {
		t.Fatalf("the security approver's list: %d, %v", len(all.Items), err)
	}
	if _, err := f.svc.GetException(ctx, f.p["sec"], e.Ref); err != nil {
		t.Fatalf("the security approver reads it: %v", err)
	}
	for _, tc := range []struct {
		within time.Duration
		want   int
	}{{29 * excDay, 0}, {30 * excDay, 1}} {
		pg, err := f.svc.ListExceptions(ctx, f.p["op"], service.ExceptionQuery{Expiring: tc.within})
		if err != nil || len(pg.Items) != tc.want {
			t.Fatalf("expiring within %v: %d, %v; want %d", tc.within, len(pg.Items), err, tc.want)
		}
	}
	if _, err := f.svc.ListExceptions(ctx, f.p["op"], service.ExceptionQuery{Expiring: excDay, Statuses: []gatehouse.ExceptionStatus{gatehouse.ExceptionPending}}); gatehouse.ErrorCode(err) != gatehouse.EINVALID {
		t.Fatalf("expiring pending: %v", err)
	}

	// Every change is audited with the EXC number.
	evs, err := f.st.ListAuditEvents(ctx, gatehouse.AuditFilter{ObjectType: "exception", Ascending: true})
	if err != nil {
		t.Fatal(err)
	}
	var got2 []string
	for _, ev := range evs.Items {
		got2 = append(got2, string(ev.Action)+" "+ev.Reference)
	}
	want := "exception.create EXC-000001,exception.create EXC-000002,exception.approve EXC-000001,exception.reject EXC-000002"
	if strings.Join(got2, ",") != want {
		t.Fatalf("audit = %v\nwant %s", got2, want)
	}
}

// TestExceptionRequestPath: an SoD exception rule refuses a request without an approved
// exception, lets it through with one (recording the exception and the grant), refuses it again
// once the exception has expired, and the expiry revokes the access it allowed.
func TestExceptionRequestPath(t *testing.T) {
	t.Parallel()
	for _, eng := range expiryEngines {
		t.Run(eng.name, func(t *testing.T) {
			t.Parallel()
			testExceptionRequestPath(t, newReqFixture(t, eng.open(t).Store))
		})
	}
}

func testExceptionRequestPath(t *testing.T, f *reqFixture) {
	ctx := context.Background()
	if _, err := f.svc.CreateGrant(ctx, f.p["op"], service.NewGrant{Identity: "ann@example.com", Entitlement: "app/eng", Reference: "CHG-1", Reason: "setup"}); err != nil {
		t.Fatal(err)
	}
	ask := service.NewRequest{Entitlement: "app/vault", Justification: "rotate the vault keys this quarter"}
	refused := func(when string) {
		t.Helper()
		_, err := f.svc.CreateRequest(ctx, f.p["ann"], ask)
		if gatehouse.ErrorCode(err) != gatehouse.ECONFLICT || !strings.Contains(err.Error(), "need an approved exception") {
			t.Fatalf("%s: err = %v, want the exception refusal", when, err)
		}
	}
	refused("without an exception")
	e, err := f.svc.CreateException(ctx, f.p["op"], vaultException(gatehouse.ExpiryRevoke))
	if err != nil {
		t.Fatal(err)
	}
	refused("with a pending exception")
	if _, err := f.svc.ApproveException(ctx, f.p["sec"], e.Ref, service.ExceptionDecision{Comment: "controls checked"}); err != nil {
		t.Fatal(err)
	}
	r := f.create(t, "ann", ask)
	if len(r.Findings.SoD) != 1 || r.Findings.SoD[0].Rule != "eng-vs-vault" || r.Findings.SoD[0].Exception != e.Ref {
		t.Fatalf("findings = %+v; want eng-vs-vault under %s", r.Findings.SoD, e.Ref)
	}
	r, err = f.svc.ApproveRequest(ctx, f.p["cid"], r.Ref, "fine under the exception")
	if err != nil || r.State != gatehouse.RequestProvisioning || len(r.GrantIDs) != 1 {
		t.Fatalf("approve: %v, %+v", err, r)
	}
	e, err = f.svc.GetException(ctx, f.p["op"], e.Ref)
	if err != nil || len(e.GrantIDs) != 1 || e.GrantIDs[0] != r.GrantIDs[0] {
		t.Fatalf("exception grants = %v, want %v (%v)", e.GrantIDs, r.GrantIDs, err)
	}

	// Before its expiry the sweep leaves it; after, it revokes the vault grant, not eng.
	f.advance(30*excDay - time.Second)
	if n, err := f.svc.ExpireExceptions(ctx, f.clock()); err != nil || n != 0 {
		t.Fatalf("sweep before expiry: %d, %v", n, err)
	}
	f.advance(time.Second)
	if n, err := f.svc.ExpireExceptions(ctx, f.clock()); err != nil || n != 1 {
		t.Fatalf("sweep at expiry: %d, %v", n, err)
	}
	if n, err := f.svc.ExpireExceptions(ctx, f.clock()); err != nil || n != 0 {
		t.Fatalf("second sweep: %d, %v", n, err)
	}
	g, err := f.st.GetGrant(ctx, r.GrantIDs[0])
	if err != nil || g.RevokedAt == nil || !strings.Contains(g.RevokeReason, e.Ref) {
		t.Fatalf("vault grant after expiry: %+v, %v", g, err)
	}
	active, err := f.st.ListGrants(ctx, gatehouse.GrantFilter{IdentityID: f.id["ann"].ID, Status: "active"})
	if err != nil || len(active.Items) != 1 || active.Items[0].EntitlementID != "app/eng" {
		t.Fatalf("ann's grants after expiry: %+v, %v", active.Items, err)
	}
	e, _ = f.svc.GetException(ctx, f.p["op"], e.Ref)
	if e.Status != gatehouse.ExceptionExpired {
		t.Fatalf("status = %s", e.Status)
	}
	refused("after the exception expired")
	evs, err := f.st.ListAuditEvents(ctx, gatehouse.AuditFilter{Action: "grant.revoke", ObjectID: g.ID})
	if err != nil || len(evs.Items) != 1 || evs.Items[0].Reference != e.Ref || evs.Items[0].Actor != "system:exceptions" {
		t.Fatalf("revoke event: %+v, %v", evs.Items, err)
	}

	// An exception that ends between submission and the final approval stops the request there.
	in := vaultException(gatehouse.ExpiryRevoke)
	in.Expires, in.Review = gatehouse.Duration(excDay), 0
	e2, err := f.svc.CreateException(ctx, f.p["op"], in)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.ApproveException(ctx, f.p["sec"], e2.Ref, service.ExceptionDecision{Comment: "one day"}); err != nil {
		t.Fatal(err)
	}
	r2 := f.create(t, "ann", ask)
	f.advance(2 * excDay)
	if _, err := f.svc.ApproveRequest(ctx, f.p["cid"], r2.Ref, "late"); gatehouse.ErrorCode(err) != gatehouse.ECONFLICT || !strings.Contains(err.Error(), "eng-vs-vault") {
		t.Fatalf("approval after the exception ended: %v", err)
	}
	if v, err := f.svc.VerifyAudit(ctx, service.SystemPrincipal("test")); err != nil || !v.OK {
		t.Fatalf("audit verify: %+v, %v", v, err)
	}
}

// TestExceptionExpiryReview: with on_expiry review, an expired exception comes back pending,
// the access stays, and approving it again needs a new expiry.
func TestExceptionExpiryReview(t *testing.T) {
	t.Parallel()
	f := newReqFixture(t, storetest.OpenSQLite(t))
	ctx := context.Background()
	in := vaultException(gatehouse.ExpiryReview)
	in.Entitlements = []string{"app/vault"}
	e, err := f.svc.CreateException(ctx, f.p["op"], in)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.ApproveException(ctx, f.p["sec"], e.Ref, service.ExceptionDecision{Comment: "ok"}); err != nil {
		t.Fatal(err)
	}
	g, err := f.svc.CreateGrant(ctx, f.p["op"], service.NewGrant{Identity: "ann@example.com", Entitlement: "app/vault", Reference: e.Ref, Reason: "under the exception"})
	if err != nil {
		t.Fatal(err)
	}
	f.advance(31 * excDay)
	if n, err := f.svc.ExpireExceptions(ctx, f.clock()); err != nil || n != 1 {
		t.Fatalf("sweep: %d, %v", n, err)
	}
	e, _ = f.svc.GetException(ctx, f.p["op"], e.Ref)
	if e.Status != gatehouse.ExceptionPending || !strings.Contains(e.Comment, "review") {
		t.Fatalf("after expiry: %s %q", e.Status, e.Comment)
	}
	if g2, _ := f.st.GetGrant(ctx, g.ID); g2.RevokedAt != nil {
		t.Fatal("review revoked the grant")
	}
	evs, err := f.st.ListAuditEvents(ctx, gatehouse.AuditFilter{Action: "exception.review"})
	if err != nil || len(evs.Items) != 1 || evs.Items[0].Reference != e.Ref {
		t.Fatalf("review event: %+v, %v", evs.Items, err)
	}
	if _, err := f.svc.ApproveException(ctx, f.p["sec"], e.Ref, service.ExceptionDecision{Comment: "still needed"}); gatehouse.ErrorCode(err) != gatehouse.EINVALID {
		t.Fatalf("renewal without a new expiry: %v", err)
	}
	e, err = f.svc.ApproveException(ctx, f.p["sec"], e.Ref, service.ExceptionDecision{Comment: "still needed", Expires: gatehouse.Duration(60 * excDay)})
	if err != nil || e.Status != gatehouse.ExceptionApproved || !e.ExpiresAt.Equal(f.clock().Add(60*excDay)) {
		t.Fatalf("renewal: %+v, %v", e, err)
	}
}

// TestExceptionExpiryRevokesListed: an exception no request used revokes, on expiry, the
// grants of the entitlements it names.
func TestExceptionExpiryRevokesListed(t *testing.T) {
	t.Parallel()
	f := newReqFixture(t, storetest.OpenSQLite(t))
	ctx := context.Background()
	in := vaultException(gatehouse.ExpiryRevoke)
	in.Entitlements = []string{"app/vault"}
	e, err := f.svc.CreateException(ctx, f.p["op"], in)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.ApproveException(ctx, f.p["sec"], e.Ref, service.ExceptionDecision{Comment: "ok"}); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, ent := range []string{"app/vault", "app/eng"} {
		g, err := f.svc.CreateGrant(ctx, f.p["op"], service.NewGrant{Identity: "ann@example.com", Entitlement: ent, Reference: e.Ref, Reason: "direct"})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, g.ID)
	}
	f.advance(30 * excDay)
	if n, err := f.svc.ExpireExceptions(ctx, f.clock()); err != nil || n != 1 {
		t.Fatalf("sweep: %d, %v", n, err)
	}
	vault, _ := f.st.GetGrant(ctx, ids[0])
	eng, _ := f.st.GetGrant(ctx, ids[1])
	if vault.RevokedAt == nil || eng.RevokedAt != nil {
		t.Fatalf("vault revoked %v, eng revoked %v; want only vault", vault.RevokedAt, eng.RevokedAt)
	}
}

// TestExceptionRevoke: ending an approved exception early takes its access away; only
// security, admins or its recorder may; an ended one cannot be revoked again.
func TestExceptionRevoke(t *testing.T) {
	t.Parallel()
	f := newReqFixture(t, storetest.OpenSQLite(t))
	ctx := context.Background()
	in := vaultException(gatehouse.ExpiryReview) // revoke takes access away whatever on_expiry says
	in.Entitlements = []string{"app/vault"}
	e, err := f.svc.CreateException(ctx, f.p["op"], in)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.ApproveException(ctx, f.p["sec"], e.Ref, service.ExceptionDecision{Comment: "ok"}); err != nil {
		t.Fatal(err)
	}
	g, err := f.svc.CreateGrant(ctx, f.p["op"], service.NewGrant{Identity: "ann@example.com", Entitlement: "app/vault", Reference: e.Ref, Reason: "direct"})
	if err != nil {
		t.Fatal(err)
	}
	for _, who := range []string{"ann", "boss", "cid"} {
		if _, err := f.svc.RevokeException(ctx, f.p[who], e.Ref, service.ExceptionDecision{Comment: "x"}); gatehouse.ErrorCode(err) != gatehouse.EFORBIDDEN {
			t.Fatalf("%s revokes: %v", who, err)
		}
	}
	got, err := f.svc.RevokeException(ctx, f.p["sec"], e.Ref, service.ExceptionDecision{Comment: "the vault team is staffed"})
	if err != nil || got.Status != gatehouse.ExceptionRevoked {
		t.Fatalf("revoke: %+v, %v", got, err)
	}
	if g2, _ := f.st.GetGrant(ctx, g.ID); g2.RevokedAt == nil || !strings.Contains(g2.RevokeReason, e.Ref) {
		t.Fatalf("grant after revoke: %+v", g2)
	}
	if _, err := f.svc.RevokeException(ctx, f.p["op"], e.Ref, service.ExceptionDecision{Comment: "again"}); gatehouse.ErrorCode(err) != gatehouse.ECONFLICT {
		t.Fatalf("revoking twice: %v", err)
	}
	if n, err := f.svc.ExpireExceptions(ctx, f.clock().Add(60*excDay)); err != nil || n != 0 {
		t.Fatalf("sweep after revoke: %d, %v", n, err)
	}
}

// TestExceptionOnExpirySetting: settings.exceptions.on_expiry is the default of exceptions
// recorded without their own; a bad value is refused by the catalog.
func TestExceptionOnExpirySetting(t *testing.T) {
	t.Parallel()
	f := newReqFixture(t, storetest.OpenSQLite(t))
	ctx := context.Background()
	sys := service.SystemPrincipal("test")
	apply := func(setting string) error {
		cat := strings.Replace(requestCatalog, "  security_approvers: [sec@example.com]\n",
			"  security_approvers: [sec@example.com]\n  exceptions: {on_expiry: "+setting+"}\n", 1)
		_, err := f.svc.ApplyCatalog(ctx, sys, []catalog.File{{Name: "c.yaml", Content: []byte(cat)}}, false, "test")
		return err
	}
	if err := apply("forget"); err == nil || !strings.Contains(err.Error(), "not revoke or review") {
		t.Fatalf("bad setting: %v", err)
	}
	if err := apply("review"); err != nil {
		t.Fatal(err)
	}
	e, err := f.svc.CreateException(ctx, f.p["op"], vaultException(""))
	if err != nil || e.OnExpiry != gatehouse.ExpiryReview {
		t.Fatalf("default from settings: %v, %v", e.OnExpiry, err)
	}
	e, err = f.svc.CreateException(ctx, f.p["op"], vaultException(gatehouse.ExpiryRevoke))
	if err != nil || e.OnExpiry != gatehouse.ExpiryRevoke {
		t.Fatalf("own on_expiry: %v, %v", e.OnExpiry, err)
	}
	// The setting survives export and re-import.
	stored, err := f.svc.GetCatalog(ctx, sys)
	if err != nil {
		t.Fatal(err)
	}
	out, err := catalog.Format(stored)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := catalog.Parse([]catalog.File{{Name: "export.yaml", Content: out}}, connectors.Specs)
	if err != nil || doc.Catalog.Settings.Exceptions.OnExpiry != gatehouse.ExpiryReview {
		t.Fatalf("round trip: %v\n%s", err, out)
	}
}

// TestRunExceptionExpiry: the server's periodic job handles, on its first run, an exception
// that expired while no server was running.
func TestRunExceptionExpiry(t *testing.T) {
	t.Parallel()
	f := newReqFixture(t, storetest.OpenSQLite(t))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	host, err := jobs.New(ctx, f.st, nil, jobs.Options{PollInterval: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	e, err := f.svc.CreateException(ctx, f.p["op"], vaultException(gatehouse.ExpiryRevoke))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.ApproveException(ctx, f.p["sec"], e.Ref, service.ExceptionDecision{Comment: "ok"}); err != nil {
		t.Fatal(err)
	}
	f.advance(31 * excDay)
	if err := host.Schedule(ctx, f.svc, jobs.Schedule{Expiry: time.Hour, HRDates: time.Hour, RequestSync: time.Hour,
		Exceptions: time.Hour, Notices: time.Hour}); err != nil {
		t.Fatal(err)
	}
	if err := host.Start(ctx); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		got, err := f.svc.GetException(ctx, f.p["op"], e.Ref)
		if err != nil {
			t.Fatal(err)
		}
		if got.Status == gatehouse.ExceptionExpired {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("status %s 5s after start, want expired", got.Status)
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	if err := host.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
}
