package scimproto

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestErrorString(t *testing.T) {
	tests := []struct {
		err  *Error
		want string
	}{
		{Errorf(400, ScimTypeInvalidFilter, "bad %s", "thing"), "scim 400 invalidFilter: bad thing"},
		{Errorf(404, "", "User %q not found", "x"), `scim 404: User "x" not found`},
		{&Error{Status: 500}, "scim 500"},
	}
	for _, tc := range tests {
		if got := tc.err.Error(); got != tc.want {
			t.Errorf("Error() = %q, want %q", got, tc.want)
		}
	}
}

func TestErrorJSON(t *testing.T) {
	b, err := json.Marshal(Errorf(409, ScimTypeUniqueness, "userName taken"))
	if err != nil {
		t.Fatal(err)
	}
	want := `{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"status":"409","scimType":"uniqueness","detail":"userName taken"}`
	if string(b) != want {
		t.Errorf("Marshal = %s\nwant      %s", b, want)
	}
	b, _ = json.Marshal(&Error{Status: 404, Detail: "gone"})
	if strings.Contains(string(b), "scimType") {
		t.Errorf("empty scimType written: %s", b)
	}
	for body, want := range map[string]Error{
		want: {Status: 409, ScimType: "uniqueness", Detail: "userName taken"},
		`{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"status":404,"detail":"Resource 2819c223 not found"}`: {Status: 404, Detail: "Resource 2819c223 not found"},
		`{"status":" 400 ","scimType":"invalidValue"}`:                                                                    {Status: 400, ScimType: "invalidValue"},
		`{"detail":"no status"}`: {Detail: "no status"},
	} {
		var got Error
		if err := json.Unmarshal([]byte(body), &got); err != nil {
			t.Errorf("Unmarshal(%s): %v", body, err)
			continue
		}
		if got != want {
			t.Errorf("Unmarshal(%s) = %+v, want %+v", body, got, want)
		}
	}
	for _, bad := range []string{`{"status":"abc"}`, `{"status":true}`, `[1]`} {
		var got Error
		if err := json.Unmarshal([]byte(bad), &got); err == nil {
			t.Errorf("Unmarshal(%s) accepted: %+v", bad, got)
		}
	}
}

func TestWriteError(t *testing.T) {
	tests := []struct {
		name       string
		err        error
		status     int
		wantDetail string
	}{
		{"scim error", Errorf(400, ScimTypeInvalidFilter, "invalid filter at position 3"), 400, "invalid filter at position 3"},
		{"wrapped scim error", fmt.Errorf("list users: %w", Errorf(404, "", "no such user")), 404, "no such user"},
		{"non-error status", &Error{Status: 200, Detail: "odd"}, 500, "odd"},
		{"other error", errors.New("pq: password authentication failed for user gatehouse"), 500, "internal error"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			WriteError(rec, tc.err)
			if rec.Code != tc.status {
				t.Errorf("status = %d, want %d", rec.Code, tc.status)
			}
			if ct := rec.Header().Get("Content-Type"); ct != MediaType {
				t.Errorf("Content-Type = %q", ct)
			}
			var body map[string]any
			if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
				t.Fatalf("body %q: %v", rec.Body.String(), err)
			}
			if body["detail"] != tc.wantDetail || body["status"] != fmt.Sprint(tc.status) {
				t.Errorf("body = %s", rec.Body.String())
			}
			if strings.Contains(rec.Body.String(), "password") {
				t.Errorf("internal error leaked: %s", rec.Body.String())
			}
		})
	}
}
