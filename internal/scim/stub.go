package scim

// Placeholders so that the packages coding against this contract compile while the real
// implementation is written. The implementer deletes this file.

import (
	"errors"
	"fmt"
	"net/http"
)

var errTODO = errors.New("scim: not implemented yet")

func Errorf(status int, scimType, format string, args ...any) *Error {
	return &Error{Status: status, ScimType: scimType, Detail: fmt.Sprintf(format, args...)}
}
func (e *Error) Error() string                             { return fmt.Sprintf("scim %d %s: %s", e.Status, e.ScimType, e.Detail) }
func WriteError(w http.ResponseWriter, err error)          { http.Error(w, err.Error(), 500) }
func ParseFilter(s string) (Expr, error)                   { return nil, errTODO }
func Match(e Expr, resource map[string]any) bool           { return false }
func ParsePath(s string) (Path, error)                     { return Path{}, errTODO }
func ApplyPatch(resource map[string]any, ops []PatchOp, schema Schema) error { return errTODO }

var UserSchema, GroupSchema Schema
