package web_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/internal/catalog"
	"github.com/gatehouse/gatehouse/internal/service"
)

// hrHeader is the HR feed's header (docs/hr.md).
const hrHeader = "employee_id,email,first_name,last_name,department,title,manager_id,location,employment_type,status,start_date,end_date\n"

// hrPeople are the fixture's people as HR knows them; a feed without them would make them
// leavers.
var hrPeople = map[string]string{
	"E001": "E001,boss@example.com,Bea,Boss,Engineering,VP Engineering,,,employee,active,2020-01-01,\n",
	"E002": "E002,it@example.com,Ivan,Admin,IT,IAM lead,,,employee,active,2020-01-01,\n",
	"E003": "E003,audit@example.com,Aud,Itor,Risk,Auditor,,,employee,active,2020-01-01,\n",
	"E004": "E004,alice@example.com,Alice,Anders,Engineering,Engineer,E001,,employee,active,2020-01-01,\n",
	"E005": "E005,bob@example.com,Bob,Berg,Finance,Accountant,,,contractor,active,2024-01-01,2030-01-01\n",
	"E006": "E006,cfo@example.com,Carla,Fo,Finance,CFO,,,employee,active,2020-01-01,\n",
	"E007": "E007,sec@example.com,Sam,Sec,Security,Security lead,,,employee,active,2020-01-01,\n",
}

// hrFeed is a feed with the fixture's people except those in without, plus extra rows.
func hrFeed(without []string, extra ...string) string {
	var b strings.Builder
	b.WriteString(hrHeader)
	for _, e := range []string{"E001", "E002", "E003", "E004", "E005", "E006", "E007"} {
		skip := false
		for _, w := range without {
			skip = skip || w == e
		}
		if !skip {
			b.WriteString(hrPeople[e])
		}
	}
	for _, x := range extra {
		b.WriteString(x + "\n")
	}
	return b.String()
}

// joinerFeed moves alice to Platform (where the birthright role is) and adds a joiner there.
var joinerFeed = strings.Replace(hrFeed(nil, "E100,pia@example.com,Pia,Platform,Platform,SRE,E001,,employee,active,2020-06-01,"),
	"Alice,Anders,Engineering,Engineer", "Alice,Anders,Platform,Engineer", 1)

// upload posts an HR file through the upload form as who.
func (f *fixture) upload(t *testing.T, who, name, content string, dryRun bool) (*http.Response, string) {
	t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, err := mw.CreateFormFile("file", name)
	if err != nil {
		t.Fatal(err)
	}
	fw.Write([]byte(content))
	if dryRun {
		mw.WriteField("dry_run", "1")
	}
	mw.Close()
	req := httptest.NewRequest(http.MethodPost, "/hr/imports", &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.AddCookie(f.cookie(t, who))
	return f.do(t, req)
}

// post sends a form as who.
func (f *fixture) post(t *testing.T, who, path string, form url.Values) (*http.Response, string) {
	t.Helper()
	req := postForm(path, form)
	req.AddCookie(f.cookie(t, who))
	return f.do(t, req)
}

func (f *fixture) count(t *testing.T) int {
	t.Helper()
	n, err := f.svc.CountIdentities(context.Background(), service.SystemPrincipal("test"), gatehouse.IdentityFilter{})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func (f *fixture) imports(t *testing.T) []*gatehouse.HRImport {
	t.Helper()
	page, err := f.svc.ListHRImports(context.Background(), service.SystemPrincipal("test"), gatehouse.HRImportFilter{})
	if err != nil {
		t.Fatal(err)
	}
	return page.Items
}

func TestHRDryRunShowsPlanAndChangesNothing(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	before := f.count(t)

	res, body := f.upload(t, "admin", "people.csv", joinerFeed, true)
	wantStatus(t, res, body, http.StatusOK)
	wantContains(t, body, "Plan for people.csv", "dry run", "nothing has been changed yet",
		"pia@example.com", "class-joiner", "+ Engineering", // the joiner gains the birthright entitlement, by name
		"alice@example.com", "class-mover", "<code>department</code>", `<span class="old">Engineering</span> → <span class="new">Platform</span>`,
		`id="apply"`, "Apply this file")
	counts := section(t, body, `id="counts"`, "</div>\n\n")
	wantContains(t, counts, `<span class="stat-n">1</span><span class="stat-l">joiners</span>`, `<span class="stat-n">1</span><span class="stat-l">movers</span>`)
	// The page carries the exact file back for "Apply this file", with its hash.
	sum := sha256.Sum256([]byte(joinerFeed))
	wantContains(t, body, `name="content" value="`+base64.StdEncoding.EncodeToString([]byte(joinerFeed))+`"`,
		`name="sha256" value="`+hex.EncodeToString(sum[:])+`"`)

	if n := f.count(t); n != before {
		t.Errorf("a dry run changed the identities: %d, was %d", n, before)
	}
	if imps := f.imports(t); len(imps) != 0 {
		t.Errorf("a dry run stored imports: %v", imps)
	}
}

func TestHRApplyCreatesIdentities(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	before := f.count(t)

	// Apply the way the plan page does: the carried content and its hash.
	sum := sha256.Sum256([]byte(joinerFeed))
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	mw.WriteField("content", base64.StdEncoding.EncodeToString([]byte(joinerFeed)))
	mw.WriteField("sha256", hex.EncodeToString(sum[:]))
	mw.WriteField("file_name", "people.csv")
	mw.Close()
	req := httptest.NewRequest(http.MethodPost, "/hr/imports", &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.AddCookie(f.cookie(t, "admin"))
	res, page := f.do(t, req)
	wantStatus(t, res, page, http.StatusSeeOther)
	loc := res.Header.Get("Location")
	if !strings.HasPrefix(loc, "/hr/imports/") {
		t.Fatalf("Location %q, want the import's page", loc)
	}
	if n := f.count(t); n != before+1 {
		t.Errorf("%d identities after the import, want %d", n, before+1)
	}
	pia, err := f.svc.GetIdentity(context.Background(), service.SystemPrincipal("test"), "pia@example.com")
	if err != nil || pia.Department != "Platform" {
		t.Fatalf("joiner: %+v, %v", pia, err)
	}

	res, page = f.get(t, "auditor", loc)
	wantStatus(t, res, page, http.StatusOK)
	wantContains(t, page, "people.csv", "status-applied", hex.EncodeToString(sum[:]), `<dt>Joiners</dt><dd>1</dd>`, `<dt>Movers</dt><dd>1</dd>`, "object_type=hr_import")
	wantNotContains(t, page, "Approve and apply")

	res, page = f.get(t, "auditor", "/hr")
	wantStatus(t, res, page, http.StatusOK)
	wantContains(t, page, "people.csv", hex.EncodeToString(sum[:])[:12], "1 joiner", "1 mover", "it@example.com")
	wantNotContains(t, page, "Import an HR file") // an auditor reads the history but does not import

	// A carried file that is not the one planned is refused.
	res, page = f.post(t, "admin", "/hr/imports", url.Values{"content": {base64.StdEncoding.EncodeToString([]byte(hrFeed(nil)))}, "sha256": {hex.EncodeToString(sum[:])}})
	wantStatus(t, res, page, http.StatusBadRequest)
	wantContains(t, page, "does not match the plan")
}

func TestHRInvalidFileListsProblems(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	before := f.count(t)
	bad := hrFeed(nil,
		"E100,not-an-email,Pia,P,Platform,SRE,E999,,employee,active,2020-06-01,",
		"E101,zed@example.com,Zed,Z,Platform,SRE,,,wizard,active,2020-13-01,",
	)
	res, body := f.upload(t, "admin", "bad.csv", bad, false)
	wantStatus(t, res, body, http.StatusBadRequest)
	wantContains(t, body, `id="problems"`, "bad.csv was rejected", "Nothing was imported or changed",
		"line 9</span>: <code>email</code>", "line 9</span>: <code>manager_id</code>",
		"line 10</span>: <code>employment_type</code>", "line 10</span>: <code>start_date</code>",
		"Import an HR file") // the form is right there to try again
	if n := regexp.MustCompile(`<li><span class="mono">line`).FindAllStringIndex(body, -1); len(n) < 4 {
		t.Errorf("%d problems listed, want at least 4", len(n))
	}
	if n := f.count(t); n != before {
		t.Errorf("an invalid file changed the identities: %d, was %d", n, before)
	}
	if imps := f.imports(t); len(imps) != 0 {
		t.Errorf("an invalid file stored an import: %v", imps)
	}

	res, body = f.upload(t, "admin", "empty.csv", "", true)
	wantStatus(t, res, body, http.StatusBadRequest)
	wantContains(t, body, "is empty")
}

func TestHRHeldImport(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	sys := service.SystemPrincipal("test")
	guarded := strings.Replace(testCatalog, "settings:\n", "settings:\n  leaver_guard: {max_fraction: 0.01, min_count: 1}\n", 1)
	if _, err := f.svc.ApplyCatalog(ctx, sys, []catalog.File{{Name: "catalog.yaml", Content: []byte(guarded)}}, false, "guard"); err != nil {
		t.Fatal(err)
	}
	// Alice and Bob are missing: two leavers, more than the guard's one.
	feed := hrFeed([]string{"E004", "E005"})

	res, body := f.upload(t, "admin", "cut.csv", feed, true)
	wantStatus(t, res, body, http.StatusOK)
	wantContains(t, body, `<div class="banner banner-warn" role="alert" id="guard">`)
	wantContains(t, section(t, body, `id="guard"`, "</div>"), "leaver guard would hold", "2 people")
	wantContains(t, body, "Apply this file (it will be held)", "class-leaver", "− Engineering")

	res, body = f.upload(t, "admin", "cut.csv", feed, false)
	wantStatus(t, res, body, http.StatusSeeOther)
	imps := f.imports(t)
	if len(imps) != 1 || imps[0].Status != gatehouse.ImportHeld {
		t.Fatalf("imports %v, want one held", imps)
	}
	id := imps[0].ID
	alice, _ := f.svc.GetIdentity(ctx, sys, "E004")
	if alice.Status != gatehouse.StatusActive {
		t.Fatalf("a held import terminated alice")
	}

	// Admins see the held import first, with its buttons; operators and auditors without them.
	res, body = f.get(t, "admin", "/hr")
	wantStatus(t, res, body, http.StatusOK)
	held := section(t, body, `id="held-title"`, `id="imports-title"`)
	wantContains(t, held, "cut.csv", "status-held", "would terminate or suspend 2 people",
		`action="/hr/imports/`+id+`/approve"`, `action="/hr/imports/`+id+`/reject"`)
	if strings.Index(body, `id="held-title"`) > strings.Index(body, `id="imports-title"`) {
		t.Error("held imports are not at the top")
	}
	res, body = f.get(t, "auditor", "/hr")
	wantStatus(t, res, body, http.StatusOK)
	wantContains(t, body, "cut.csv", "An admin approves or rejects them")
	wantNotContains(t, body, "/approve", "/reject")

	// The auditor cannot decide, even by posting.
	res, body = f.post(t, "auditor", "/hr/imports/"+id+"/approve", nil)
	wantStatus(t, res, body, http.StatusForbidden)
	wantContains(t, body, "Only an admin")

	// A post from another site is refused before anything happens.
	req := postForm("/hr/imports/"+id+"/approve", url.Values{})
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	req.AddCookie(f.cookie(t, "admin"))
	res, body = f.do(t, req)
	wantStatus(t, res, body, http.StatusForbidden)
	wantContains(t, body, "another site")

	res, body = f.get(t, "admin", "/hr/imports/"+id)
	wantStatus(t, res, body, http.StatusOK)
	wantContains(t, body, "Held by the leaver guard", "Approve and apply", "Reject", `name="reason"`)

	res, body = f.post(t, "admin", "/hr/imports/"+id+"/approve", url.Values{"reason": {"CHG-9: planned"}})
	wantStatus(t, res, body, http.StatusSeeOther)
	res, body = f.get(t, "admin", res.Header.Get("Location"))
	wantStatus(t, res, body, http.StatusOK)
	wantContains(t, body, "Approved and applied", "status-applied", "CHG-9: planned")
	wantNotContains(t, body, "Approve and apply")
	alice, _ = f.svc.GetIdentity(ctx, sys, "E004")
	if alice.Status != gatehouse.StatusTerminated {
		t.Errorf("after approval alice is %s, want terminated", alice.Status)
	}

	// Deciding again is a conflict, shown as such.
	res, body = f.post(t, "admin", "/hr/imports/"+id+"/reject", nil)
	wantStatus(t, res, body, http.StatusConflict)
	wantContains(t, body, "not held")
}

func TestHRForbiddenForOrdinaryIdentity(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	res, body := f.get(t, "alice", "/hr")
	wantStatus(t, res, body, http.StatusForbidden)
	wantContains(t, body, "You don&#39;t have access", "operator or admin role")
	wantNotContains(t, body, `href="/hr"`)

	res, body = f.upload(t, "alice", "people.csv", joinerFeed, true)
	wantStatus(t, res, body, http.StatusForbidden)
	wantNotContains(t, body, "pia@example.com")

	// The auditor reads but may not import.
	res, body = f.upload(t, "auditor", "people.csv", joinerFeed, true)
	wantStatus(t, res, body, http.StatusForbidden)

	// The nav offers HR to readers only.
	_, body = f.get(t, "admin", "/")
	wantContains(t, body, `href="/hr"`)
}
