package catalog

import (
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestDocsExamplesValidate keeps the YAML examples of docs/catalog.md working: the page says
// they are the parts of one catalog that validates, so a reader who copies them into a
// directory gets a catalog, not a list of problems. Each example is one file, in page order.
func TestDocsExamplesValidate(t *testing.T) {
	b, err := os.ReadFile("../../docs/catalog.md")
	if err != nil {
		t.Fatal(err)
	}
	blocks := regexp.MustCompile("(?s)```yaml\n(.*?)```").FindAllSubmatch(b, -1)
	if len(blocks) < 5 {
		t.Fatalf("docs/catalog.md has %d YAML examples; expected one per section at least", len(blocks))
	}
	var files []File
	for i, m := range blocks {
		files = append(files, File{Name: fmt.Sprintf("docs/catalog.md example %d", i+1), Content: m[1]})
	}
	doc, err := Parse(files, specs)
	if err != nil {
		t.Fatalf("the examples of docs/catalog.md do not validate together:\n%v", err)
	}
	if len(doc.Catalog.Systems) == 0 || len(doc.Catalog.Entitlements) == 0 || len(doc.Catalog.Roles) == 0 || len(doc.Catalog.SoD) == 0 {
		t.Errorf("the examples should show every kind of object; got %d systems, %d entitlements, %d roles, %d SoD rules",
			len(doc.Catalog.Systems), len(doc.Catalog.Entitlements), len(doc.Catalog.Roles), len(doc.Catalog.SoD))
	}

	// Every field has an example: its key is written in one of the YAML examples.
	var all []byte
	for _, m := range blocks {
		all = append(all, m[1]...)
	}
	shown := func(key string) bool {
		return regexp.MustCompile(`(?m)(^|[\s{,])` + regexp.QuoteMeta(key) + `:`).Match(all)
	}
	fields := [][]string{topFields, settingsFields, leaverGuardFields, exceptionsFields, systemFields,
		namingFields, entitlementFields, roleFields, sodFields, {"unknown_memberships", "unknown_accounts", "leaver_accounts"}}
	for _, spec := range specs {
		fields = append(fields, spec.Keys())
	}
	for _, list := range fields {
		for _, key := range list {
			switch {
			case key == "insecure_skip_verify":
				continue // for tests only: the table says so, and no example should invite copying it
			case strings.HasSuffix(key, "_file") && shown(strings.TrimSuffix(key, "_file")+"_env"),
				strings.HasSuffix(key, "_env") && shown(strings.TrimSuffix(key, "_env")+"_file"):
				continue // a secret reference: one of the two forms is enough
			}
			if !shown(key) {
				t.Errorf("no YAML example of docs/catalog.md shows the field %s", key)
			}
		}
	}
}
