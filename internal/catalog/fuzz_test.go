package catalog

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// FuzzParse feeds two catalog files to Parse. Whatever the input, Parse must not panic; when
// it fails, it fails with Problems; when it succeeds, the catalog passes Validate on its own
// and survives a round trip through Format.
//
// Seeds are in testdata/fuzz/FuzzParse; the example catalog and the planted-mistakes catalog
// are added too. Run: go test -fuzz=FuzzParse ./internal/catalog
func FuzzParse(f *testing.F) {
	for _, dir := range []string{filepath.Join("..", "..", "examples", "catalog"), filepath.Join("testdata", "example"), filepath.Join("testdata", "mistakes")} {
		files, err := Load(dir)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(files[0].Content, files[1].Content)
	}
	f.Add([]byte(baseYAML), []byte{})
	f.Fuzz(func(t *testing.T, a, b []byte) {
		if len(a)+len(b) > 1<<16 {
			return // big inputs find nothing small ones do not, and slow the fuzzer down
		}
		files := []File{{Name: "a.yaml", Content: a}, {Name: "b.yaml", Content: b}}
		doc, err := Parse(files, specs)
		if err != nil {
			var ps Problems
			if !errors.As(err, &ps) || len(ps) == 0 {
				t.Fatalf("Parse failed without problems: %v (%T)", err, err)
			}
			for _, p := range ps {
				if p.Message == "" || (p.File != "a.yaml" && p.File != "b.yaml" && p.File != "") {
					t.Fatalf("malformed problem %#v", p)
				}
			}
			return
		}
		if doc.Digest != Digest(files) {
			t.Fatal("document digest differs from Digest(files)")
		}
		if err := Validate(doc.Catalog, specs); err != nil {
			t.Fatalf("a parsed catalog fails Validate:\n%v\ninput a:\n%s\ninput b:\n%s", err, a, b)
		}
		out, err := Format(doc.Catalog)
		if err != nil {
			t.Fatalf("Format: %v", err)
		}
		again, err := Parse([]File{{Name: "export.yaml", Content: out}}, specs)
		if err != nil {
			t.Fatalf("Parse(Format(c)):\n%v\n%s", err, out)
		}
		if !reflect.DeepEqual(doc.Catalog, again.Catalog) {
			t.Fatalf("round trip through Format changed the catalog:\n%s", out)
		}
	})
}

// TestFuzzSeedsPresent keeps the checked-in seed corpus from disappearing unnoticed.
func TestFuzzSeedsPresent(t *testing.T) {
	t.Parallel()
	entries, err := os.ReadDir(filepath.Join("testdata", "fuzz", "FuzzParse"))
	if err != nil || len(entries) < 5 {
		t.Fatalf("seed corpus testdata/fuzz/FuzzParse: %d entries, %v", len(entries), err)
	}
}
