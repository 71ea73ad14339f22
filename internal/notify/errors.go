package notify

import (
	"errors"
	"fmt"
	"time"
)

// permanentError is a failure that the same message would meet again: a 4xx webhook answer, a
// recipient the mail server refuses. The outbox gives up on it instead of retrying.
type permanentError struct{ err error }

func (e permanentError) Error() string { return e.err.Error() }
func (e permanentError) Unwrap() error { return e.err }

// Permanent marks err as not worth a retry.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return permanentError{err}
}

// IsPermanent reports whether a retry of the delivery that returned err cannot help.
func IsPermanent(err error) bool {
	var p permanentError
	return errors.As(err, &p)
}

// RetryAfterError is a receiver asking to be called again later (HTTP 429 with Retry-After).
type RetryAfterError struct {
	After time.Duration
	Err   error
}

func (e *RetryAfterError) Error() string { return fmt.Sprintf("%v (retry after %s)", e.Err, e.After) }
func (e *RetryAfterError) Unwrap() error { return e.Err }
