package main

import (
	"bytes"
	"io"
	"mime"
	"mime/multipart"
	"net/mail"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/notify/smtptest"
)

// mailText returns the decoded subject and plain-text part of a delivered message.
func mailText(t *testing.T, r smtptest.Received) (subject, text string) {
	t.Helper()
	msg, err := mail.ReadMessage(bytes.NewReader(r.Data))
	if err != nil {
		t.Fatal(err)
	}
	subject, err = new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
	if err != nil {
		t.Fatal(err)
	}
	_, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil {
		t.Fatal(err)
	}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	for {
		p, err := mr.NextPart()
		if err != nil {
			break
		}
		if strings.HasPrefix(p.Header.Get("Content-Type"), "text/plain") {
			b, _ := io.ReadAll(p)
			return subject, string(b)
		}
	}
	t.Fatalf("no text part in:\n%s", r.Data)
	return "", ""
}

// TestRequestNotificationsEndToEnd runs gatehouse serve against a real SMTP relay on
// loopback: the manager's mailbox receives "approval needed" with the request number and its
// link at --public-url, then the owner's, and the requester receives the decision.
func TestRequestNotificationsEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	relay := smtptest.Start(t, smtptest.Options{NoTLS: true})
	dir := t.TempDir()
	write := fileWriter(t, dir)
	hr := write("hr.csv", "employee_id,email,first_name,last_name,department,title,manager_id,location,employment_type,status,start_date,end_date\n"+
		"E0,owner@example.com,Olga,Owner,IT,Staff,,HQ,employee,active,2020-01-01,\n"+
		"E1,boss@example.com,Bea,Boss,Eng,Lead,,HQ,employee,active,2020-01-01,\n"+
		"E2,emp@example.com,Emil,Emp,Eng,Dev,E1,HQ,employee,active,2021-01-01,\n")
	cat := write("catalog.yaml", `
systems:
  - id: badge
    name: Badge system
    owner: owner@example.com
    tier: high
    connector: {type: manual, assignee: owner@example.com}
entitlements:
  - {id: badge/lab, system: badge, name: Lab door, kind: group, risk: standard, external_id: Lab, requestable: true, approval: [manager, owner]}
`)
	const admin = "notify-e2e-bootstrap-at-least-32-chars"
	srv := start(t, []string{"GATEHOUSE_BOOTSTRAP_TOKEN=" + admin}, "listening on",
		"serve", "--db", "sqlite:"+filepath.Join(dir, "gh.db"), "--reconcile-interval", "0",
		"--smtp-url", "smtp://"+relay.Addr+"?starttls=false", "--smtp-from", "Gatehouse <gatehouse@example.com>",
		"--public-url", "https://gatehouse.example.com")
	url := srv.url
	expect(t, gh(t, url, admin, "hr", "import", hr), 0)
	expect(t, gh(t, url, admin, "catalog", "apply", cat, "--reason", "e2e"), 0)
	token := func(email string) string {
		r := gh(t, url, admin, "token", "create", "--for", email)
		expect(t, r, 0)
		return strings.TrimSpace(r.stdout)
	}
	emp, boss, owner := token("emp@example.com"), token("boss@example.com"), token("owner@example.com")
	const link = "https://gatehouse.example.com/requests/REQ-000001"

	expect(t, gh(t, url, emp, "request", "create", "--entitlement", "badge/lab",
		"--justification", "run the soldering workshop on Friday"), 0, "REQ-000001 pending_approval")
	got := relay.Wait(t, 1, 15*time.Second)
	subject, text := mailText(t, got[0])
	if strings.Join(got[0].To, ",") != "boss@example.com" || subject != "[REQ-000001] Approval needed: Add Lab door (badge) for emp@example.com" ||
		!strings.Contains(text, link) || !strings.Contains(text, "run the soldering workshop on Friday") {
		t.Fatalf("first mail to %v: %q\n%s", got[0].To, subject, text)
	}

	expect(t, gh(t, url, boss, "request", "approve", "REQ-000001", "--comment", "workshop is planned"), 0)
	got = relay.Wait(t, 2, 15*time.Second)
	if subject, _ := mailText(t, got[1]); strings.Join(got[1].To, ",") != "owner@example.com" || !strings.Contains(subject, "Approval needed") {
		t.Fatalf("second mail to %v: %q", got[1].To, subject)
	}
	expect(t, gh(t, url, owner, "request", "approve", "REQ-000001", "--comment", "ok, enjoy"), 0)
	got = relay.Wait(t, 3, 15*time.Second)
	subject, text = mailText(t, got[2])
	if strings.Join(got[2].To, ",") != "emp@example.com" || subject != "[REQ-000001] Request approved: Add Lab door (badge) for emp@example.com" ||
		!strings.Contains(text, "ok, enjoy") || !strings.Contains(text, link) {
		t.Fatalf("decision mail to %v: %q\n%s", got[2].To, subject, text)
	}
	srv.stop(t)
}
