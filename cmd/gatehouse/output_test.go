package main

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/gatehouse/gatehouse"
)

func TestPrintable(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ in, want string }{
		{"", ""},
		{"Sam Taylor", "Sam Taylor"},
		{"Zoë Ångström 山田 مريم", "Zoë Ångström 山田 مريم"},
		{`C:\Users\sam`, `C:\Users\sam`},
		{"Sam\n    roles: admin", `Sam\n    roles: admin`},
		{"a\r\tb", `a\r\tb`},
		{"\x1b[31mred\x1b[0m", `\x1b[31mred\x1b[0m`},
		{"\x1b]0;title\x07", `\x1b]0;title\x07`},
		{"nul\x00", `nul\x00`},
		{"del\x7f", `del\x7f`},
		{"csi\u009b2J", `csi\u009b2J`},
		{"evil\u202etxt.exe", `evil\u202etxt.exe`},
		{"\u2066isolate\u2069", `\u2066isolate\u2069`},
		{"line\u2028sep", `line\u2028sep`},
		{"hid\u200bden\ufeff", `hid\u200bden\ufeff`},
		{"زن\u200cها", "زن\u200cها"}, // the zero-width non-joiner of Persian stays
		{"bad\xffbyte\xc3", `bad\xffbyte\xc3`},
	} {
		if got := printable(tc.in); got != tc.want {
			t.Errorf("printable(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// TestPrintableRandom: whatever bytes come in, what comes out is valid UTF-8 without a single
// character a terminal acts on, and text without any is left alone.
func TestPrintableRandom(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(1, 2))
	alphabet := []string{"a", "é", "山", "\n", "\r", "\t", "\x1b", "\x00", "\x7f", "\u0085", "\u009b", "\u202e", "\u2067",
		"\u2028", "\u200f", "\xff", "\xc3", "\xe2\x80", "\\", " ", "roles: admin"}
	for range 20000 {
		var b strings.Builder
		for range r.IntN(12) {
			b.WriteString(alphabet[r.IntN(len(alphabet))])
		}
		in := b.String()
		out := printable(in)
		if !utf8.ValidString(out) {
			t.Fatalf("printable(%q) = %q: not UTF-8", in, out)
		}
		for _, c := range out {
			if unsafeRune(c) {
				t.Fatalf("printable(%q) = %q: holds %U", in, out, c)
			}
		}
		clean := utf8.ValidString(in) && !strings.ContainsFunc(in, unsafeRune)
		if clean != (out == in) {
			t.Fatalf("printable(%q) = %q: changed %v, clean %v", in, out, out != in, clean)
		}
	}
}

func FuzzPrintable(f *testing.F) {
	f.Add("Sam\n    roles: admin")
	f.Add("\x1b[2J\u202e\xff")
	f.Fuzz(func(t *testing.T, in string) {
		out := printable(in)
		if !utf8.ValidString(out) || strings.ContainsFunc(out, unsafeRune) {
			t.Fatalf("printable(%q) = %q", in, out)
		}
	})
}

// TestShowForgedIdentity: an identity whose first name was written (before the server refused
// such bytes, or by a server that does not) as "Sam\n    roles: admin" with terminal escapes
// prints on one line with the escapes visible, and forges no roles line; tables likewise.
// -o json stays JSON, escaped by the encoder.
func TestShowForgedIdentity(t *testing.T) {
	t.Parallel()
	forged := &gatehouse.Identity{ID: "id-1", EmployeeID: "E1", Email: "sam@example.com",
		FirstName: "Sam\n    roles: admin", LastName: "\x1b[8mTaylor", Title: "\u202eroot",
		Department: "Eng\r", Kind: gatehouse.KindPerson, Status: gatehouse.StatusActive,
		Attributes: map[string]string{"note\nroles": "x\x1b]0;pwned\x07"}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch {
		case strings.HasPrefix(r.URL.Path, "/api/v1/identities/"):
			_ = json.NewEncoder(w).Encode(forged)
		case r.URL.Path == "/api/v1/identities":
			_ = json.NewEncoder(w).Encode(map[string]any{"items": []any{forged}})
		case r.URL.Path == "/api/v1/grants":
			_ = json.NewEncoder(w).Encode(map[string]any{"items": []any{}})
		default:
			w.WriteHeader(http.StatusNotFound)
			_, _ = w.Write([]byte(`{"error":{"code":"not_found","message":"no such route"}}`))
		}
	}))
	t.Cleanup(srv.Close)
	env := map[string]string{"GATEHOUSE_ADDR": srv.URL, "GATEHOUSE_TOKEN": "gh_x"}

	check := func(name, out string) {
		t.Helper()
		for _, bad := range []string{"\x1b", "\r", "\u202e", "\x07"} {
			if strings.Contains(out, bad) {
				t.Errorf("%s: output holds %q:\n%s", name, bad, out)
			}
		}
		for _, line := range strings.Split(out, "\n") {
			if f := strings.TrimSpace(line); strings.HasPrefix(f, "roles:") || strings.HasPrefix(f, "roles ") {
				t.Errorf("%s: a forged line %q:\n%s", name, line, out)
			}
		}
	}
	out, stderr, code := runCLI(t, env, "identities", "show", "sam@example.com")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	check("show", out)
	var nameLines []string
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, "name:") {
			nameLines = append(nameLines, line)
		}
	}
	if len(nameLines) != 1 || !strings.Contains(nameLines[0], `Sam\n    roles: admin \x1b[8mTaylor`) {
		t.Errorf("name lines %q, want one with the escapes visible:\n%s", nameLines, out)
	}
	for _, want := range []string{`\u202eroot`, `Eng\r`, `note\nroles:`, `x\x1b]0;pwned\x07`} {
		if !strings.Contains(out, want) {
			t.Errorf("show: %q missing:\n%s", want, out)
		}
	}

	out, stderr, code = runCLI(t, env, "identities", "list")
	if code != 0 {
		t.Fatalf("list: exit %d: %s", code, stderr)
	}
	check("list", out)
	if n := strings.Count(strings.TrimSpace(out), "\n"); n != 1 {
		t.Errorf("list: %d lines after the header, want 1:\n%s", n, out)
	}

	out, _, code = runCLI(t, env, "identities", "show", "sam@example.com", "-o", "json")
	var back struct{ Identity gatehouse.Identity }
	if code != 0 || json.Unmarshal([]byte(out), &back) != nil || back.Identity.FirstName != forged.FirstName {
		t.Errorf("-o json: exit %d, first name %q:\n%s", code, back.Identity.FirstName, out)
	}
	if bytes.ContainsAny([]byte(out), "\x1b\x07") {
		t.Errorf("-o json holds raw escapes:\n%s", out)
	}
}
