package web

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/internal/service"
)

const forbiddenTasks = "You need the auditor, operator or admin role, or to be a manual system's assignee, to see its tasks."

type tasksView struct {
	System, Status    string // Status "" is open (the queue); "all" is every status
	Overdue           bool
	Filtered          bool
	Systems           []*gatehouse.System
	SystemNames       map[string]string
	Items             []*gatehouse.ManualTask
	OverdueCount      int
	Now               time.Time
	CanComplete       bool   // operators and admins may complete tasks
	Done              string // the task just completed, after the redirect
	NextURL, FirstURL string
}

// IsOverdue is for the template: an open task past its due time.
func (v tasksView) IsOverdue(t *gatehouse.ManualTask) bool { return t.Overdue(v.Now) }

// tasks is the manual task queue: the changes people have to make in systems without an API,
// most urgent first, overdue ones marked, with a form to record one as done.
func (h *handler) tasks(w http.ResponseWriter, r *http.Request, p *gatehouse.Principal) error {
	q := r.URL.Query()
	v := tasksView{System: strings.TrimSpace(q.Get("system")), Status: q.Get("status"), Overdue: q.Get("overdue") == "true",
		Now: h.svc.Now(), CanComplete: p.Has(gatehouse.RoleOperator)}
	status := gatehouse.TaskOpen
	switch v.Status {
	case "", "open":
		v.Status = ""
	case "all":
		status = ""
	default:
		status = gatehouse.TaskStatus(v.Status)
		if !status.Valid() {
			return gatehouse.Errorf(gatehouse.EINVALID, "status %q is not one of open, done, cancelled, all", v.Status)
		}
	}
	v.Filtered = v.System != "" || v.Status != "" || v.Overdue
	if ref := q.Get("done"); taskRef.MatchString(ref) {
		v.Done = ref
	}
	list, err := h.svc.ListTasks(r.Context(), p, service.TaskQuery{SystemID: v.System, Status: status, Overdue: v.Overdue,
		Limit: pageSize, Cursor: q.Get("cursor")})
	if err != nil {
		return deny(err, forbiddenTasks)
	}
	v.Items, v.OverdueCount = list.Items, list.Overdue
	if list.NextCursor != "" {
		v.NextURL = pageURL("/tasks", q, list.NextCursor)
	}
	if q.Get("cursor") != "" {
		v.FirstURL = pageURL("/tasks", q, "")
	}
	if v.Systems, v.SystemNames, err = h.systemNames(r, p); err != nil {
		return err
	}
	h.render(w, r, p, http.StatusOK, "tasks", &view{Title: "Tasks", Section: "tasks", Data: v})
	return nil
}

var taskRef = regexp.MustCompile(`^TASK-[0-9]{6,}$`)

// taskComplete records a task as done with the operator's note and evidence hash (operators;
// the service decides).
func (h *handler) taskComplete(w http.ResponseWriter, r *http.Request, p *gatehouse.Principal) error {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	t, err := h.svc.CompleteTask(r.Context(), p, r.PathValue("id"), service.TaskCompletion{
		Note:           r.PostFormValue("note"),
		EvidenceSHA256: r.PostFormValue("evidence_sha256"),
	})
	if err != nil {
		return deny(err, "Only an operator or admin may record a task as done.")
	}
	http.Redirect(w, r, "/tasks?done="+url.QueryEscape(t.Ref()), http.StatusSeeOther)
	return nil
}
