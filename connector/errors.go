package connector

import (
	"errors"
	"fmt"
)

// ErrNotFound is wrapped (as a Permanent error) when an operation names an account that does not
// exist in the system. The engine then re-reads the inventory instead of retrying.
var ErrNotFound = errors.New("not found")

// PermanentError marks an error that retrying cannot fix: invalid syntax, access denied, a
// schema violation, an account that does not exist. The job queue records it as failed and
// does not retry. Find it with errors.As, or use IsPermanent.
type PermanentError struct{ Err error }

func (e *PermanentError) Error() string { return e.Err.Error() }
func (e *PermanentError) Unwrap() error { return e.Err }

// Permanent marks err as not worth retrying. Permanent(nil) is nil. Wrapping the result again
// with fmt.Errorf("...: %w") keeps it permanent.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	var p *PermanentError
	if errors.As(err, &p) {
		return err
	}
	return &PermanentError{Err: err}
}

// Permanentf is Permanent(fmt.Errorf(format, args...)).
func Permanentf(format string, args ...any) error { return Permanent(fmt.Errorf(format, args...)) }

// IsPermanent reports whether err, or an error it wraps, is permanent. Every other non-nil error
// is retryable: when in doubt (a dropped connection, a timeout) retrying an idempotent
// operation is safe.
func IsPermanent(err error) bool {
	var p *PermanentError
	return errors.As(err, &p)
}

// IsRetryable reports whether err is a non-nil error that is neither permanent nor deferred.
func IsRetryable(err error) bool { return err != nil && !IsPermanent(err) && !IsDeferred(err) }

// DeferredError says an operation was handed to a person (a manual fulfillment task) instead
// of being done: it is neither applied nor failed. The engine records the operation as pending,
// waiting for Task, and does not retry it: retrying cannot make a person faster, and the next
// reconcile reads whether the person did it. Find it with errors.As, or use IsDeferred.
type DeferredError struct {
	Task string // the reference of the work item a person has to do, e.g. TASK-000123
}

func (e *DeferredError) Error() string { return "waiting for task " + e.Task }

// Deferred returns a DeferredError for the work item task.
func Deferred(task string) error { return &DeferredError{Task: task} }

// IsDeferred reports whether err, or an error it wraps, is a DeferredError.
func IsDeferred(err error) bool {
	var d *DeferredError
	return errors.As(err, &d)
}

// DeferredTask returns the work item a deferred error waits for, and "" for any other error.
func DeferredTask(err error) string {
	var d *DeferredError
	if errors.As(err, &d) {
		return d.Task
	}
	return ""
}
