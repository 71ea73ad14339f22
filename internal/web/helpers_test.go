package web

import (
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
)

func TestSafeNext(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"":                         "/",
		"/":                        "/",
		"/identities?q=a&status=x": "/identities?q=a&status=x",
		"/catalog/entitlements/corp-ldap/engineering": "/catalog/entitlements/corp-ldap/engineering",
		"//evil.example":             "/",
		"///evil.example":            "/",
		"/\\evil.example":            "/",
		"https://evil.example/":      "/",
		"http:/evil.example":         "/",
		"evil.example":               "/",
		"javascript:alert(1)":        "/",
		"/\x00":                      "/",
		"/a\nb":                      "/",
		"/\t/evil.example":           "/",
		"/login?next=//evil.example": "/",
	} {
		if got := safeNext(in); got != want {
			t.Errorf("safeNext(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestStatusFor(t *testing.T) {
	t.Parallel()
	for code, want := range map[string]int{
		gatehouse.EINVALID: 400, gatehouse.EUNAUTHORIZED: 401, gatehouse.EFORBIDDEN: 403,
		gatehouse.ENOTFOUND: 404, gatehouse.ECONFLICT: 409, gatehouse.EUNAVAILABLE: 503, gatehouse.EINTERNAL: 500,
	} {
		if got := statusFor(gatehouse.Errorf(code, "x")); got != want {
			t.Errorf("%s: %d, want %d", code, got, want)
		}
	}
}

func TestRelative(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 10, 12, 0, 0, 0, time.UTC)
	for d, want := range map[time.Duration]string{
		10 * time.Second:             "now",
		-5 * time.Minute:             "5 minutes ago",
		time.Hour:                    "in 1 hour",
		7*time.Hour + 59*time.Minute: "in 7 hours",
		72 * time.Hour:               "in 3 days",
		-30 * 24 * time.Hour:         "30 days ago",
	} {
		if got := relative(now, now.Add(d)); got != want {
			t.Errorf("relative(%s) = %q, want %q", d, got, want)
		}
	}
}

func TestHumanDuration(t *testing.T) {
	t.Parallel()
	for d, want := range map[time.Duration]string{
		8 * time.Hour:    "8 hours",
		24 * time.Hour:   "1 day",
		720 * time.Hour:  "30 days",
		90 * time.Minute: "1h30m0s",
	} {
		if got := humanDuration(gatehouse.Duration(d)); got != want {
			t.Errorf("humanDuration(%s) = %q, want %q", d, got, want)
		}
	}
}

func TestChangedFields(t *testing.T) {
	t.Parallel()
	got := changedFields(json.RawMessage(`{"a":1,"b":{"x": 1},"c":"gone"}`), json.RawMessage(`{"a":2,"b":{"x":1},"d":true}`))
	if want := []string{"a", "c", "d"}; !slices.Equal(got, want) {
		t.Errorf("changed %v, want %v", got, want)
	}
	if got := changedFields(nil, json.RawMessage(`{"a":1}`)); got != nil {
		t.Errorf("a create has no changed fields, got %v", got)
	}
}

func TestSettingText(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		key  string
		val  any
		want string
	}{
		{"url", "ldap://127.0.0.1:3389", "ldap://127.0.0.1:3389"},
		{"url", "ldap://admin:s3cret@host", "ldap://admin:xxxxx@host"},
		{"bind_password_env", "CORP_LDAP_PASSWORD", "CORP_LDAP_PASSWORD"},
		{"bind_password", "hunter2", "(hidden)"},
		{"api_token", "abc", "(hidden)"},
		{"page_size", 500, "500"},
	} {
		if got := settingText(c.key, c.val); got != c.want {
			t.Errorf("settingText(%s) = %q, want %q", c.key, got, c.want)
		}
	}
}
