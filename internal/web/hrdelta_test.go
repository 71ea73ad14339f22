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
	"testing"

	"github.com/gatehouse/gatehouse/internal/service"
)

// TestHRDeltaUpload: the upload form's Delta box plans a file of changes as a delta (the
// people it does not list stay), the plan page carries the mode to "Apply this file", and the
// import's page and the history say it was a delta.
func TestHRDeltaUpload(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	res, page := f.get(t, "admin", "/hr")
	wantStatus(t, res, page, http.StatusOK)
	wantContains(t, page, `name="delta"`, "Delta: the file lists only changes")

	delta := hrHeader + "E100,pia@example.com,Pia,Platform,Platform,SRE,E001,,employee,active,2020-06-01,\n"
	send := func(fields map[string]string, file bool) (*http.Response, string) {
		var body bytes.Buffer
		mw := multipart.NewWriter(&body)
		if file {
			fw, err := mw.CreateFormFile("file", "changes.csv")
			if err != nil {
				t.Fatal(err)
			}
			fw.Write([]byte(delta))
		}
		for k, v := range fields {
			mw.WriteField(k, v)
		}
		mw.Close()
		req := httptest.NewRequest(http.MethodPost, "/hr/imports", &body)
		req.Header.Set("Content-Type", mw.FormDataContentType())
		req.AddCookie(f.cookie(t, "admin"))
		return f.do(t, req)
	}
	res, page = send(map[string]string{"dry_run": "1", "delta": "1"}, true)
	wantStatus(t, res, page, http.StatusOK)
	wantContains(t, page, "Plan for changes.csv", `id="delta"`, `<input type="hidden" name="delta" value="1">`, "pia@example.com", "class-joiner")
	wantNotContains(t, page, "class-leaver", "boss@example.com")

	sum := sha256.Sum256([]byte(delta))
	res, page = send(map[string]string{"content": base64.StdEncoding.EncodeToString([]byte(delta)),
		"sha256": hex.EncodeToString(sum[:]), "file_name": "changes.csv", "delta": "1"}, false)
	wantStatus(t, res, page, http.StatusSeeOther)
	boss, err := f.svc.GetIdentity(context.Background(), service.SystemPrincipal("test"), "boss@example.com")
	if err != nil || boss.Status != "active" {
		t.Fatalf("a delta touched someone it does not list: %+v, %v", boss, err)
	}
	res, page = f.get(t, "auditor", res.Header.Get("Location"))
	wantStatus(t, res, page, http.StatusOK)
	wantContains(t, page, `id="mode">delta: only the people it lists`)
	res, page = f.get(t, "auditor", "/hr")
	wantStatus(t, res, page, http.StatusOK)
	wantContains(t, page, `changes.csv</a> <span class="badge">delta</span>`)
}
