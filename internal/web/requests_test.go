package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/internal/catalog"
	"github.com/gatehouse/gatehouse/internal/service"
	"github.com/gatehouse/gatehouse/internal/store"
)

// requestableEntitlements are added to the test catalog: a sensitive ERP role approved by the
// manager and the system owner, a privileged group that needs security and a duration, and
// one that is granted by operators only.
// Neither has an external_id, so once approved the grant is the whole change.
const requestableEntitlements = `  - id: erp/invoices-read
    system: erp
    name: Read invoices
    description: Read-only access to supplier invoices
    kind: role
    risk: sensitive
    requestable: true
    approval: [manager, owner]
  - id: corp-ldap/prod-root
    system: corp-ldap
    name: Production root
    description: Root on production hosts
    kind: group
    risk: privileged
    requestable: true
    max_duration: 8h
    approval: [manager, security]
  - id: erp/ledger-admin
    system: erp
    name: Ledger admin
    kind: role
    risk: sensitive
    requestable: false
    approval: [security]
roles:
`

// newRequestFixture is the web fixture with requestable entitlements in the catalog.
func newRequestFixture(t *testing.T) *fixture {
	t.Helper()
	f := newFixture(t)
	cat := strings.Replace(testCatalog, "roles:\n", requestableEntitlements, 1)
	if _, err := f.svc.ApplyCatalog(context.Background(), service.SystemPrincipal("test"),
		[]catalog.File{{Name: "catalog.yaml", Content: []byte(cat)}}, false, "requestable entitlements"); err != nil {
		t.Fatal(err)
	}
	return f
}

const goodWhy = "Reconcile supplier invoices for the Q3 close (FIN-881)"

// submit posts the request form as who and returns the new request's number.
func (f *fixture) submit(t *testing.T, who string, form url.Values) string {
	t.Helper()
	form.Set("op", "submit")
	res, body := f.post(t, who, "/requests/new", form)
	wantStatus(t, res, body, http.StatusSeeOther)
	loc := res.Header.Get("Location")
	ref, ok := strings.CutPrefix(loc, "/requests/")
	if !ok || !strings.HasSuffix(ref, "?done=submitted") {
		t.Fatalf("after submitting, Location %q", loc)
	}
	return strings.TrimSuffix(ref, "?done=submitted")
}

func TestRequestPortal(t *testing.T) {
	t.Parallel()
	f := newRequestFixture(t)

	// The catalog search lists requestable entitlements only, and matches the system's name.
	res, body := f.get(t, "alice", "/requests/new")
	wantStatus(t, res, body, http.StatusOK)
	wantContains(t, body, "Read invoices", "Production root", `href="/requests/new?entitlement=erp%2finvoices-read"`,
		`class="badge risk-privileged"`, `aria-current="page">Requests`, `href="/approvals"`)
	wantNotContains(t, body, "Ledger admin")
	res, body = f.get(t, "alice", "/requests/new?q=finance+erp")
	wantStatus(t, res, body, http.StatusOK)
	wantContains(t, body, "Read invoices")
	wantNotContains(t, body, "Production root")
	res, body = f.get(t, "alice", "/requests/new?q=supplier")
	wantStatus(t, res, body, http.StatusOK)
	wantContains(t, body, "Read invoices")
	wantNotContains(t, body, "Production root")
	res, body = f.get(t, "alice", "/requests/new?q=nothing-like-this")
	wantStatus(t, res, body, http.StatusOK)
	wantContains(t, body, "Nothing requestable matches")

	// The form for one entitlement: the privileged one says the duration is required and its max.
	res, body = f.get(t, "alice", "/requests/new?entitlement=corp-ldap/prod-root")
	wantStatus(t, res, body, http.StatusOK)
	wantContains(t, body, "Duration (required)", "At most 8 hours", `name="op" value="preview"`)
	wantNotContains(t, body, `id="for"`) // only operators ask for someone else
	res, body = f.get(t, "admin", "/requests/new?entitlement=corp-ldap/prod-root")
	wantStatus(t, res, body, http.StatusOK)
	wantContains(t, body, `id="for"`)
	res, body = f.get(t, "alice", "/requests/new?entitlement=erp/ledger-admin")
	wantStatus(t, res, body, http.StatusBadRequest)

	// A privileged request without a duration is refused next to the duration field.
	res, body = f.post(t, "alice", "/requests/new", url.Values{"op": {"preview"}, "entitlement": {"corp-ldap/prod-root"}, "justification": {goodWhy}})
	wantStatus(t, res, body, http.StatusBadRequest)
	wantContains(t, body, `id="duration-error"`, "corp-ldap/prod-root is privileged: say for how long", goodWhy)
	res, body = f.post(t, "alice", "/requests/new", url.Values{"op": {"preview"}, "entitlement": {"corp-ldap/prod-root"}, "justification": {goodWhy}, "duration": {"2 weeks"}})
	wantStatus(t, res, body, http.StatusBadRequest)
	wantContains(t, body, `id="duration-error"`)

	// The preview shows each step, who and why, and the policy findings, and creates nothing.
	form := url.Values{"op": {"preview"}, "entitlement": {"erp/invoices-read"}, "justification": {goodWhy}, "priority": {"high"}}
	res, body = f.post(t, "alice", "/requests/new", form)
	wantStatus(t, res, body, http.StatusOK)
	wantContains(t, body, `id="preview-result"`, "boss@example.com", "cfo@example.com", "Manager", "Owner", "Why:",
		"No separation-of-duties conflict", "Peers (Engineering, Engineer)", `<option value="high" selected>`)
	if page, err := f.svc.ListRequests(context.Background(), service.SystemPrincipal("test"), service.ViewAll, gatehouse.RequestFilter{}); err != nil || len(page.Items) != 0 {
		t.Fatalf("a preview created requests: %v %v", page.Items, err)
	}
	// A generic justification is previewed as coming back.
	res, body = f.post(t, "alice", "/requests/new", url.Values{"op": {"preview"}, "entitlement": {"erp/invoices-read"}, "justification": {"need access pls"}})
	wantStatus(t, res, body, http.StatusOK)
	wantContains(t, body, "It would come back to you")

	// Someone else's behalf is for operators only: shown on the form.
	res, body = f.post(t, "alice", "/requests/new", url.Values{"op": {"submit"}, "for": {"bob@example.com"}, "entitlement": {"erp/invoices-read"}, "justification": {goodWhy}})
	wantStatus(t, res, body, http.StatusForbidden)
	wantContains(t, body, "Only operators request access on someone else")

	// An operator asks on someone's behalf; bob has no manager, so the manager step falls to the
	// system owner, cfo, who owns the entitlement too. One person decides at most one step, and
	// the only operator is the requester: nobody is left for the owner step, and the preview says so.
	res, body = f.post(t, "admin", "/requests/new", url.Values{"op": {"preview"}, "for": {"bob@example.com"}, "entitlement": {"erp/invoices-read"}, "justification": {goodWhy}})
	wantStatus(t, res, body, http.StatusConflict)
	wantContains(t, body, "cfo@example.com already decides the manager step", "no operator is left to fall back to")

	ref := f.submit(t, "alice", form)
	res, body = f.get(t, "alice", "/requests/"+ref+"?done=submitted")
	wantStatus(t, res, body, http.StatusOK)
	wantContains(t, body, ref+" submitted", "req-pending_approval", goodWhy, "boss@example.com", "cfo@example.com", `id="cancel"`)
	wantNotContains(t, body, `id="decide"`) // the requester never sees decision buttons
	// Asking again while it is pending is refused with the reason.
	res, body = f.post(t, "alice", "/requests/new", form)
	wantStatus(t, res, body, http.StatusConflict)
	wantContains(t, body, "already requested", ref)

	res, body = f.get(t, "alice", "/requests")
	wantStatus(t, res, body, http.StatusOK)
	wantContains(t, body, ref, "erp/invoices-read", "manager: boss@example.com")

	// Someone unrelated sees neither the request nor it in their lists.
	res, body = f.get(t, "bob", "/requests/"+ref)
	wantStatus(t, res, body, http.StatusForbidden)
	res, body = f.get(t, "bob", "/requests")
	wantStatus(t, res, body, http.StatusOK)
	wantNotContains(t, body, ref)
	res, body = f.get(t, "bob", "/approvals")
	wantStatus(t, res, body, http.StatusOK)
	wantContains(t, body, "Nothing waits for your decision")

	// Self-approval, crafted by hand, is refused by the service and the page says so.
	res, body = f.post(t, "alice", "/requests/"+ref+"/approve", nil)
	wantStatus(t, res, body, http.StatusForbidden)
	wantContains(t, body, `id="action-error"`, "No one decides a request they submitted")
	// The owner is asked only at the second step; a non-approver's post is refused.
	res, body = f.post(t, "cfo", "/requests/"+ref+"/approve", nil)
	wantStatus(t, res, body, http.StatusForbidden)
	wantContains(t, body, "you are not one of its approvers")
	res, body = f.post(t, "bob", "/requests/"+ref+"/approve", nil)
	wantStatus(t, res, body, http.StatusForbidden)
	wantNotContains(t, body, goodWhy)
	// A post from another site is refused before anything happens.
	req := postForm("/requests/"+ref+"/approve", url.Values{})
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	req.AddCookie(f.cookie(t, "boss"))
	res, body = f.do(t, req)
	wantStatus(t, res, body, http.StatusForbidden)
	wantContains(t, body, "another site")

	// The manager's inbox has it with the policy context; deny needs a comment.
	res, body = f.get(t, "boss", "/approvals")
	wantStatus(t, res, body, http.StatusOK)
	wantContains(t, body, `id="`+ref+`"`, goodWhy, "manager</strong> step", "Peers (Engineering, Engineer)", `class="badge risk-sensitive"`,
		`action="/requests/`+ref+`/approve"`, `formaction="/requests/`+ref+`/deny"`)
	res, body = f.post(t, "boss", "/requests/"+ref+"/deny", url.Values{"back": {"/approvals"}})
	wantStatus(t, res, body, http.StatusBadRequest)
	wantContains(t, body, "Comment: say why")
	res, body = f.post(t, "boss", "/requests/"+ref+"/approve", url.Values{"back": {"/approvals"}, "comment": {"ok for the close"}})
	wantStatus(t, res, body, http.StatusSeeOther)
	if loc := res.Header.Get("Location"); loc != "/approvals?done=approved&ref="+ref {
		t.Fatalf("Location %q", loc)
	}
	res, body = f.get(t, "boss", "/approvals?done=approved&ref="+ref)
	wantStatus(t, res, body, http.StatusOK)
	wantContains(t, body, ref+" approved", "Nothing waits for your decision")

	// The owner decides from the request's page; the grant is written.
	res, body = f.get(t, "cfo", "/requests/"+ref)
	wantStatus(t, res, body, http.StatusOK)
	wantContains(t, body, `id="decide"`, "ok for the close")
	res, body = f.post(t, "cfo", "/requests/"+ref+"/approve", nil)
	wantStatus(t, res, body, http.StatusSeeOther)
	res, body = f.get(t, "alice", "/requests/"+ref)
	wantStatus(t, res, body, http.StatusOK)
	wantContains(t, body, "req-provisioning", `id="grants"`)
	wantNotContains(t, body, `id="cancel"`)
	if _, err := f.svc.SyncRequests(context.Background()); err != nil {
		t.Fatal(err)
	}
	res, body = f.get(t, "alice", "/requests/"+ref)
	wantStatus(t, res, body, http.StatusOK)
	wantContains(t, body, "req-fulfilled", "fulfilled")
}

func TestRequestReturnResubmitCancel(t *testing.T) {
	t.Parallel()
	f := newRequestFixture(t)
	ref := f.submit(t, "alice", url.Values{"op": {"submit"}, "entitlement": {"corp-ldap/prod-root"},
		"justification": {"Patch the kernel on prod-db-3 tonight (CHG-912)"}, "duration": {"4h"}})

	res, body := f.post(t, "boss", "/requests/"+ref+"/return", url.Values{"comment": {" "}})
	wantStatus(t, res, body, http.StatusBadRequest)
	wantContains(t, body, `id="action-error"`)
	res, body = f.post(t, "boss", "/requests/"+ref+"/return", url.Values{"comment": {"Which hosts exactly?"}})
	wantStatus(t, res, body, http.StatusSeeOther)

	res, body = f.get(t, "alice", "/requests/"+ref)
	wantStatus(t, res, body, http.StatusOK)
	wantContains(t, body, "req-returned", "Which hosts exactly?", `id="resubmit"`)
	res, body = f.post(t, "boss", "/requests/"+ref+"/resubmit", url.Values{"justification": {"Patch prod-db-3 and prod-db-4 tonight (CHG-912)"}})
	wantStatus(t, res, body, http.StatusForbidden)
	res, body = f.post(t, "alice", "/requests/"+ref+"/resubmit", url.Values{"justification": {"Patch prod-db-3 and prod-db-4 tonight (CHG-912)"}})
	wantStatus(t, res, body, http.StatusSeeOther)
	res, body = f.get(t, "alice", "/requests/"+ref)
	wantStatus(t, res, body, http.StatusOK)
	wantContains(t, body, "req-pending_approval", "prod-db-4")

	res, body = f.post(t, "bob", "/requests/"+ref+"/cancel", nil)
	wantStatus(t, res, body, http.StatusForbidden)
	res, body = f.post(t, "alice", "/requests/"+ref+"/cancel", url.Values{"comment": {"done another way"}})
	wantStatus(t, res, body, http.StatusSeeOther)
	res, body = f.get(t, "alice", "/requests/"+ref+"?done=cancelled")
	wantStatus(t, res, body, http.StatusOK)
	wantContains(t, body, ref+" cancelled", "req-cancelled", "done another way")
	wantNotContains(t, body, `id="cancel"`)
}

func TestRequestQueue(t *testing.T) {
	t.Parallel()
	f := newRequestFixture(t)
	ctx := context.Background()
	normal := f.submit(t, "alice", url.Values{"op": {"submit"}, "entitlement": {"erp/invoices-read"}, "justification": {goodWhy}})
	critical := f.submit(t, "alice", url.Values{"op": {"submit"}, "entitlement": {"corp-ldap/prod-root"},
		"justification": {"Restore the failed replica prod-db-3 (INC-5120)"}, "duration": {"2h"}, "priority": {"critical"}})

	res, body := f.get(t, "alice", "/requests/queue")
	wantStatus(t, res, body, http.StatusForbidden)

	res, body = f.get(t, "auditor", "/requests/queue")
	wantStatus(t, res, body, http.StatusOK)
	wantContains(t, body, "0 overdue", "critical", "manager: boss@example.com")
	if i, j := strings.Index(body, `id="`+critical+`"`), strings.Index(body, `id="`+normal+`"`); i < 0 || j < 0 || i > j {
		t.Fatalf("critical at %d, normal at %d: want the one due first on top", i, j)
	}

	// Past its SLA, the normal request moves to the top, in red.
	err := f.svc.Store().Update(ctx, func(tx store.Tx) error {
		r, err := tx.GetRequest(ctx, normal)
		if err != nil {
			return err
		}
		r.DueAt = time.Now().Add(-time.Hour)
		if err := tx.UpdateRequest(ctx, r); err != nil {
			return err
		}
		return tx.AppendAudit(ctx, &gatehouse.AuditEvent{Actor: "system:test", Action: "request.test", ObjectType: "request", ObjectID: r.ID, Reference: r.Ref})
	})
	if err != nil {
		t.Fatal(err)
	}
	res, body = f.get(t, "auditor", "/requests/queue")
	wantStatus(t, res, body, http.StatusOK)
	wantContains(t, body, "1 overdue", `id="`+normal+`" class="row-failed overdue"`)
	if i, j := strings.Index(body, `id="`+critical+`"`), strings.Index(body, `id="`+normal+`"`); i < j {
		t.Fatalf("critical at %d, overdue at %d: want the overdue one first", i, j)
	}
	res, body = f.get(t, "alice", "/requests")
	wantStatus(t, res, body, http.StatusOK)
	wantContains(t, body, `id="`+normal+`" class="row-failed overdue"`)

	// Decided requests leave the queue.
	for _, who := range []string{"boss", "cfo"} {
		if _, err := f.svc.ApproveRequest(ctx, f.principal(t, who), normal, ""); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := f.svc.SyncRequests(ctx); err != nil {
		t.Fatal(err)
	}
	res, body = f.get(t, "auditor", "/requests/queue")
	wantStatus(t, res, body, http.StatusOK)
	wantNotContains(t, body, `id="`+normal+`"`)
	wantContains(t, body, `id="`+critical+`"`)
}

// principal is who signs in with the named person's token.
func (f *fixture) principal(t *testing.T, who string) *gatehouse.Principal {
	t.Helper()
	p, err := f.svc.Authenticate(context.Background(), f.tokens[who])
	if err != nil {
		t.Fatal(err)
	}
	return p
}
