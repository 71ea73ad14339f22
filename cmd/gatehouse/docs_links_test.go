package main

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"unicode"
)

// TestDocsLinks keeps the documentation self-contained: every relative link of a Markdown file
// of the repository (README.md, docs/*.md, …) names a file that exists and, with #anchor, a
// heading of it; every docs/NAME.md that code, help text or docs mention exists; and nothing
// points at documents that are not in the repository. A newcomer who follows a reference must
// land on something.
func TestDocsLinks(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	var mds, sources []string
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() {
			// Third-party and generated trees are not ours to check.
			if path != root && (strings.HasPrefix(name, ".") || name == "node_modules" || name == "testdata" || name == "vendor") {
				return filepath.SkipDir
			}
			return nil
		}
		switch filepath.Ext(name) {
		case ".md":
			mds = append(mds, path)
			sources = append(sources, path)
		case ".go":
			if !strings.HasSuffix(name, "_test.go") {
				sources = append(sources, path)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(mds) < 5 {
		t.Fatalf("found %d Markdown files under %s; the walk is wrong", len(mds), root)
	}

	anchors := map[string]map[string]bool{} // by absolute path
	anchorsOf := func(path string) map[string]bool {
		if a, ok := anchors[path]; ok {
			return a
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return nil
		}
		a := headingAnchors(string(b))
		anchors[path] = a
		return a
	}

	link := regexp.MustCompile(`\]\(([^)\s]+)\)`)
	for _, md := range mds {
		b, err := os.ReadFile(md)
		if err != nil {
			t.Fatal(err)
		}
		rel, _ := filepath.Rel(root, md)
		for i, line := range strings.Split(stripCodeBlocks(string(b)), "\n") {
			for _, m := range link.FindAllStringSubmatch(line, -1) {
				target := m[1]
				if strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
					continue
				}
				file, anchor, _ := strings.Cut(target, "#")
				path := md
				if file != "" {
					path = filepath.Join(filepath.Dir(md), filepath.FromSlash(file))
					if !strings.HasPrefix(path, root+string(filepath.Separator)) {
						t.Errorf("%s:%d: link %q points outside the repository", rel, i+1, target)
						continue
					}
					if _, err := os.Stat(path); err != nil {
						t.Errorf("%s:%d: link %q: no such file", rel, i+1, target)
						continue
					}
				}
				if anchor != "" && strings.HasSuffix(path, ".md") && !anchorsOf(path)[anchor] {
					t.Errorf("%s:%d: link %q: %s has no heading with the anchor #%s", rel, i+1, target, filepath.Base(path), anchor)
				}
			}
		}
	}

	// Code, help text and docs name documents by path ("see docs/hr.md"): each must exist.
	docRef := regexp.MustCompile(`\bdocs/([A-Za-z0-9_-]+\.md)(#[a-z0-9_-]+)?`)
	outside := regexp.MustCompile(`\b(DESIGN|STYLE)\.md\b|\.\./shared\b`)
	for _, src := range sources {
		b, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		rel, _ := filepath.Rel(root, src)
		for i, line := range strings.Split(string(b), "\n") {
			if m := outside.FindString(line); m != "" {
				t.Errorf("%s:%d: refers to %s, which is not part of the repository; the docs live in docs/*.md", rel, i+1, m)
			}
			for _, m := range docRef.FindAllStringSubmatch(line, -1) {
				path := filepath.Join(root, "docs", m[1])
				if _, err := os.Stat(path); err != nil {
					t.Errorf("%s:%d: refers to docs/%s, which does not exist", rel, i+1, m[1])
					continue
				}
				if m[2] != "" && !anchorsOf(path)[m[2][1:]] {
					t.Errorf("%s:%d: docs/%s has no heading with the anchor %s", rel, i+1, m[1], m[2])
				}
			}
		}
	}
}

// stripCodeBlocks blanks fenced code blocks, keeping line numbers: a link-like text in an
// example is not a link.
func stripCodeBlocks(s string) string {
	lines := strings.Split(s, "\n")
	in := false
	for i, l := range lines {
		if strings.HasPrefix(strings.TrimSpace(l), "```") {
			in = !in
			lines[i] = ""
			continue
		}
		if in {
			lines[i] = ""
		}
	}
	return strings.Join(lines, "\n")
}

// headingAnchors returns the anchors GitHub gives the headings of a Markdown text: lower case,
// punctuation removed, spaces to dashes, a repeated one suffixed -1, -2, ….
func headingAnchors(s string) map[string]bool {
	out := map[string]bool{}
	seen := map[string]int{}
	for _, l := range strings.Split(stripCodeBlocks(s), "\n") {
		if !strings.HasPrefix(l, "#") {
			continue
		}
		text := strings.TrimSpace(strings.TrimLeft(l, "#"))
		var b strings.Builder
		for _, r := range strings.ToLower(text) {
			switch {
			case r == ' ':
				b.WriteRune('-')
			case r == '-' || r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r):
				b.WriteRune(r)
			}
		}
		a := b.String()
		if n := seen[a]; n > 0 {
			out[a+"-"+strconv.Itoa(n)] = true
		} else {
			out[a] = true
		}
		seen[a]++
	}
	return out
}
