package policy

import (
	"strings"
	"testing"
)

func TestJustificationProblems(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in   string
		want string // a substring of the first problem; "" for none
	}{
		{"", "a justification:"},
		{"   ", "a justification:"},
		{"need access", "specific"},
		{"pls", "in words"},
		{"Please!!", "specific"},
		{"ASAP", "in words"},
		{"access", "specific"},
		{"for work", "specific"},
		{"required", "specific"},
		{"I need access please, it is urgent", "specific"},
		{"aaaaaaaaaaaaaaaaaaaa", "in words"},
		{"asdf asdf asdf!!!!!!", "in words"},
		{"fix INC-42", "longer"},
		{"on-call for payments", ""},
		{"deploy the billing fix for INC-4211 this week", ""},
		{"Quarter-end close: reconcile vendor invoices until 31 March", ""},
	} {
		got := JustificationProblems(tc.in)
		switch {
		case tc.want == "" && got != nil:
			t.Errorf("%q: problems %q, want none", tc.in, got)
		case tc.want != "" && (len(got) == 0 || !strings.Contains(got[0], tc.want)):
			t.Errorf("%q: problems %q, want one containing %q", tc.in, got, tc.want)
		case tc.want != "" && !strings.Contains(got[0], "what task needs it"):
			t.Errorf("%q: %q does not say what to add", tc.in, got[0])
		}
	}
}

func TestRepeats(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in   string
		want bool
	}{
		{"", false},
		{"aaaa", false},
		{"aaaaa", true},
		{"......", true},
		{"ab!!!!!cd", true},
		{"aaaabaaaa", false},
		{"éééééé", true}, // runes, not bytes
		{"deploy the billing fix", false},
	} {
		if got := repeats(tc.in); got != tc.want {
			t.Errorf("repeats(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

// TestJustificationLength: the length rule counts characters, not bytes, and applies only to
// a justification that passes the other rules.
func TestJustificationLength(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in   string
		want bool // a "longer" problem
	}{
		{"fix INC-4211 n", true},             // 14 characters
		{"fix INC-4211 no", false},           // 15
		{"übersetze Datei", false},           // 15 characters, more bytes
		{"übersetze Dat", true},              // 13 characters, 15 bytes
		{"  fix INC-4211 n  ", true},         // trimmed first
		{"need access please thanks", false}, // long, but generic: a different problem
	} {
		got := JustificationProblems(tc.in)
		longer := len(got) > 0 && strings.Contains(got[0], "at least 15 characters")
		if longer != tc.want {
			t.Errorf("%q: problems %q, want a length problem: %v", tc.in, got, tc.want)
		}
	}
}
