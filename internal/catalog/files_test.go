package catalog

// Tests of catalog files as a whole: the planted mistakes, the example catalog, loading a
// directory, the digest and the round trip through Format.

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse"
)

func TestPlantedMistakes(t *testing.T) {
	t.Parallel()
	dir := filepath.Join("testdata", "mistakes")
	files, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]struct{ field, msg string }{
		"1":  {"settings.leaver_guard.max_fraction", "must be more than 0 and at most 1"},
		"2":  {"systems[corp-ldap].connector.bind_password", "inline secret: use bind_password_env or bind_password_file"},
		"3":  {"systems[wiki].owner", `"it-lead" is not an email address`},
		"4":  {"systems[wiki].tier", `"gold" is not one of critical, high, standard`},
		"5":  {"entitlements[corp-ldap/engineering].riks", "unknown field; did you mean risk?"},
		"6":  {"entitlements[corp-ldap/admins].max_duration", "privileged access is always time-bound"},
		"7":  {"entitlements[wiki/members].requestable", "must be true or false"},
		"8":  {"entitlements[wiki/members].id", "duplicate id wiki/members, first defined at " + filepath.Join(dir, "b-access.yaml") + ":14"},
		"9":  {"roles[engineering-baseline].entitlements[1]", "unknown entitlement wiki/member; did you mean wiki/members?"},
		"10": {"roles[engineering-baseline].birthright", "undefined field 'departmnt'"},
	}
	// Where each mistake is: the line carrying its marker.
	where := map[string]Pos{}
	for _, f := range files {
		for i, line := range strings.Split(string(f.Content), "\n") {
			if _, n, ok := strings.Cut(line, "# mistake: "); ok {
				where[strings.TrimSpace(n)] = Pos{File: f.Name, Line: i + 1}
			}
		}
	}
	if len(where) != 10 || len(want) != 10 {
		t.Fatalf("found %d markers and %d expectations, want 10 of each", len(where), len(want))
	}

	_, err = Parse(files, specs)
	ps := asProblems(t, err)
	if len(ps) != 10 {
		t.Errorf("got %d problems, want exactly the 10 planted:\n%v", len(ps), err)
	}
	for n, w := range want {
		at := where[n]
		found := slices.ContainsFunc(ps, func(p Problem) bool {
			return p.File == at.File && p.Line == at.Line && p.Field == w.field && strings.Contains(p.Message, w.msg)
		})
		if !found {
			t.Errorf("mistake %s not reported as %s: %s: %s\ngot:\n%v", n, at, w.field, w.msg, err)
		}
	}
	// Sorted by file, then line.
	if !slices.IsSortedFunc(ps, func(a, b Problem) int {
		if c := strings.Compare(a.File, b.File); c != 0 {
			return c
		}
		return a.Line - b.Line
	}) {
		t.Errorf("problems are not sorted by file and line:\n%v", err)
	}
}

func TestExampleCatalog(t *testing.T) {
	t.Parallel()
	files, err := Load(filepath.Join("..", "..", "examples", "catalog"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 5 {
		t.Fatalf("examples/catalog has %d files, want 5 (the demo company's catalog)", len(files))
	}
	doc, err := Parse(files, specs)
	if err != nil {
		t.Fatalf("the example catalog has problems:\n%v", err)
	}
	c := doc.Catalog
	if len(c.Systems) < 10 || len(c.Entitlements) == 0 || len(c.Roles) == 0 || len(c.SoD) == 0 {
		t.Errorf("example catalog is too small: %d systems, %d entitlements, %d roles, %d sod",
			len(c.Systems), len(c.Entitlements), len(c.Roles), len(c.SoD))
	}
	for _, s := range c.Systems {
		if !strings.HasSuffix(s.Owner, "@example.com") {
			t.Errorf("system %s owner %s is not an @example.com address", s.ID, s.Owner)
		}
	}
}

func TestProblemsError(t *testing.T) {
	t.Parallel()
	ps := Problems{
		{File: "b.yaml", Line: 2, Field: "roles[x].name", Message: "required"},
		{File: "a.yaml", Line: 9, Field: "systems[y].tier", Message: "bad"},
		{File: "a.yaml", Line: 3, Message: "YAML syntax: oops"},
		{Field: "settings.leaver_guard.max_fraction", Message: "too big"},
	}
	want := "settings.leaver_guard.max_fraction: too big\n" +
		"a.yaml:3: YAML syntax: oops\n" +
		"a.yaml:9: systems[y].tier: bad\n" +
		"b.yaml:2: roles[x].name: required"
	var err error = ps
	if err.Error() != want {
		t.Errorf("Error() =\n%s\nwant\n%s", err, want)
	}
	if ps[0].File != "b.yaml" {
		t.Error("Error() sorted the receiver in place")
	}
	if got := gatehouse.ErrorCode(err); got != gatehouse.EINVALID {
		t.Errorf("ErrorCode = %q, want %q", got, gatehouse.EINVALID)
	}
	if msg := gatehouse.ErrorMessage(err); !strings.Contains(msg, "a.yaml:9: systems[y].tier: bad") {
		t.Errorf("ErrorMessage = %q, want the problem list", msg)
	}
	wrapped := errors.Join(errors.New("context"), err)
	var got Problems
	if !errors.As(wrapped, &got) || len(got) != 4 {
		t.Errorf("errors.As through a wrapper: %v", got)
	}
}

func TestLoad(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write := func(name, content string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("b.yml", "roles: []\n")
	write("a.yaml", "systems: []\n")
	write("README.md", "not yaml")
	write(".hidden.yaml", "ignored: true\n")
	if err := os.Mkdir(filepath.Join(dir, "sub.yaml"), 0o700); err != nil {
		t.Fatal(err)
	}

	files, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range files {
		names = append(names, f.Name)
	}
	if want := []string{filepath.Join(dir, "a.yaml"), filepath.Join(dir, "b.yml")}; !slices.Equal(names, want) {
		t.Errorf("Load(dir) names = %v, want %v", names, want)
	}

	one, err := Load(filepath.Join(dir, "b.yml"))
	if err != nil || len(one) != 1 || one[0].Name != filepath.Join(dir, "b.yml") || string(one[0].Content) != "roles: []\n" {
		t.Errorf("Load(file) = %+v, %v", one, err)
	}
	if _, err := Load(filepath.Join(dir, "missing")); err == nil {
		t.Error("Load of a missing path succeeded")
	}
	if _, err := Load(t.TempDir()); err == nil || !strings.Contains(err.Error(), "no *.yaml") {
		t.Errorf("Load of an empty directory: %v", err)
	}
}

func TestDigest(t *testing.T) {
	t.Parallel()
	a := []File{{Name: "x/a.yaml", Content: []byte("roles: []\n")}, {Name: "x/b.yaml", Content: []byte("sod: []\n")}}
	tests := []struct {
		name  string
		files []File
		same  bool
	}{
		{"same files elsewhere", []File{{Name: "/abs/a.yaml", Content: []byte("roles: []\n")}, {Name: "b.yaml", Content: []byte("sod: []\n")}}, true},
		{"content changed", []File{{Name: "a.yaml", Content: []byte("roles: [] \n")}, {Name: "b.yaml", Content: []byte("sod: []\n")}}, false},
		{"renamed", []File{{Name: "a2.yaml", Content: []byte("roles: []\n")}, {Name: "b.yaml", Content: []byte("sod: []\n")}}, false},
		{"reordered", []File{a[1], a[0]}, false},
		{"bytes moved between name and content", []File{{Name: "a.yamlr", Content: []byte("oles: []\n")}, a[1]}, false},
	}
	for _, tt := range tests {
		if got := Digest(tt.files) == Digest(a); got != tt.same {
			t.Errorf("%s: same digest = %v, want %v", tt.name, got, tt.same)
		}
	}
	if d := Digest(a); len(d) != 64 {
		t.Errorf("digest %q is not SHA-256 hex", d)
	}
}

func TestFormatRoundTrip(t *testing.T) {
	t.Parallel()
	files, err := Load(filepath.Join("testdata", "example"))
	if err != nil {
		t.Fatal(err)
	}
	doc, err := Parse(files, specs)
	if err != nil {
		t.Fatal(err)
	}
	out, err := Format(doc.Catalog)
	if err != nil {
		t.Fatal(err)
	}
	again, err := Parse([]File{{Name: "export.yaml", Content: out}}, specs)
	if err != nil {
		t.Fatalf("Parse(Format(c)):\n%v\n%s", err, out)
	}
	if !reflect.DeepEqual(doc.Catalog, again.Catalog) {
		t.Errorf("round trip changed the catalog:\n%s", out)
	}
	if !strings.Contains(string(out), "max_duration: 90d") || !strings.Contains(string(out), "max_duration: 8h\n") {
		t.Errorf("durations are not written the way people write them:\n%s", out)
	}
}

func TestValidateDomainCatalog(t *testing.T) {
	t.Parallel()
	c := &gatehouse.Catalog{
		Settings: gatehouse.DefaultSettings(),
		Systems: []*gatehouse.System{{ID: "s", Name: "S", Owner: "o@example.com", Tier: gatehouse.TierHigh,
			Connector: gatehouse.Connector{Type: "manual"}}},
		Entitlements: []*gatehouse.Entitlement{{ID: "s/x", System: "s", Name: "X", Kind: gatehouse.KindGroup,
			Risk: gatehouse.RiskStandard, Approval: []string{"manager"}}},
		Roles: []*gatehouse.Role{nil},
	}
	err := Validate(c, specs)
	ps := asProblems(t, err)
	want := []string{"entitlements[s/x].owner: required", "roles[0]: empty role"}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("Validate problems lack %q:\n%v", w, err)
		}
	}
	if len(ps) != len(want) {
		t.Errorf("got %d problems, want %d:\n%v", len(ps), len(want), err)
	}
}
