package catalog

import (
	"strings"
	"testing"
)

// TestCatalogBadText: a catalog cannot carry a NUL, a control character in a one-line value or
// an over-long text; each problem is located at its file, line and field.
func TestCatalogBadText(t *testing.T) {
	t.Parallel()
	sys := func(name, extra string) string {
		return "systems:\n  - id: app\n    name: " + name + "\n    owner: a@example.com\n    tier: standard\n    connector: {type: manual}\n" + extra
	}
	for _, tc := range []struct{ name, yaml, want string }{
		{"NUL in a name", sys(`"A\0pp"`, ""), "c.yaml:3: systems[app].name: contains a NUL byte"},
		{"forged line in a name", sys(`"App\nroles: admin"`, ""), "c.yaml:3: systems[app].name: contains the control character U+000A"},
		{"ANSI escape", sys(`"\e[2JApp"`, ""), "systems[app].name: contains the control character U+001B"},
		{"over-long name", sys(strings.Repeat("a", 201), ""), "systems[app].name: is 201 characters long; the limit is 200"},
		{"over-long description", sys("App", "roles:\n  - id: r\n    name: R\n    description: "+strings.Repeat("d", 2001)+"\n    entitlements: []\n"),
			"roles[r].description: is 2001 characters long; the limit is 2000"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]File{{Name: "c.yaml", Content: []byte(tc.yaml)}}, specs)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want %q", err, tc.want)
			}
		})
	}
}
