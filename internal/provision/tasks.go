package provision

import (
	"context"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/connector/manual"
	"github.com/gatehouse/gatehouse/internal/store"
)

// Tasks is the manual connector's task store on the Gatehouse store: each write is one
// transaction with its audit event, as every change of state is.
type Tasks struct {
	Store store.Store
	Clock func() time.Time // nil: time.Now
}

var _ manual.TaskStore = Tasks{}

// Now is the queue's clock.
func (t Tasks) Now() time.Time { return t.now() }

func (t Tasks) now() time.Time {
	if t.Clock != nil {
		return t.Clock()
	}
	return time.Now()
}

// EnsureTask records an open task, or finds the open one for the same operation, or the one
// done since doneSince. Only a new task is audited: finding one changes nothing.
func (t Tasks) EnsureTask(ctx context.Context, task *gatehouse.ManualTask, doneSince time.Time) (bool, error) {
	var created bool
	err := t.Store.Update(ctx, func(tx store.Tx) error {
		var err error
		if created, err = tx.CreateTask(ctx, task, doneSince); err != nil || !created {
			return err
		}
		return tx.AppendAudit(ctx, &gatehouse.AuditEvent{Time: t.now(), Actor: Actor, Action: gatehouse.AuditTaskCreate,
			ObjectType: "task", ObjectID: task.Ref(), After: mustJSON(task), Reason: task.Cause})
	})
	return created, err
}

// Tasks lists a system's tasks with one status, oldest first.
func (t Tasks) Tasks(ctx context.Context, systemID string, status gatehouse.TaskStatus) ([]*gatehouse.ManualTask, error) {
	return all(ctx, func(c string) (gatehouse.Page[*gatehouse.ManualTask], error) {
		return t.Store.ListTasks(ctx, gatehouse.TaskFilter{SystemID: systemID, Status: status, Limit: gatehouse.MaxLimit, Cursor: c})
	})
}

// CancelTask cancels an open task that the desired state no longer needs.
func (t Tasks) CancelTask(ctx context.Context, task *gatehouse.ManualTask, reason string) error {
	return t.Store.Update(ctx, func(tx store.Tx) error {
		before := *task
		at := t.now()
		task.Status, task.CompletedBy, task.CompletedAt, task.Note = gatehouse.TaskCancelled, Actor, &at, reason
		if err := tx.FinishTask(ctx, task); err != nil {
			return err
		}
		return tx.AppendAudit(ctx, &gatehouse.AuditEvent{Time: at, Actor: Actor, Action: gatehouse.AuditTaskCancel,
			ObjectType: "task", ObjectID: task.Ref(), Before: mustJSON(before), After: mustJSON(task), Reason: reason})
	})
}
