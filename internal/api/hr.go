package api

import (
	"mime"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/internal/jml"
	"github.com/gatehouse/gatehouse/internal/service"
)

// hrRecord documents one object of the JSON form of an HR import: the CSV columns of docs/hr.md
// as string fields. Further keys are kept as attributes. It is only used for the OpenAPI
// schema; the body is parsed by package jml, exactly as a CSV is.
type hrRecord struct {
	EmployeeID     string `json:"employee_id"`
	Email          string `json:"email"`
	FirstName      string `json:"first_name"`
	LastName       string `json:"last_name"`
	Department     string `json:"department"`
	Title          string `json:"title"`
	ManagerID      string `json:"manager_id"`
	Location       string `json:"location"`
	EmploymentType string `json:"employment_type"`
	Status         string `json:"status"`
	StartDate      string `json:"start_date"`
	EndDate        string `json:"end_date"`
}

// defaultHRFile names a body in problems when X-HR-File does not.
const defaultHRFile = "hr.csv"

// decideRequest is the optional body of approve and reject.
type decideRequest struct {
	Reason string `json:"reason,omitempty"`
}

// Dry-run answers carry a page of the plan's items, never the whole company: at most
// hrPageLimit items of each class (hrPageDefault unless the caller asks), with the summary
// counting everyone; page.next_offset asks for the next page (the same file sent again).
const (
	hrPageDefault = 100
	hrPageLimit   = 1000
	hrOffsetLimit = 10_000_000
)

// hrImportTimeout is how long an HR import may take to arrive and to be answered.
const hrImportTimeout = time.Hour

// importStatusHeader carries an applied or held import's status (applied, held).
const importStatusHeader = "X-Gatehouse-Import-Status"

func (a *api) importHR(w http.ResponseWriter, r *http.Request) error {
	// A company-wide file takes longer to send and to apply than the server's read and write
	// timeouts allow other requests: past them the import would still be applied but its
	// answer cut off, and the client would report a failure for what succeeded.
	rc := http.NewResponseController(w)
	_ = rc.SetReadDeadline(time.Now().Add(hrImportTimeout))  // not supported under a test recorder
	_ = rc.SetWriteDeadline(time.Now().Add(hrImportTimeout)) // idem
	ct := r.Header.Get("Content-Type")
	mt, _, err := mime.ParseMediaType(ct)
	if ct == "" || err != nil || (mt != "text/csv" && mt != "application/json") {
		return gatehouse.Errorf(gatehouse.EINVALID, "Content-Type: send the HR feed as text/csv, or as application/json (an array of objects with the CSV field names)")
	}
	var q gatehouse.HRImportQuery
	if err := decodeQuery(r, &q); err != nil {
		return err
	}
	class := jml.Class(q.Class)
	if class != "" && !slices.Contains(jml.Classes(), class) {
		return gatehouse.Errorf(gatehouse.EINVALID, "class: %q is not a plan class", class)
	}
	limit, offset := q.Limit, q.Offset
	if limit <= 0 {
		limit = hrPageDefault
	}
	name := defaultHRFile
	if h := strings.TrimSpace(r.Header.Get("X-HR-File")); h != "" {
		if err := checkFileName(h); err != nil {
			return gatehouse.Errorf(gatehouse.EINVALID, "X-HR-File: %v", err)
		}
		name = h
	}
	format := "csv"
	if mt == "application/json" {
		format = "json"
	}
	// The answer is a page: the plan keeps no more items than it needs (an applied import's
	// every item is its evidence, GET /api/v1/hr/imports/{id}/changes).
	up := service.HRUpload{Name: name, Body: r.Body, Format: format, DryRun: q.DryRun, Delta: q.Delta, Keep: offset + limit}
	res, err := a.svc.ImportHRFrom(r.Context(), principal(r), up)
	if err != nil {
		return err
	}
	res.Plan.Window(class, offset, limit)
	status := http.StatusOK
	if res.Import != nil {
		status = http.StatusCreated
		// Said in the header too, which a client has whole even when the answer is cut short:
		// whether the import was applied or held decides what it reports.
		w.Header().Set("Location", "/api/v1/hr/imports/"+res.Import.ID)
		w.Header().Set(importStatusHeader, string(res.Import.Status))
	}
	return writeJSON(w, status, res)
}

// exportHR streams the HR export. The service authorizes and audits before the first byte; an
// error after that can only cut the answer short, which the client sees as a broken body.
func (a *api) exportHR(w http.ResponseWriter, r *http.Request) error {
	ew := &exportWriter{w: w}
	_, err := a.svc.ExportHR(r.Context(), principal(r), ew)
	if err != nil && ew.started {
		panic(http.ErrAbortHandler) // the CSV is half sent: abort rather than append an error to it
	}
	return err
}

// exportWriter sets the CSV headers when the first byte is written, so that a refusal before
// that is still answered as a JSON error.
type exportWriter struct {
	w       http.ResponseWriter
	started bool
}

// StartHRExport says how many people the answer carries (X-Gatehouse-People).
func (e *exportWriter) StartHRExport(x service.HRExport) {
	e.w.Header().Set("X-Gatehouse-People", strconv.Itoa(x.People))
}

func (e *exportWriter) Write(p []byte) (int, error) {
	if !e.started {
		e.started = true
		h := e.w.Header()
		h.Set("Content-Type", "text/csv; charset=utf-8")
		h.Set("Content-Disposition", `attachment; filename="people.csv"`)
		h.Set("Cache-Control", "no-store") // personal data
		e.w.WriteHeader(http.StatusOK)
	}
	return e.w.Write(p)
}

func (a *api) listHRImports(w http.ResponseWriter, r *http.Request) error {
	var f gatehouse.HRImportFilter
	if err := decodeQuery(r, &f); err != nil {
		return err
	}
	page, err := a.svc.ListHRImports(r.Context(), principal(r), f)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, nonNil(page))
}

func (a *api) getHRImport(w http.ResponseWriter, r *http.Request) error {
	imp, err := a.svc.GetHRImport(r.Context(), principal(r), r.PathValue("id"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, imp)
}

// listHRImportChanges pages an applied import's evidence (one row per person it changed).
func (a *api) listHRImportChanges(w http.ResponseWriter, r *http.Request) error {
	f := gatehouse.HRImportChangeFilter{ImportID: r.PathValue("id")}
	if err := decodeQuery(r, &f); err != nil {
		return err
	}
	page, err := a.svc.ListHRImportChanges(r.Context(), principal(r), f)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, nonNil(page))
}

// readDecision reads the optional {"reason"} body of approve and reject.
func readDecision(r *http.Request) (decideRequest, error) {
	var in decideRequest
	if r.ContentLength == 0 {
		return in, nil
	}
	err := decodeJSON(r, &in)
	return in, err
}

func (a *api) approveHRImport(w http.ResponseWriter, r *http.Request) error {
	in, err := readDecision(r)
	if err != nil {
		return err
	}
	res, err := a.svc.ApproveHRImport(r.Context(), principal(r), r.PathValue("id"), in.Reason)
	if err != nil {
		return err
	}
	res.Plan.Window("", 0, hrPageDefault) // the audit log has every change
	return writeJSON(w, http.StatusOK, res)
}

func (a *api) rejectHRImport(w http.ResponseWriter, r *http.Request) error {
	in, err := readDecision(r)
	if err != nil {
		return err
	}
	imp, err := a.svc.RejectHRImport(r.Context(), principal(r), r.PathValue("id"), in.Reason)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, imp)
}

func (a *api) applyHRDates(w http.ResponseWriter, r *http.Request) error {
	plan, err := a.svc.ApplyHRDates(r.Context(), principal(r))
	if err != nil {
		return err
	}
	plan.Window("", 0, hrPageDefault) // the audit log has every change
	return writeJSON(w, http.StatusOK, plan)
}
