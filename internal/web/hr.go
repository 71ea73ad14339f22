package web

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"path"
	"strings"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/internal/jml"
	"github.com/gatehouse/gatehouse/internal/service"
)

// hrUploadLimit bounds an HR file uploaded through the UI. The plan page carries the file back
// (base64, a third larger) for "Apply this file", so the page stays a few megabytes at most;
// company-size feeds of 100,000 people go through the CLI or the API, which allow 64 MiB.
const hrUploadLimit = 8 << 20

// hrPlanRows bounds the people listed on a plan page; the counts always cover everyone.
const hrPlanRows = 500

const forbiddenHR = "You need the operator or admin role to import HR files. Auditors may read the import history."

type hrView struct {
	CanImport  bool // operators: the upload form
	CanDecide  bool // admins: approve and reject
	Held       []hrImportRow
	Imports    []hrImportRow
	NextURL    string
	FirstURL   string
	Status     string // the list's status filter
	Statuses   []gatehouse.HRImportStatus
	Problems   []jml.Problem // a rejected upload's problems
	Error      string        // a rejected upload's other error
	UploadName string        // the rejected file's name
	MaxMB      int
}

type hrImportRow struct {
	Imp     *gatehouse.HRImport
	Summary service.HRSummary
	Counts  []string // "3 joiners", "1 leaver": the non-zero classes
}

// hrImports lists HR imports for readers, held imports first with their decision buttons for
// admins, and offers operators the upload form.
func (h *handler) hrImports(w http.ResponseWriter, r *http.Request, p *gatehouse.Principal) error {
	v := hrView{CanImport: p.Has(gatehouse.RoleOperator), CanDecide: p.Has(gatehouse.RoleAdmin)}
	if err := h.loadHRImports(r, p, &v); err != nil {
		return err
	}
	h.render(w, r, p, http.StatusOK, "hr", &view{Title: "HR imports", Section: "hr", Data: v})
	return nil
}

func (h *handler) loadHRImports(r *http.Request, p *gatehouse.Principal, v *hrView) error {
	ctx := r.Context()
	q := r.URL.Query()
	v.MaxMB = hrUploadLimit >> 20
	v.Statuses = []gatehouse.HRImportStatus{gatehouse.ImportApplied, gatehouse.ImportHeld, gatehouse.ImportRejected}
	if r.Method == http.MethodGet {
		v.Status = q.Get("status")
	}
	// Held imports wait for someone: they come first, whatever page of the history is shown.
	held, err := h.svc.ListHRImports(ctx, p, gatehouse.HRImportFilter{Status: gatehouse.ImportHeld, Limit: gatehouse.MaxLimit})
	if err != nil {
		return deny(err, forbiddenHR)
	}
	for _, imp := range held.Items {
		v.Held = append(v.Held, importRow(imp))
	}
	f := gatehouse.HRImportFilter{Status: gatehouse.HRImportStatus(v.Status), Limit: pageSize}
	if r.Method == http.MethodGet {
		f.Cursor = q.Get("cursor")
	}
	page, err := h.svc.ListHRImports(ctx, p, f)
	if err != nil {
		return err
	}
	for _, imp := range page.Items {
		v.Imports = append(v.Imports, importRow(imp))
	}
	if page.NextCursor != "" {
		v.NextURL = pageURL("/hr", q, page.NextCursor)
	}
	if f.Cursor != "" {
		v.FirstURL = pageURL("/hr", q, "")
	}
	return nil
}

func importRow(imp *gatehouse.HRImport) hrImportRow {
	row := hrImportRow{Imp: imp}
	if len(imp.Summary) > 0 {
		// A summary that does not decode (written by a later version, say) shows no counts
		// rather than failing the whole list.
		_ = json.Unmarshal(imp.Summary, &row.Summary)
	}
	row.Counts = summaryCounts(row.Summary.Summary)
	return row
}

// summaryCounts says what a plan does in a few words per class, leaving out the zeros.
func summaryCounts(s jml.Summary) []string {
	var out []string
	add := func(n int, one, many string) {
		if n == 0 {
			return
		}
		w := many
		if n == 1 {
			w = one
		}
		out = append(out, fmt.Sprintf("%d %s", n, w))
	}
	add(s.Joiners, "joiner", "joiners")
	add(s.PreHires, "pre-hire", "pre-hires")
	add(s.Movers, "mover", "movers")
	add(s.Leavers, "leaver", "leavers")
	add(s.LateLeavers, "late leaver", "late leavers")
	add(s.Leave, "on leave", "on leave")
	add(s.Returners, "returner", "returners")
	add(s.Rehires, "rehire", "rehires")
	add(s.Missing, "missing", "missing")
	add(s.NewTerminated, "new terminated", "new terminated")
	add(s.Updated, "updated", "updated")
	add(s.Skipped, "skipped", "skipped")
	return out
}

// hrPlanView is the plan page of a dry run: what the file would do, and the file itself to
// send back for "Apply this file". (An applied import redirects to its record instead.)
type hrPlanView struct {
	FileName  string
	SHA256    string
	Rows      int
	Plan      *jml.Plan
	Counts    []hrCount
	Items     []hrPlanItem
	More      int    // people not listed (beyond hrPlanRows)
	Content   string // the file, base64, for "Apply this file"
	Unchanged int
	Delta     bool // the file lists only changes; "Apply this file" sends it as a delta again
}

type hrCount struct {
	N     int
	Label string
	Class string // a badge class, "" for none
}

type hrPlanItem struct {
	Item   *jml.Item
	Gain   []entRef
	Lose   []entRef
	Verify []entRef // request grants the new manager must confirm
}

type entRef struct {
	ID, Name string
}

// grantChange is a grant gained or lost, in a plan or in an applied import's evidence: the
// two types have the same fields.
type grantChange interface {
	jml.GrantChange | gatehouse.HRGrantChange
}

// entRefs names the entitlements of grant changes; one no longer in the catalog keeps its id.
func entRefs[G grantChange](ents map[string]*gatehouse.Entitlement, gcs []G) []entRef {
	var out []entRef
	for _, gc := range gcs {
		id := gatehouse.HRGrantChange(gc).EntitlementID
		ref := entRef{ID: id, Name: id}
		if e := ents[id]; e != nil {
			ref.Name = e.Name
		}
		out = append(out, ref)
	}
	return out
}

// hrUpload takes an HR file from the upload form, or back from the plan page's "Apply this
// file". A dry run shows the plan; otherwise the service imports it and the browser goes to the
// import's record. A file with problems lists every one of them and changes nothing.
func (h *handler) hrUpload(w http.ResponseWriter, r *http.Request, p *gatehouse.Principal) error {
	// Room for the carried file in base64 and the form around it; parts beyond 4 MiB go to
	// temporary files, removed below.
	r.Body = http.MaxBytesReader(w, r.Body, hrUploadLimit*2)
	err := r.ParseMultipartForm(4 << 20)
	if errors.Is(err, http.ErrNotMultipart) {
		err = r.ParseForm() // the carried content may come url-encoded too
	}
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			err = gatehouse.Errorf(gatehouse.EINVALID, "the file is larger than %d MiB; import it with `gatehouse hr import` instead", hrUploadLimit>>20)
		} else {
			err = gatehouse.Errorf(gatehouse.EINVALID, "the upload could not be read: choose a CSV file and send the form again")
		}
		return h.hrRejected(w, r, p, "", nil, err)
	}
	if r.MultipartForm != nil {
		defer func() { _ = r.MultipartForm.RemoveAll() }()
	}
	name, content, err := uploadedHRFile(r)
	if err != nil {
		if gatehouse.ErrorCode(err) == gatehouse.EINVALID {
			return h.hrRejected(w, r, p, name, nil, err)
		}
		return err
	}
	dryRun := r.PostFormValue("dry_run") != ""
	delta := r.PostFormValue("delta") != "" // a file of changes only (docs/hr.md)
	// A dry run keeps only what the page lists; the counts cover everyone.
	res, err := h.svc.ImportHRFrom(r.Context(), p, service.HRUpload{Name: name, Body: bytes.NewReader(content), DryRun: dryRun, Delta: delta, Keep: hrPlanRows})
	if err != nil {
		var problems jml.Problems
		if errors.As(err, &problems) || gatehouse.ErrorCode(err) == gatehouse.EINVALID {
			return h.hrRejected(w, r, p, name, problems, err)
		}
		return deny(err, forbiddenHR)
	}
	if !dryRun {
		http.Redirect(w, r, "/hr/imports/"+url.PathEscape(res.Import.ID), http.StatusSeeOther)
		return nil
	}
	sum := sha256.Sum256(content)
	v := hrPlanView{FileName: name, SHA256: hex.EncodeToString(sum[:]), Rows: res.Plan.Summary.Rows, Plan: res.Plan, Delta: delta,
		Unchanged: res.Plan.Summary.Unchanged, Content: base64.StdEncoding.EncodeToString(content)}
	s := res.Plan.Summary
	v.Counts = []hrCount{
		{s.Joiners, "joiners", ""}, {s.PreHires, "pre-hires", ""}, {s.Movers, "movers", ""},
		{s.Leavers, "leavers", "status-terminated"}, {s.Leave, "on leave", "status-leave"},
		{s.Rehires, "rehires", ""}, {s.Missing, "missing", ""},
	}
	for _, c := range []hrCount{{s.Returners, "returners", ""}, {s.Updated, "updated", ""},
		{s.NewTerminated, "new, already terminated", ""}, {s.Skipped, "skipped (not HR's)", ""}} {
		if c.N > 0 {
			v.Counts = append(v.Counts, c)
		}
	}
	v.Counts = append(v.Counts, hrCount{s.GrantsGained, "grants gained", ""}, hrCount{s.GrantsLost, "grants lost", ""})
	ents, _, err := h.catalogIndex(r, p)
	if err != nil {
		return err
	}
	total := 0
	for _, c := range jml.Classes() {
		total += s.Count(c)
	}
	for i, it := range res.Plan.Items {
		if i == hrPlanRows {
			break
		}
		v.Items = append(v.Items, hrPlanItem{Item: it, Gain: entRefs(ents, it.Gain), Lose: entRefs(ents, it.Lose), Verify: entRefs(ents, it.Confirm)})
	}
	v.More = total - len(v.Items)
	h.render(w, r, p, http.StatusOK, "hrplan", &view{Title: "HR import plan", Section: "hr", Data: v})
	return nil
}

// uploadedHRFile returns the file of an upload: the file input, or the base64 content the plan
// page carried (checked against the SHA-256 it showed, so what is applied is what was planned).
func uploadedHRFile(r *http.Request) (string, []byte, error) {
	if enc := r.PostFormValue("content"); enc != "" {
		content, err := base64.StdEncoding.DecodeString(enc)
		if err != nil || len(content) > hrUploadLimit {
			return "", nil, gatehouse.Errorf(gatehouse.EINVALID, "the carried file was damaged; upload it again")
		}
		sum := sha256.Sum256(content)
		if want := r.PostFormValue("sha256"); want != hex.EncodeToString(sum[:]) {
			return "", nil, gatehouse.Errorf(gatehouse.EINVALID, "the carried file does not match the plan that was shown; upload it again")
		}
		return cleanFileName(r.PostFormValue("file_name")), content, nil
	}
	file, hdr, err := r.FormFile("file")
	if err != nil {
		return "", nil, gatehouse.Errorf(gatehouse.EINVALID, "choose an HR file (CSV) to upload")
	}
	defer file.Close()
	content, err := io.ReadAll(io.LimitReader(file, hrUploadLimit+1))
	if err != nil {
		return "", nil, fmt.Errorf("read upload: %w", err)
	}
	if len(content) > hrUploadLimit {
		return "", nil, gatehouse.Errorf(gatehouse.EINVALID, "the file is larger than %d MiB; import it with `gatehouse hr import` instead", hrUploadLimit>>20)
	}
	if len(content) == 0 {
		return "", nil, gatehouse.Errorf(gatehouse.EINVALID, "the file %s is empty", cleanFileName(hdr.Filename))
	}
	return cleanFileName(hdr.Filename), content, nil
}

// cleanFileName keeps the base name a browser sent (some send a whole path), without control
// characters, bounded: it goes into problems, the import record and the audit log.
func cleanFileName(name string) string {
	name = path.Base(strings.ReplaceAll(name, `\`, "/"))
	name = strings.Map(func(c rune) rune {
		if c < 0x20 || c == 0x7f {
			return -1
		}
		return c
	}, name)
	if len(name) > 200 {
		name = name[:200]
	}
	if name == "" || name == "." || name == "/" {
		return "hr.csv"
	}
	return name
}

// hrRejected shows the HR page again with what was wrong with the file, in a 400.
func (h *handler) hrRejected(w http.ResponseWriter, r *http.Request, p *gatehouse.Principal, name string, problems jml.Problems, err error) error {
	v := hrView{CanImport: p.Has(gatehouse.RoleOperator), CanDecide: p.Has(gatehouse.RoleAdmin), UploadName: name, Problems: problems}
	if len(problems) == 0 {
		v.Error = sentence(gatehouse.ErrorMessage(err))
	}
	if err := h.loadHRImports(r, p, &v); err != nil {
		return err
	}
	h.render(w, r, p, http.StatusBadRequest, "hr", &view{Title: "HR file rejected", Section: "hr", Data: v})
	return nil
}

type hrImportView struct {
	Row       hrImportRow
	CanDecide bool
	AuditURL  string
	Done      string // "approved", "rejected" or "imported" after a redirect
	// The evidence of an applied import, a page of people (hrChangeRows at a time).
	Changes  []hrChangeRow
	Class    string // the evidence's class filter
	Late     bool   // only late leavers
	Classes  []jml.Class
	NextURL  string
	FirstURL string
}

// hrChangeRows is how many people of an import's evidence a page shows.
const hrChangeRows = 100

// hrChangeRow is one person of an applied import's evidence, with the entitlements named.
type hrChangeRow struct {
	C      *gatehouse.HRImportChange
	Gained []entRef
	Lost   []entRef
}

// hrImport shows one import: the evidence of the file, what it did, and for a held one the
// admin's decision.
func (h *handler) hrImport(w http.ResponseWriter, r *http.Request, p *gatehouse.Principal) error {
	imp, err := h.svc.GetHRImport(r.Context(), p, r.PathValue("id"))
	if err != nil {
		return deny(err, forbiddenHR)
	}
	v := hrImportView{Row: importRow(imp), CanDecide: p.Has(gatehouse.RoleAdmin) && imp.Status == gatehouse.ImportHeld,
		AuditURL: "/audit?" + url.Values{"object_type": {"hr_import"}, "object_id": {imp.ID}}.Encode()}
	switch d := r.URL.Query().Get("done"); d {
	case "approved", "rejected":
		v.Done = d
	}
	if imp.Status == gatehouse.ImportApplied {
		if err := h.loadHRChanges(r, p, imp.ID, &v); err != nil {
			return err
		}
	}
	h.render(w, r, p, http.StatusOK, "hrimport", &view{Title: "HR import " + imp.FileName, Section: "hr", Data: v})
	return nil
}

// hrDecide approves or rejects a held import (admins; the service decides).
func (h *handler) hrDecide(approve bool) pageFunc {
	return func(w http.ResponseWriter, r *http.Request, p *gatehouse.Principal) error {
		r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
		id := r.PathValue("id")
		reason := strings.TrimSpace(r.PostFormValue("reason"))
		done := "approved"
		var err error
		if approve {
			_, err = h.svc.ApproveHRImport(r.Context(), p, id, reason)
		} else {
			done = "rejected"
			_, err = h.svc.RejectHRImport(r.Context(), p, id, reason)
		}
		if err != nil {
			return deny(err, "Only an admin may approve or reject a held HR import.")
		}
		http.Redirect(w, r, "/hr/imports/"+url.PathEscape(id)+"?done="+done, http.StatusSeeOther)
		return nil
	}
}

// loadHRChanges reads a page of an applied import's evidence (hrevidence in the service), with
// the page's class and lateness filters.
func (h *handler) loadHRChanges(r *http.Request, p *gatehouse.Principal, id string, v *hrImportView) error {
	q := r.URL.Query()
	v.Classes = jml.Classes()
	v.Class, v.Late = q.Get("class"), q.Get("late") != ""
	f := gatehouse.HRImportChangeFilter{ImportID: id, Class: v.Class, Late: v.Late, Limit: hrChangeRows, Cursor: q.Get("cursor")}
	page, err := h.svc.ListHRImportChanges(r.Context(), p, f)
	if err != nil {
		return deny(err, forbiddenHR)
	}
	ents, _, err := h.catalogIndex(r, p)
	if err != nil {
		return err
	}
	for _, c := range page.Items {
		v.Changes = append(v.Changes, hrChangeRow{C: c, Gained: entRefs(ents, c.Gained), Lost: entRefs(ents, c.Lost)})
	}
	base := "/hr/imports/" + url.PathEscape(id)
	q = maps.Clone(q)
	q.Del("done") // the banner of a decision is not repeated on the next page
	if page.NextCursor != "" {
		v.NextURL = pageURL(base, q, page.NextCursor) + "#people"
	}
	if f.Cursor != "" {
		v.FirstURL = pageURL(base, q, "") + "#people"
	}
	return nil
}
