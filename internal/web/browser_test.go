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

// TestBrowser drives the real UI in headless Chromium the way a person would: sign in with a
// token, search for someone, open them, read their access. It takes screenshots at desktop and
// phone widths; set GATEHOUSE_SCREENSHOTS=DIR to keep copies for a look.
func TestBrowser(t *testing.T) {
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
	t.Parallel()
	f := newFixture(t)
	srv := httptest.NewServer(f.handler)
	defer srv.Close()
	alice := f.ids["alice"]

	// Everything below must finish well within the test's budget; a hung browser fails the
	// test instead of stalling the suite.
	budget := 30 * time.Second
	if os.Getenv("GATEHOUSE_SCREENSHOTS") != "" {
		budget = 2 * time.Minute // the tour below photographs every page twice
	}
	ctx, cancel := context.WithTimeout(context.Background(), budget)
	defer cancel()
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
	defer acancel()
	bctx, bcancel := chromedp.NewContext(actx)
	defer bcancel()

	shots := t.TempDir()
	shot := func(name string) {
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
	step := func(what string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(bctx, actions...); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}

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
