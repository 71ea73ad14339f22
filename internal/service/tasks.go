package service

// Manual fulfillment tasks: the work the manual connector hands to people.

import (
	"cmp"
	"context"
	"regexp"
	"slices"
	"strings"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/internal/store"
)

// TaskQuery selects manual tasks.
type TaskQuery struct {
	SystemID string `query:"system"`
	// Status: open, done, cancelled, or "" for every status.
	Status gatehouse.TaskStatus `query:"status"`
	// Overdue: only open tasks past their due time.
	Overdue bool   `query:"overdue"`
	Limit   int    `query:"limit"`
	Cursor  string `query:"cursor"`
}

// TaskList is a page of tasks, sorted by due time (the most urgent first), with the number of
// overdue tasks on the page so that a queue shows at a glance what is late.
type TaskList struct {
	Items      []*gatehouse.ManualTask `json:"items"`
	NextCursor string                  `json:"next_cursor,omitempty"`
	Overdue    int                     `json:"overdue"`
}

// canSeeTask lets readers see every task, and a system's assignee the tasks assigned to them:
// a facilities desk that creates badges need not be an auditor to see its queue.
func canSeeTask(p *gatehouse.Principal, t *gatehouse.ManualTask) error {
	if err := authenticated(p); err != nil {
		return err
	}
	if p.CanReadAll() || (p.Email != "" && strings.EqualFold(p.Email, t.Assignee)) {
		return nil
	}
	return gatehouse.Errorf(gatehouse.EFORBIDDEN, "this needs the auditor, operator or admin role, or to be the task's assignee")
}

// ListTasks lists manual tasks (readers; anyone else sees the tasks assigned to them).
func (s *Tasks) ListTasks(ctx context.Context, p *gatehouse.Principal, q TaskQuery) (*TaskList, error) {
	if err := authenticated(p); err != nil {
		return nil, err
	}
	f := gatehouse.TaskFilter{SystemID: strings.TrimSpace(q.SystemID), Status: q.Status, Limit: q.Limit, Cursor: q.Cursor}
	if !p.CanReadAll() {
		if p.Email == "" {
			return nil, gatehouse.Errorf(gatehouse.EFORBIDDEN, "this needs the auditor, operator or admin role, or to be a task's assignee")
		}
		f.Assignee = p.Email
	}
	if f.Status != "" && !f.Status.Valid() {
		return nil, gatehouse.Errorf(gatehouse.EINVALID, "status: %q is not one of open, done, cancelled", f.Status)
	}
	now := s.now()
	if q.Overdue {
		if f.Status != "" && f.Status != gatehouse.TaskOpen {
			return nil, gatehouse.Errorf(gatehouse.EINVALID, "overdue: only open tasks are overdue (status is %s)", f.Status)
		}
		f.Status, f.DueBefore = gatehouse.TaskOpen, now
	}
	if f.SystemID != "" {
		if _, err := s.store.GetSystem(ctx, f.SystemID); err != nil {
			return nil, err
		}
	}
	page, err := s.store.ListTasks(ctx, f)
	if err != nil {
		return nil, err
	}
	out := &TaskList{Items: page.Items, NextCursor: page.NextCursor}
	if out.Items == nil {
		out.Items = []*gatehouse.ManualTask{}
	}
	// Open tasks first, most urgent first; finished ones after, latest due first.
	slices.SortStableFunc(out.Items, func(a, b *gatehouse.ManualTask) int {
		ao, bo := a.Status == gatehouse.TaskOpen, b.Status == gatehouse.TaskOpen
		switch {
		case ao && !bo:
			return -1
		case bo && !ao:
			return 1
		case ao:
			return cmp.Or(a.DueAt.Compare(b.DueAt), cmp.Compare(a.Number, b.Number))
		}
		return cmp.Or(b.DueAt.Compare(a.DueAt), cmp.Compare(b.Number, a.Number))
	})
	for _, t := range out.Items {
		if t.Overdue(now) {
			out.Overdue++
		}
	}
	return out, nil
}

// GetTask returns one task by id or reference (TASK-000123) (readers and its assignee).
func (s *Tasks) GetTask(ctx context.Context, p *gatehouse.Principal, id string) (*gatehouse.ManualTask, error) {
	if err := authenticated(p); err != nil {
		return nil, err
	}
	t, err := s.store.GetTask(ctx, strings.TrimSpace(id))
	if err != nil {
		if gatehouse.ErrorCode(err) == gatehouse.ENOTFOUND && !p.CanReadAll() {
			return nil, gatehouse.Errorf(gatehouse.EFORBIDDEN, "this needs the auditor, operator or admin role, or to be the task's assignee")
		}
		return nil, err
	}
	if err := canSeeTask(p, t); err != nil {
		return nil, err
	}
	return t, nil
}

// TaskCompletion is what an operator says when a task is done.
type TaskCompletion struct {
	// Note says what was done, where (required: "done" alone is not evidence, but it is
	// better than nothing, and the evidence hash carries the rest).
	Note string `json:"note"`
	// EvidenceSHA256 is the SHA-256 of an evidence file (a screenshot, an export), 64 hex
	// digits; the file is kept wherever the team keeps evidence, the hash proves which one.
	EvidenceSHA256 string `json:"evidence_sha256,omitempty"`
}

var sha256Hex = regexp.MustCompile(`^[0-9a-f]{64}$`)

// CompleteTask records that a person did an open task (operators). The operation that waited
// for it is applied in the same transaction, which also enqueues a reconcile of the system:
// it reads the task as the system's new state.
func (s *Tasks) CompleteTask(ctx context.Context, p *gatehouse.Principal, id string, in TaskCompletion) (*gatehouse.ManualTask, error) {
	if err := checkTexts(reasonText("note", in.Note)); err != nil {
		return nil, err
	}
	if err := requireOperator(p); err != nil {
		return nil, err
	}
	note := strings.TrimSpace(in.Note)
	if note == "" {
		return nil, gatehouse.Errorf(gatehouse.EINVALID, "note: required: say what was done")
	}
	if len(note) > 4000 {
		return nil, gatehouse.Errorf(gatehouse.EINVALID, "note: at most 4000 characters")
	}
	evidence := strings.ToLower(strings.TrimSpace(in.EvidenceSHA256))
	if evidence != "" && !sha256Hex.MatchString(evidence) {
		return nil, gatehouse.Errorf(gatehouse.EINVALID, "evidence_sha256: must be 64 hexadecimal digits (a SHA-256)")
	}
	var done *gatehouse.ManualTask
	err := s.change(ctx, func(tx store.Tx, fx *effects) error {
		t, err := tx.GetTask(ctx, strings.TrimSpace(id))
		if err != nil {
			return err
		}
		// The completion is the evidence the system changed, and reconcile reads it as the
		// system's state: nobody attests a change to their own account (a removal not done
		// would keep their access), as nobody grants to themselves.
		if p.IdentityID != "" && (t.IdentityID == p.IdentityID || (p.Email != "" && strings.EqualFold(t.Account, p.Email))) {
			return gatehouse.Errorf(gatehouse.EFORBIDDEN, "task %s is about your own account (%s); someone else completes it", t.Ref(), t.Account)
		}
		if t.Status != gatehouse.TaskOpen {
			return gatehouse.Errorf(gatehouse.ECONFLICT, "task %s is %s, not open", t.Ref(), t.Status)
		}
		before := *t
		at := s.now()
		t.Status, t.CompletedBy, t.CompletedAt, t.Note, t.EvidenceSHA256 = gatehouse.TaskDone, p.Actor(), &at, note, evidence
		if err := tx.FinishTask(ctx, t); err != nil {
			return err
		}
		done = t
		fx.reconcile.Task(t.Ref(), t.SystemID)
		return tx.AppendAudit(ctx, s.event(p, gatehouse.AuditTaskComplete, "task", t.Ref(), before, t, note))
	})
	if err != nil {
		return nil, err
	}
	return done, nil
}
