package gatehouse

import (
	"strings"
	"testing"
)

func TestCheckJSON(t *testing.T) {
	for _, tc := range []struct {
		name, body, want string
	}{
		{"clean", `{"first_name":"Sam","roles":["admin"]}`, ""},
		{"escaped backslash is not NUL", `{"note":"C:\\u0000"}`, ""},
		{"escaped NUL", `{"email":"sam\u0000@example.com"}`, "email: contains a NUL byte"},
		{"raw NUL", "{\"first_name\":\"Sa\x00m\"}", "first_name: contains a NUL byte"},
		{"invalid UTF-8", "{\"last_name\":\"Ta\xffylor\"}", "last_name: is not valid UTF-8"},
		{"nested", "{\"a\":1,\"attributes\":{\"x\":\"y\",\"cost_center\":\"\xc3\"}}", "attributes.cost_center: is not valid UTF-8"},
		{"array", `{"members":[{"value":"a"},{"value":"b\u0000"}]}`, "members[1].value: contains a NUL byte"},
		{"top array", `[{"email":"a"},{"email":"b"},{"email":"c\u0000"}]`, "[2].email: contains a NUL byte"},
		{"key", "{\"fi\xffrst\":\"x\"}", "(member name): is not valid UTF-8"},
		{"after nested", `{"o":{"p":[1,2,{"q":true}]},"r":"\u0000"}`, "r: contains a NUL byte"},
		{"syntax error elsewhere", `{"a":`, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := CheckJSON([]byte(tc.body))
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("CheckJSON(%q) = %v, want nil", tc.body, err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want) || ErrorCode(err) != EINVALID):
				t.Fatalf("CheckJSON(%q) = %v, want %q", tc.body, err, tc.want)
			}
		})
	}
}

func TestCheckLineAndText(t *testing.T) {
	for _, tc := range []struct {
		s          string
		line, text bool // accepted
	}{
		{"Sam Taylor", true, true},
		{"Zoë Ångström 山田", true, true},
		{"Sam\n    roles: admin", false, true},
		{"\x1b[31mred", false, false},
		{"a\x00b", false, false},
		{"a\xffb", false, false},
		{"evil\u202etxt.exe", false, true},
		{"tab\there", false, true},
		{"\u0085next line", false, false},
		{strings.Repeat("é", 200), true, true},
		{strings.Repeat("é", 201), false, true},
	} {
		if err := CheckLine("first_name", tc.s, MaxNameLength); (err == nil) != tc.line {
			t.Errorf("CheckLine(%q) = %v, want accepted %v", tc.s, err, tc.line)
		} else if err != nil && !strings.HasPrefix(ErrorMessage(err), "first_name: ") {
			t.Errorf("CheckLine(%q) = %v, want the field named", tc.s, err)
		}
		if err := CheckText("reason", tc.s, MaxReasonLength); (err == nil) != tc.text {
			t.Errorf("CheckText(%q) = %v, want accepted %v", tc.s, err, tc.text)
		}
	}
	err := CheckLine("first_name", strings.Repeat("x", 201), MaxNameLength)
	if err == nil || ErrorMessage(err) != "first_name: is 201 characters long; the limit is 200" {
		t.Fatalf("over-long = %v", err)
	}
}
