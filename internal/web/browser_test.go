package web_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/gatehouse/gatehouse/internal/catalog"
	"github.com/gatehouse/gatehouse/internal/service"
)

// findChromium returns the browser to drive: Debian's chromium first, then whatever chromedp
// would find on its own. "" when there is none.
func findChromium() string {
	if _, err := os.Stat("/usr/bin/chromium"); err == nil {
		return "/usr/bin/chromium"
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "headless-shell"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// browser starts headless Chromium for a parallel test, or skips it (fails under CI=true) when there is
// none. Everything must finish within budget; a hung browser fails the test instead of stalling
// the suite. shot saves a screenshot (and with GATEHOUSE_SCREENSHOTS=DIR a copy named
// DIR/gatehouse-ui-NAME.png); step runs actions and fails the test on an error.
func browser(t *testing.T, budget time.Duration) (bctx context.Context, shot func(name string), step func(what string, actions ...chromedp.Action[chromedp.Void])) {
	t.Helper()
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	path := findChromium()
	if path == "" {
		msg := "no Chromium found (looked for /usr/bin/chromium and chromium, google-chrome on PATH); install Debian's chromium to run the browser test"
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	t.Parallel() // before the budget starts: a parallel test waits for the serial ones first
	ctx, cancel := context.WithTimeout(context.Background(), budget)
	t.Cleanup(cancel)
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox, // containers and CI run as root, where the sandbox cannot start
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	)
	actx, acancel := chromedp.NewExecAllocator(ctx, opts...)
	t.Cleanup(acancel)
	bctx, bcancel := chromedp.NewContext(actx)
	t.Cleanup(bcancel)

	shots := t.TempDir()
	shot = func(name string) {
		t.Helper()
		png, err := chromedp.Run(bctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatalf("screenshot %s: %v", name, err)
		}
		p := filepath.Join(shots, name+".png")
		if err := os.WriteFile(p, png, 0o644); err != nil {
			t.Fatal(err)
		}
		if dir := os.Getenv("GATEHOUSE_SCREENSHOTS"); dir != "" {
			if err := os.WriteFile(filepath.Join(dir, "gatehouse-ui-"+name+".png"), png, 0o644); err != nil {
				t.Errorf("copy screenshot: %v", err)
			}
		}
		t.Logf("screenshot %s", p)
	}
	step = func(what string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(bctx, actions...); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	return bctx, shot, step
}

// TestBrowser drives the real UI in headless Chromium the way a person would: sign in with a
// token, search for someone, open them, read their access. It takes screenshots at desktop and
// phone widths; set GATEHOUSE_SCREENSHOTS=DIR to keep copies for a look.
func TestBrowser(t *testing.T) {
	budget := 60 * time.Second
	if os.Getenv("GATEHOUSE_SCREENSHOTS") != "" {
		budget = 2 * time.Minute // the tour below photographs every page twice
	}
	bctx, shot, step := browser(t, budget)
	f := newFixture(t)
	srv := httptest.NewServer(f.handler)
	defer srv.Close()
	alice := f.ids["alice"]

	// Signed out, a deep link lands on the login form, and returns there after signing in.
	step("open the identities page signed out",
		chromedp.EmulateViewport(1280, 900),
		chromedp.Navigate(srv.URL+"/identities"),
		chromedp.WaitVisible(chromedp.CSS("#token")),
	)
	shot("login-1280")
	step("sign in",
		chromedp.SendKeys(chromedp.CSS("#token"), f.tokens["auditor"]),
		chromedp.Submit(chromedp.CSS("#token")),
		chromedp.WaitVisible(chromedp.CSS("input#q")),
	)
	loc, err := chromedp.Run(bctx, chromedp.Location())
	if err != nil || !strings.HasSuffix(loc, "/identities") {
		t.Fatalf("after sign-in at %q (%v), want /identities", loc, err)
	}

	// The server echoes the search into the field's value attribute, so waiting for that
	// attribute waits for the results page rather than the page the search was typed on.
	step("search",
		chromedp.SendKeys(chromedp.CSS("input#q"), "Anders"),
		chromedp.Submit(chromedp.CSS("input#q")),
		chromedp.WaitVisible(chromedp.CSS(`input#q[value="Anders"]`)),
	)
	rows, err := chromedp.Run(bctx, chromedp.Text(chromedp.CSS("table tbody")))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(rows, "alice@example.com") || strings.Contains(rows, "bob@example.com") {
		t.Fatalf("search results:\n%s", rows)
	}
	shot("identities-1280")

	step("open the identity",
		chromedp.Click(chromedp.CSS(fmt.Sprintf(`a[href="/identities/%s"]`, alice.ID))),
		chromedp.WaitVisible(chromedp.CSS("#grants")),
	)
	grants, err := chromedp.Run(bctx, chromedp.Text(chromedp.CSS("#grants")))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Engineering", "Domain Admins", "CHG-100", "privileged"} {
		if !strings.Contains(grants, want) {
			t.Errorf("grants table lacks %q:\n%s", want, grants)
		}
	}
	shot("identity-1280")

	// A phone: the same page must fit 390px without sideways scrolling, tables as cards.
	step("phone viewport",
		chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2), chromedp.EmulateMobile, chromedp.EmulatePortrait),
		chromedp.Reload(),
		chromedp.WaitVisible(chromedp.CSS("#grants")),
	)
	width, err := chromedp.Run(bctx, chromedp.Evaluate[int]("document.documentElement.scrollWidth"))
	if err != nil {
		t.Fatal(err)
	}
	if width > 390 {
		t.Errorf("page is %dpx wide at a 390px viewport: something does not wrap", width)
	}
	shot("identity-390")
	step("phone identities list",
		chromedp.Navigate(srv.URL+"/identities"),
		chromedp.WaitVisible(chromedp.CSS("input#q")),
	)
	shot("identities-390")

	// With GATEHOUSE_SCREENSHOTS set, also photograph every other page at both widths, for a
	// person to look at after a UI change. Off by default to keep the test fast.
	if os.Getenv("GATEHOUSE_SCREENSHOTS") == "" {
		return
	}
	tour := map[string]string{
		"home":         "/",
		"audit":        "/audit",
		"systems":      "/catalog/systems",
		"system":       "/catalog/systems/corp-ldap",
		"entitlements": "/catalog/entitlements",
		"entitlement":  "/catalog/entitlements/erp/payments-create",
		"roles":        "/catalog/roles",
		"role":         "/catalog/roles/engineering-baseline",
		"sod":          "/catalog/sod",
		"notfound":     "/catalog/roles/nope",
	}
	for _, vp := range []struct {
		name string
		set  chromedp.Action[chromedp.Void]
	}{
		{"1280", chromedp.EmulateViewport(1280, 900)},
		{"390", chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2), chromedp.EmulateMobile, chromedp.EmulatePortrait)},
	} {
		for name, path := range tour {
			step("tour "+path, vp.set, chromedp.Navigate(srv.URL+path), chromedp.WaitVisible(chromedp.CSS("main")))
			shot(name + "-" + vp.name)
			if vp.name == "390" {
				if w, err := chromedp.Run(bctx, chromedp.Evaluate[int]("document.documentElement.scrollWidth")); err != nil || w > 390 {
					t.Errorf("%s is %dpx wide at 390px (%v)", path, w, err)
				}
			}
		}
		// An audit row opened to show its before/after JSON.
		step("open an audit row", vp.set, chromedp.Navigate(srv.URL+"/audit?action=grant.revoke"),
			chromedp.Click(chromedp.CSS("details.diff summary")), chromedp.WaitVisible(chromedp.CSS("details.diff pre")))
		shot("audit-open-" + vp.name)

		// Signed out, a wrong token, then an ordinary identity's view of its own access.
		step("sign out", chromedp.Navigate(srv.URL+"/"), chromedp.Click(chromedp.CSS("button.signout")),
			chromedp.WaitVisible(chromedp.CSS("#token")))
		step("bad token", chromedp.SendKeys(chromedp.CSS("#token"), "gh_wrong"), chromedp.Submit(chromedp.CSS("#token")),
			chromedp.WaitVisible(chromedp.CSS(".alert-error")))
		shot("login-error-" + vp.name)
		step("sign in as alice", chromedp.SendKeys(chromedp.CSS("#token"), f.tokens["alice"]), chromedp.Submit(chromedp.CSS("#token")),
			chromedp.WaitVisible(chromedp.CSS(".stats")), chromedp.Navigate(srv.URL+"/identities"), chromedp.WaitVisible(chromedp.CSS("#grants")))
		shot("my-access-" + vp.name)
		step("sign in as auditor again", chromedp.Navigate(srv.URL+"/"), chromedp.Click(chromedp.CSS("button.signout")),
			chromedp.WaitVisible(chromedp.CSS("#token")), chromedp.SendKeys(chromedp.CSS("#token"), f.tokens["auditor"]),
			chromedp.Submit(chromedp.CSS("#token")), chromedp.WaitVisible(chromedp.CSS(".stats")))
	}
}

// TestBrowserHR imports an HR file the way an operator would: open the HR page, choose a CSV in
// the file input, see the dry-run plan, apply it and land on the import's record; on a phone,
// the plan, a rejected file's problems, a held import and the provisioning views must fit the
// screen.
func TestBrowserHR(t *testing.T) {
	budget := 45 * time.Second
	bctx, shot, step := browser(t, budget)
	f := newFixture(t)
	srv := httptest.NewServer(f.handler)
	defer srv.Close()

	dir := t.TempDir()
	good, next, bad := filepath.Join(dir, "people.csv"), filepath.Join(dir, "people-2.csv"), filepath.Join(dir, "broken.csv")
	if err := os.WriteFile(good, []byte(joinerFeed), 0o644); err != nil {
		t.Fatal(err)
	}
	// After people.csv: Bob becomes a Platform engineer with a long title, Sam leaves.
	second := strings.Replace(joinerFeed, "Bob,Berg,Finance,Accountant", `Bob,Berg,Platform,"Senior site reliability engineer, infrastructure automation"`, 1)
	second = strings.Replace(second, ",Security lead,,,employee,active,", ",Security lead,,,employee,terminated,", 1)
	if err := os.WriteFile(next, []byte(second), 0o644); err != nil {
		t.Fatal(err)
	}
	broken := hrFeed(nil, "E100,not-an-email,Pia,P,Platform,SRE,E999,,employee,active,2020-06-01,",
		"E101,zed@example.com,Zed,Z,Platform,A rather long job title that has to wrap on a phone,,,wizard,active,2020-13-01,")
	if err := os.WriteFile(bad, []byte(broken), 0o644); err != nil {
		t.Fatal(err)
	}
	fits := func(what string) {
		t.Helper()
		if w, err := chromedp.Run(bctx, chromedp.Evaluate[int]("document.documentElement.scrollWidth")); err != nil || w > 390 {
			t.Errorf("%s is %dpx wide at 390px (%v)", what, w, err)
		}
	}
	upload := func(file string, dryRun bool, wait string) {
		t.Helper()
		actions := []chromedp.Action[chromedp.Void]{
			chromedp.Navigate(srv.URL + "/hr"),
			chromedp.WaitVisible(chromedp.CSS("#file")),
			chromedp.SetUploadFiles(chromedp.CSS("#file"), []string{file}),
		}
		if !dryRun {
			actions = append(actions, chromedp.Click(chromedp.CSS(`input[name="dry_run"]`)))
		}
		actions = append(actions, chromedp.Click(chromedp.CSS(".upload-form button[type=submit]")))
		actions = append(actions, chromedp.WaitVisible(chromedp.CSS(wait)))
		step("upload "+filepath.Base(file), actions...)
	}

	step("sign in as admin",
		chromedp.EmulateViewport(1280, 900),
		chromedp.Navigate(srv.URL+"/hr"),
		chromedp.WaitVisible(chromedp.CSS("#token")),
		chromedp.SendKeys(chromedp.CSS("#token"), f.tokens["admin"]),
		chromedp.Submit(chromedp.CSS("#token")),
		chromedp.WaitVisible(chromedp.CSS("#file")),
	)
	shot("hr-1280")
	upload(good, true, "#plan")
	plan, err := chromedp.Run(bctx, chromedp.Text(chromedp.CSS("#plan")))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"pia@example.com", "joiner", "+ Engineering", "alice@example.com", "mover", "Engineering → Platform"} {
		if !strings.Contains(plan, want) {
			t.Errorf("plan lacks %q:\n%s", want, plan)
		}
	}
	shot("hr-plan-1280")
	step("apply", chromedp.Click(chromedp.CSS("#apply")), chromedp.WaitVisible(chromedp.CSS("#summary")))
	if loc, err := chromedp.Run(bctx, chromedp.Location()); err != nil || !strings.Contains(loc, "/hr/imports/") {
		t.Fatalf("after apply at %q (%v), want the import's page", loc, err)
	}
	shot("hr-import-1280")
	if _, err := f.svc.GetIdentity(context.Background(), service.SystemPrincipal("test"), "pia@example.com"); err != nil {
		t.Errorf("the joiner was not created: %v", err)
	}

	phone := chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2), chromedp.EmulateMobile, chromedp.EmulatePortrait)
	step("phone", phone, chromedp.Navigate(srv.URL+"/hr"), chromedp.WaitVisible(chromedp.CSS("#file")))
	fits("/hr")
	shot("hr-390")
	upload(next, true, "#plan")
	fits("the plan")
	shot("hr-plan-390")
	upload(bad, false, "#problems")
	problems, err := chromedp.Run(bctx, chromedp.Text(chromedp.CSS("#problems")))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"broken.csv was rejected", "line 9: email", "line 10: employment_type"} {
		if !strings.Contains(problems, want) {
			t.Errorf("problems lack %q:\n%s", want, problems)
		}
	}
	fits("the problems")
	shot("hr-problems-390")

	// A file the leaver guard holds: it waits at the top of the page, with the admin's buttons.
	guarded := strings.Replace(testCatalog, "settings:\n", "settings:\n  leaver_guard: {max_fraction: 0.01, min_count: 1}\n", 1)
	if _, err := f.svc.ApplyCatalog(context.Background(), service.SystemPrincipal("test"), []catalog.File{{Name: "catalog.yaml", Content: []byte(guarded)}}, false, "guard"); err != nil {
		t.Fatal(err)
	}
	cut := filepath.Join(dir, "reorg.csv")
	if err := os.WriteFile(cut, []byte(hrFeed([]string{"E004", "E005"})), 0o644); err != nil {
		t.Fatal(err)
	}
	upload(cut, false, ".banner-warn")
	fits("a held import")
	shot("hr-held-import-390")
	step("held list", chromedp.Navigate(srv.URL+"/hr"), chromedp.WaitVisible(chromedp.CSS(".panel.held")))
	fits("the held list")
	shot("hr-held-390")
	step("held list, desktop", chromedp.EmulateViewport(1280, 900), chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS(".panel.held")))
	shot("hr-held-1280")

	// The provisioning views, with evidence in them, at both widths.
	f.seedProvisioning(t)
	for _, vp := range []struct {
		name string
		set  chromedp.Action[chromedp.Void]
	}{{"1280", chromedp.EmulateViewport(1280, 900)}, {"390", phone}} {
		step("operations "+vp.name, vp.set, chromedp.Navigate(srv.URL+"/operations"), chromedp.WaitVisible(chromedp.CSS("#operations")))
		shot("hr-operations-" + vp.name)
		step("drift "+vp.name, vp.set, chromedp.Navigate(srv.URL+"/drift"), chromedp.WaitVisible(chromedp.CSS("table.drift")))
		shot("hr-drift-" + vp.name)
		if vp.name == "390" {
			fits("/drift")
			step("operations again", chromedp.Navigate(srv.URL+"/operations"), chromedp.WaitVisible(chromedp.CSS("#operations")))
			fits("/operations")
		}
	}
}
