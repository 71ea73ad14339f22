package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/internal/store"
)

// seedTasks records two open manual tasks as the manual connector would: an overdue one in
// the critical corp-ldap (for alice) and one due later in erp (for bob).
func (f *fixture) seedTasks(t *testing.T) (overdue, later string) {
	t.Helper()
	ctx := context.Background()
	now := time.Now().UTC()
	tasks := []*gatehouse.ManualTask{
		{SystemID: "erp", Kind: "create_account", Account: "bob@example.com", Username: "bob", CreatedAt: now, DueAt: now.Add(24 * time.Hour)},
		{SystemID: "corp-ldap", Kind: "add_member", Account: "alice@example.com", Group: "Engineering", Assignee: "it@example.com",
			Instructions: "Use the directory console.", Cause: "grant:g-1", CreatedAt: now.Add(-6 * time.Hour), DueAt: now.Add(-2 * time.Hour)},
	}
	err := f.svc.Store().Update(ctx, func(tx store.Tx) error {
		for _, tk := range tasks {
			if _, err := tx.CreateTask(ctx, tk, time.Time{}); err != nil {
				return err
			}
		}
		return tx.AppendAudit(ctx, &gatehouse.AuditEvent{Actor: "system:provision", Action: "task.create", ObjectType: "task", ObjectID: tasks[0].Ref()})
	})
	if err != nil {
		t.Fatal(err)
	}
	return tasks[1].Ref(), tasks[0].Ref()
}

func TestTasksPage(t *testing.T) {
	t.Parallel()
	f := newFixture(t)

	res, body := f.get(t, "auditor", "/tasks")
	wantStatus(t, res, body, http.StatusOK)
	wantContains(t, body, "No open tasks", `aria-current="page">Tasks`)

	overdue, later := f.seedTasks(t)
	res, body = f.get(t, "auditor", "/tasks")
	wantStatus(t, res, body, http.StatusOK)
	wantContains(t, body, overdue, later, "1 overdue", `class="row-failed overdue"`, "Use the directory console.", "grant:g-1",
		"Corporate Directory", "Finance ERP", "for it@example.com")
	// Most urgent first: the overdue task comes before the one due tomorrow.
	if i, j := strings.Index(body, `id="`+overdue+`"`), strings.Index(body, `id="`+later+`"`); i < 0 || j < 0 || i > j {
		t.Fatalf("overdue task at %d, later task at %d: want the overdue one first", i, j)
	}
	wantNotContains(t, body, "Mark done") // auditors read, they do not complete

	res, body = f.get(t, "auditor", "/tasks?overdue=true")
	wantStatus(t, res, body, http.StatusOK)
	wantContains(t, body, overdue)
	wantNotContains(t, body, `id="`+later+`"`)

	res, body = f.get(t, "alice", "/tasks")
	wantStatus(t, res, body, http.StatusOK) // signed in, but nothing is assigned to alice
	wantNotContains(t, body, overdue, later)

	// An operator (the admin) completes the overdue one: the note is required.
	res, body = f.get(t, "admin", "/tasks")
	wantStatus(t, res, body, http.StatusOK)
	wantContains(t, body, "Mark done", `action="/tasks/`+overdue+`/complete"`)
	res, body = f.post(t, "admin", "/tasks/"+overdue+"/complete", url.Values{"note": {" "}})
	wantStatus(t, res, body, http.StatusBadRequest)
	res, body = f.post(t, "alice", "/tasks/"+overdue+"/complete", url.Values{"note": {"done"}})
	wantStatus(t, res, body, http.StatusForbidden)
	evidence := strings.Repeat("0a", 32)
	res, body = f.post(t, "admin", "/tasks/"+overdue+"/complete", url.Values{"note": {"Added in the console"}, "evidence_sha256": {evidence}})
	wantStatus(t, res, body, http.StatusSeeOther)
	if loc := res.Header.Get("Location"); loc != "/tasks?done="+overdue {
		t.Fatalf("Location %q", loc)
	}
	res, body = f.get(t, "admin", "/tasks?done="+overdue)
	wantStatus(t, res, body, http.StatusOK)
	wantContains(t, body, overdue+" recorded as done", "0 overdue")
	res, body = f.get(t, "auditor", "/tasks?status=done")
	wantStatus(t, res, body, http.StatusOK)
	wantContains(t, body, overdue, "Added in the console", evidence, "by it@example.com")

	res, body = f.get(t, "auditor", "/tasks?status=bogus")
	wantStatus(t, res, body, http.StatusBadRequest)
}
