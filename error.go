package gatehouse

import (
	"errors"
	"fmt"
)

// Error codes. One table in each adapter maps them to an HTTP status and a CLI exit code, so a
// handler never decides a status on its own.
const (
	EINVALID      = "invalid"      // bad input: the caller must change the request
	ENOTFOUND     = "not_found"    // the named object does not exist (or is not visible)
	ECONFLICT     = "conflict"     // the request contradicts current state (duplicate, still in use)
	EUNAUTHORIZED = "unauthorized" // no or bad credentials
	EFORBIDDEN    = "forbidden"    // credentials fine, permission missing
	EINTERNAL     = "internal"     // our fault; details are logged, not shown
	EUNAVAILABLE  = "unavailable"  // a dependency (database, target system) is down
)

// ETOOMANY: this client failed to authenticate too often and must wait (Retry-After) before
// it may try again, even with a right credential.
const ETOOMANY = "too_many_requests"

// Error is an application error with a code from the table above and a message that is safe to
// show to the caller.
type Error struct {
	Code    string
	Message string
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

// Errorf returns an *Error with the given code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of the first *Error in err's chain, EINTERNAL for any other error,
// and "" for nil.
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the caller-safe message of err: the message of its *Error, or a generic
// text for internal errors so that no SQL or stack detail leaks to a client.
func ErrorMessage(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "internal error"
}
