package web_test

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/connector"
	"github.com/gatehouse/gatehouse/connector/connectors"
	"github.com/gatehouse/gatehouse/internal/catalog"
	"github.com/gatehouse/gatehouse/internal/provision"
	"github.com/gatehouse/gatehouse/internal/service"
	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
	"github.com/gatehouse/gatehouse/internal/web"
)

// TestSystemPageHealth: readers see a system's last inventory, drift and recent operations;
// operators get a "Test connection" button whose answer explains the result in plain words;
// auditors and employees may not test; a post from another site is refused.
func TestSystemPageHealth(t *testing.T) {
	t.Parallel()
	f := newFixture(t)

	// Employees see the catalog page, without provisioning evidence or the button.
	res, body := f.get(t, "alice", "/catalog/systems/corp-ldap")
	wantStatus(t, res, body, http.StatusOK)
	wantNotContains(t, body, "Last inventory", "Test connection", "Recent operations")

	res, body = f.get(t, "auditor", "/catalog/systems/corp-ldap")
	wantStatus(t, res, body, http.StatusOK)
	wantContains(t, body, "Last inventory", "No finished reconcile yet", "Recent operations", "Manual tasks", "0</strong> open tasks")
	wantNotContains(t, body, "Test connection")
	res, body = f.post(t, "auditor", "/catalog/systems/corp-ldap/test", url.Values{})
	wantStatus(t, res, body, http.StatusForbidden)
	wantContains(t, body, "uses the system&#39;s credentials")

	// Evidence of a reconcile shows up: when, the counts, the findings, the operations.
	seedRun(t, f.svc.Store(), "corp-ldap")
	res, body = f.get(t, "admin", "/catalog/systems/corp-ldap")
	wantStatus(t, res, body, http.StatusOK)
	wantContains(t, body, "Test connection", `action="/catalog/systems/corp-ldap/test"`,
		"3 planned, 2 applied, 1 failed", "1 finding", "unknown_membership", "mallory",
		"add_member", "insufficient access", `class="row-failed"`)

	res, body = f.post(t, "admin", "/catalog/systems/corp-ldap/test", url.Values{})
	wantStatus(t, res, body, http.StatusOK)
	wantContains(t, body, `id="test-result"`, "<strong>OK</strong>", "nothing to connect to; tasks go to it@example.com", "Test again")

	req := postForm("/catalog/systems/corp-ldap/test", url.Values{})
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	req.AddCookie(f.cookie(t, "admin"))
	res, body = f.do(t, req)
	wantStatus(t, res, body, http.StatusForbidden)
}

// TestSystemPageTestFailure: a connector that cannot connect is explained on the page: the
// step, the kind and what to check, with the error as detail. The server opens connectors as
// gatehouse serve does; nothing listens on the system's port.
func TestSystemPageTestFailure(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := storetest.OpenSQLite(t)
	svc := service.New(st, service.Options{Open: func(ctx context.Context, sys *gatehouse.System) (connector.Connector, error) {
		return connectors.OpenSystem(ctx, sys, provision.Tasks{Store: st}, nil)
	}, Secrets: &connector.SecretPolicy{Dir: os.TempDir()}}) // the password file is in a test temporary directory
	sys := service.SystemPrincipal("test")
	admin, err := svc.CreateIdentity(ctx, sys, &gatehouse.Identity{EmployeeID: "E1", Email: "it@example.com"}, "t")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.SetRoles(ctx, sys, admin.ID, []gatehouse.AccessRole{gatehouse.RoleOperator}, "t"); err != nil {
		t.Fatal(err)
	}
	tok, err := svc.CreateToken(ctx, sys, service.NewToken{For: admin.Email})
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	pwFile := filepath.Join(t.TempDir(), "pw") // read before connecting
	if err := os.WriteFile(pwFile, []byte("pw\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cat := `systems:
  - id: dir
    name: Directory
    owner: it@example.com
    tier: high
    connector: {type: ldap, url: "ldap://` + addr + `", bind_dn: "cn=admin,dc=example,dc=com", bind_password_file: "` + pwFile + `",
                users_dn: "ou=people,dc=example,dc=com", groups_dn: "ou=groups,dc=example,dc=com", timeout: 2s}
`
	if _, err := svc.ApplyCatalog(ctx, sys, []catalog.File{{Name: "c.yaml", Content: []byte(cat)}}, false, "t"); err != nil {
		t.Fatal(err)
	}
	h, err := web.New(svc, web.Options{})
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{svc: svc, handler: h, tokens: map[string]string{"op": tok.Secret}}
	res, body := f.post(t, "op", "/catalog/systems/dir/test", url.Values{})
	wantStatus(t, res, body, http.StatusOK)
	wantContains(t, body, `class="banner banner-bad"`, "Failed at connect: unreachable.",
		"Gatehouse cannot reach the server", "connection refused", "ldap://"+addr)
	wantNotContains(t, body, "pw\n", ">pw<")

	// A server that opens no connectors (gatehouse demo) offers no test it cannot run.
	demo, err := web.New(service.New(st, service.Options{}), web.Options{})
	if err != nil {
		t.Fatal(err)
	}
	f = &fixture{svc: svc, handler: demo, tokens: f.tokens}
	res, body = f.get(t, "op", "/catalog/systems/dir")
	wantStatus(t, res, body, http.StatusOK)
	wantContains(t, body, "Last inventory")
	wantNotContains(t, body, "Test connection")
}

// seedRun records a finished reconcile of systemID with a finding and three operations, one
// failed, as the engine would.
func seedRun(t *testing.T, st store.Store, systemID string) {
	t.Helper()
	ctx := context.Background()
	now := time.Now().UTC()
	done := now.Add(1500 * time.Millisecond)
	run := &gatehouse.Reconcile{SystemID: systemID, Cause: "schedule", Status: gatehouse.ReconcileRunning, StartedAt: now}
	ops := []*gatehouse.Operation{
		{SystemID: systemID, Kind: "create_account", Username: "alice", Cause: "grant:g-1", RequestedAt: now, Status: gatehouse.OpApplied, FinishedAt: &done},
		{SystemID: systemID, Kind: "add_member", Username: "alice", Group: "Engineering", Cause: "grant:g-1", RequestedAt: now, Status: gatehouse.OpApplied, FinishedAt: &done},
		{SystemID: systemID, Kind: "add_member", Username: "bob", Group: "Domain Admins", Cause: "grant:g-2", RequestedAt: now,
			Status: gatehouse.OpFailed, FinishedAt: &done, Error: "permission: insufficient access"},
	}
	err := st.Update(ctx, func(tx store.Tx) error {
		if err := tx.CreateReconcile(ctx, run); err != nil {
			return err
		}
		for _, o := range ops {
			o.ReconcileID = run.ID
		}
		if err := tx.CreateOperations(ctx, ops); err != nil {
			return err
		}
		for _, o := range ops {
			if err := tx.UpdateOperation(ctx, o); err != nil {
				return err
			}
		}
		run.Status, run.FinishedAt, run.Planned, run.Applied, run.Failed = gatehouse.ReconcileFailed, &done, 3, 2, 1
		run.Findings = []gatehouse.DriftFinding{{Kind: "unknown_membership", SystemID: systemID, Username: "mallory",
			Group: "Domain Admins", Action: "enforce", Detail: "a member nobody granted"}}
		if err := tx.UpdateReconcile(ctx, run); err != nil {
			return err
		}
		return tx.AppendAudit(ctx, &gatehouse.AuditEvent{Actor: provision.Actor, Action: "reconcile.finish", ObjectType: "reconcile", ObjectID: run.ID})
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestBrowserSystemHealth drives the system page in headless Chromium as an operator would:
// open a system with provisioning evidence, press "Test connection", read the result; at phone
// width it must fit the screen.
func TestBrowserSystemHealth(t *testing.T) {
	bctx, shot, step := browser(t, 60*time.Second)
	f := newFixture(t)
	seedRun(t, f.svc.Store(), "corp-ldap")
	srv := httptest.NewServer(f.handler)
	defer srv.Close()

	step("sign in as an operator",
		chromedp.EmulateViewport(1280, 900),
		chromedp.Navigate(srv.URL+"/catalog/systems/corp-ldap"),
		chromedp.WaitVisible(chromedp.CSS("#token")),
		chromedp.SendKeys(chromedp.CSS("#token"), f.tokens["admin"]),
		chromedp.Submit(chromedp.CSS("#token")),
		chromedp.WaitVisible(chromedp.CSS("#last-inventory")),
	)
	step("test the connection",
		chromedp.Click(chromedp.CSS(`#health button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS("#test-result")),
	)
	result, err := chromedp.Run(bctx, chromedp.Text(chromedp.CSS("#test-result")))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(result, "OK") || !strings.Contains(result, "tasks go to it@example.com") {
		t.Fatalf("test result: %q", result)
	}
	shot("system-health-1280")
	step("phone viewport",
		chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2), chromedp.EmulateMobile, chromedp.EmulatePortrait),
		chromedp.Navigate(srv.URL+"/catalog/systems/corp-ldap"),
		chromedp.WaitVisible(chromedp.CSS("#system-operations")),
	)
	if w, err := chromedp.Run(bctx, chromedp.Evaluate[int]("document.documentElement.scrollWidth")); err != nil || w > 390 {
		t.Errorf("the system page is %dpx wide at 390px (%v)", w, err)
	}
	shot("system-health-390")
}
