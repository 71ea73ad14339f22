package scimproto

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
)

// Errorf returns an *Error with a formatted detail.
func Errorf(status int, scimType, format string, args ...any) *Error {
	return &Error{Status: status, ScimType: scimType, Detail: fmt.Sprintf(format, args...)}
}

// Error renders "scim 400 invalidFilter: detail", leaving out the parts that are empty.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("scim")
	if e.Status != 0 {
		b.WriteString(" ")
		b.WriteString(strconv.Itoa(e.Status))
	}
	if e.ScimType != "" {
		b.WriteString(" ")
		b.WriteString(e.ScimType)
	}
	if e.Detail != "" {
		b.WriteString(": ")
		b.WriteString(e.Detail)
	}
	return b.String()
}

// errorBody is the RFC 7644 section 3.12 JSON shape. Status is a string on the wire.
type errorBody struct {
	Schemas  []string `json:"schemas"`
	Status   string   `json:"status"`
	ScimType string   `json:"scimType,omitempty"`
	Detail   string   `json:"detail,omitempty"`
}

// MarshalJSON writes the RFC 7644 error body, status as a string.
func (e *Error) MarshalJSON() ([]byte, error) {
	return json.Marshal(errorBody{
		Schemas:  []string{SchemaError},
		Status:   strconv.Itoa(e.Status),
		ScimType: e.ScimType,
		Detail:   e.Detail,
	})
}

// UnmarshalJSON reads the RFC 7644 error body. The status may be a string ("400", as the RFC
// shows) or a number, because some servers send one.
func (e *Error) UnmarshalJSON(data []byte) error {
	var raw struct {
		Status   json.RawMessage `json:"status"`
		ScimType string          `json:"scimType"`
		Detail   string          `json:"detail"`
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		return fmt.Errorf("scim error body: %w", err)
	}
	status := 0
	if s := strings.TrimSpace(string(raw.Status)); s != "" && s != "null" {
		if strings.HasPrefix(s, `"`) {
			var str string
			if err := json.Unmarshal(raw.Status, &str); err != nil {
				return fmt.Errorf("scim error body: status: %w", err)
			}
			s = strings.TrimSpace(str)
		}
		n, err := strconv.Atoi(s)
		if err != nil {
			// A float such as 400.0 is still a status.
			f, ferr := strconv.ParseFloat(s, 64)
			if ferr != nil || f != float64(int(f)) {
				return fmt.Errorf("scim error body: status %q is not a number", s)
			}
			n = int(f)
		}
		status = n
	}
	*e = Error{Status: status, ScimType: raw.ScimType, Detail: raw.Detail}
	return nil
}

// WriteError writes err as a SCIM error response. An err that is not (and does not wrap) an
// *Error becomes a 500 with a generic detail: its message may carry internals, so the caller
// logs it instead.
func WriteError(w http.ResponseWriter, err error) {
	var se *Error
	if !errors.As(err, &se) || se == nil {
		se = &Error{Status: http.StatusInternalServerError, Detail: "internal error"}
	}
	status := se.Status
	if status < 400 || status > 599 { // not an error status: the body must agree with the header
		status = http.StatusInternalServerError
		se = &Error{Status: status, ScimType: se.ScimType, Detail: se.Detail}
	}
	body, merr := se.MarshalJSON()
	if merr != nil { // cannot happen: only strings
		body = []byte(`{"schemas":["` + SchemaError + `"],"status":"500","detail":"internal error"}`)
		status = http.StatusInternalServerError
	}
	w.Header().Set("Content-Type", MediaType)
	w.WriteHeader(status)
	_, _ = w.Write(append(body, '\n'))
}
