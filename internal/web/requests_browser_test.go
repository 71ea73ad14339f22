package web_test

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestBrowserRequest drives a request from end to end in headless Chromium: an employee finds
// an entitlement in the catalog, previews who will approve it, and submits; their manager
// approves from the inbox, the system owner from the request's page; provisioning completes
// and the employee sees the request fulfilled. Screenshots at desktop and phone widths.
func TestBrowserRequest(t *testing.T) {
	bctx, shot, step := browser(t, 90*time.Second) // a hang guard, not a speed check: the walk loads ~20 pages at two sizes
	f := newRequestFixture(t)
	srv := httptest.NewServer(f.handler)
	defer srv.Close()
	desktop := chromedp.EmulateViewport(1280, 900)
	phone := chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2), chromedp.EmulateMobile, chromedp.EmulatePortrait)
	text := func(sel string) string {
		t.Helper()
		s, err := chromedp.Run(bctx, chromedp.Text(chromedp.CSS(sel)))
		if err != nil {
			t.Fatalf("text of %s: %v", sel, err)
		}
		return s
	}
	fits := func(what string) {
		t.Helper()
		if w, err := chromedp.Run(bctx, chromedp.Evaluate[int]("document.documentElement.scrollWidth")); err != nil || w > 390 {
			t.Errorf("%s is %dpx wide at 390px (%v)", what, w, err)
		}
	}
	// signIn signs out whoever is signed in, then signs in as who on the way to path.
	signIn := func(who, path, wait string) {
		t.Helper()
		step("open the home page", chromedp.Navigate(srv.URL+"/"), chromedp.WaitVisible(chromedp.CSS("main")))
		if ok, _ := chromedp.Run(bctx, chromedp.Evaluate[bool](`!!document.querySelector("button.signout")`)); ok {
			step("sign out", chromedp.Click(chromedp.CSS("button.signout")), chromedp.WaitVisible(chromedp.CSS("#token")))
		}
		step("sign in as "+who,
			chromedp.Navigate(srv.URL+path),
			chromedp.WaitVisible(chromedp.CSS("#token")),
			chromedp.SendKeys(chromedp.CSS("#token"), f.tokens[who]),
			chromedp.Submit(chromedp.CSS("#token")),
			chromedp.WaitVisible(chromedp.CSS(wait)),
		)
	}

	// The employee searches the catalog by what the access is for.
	step("desktop", desktop)
	signIn("alice", "/requests/new", "input#q")
	step("search",
		chromedp.SendKeys(chromedp.CSS("input#q"), "invoices"),
		chromedp.Submit(chromedp.CSS("input#q")),
		chromedp.WaitVisible(chromedp.CSS(`input#q[value="invoices"]`)),
	)
	if got := text("#catalog tbody"); !strings.Contains(got, "Read invoices") || strings.Contains(got, "Production root") {
		t.Fatalf("search results:\n%s", got)
	}
	shot("request-catalog-1280")
	step("phone catalog", phone, chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS("#catalog")))
	fits("the catalog search")
	shot("request-catalog-390")
	step("back to desktop", desktop, chromedp.WaitVisible(chromedp.CSS("#catalog")))
	step("choose it", chromedp.Click(chromedp.CSS(`#catalog a.button`)), chromedp.WaitVisible(chromedp.CSS("#justification")))

	// Preview: who will approve each step, and why, before anything is created.
	step("preview",
		chromedp.SendKeys(chromedp.CSS("#justification"), goodWhy),
		chromedp.SetValue(chromedp.CSS("#priority"), "high"),
		chromedp.Click(chromedp.CSS("#preview")),
		chromedp.WaitVisible(chromedp.CSS("#preview-result")),
	)
	preview := text("#preview-result")
	for _, want := range []string{"boss@example.com", "cfo@example.com", "Manager", "Owner", "Why:", "Risk: sensitive"} {
		if !strings.Contains(preview, want) {
			t.Errorf("preview lacks %q:\n%s", want, preview)
		}
	}
	shot("request-preview-1280")
	step("phone preview", phone, chromedp.WaitVisible(chromedp.CSS("#preview-result")))
	fits("the request preview")
	shot("request-preview-390")
	step("submit", desktop, chromedp.Click(chromedp.CSS("#submit")), chromedp.WaitVisible(chromedp.CSS("#done")))
	loc, err := chromedp.Run(bctx, chromedp.Location())
	if err != nil {
		t.Fatal(err)
	}
	ref, _, _ := strings.Cut(loc[strings.LastIndex(loc, "/")+1:], "?")
	if !strings.HasPrefix(ref, "REQ-") {
		t.Fatalf("after submitting at %q", loc)
	}
	if got := text("h1"); !strings.Contains(got, "pending_approval") {
		t.Errorf("new request heading %q", got)
	}
	shot("request-submitted-1280")

	// The manager approves from the inbox, with the policy context in front of them.
	signIn("boss", "/approvals", "#inbox")
	card := text("#" + ref)
	for _, want := range []string{"alice@example.com", goodWhy, "manager step", "Peers (Engineering, Engineer)"} {
		if !strings.Contains(card, want) {
			t.Errorf("inbox card lacks %q:\n%s", want, card)
		}
	}
	shot("approvals-1280")
	step("phone inbox", phone, chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS("#inbox")))
	fits("the approvals inbox")
	shot("approvals-390")
	step("approve", desktop,
		chromedp.SendKeys(chromedp.CSS("#comment-"+ref), "ok for the close"),
		chromedp.Click(chromedp.CSS("#"+ref+" button.approve")),
		chromedp.WaitVisible(chromedp.CSS("#done")),
	)
	if got := text("#done"); !strings.Contains(got, ref+" approved") {
		t.Errorf("after approving: %q", got)
	}

	// The system owner approves from the request's page.
	signIn("cfo", "/requests/"+ref, "#decide")
	step("owner approves", chromedp.Click(chromedp.CSS("#decide button.approve")), chromedp.WaitVisible(chromedp.CSS("#done")))
	if got := text("h1"); !strings.Contains(got, "provisioning") {
		t.Errorf("after the last approval the heading is %q, want provisioning", got)
	}

	// Provisioning completes (here the grant is the whole change); the requester sees it.
	if _, err := f.svc.SyncRequests(context.Background()); err != nil {
		t.Fatal(err)
	}
	signIn("alice", "/requests", "#requests")
	if got := text("#" + ref); !strings.Contains(got, "fulfilled") {
		t.Errorf("my requests row: %q", got)
	}
	step("open it", chromedp.Click(chromedp.CSS(`#`+ref+` a`)), chromedp.WaitVisible(chromedp.CSS("#timeline")))
	timeline := text("#timeline")
	for _, want := range []string{"submitted", "approved:manager", "approved:owner", "provisioning", "fulfilled"} {
		if !strings.Contains(timeline, want) {
			t.Errorf("timeline lacks %q:\n%s", want, timeline)
		}
	}
	shot("request-fulfilled-1280")
	step("phone request", phone, chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS("#timeline")))
	fits("the request page")
	shot("request-fulfilled-390")
}
