package api

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/internal/store"
)

type taskKey struct {
	f       *fixture
	purpose string
}

var madeTasks sync.Map // taskKey → task reference

// task returns the reference of an open manual task assigned to "user", made on first use per
// fixture and purpose (the walk completes one, so each purpose gets its own).
func (f *fixture) task(purpose string) string {
	f.t.Helper()
	key := taskKey{f, purpose}
	if ref, ok := madeTasks.Load(key); ok {
		return ref.(string)
	}
	now := f.svc.Now()
	t := &gatehouse.ManualTask{SystemID: "badge", Kind: "add_member", Account: f.ids["other"].Email,
		Group: "walk-" + purpose, Assignee: f.ids["user"].Email, CreatedAt: now.Add(-5 * time.Hour), DueAt: now.Add(-time.Hour)}
	err := f.st.Update(context.Background(), func(tx store.Tx) error {
		if _, err := tx.CreateTask(context.Background(), t, time.Time{}); err != nil {
			return err
		}
		return tx.AppendAudit(context.Background(), &gatehouse.AuditEvent{Actor: "test", Action: "task.create", ObjectType: "task", ObjectID: t.Ref()})
	})
	if err != nil {
		f.t.Fatal(err)
	}
	madeTasks.Store(key, t.Ref())
	return t.Ref()
}

func TestTaskHandlers(t *testing.T) {
	t.Parallel()
	for _, eng := range engines {
		t.Run(eng.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, eng.open(t))
			ref := f.task("handlers")

			var list struct {
				Items   []gatehouse.ManualTask `json:"items"`
				Overdue int                    `json:"overdue"`
			}
			must(t, f.as(t, "user", "GET", "/api/v1/tasks?overdue=true", ""), s200).json(t, &list)
			if len(list.Items) != 1 || list.Items[0].Ref() != ref || list.Overdue != 1 {
				t.Fatalf("the assignee's overdue tasks = %+v", list)
			}
			f.secrets["other"] = f.token("other", 0).Secret
			must(t, f.as(t, "other", "GET", "/api/v1/tasks", ""), s200).json(t, &list)
			if len(list.Items) != 0 {
				t.Fatalf("somebody else sees %+v", list.Items)
			}
			must(t, f.as(t, "other", "GET", "/api/v1/tasks/"+ref, ""), s403)

			// A note is required; evidence must be a SHA-256.
			must(t, f.as(t, "operator", "POST", "/api/v1/tasks/"+ref+"/complete", `{"note":" "}`), http.StatusBadRequest)
			must(t, f.as(t, "operator", "POST", "/api/v1/tasks/"+ref+"/complete", `{"note":"done","evidence_sha256":"abc"}`), http.StatusBadRequest)
			var done gatehouse.ManualTask
			must(t, f.as(t, "operator", "POST", "/api/v1/tasks/"+ref+"/complete",
				`{"note":"added in the badge console","evidence_sha256":"`+strings.Repeat("ab", 32)+`"}`), s200).json(t, &done)
			if done.Status != gatehouse.TaskDone || done.CompletedBy == "" || done.EvidenceSHA256 != strings.Repeat("ab", 32) {
				t.Fatalf("completed task = %+v", done)
			}
			must(t, f.as(t, "operator", "POST", "/api/v1/tasks/"+ref+"/complete", `{"note":"again"}`), http.StatusConflict)
			ev, err := f.st.ListAuditEvents(context.Background(), gatehouse.AuditFilter{Action: "task.complete", ObjectID: ref})
			if err != nil || len(ev.Items) != 1 {
				t.Fatalf("audit events = %+v, %v; want one task.complete", ev.Items, err)
			}
		})
	}
}
