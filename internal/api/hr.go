package api

import (
	"bytes"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/internal/store"
)

// hrRecord documents one object of the JSON form of an HR import: the CSV columns of DESIGN.md
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

func (a *api) importHR(w http.ResponseWriter, r *http.Request) error {
	ct := r.Header.Get("Content-Type")
	mt, _, err := mime.ParseMediaType(ct)
	if ct == "" || err != nil || (mt != "text/csv" && mt != "application/json") {
		return gatehouse.Errorf(gatehouse.EINVALID, "Content-Type: send the HR feed as text/csv, or as application/json (an array of objects with the CSV field names)")
	}
	data, err := io.ReadAll(r.Body)
	if err != nil {
		return fmt.Errorf("read HR body: %w", err)
	}
	trimmed := bytes.TrimSpace(data)
	if mt == "application/json" && (len(trimmed) == 0 || trimmed[0] != '[') {
		return gatehouse.Errorf(gatehouse.EINVALID, "body: a JSON HR feed is an array of objects")
	}
	if mt == "text/csv" && len(trimmed) > 0 && trimmed[0] == '[' {
		// The service reads a body starting with "[" as JSON; a CSV never starts so.
		return gatehouse.Errorf(gatehouse.EINVALID, "body: a CSV HR feed starts with its header row, not \"[\"")
	}
	name := defaultHRFile
	if h := strings.TrimSpace(r.Header.Get("X-HR-File")); h != "" {
		if err := checkFileName(h); err != nil {
			return gatehouse.Errorf(gatehouse.EINVALID, "X-HR-File: %v", err)
		}
		name = h
	}
	res, err := a.svc.ImportHR(r.Context(), principal(r), name, data, queryOf(r).bool("dry_run"))
	if err != nil {
		return err
	}
	status := http.StatusOK
	if res.Import != nil {
		status = http.StatusCreated
	}
	return writeJSON(w, status, res)
}

func (a *api) listHRImports(w http.ResponseWriter, r *http.Request) error {
	q := queryOf(r)
	page, err := a.svc.ListHRImports(r.Context(), principal(r), store.HRImportFilter{
		Status: gatehouse.HRImportStatus(q.str("status")), Limit: q.int("limit"), Cursor: q.str("cursor"),
	})
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
	return writeJSON(w, http.StatusOK, plan)
}
