package gatehouse_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse"
)

// declaredActions parses auditaction.go for every constant of type AuditAction, so that a new
// constant is checked without being listed twice. It returns name → value, in order of names.
func declaredActions(t *testing.T) (names []string, values map[string]string) {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), "auditaction.go", nil, parser.ParseComments)
	if err != nil {
		t.Fatal(err)
	}
	values = map[string]string{}
	for _, d := range f.Decls {
		gd, ok := d.(*ast.GenDecl)
		if !ok || gd.Tok != token.CONST {
			continue
		}
		for _, s := range gd.Specs {
			vs := s.(*ast.ValueSpec)
			if id, ok := vs.Type.(*ast.Ident); !ok || id.Name != "AuditAction" {
				continue
			}
			for i, n := range vs.Names {
				lit, ok := vs.Values[i].(*ast.BasicLit)
				if !ok || lit.Kind != token.STRING {
					t.Errorf("%s: the value is not a string literal", n.Name)
					continue
				}
				v, _ := strconv.Unquote(lit.Value)
				if vs.Doc == nil || !strings.HasPrefix(vs.Doc.Text(), n.Name+": ") {
					t.Errorf("%s: no comment saying when it is written (%q)", n.Name, vs.Doc.Text())
				}
				names = append(names, n.Name)
				values[n.Name] = v
			}
		}
	}
	if len(names) < 50 {
		t.Fatalf("found %d audit actions in auditaction.go; the parse missed some", len(names))
	}
	return names, values
}

func TestAuditActionsWellFormedAndUnique(t *testing.T) {
	names, values := declaredActions(t)
	form := regexp.MustCompile(`^[a-z][a-z_]*(\.[a-z][a-z_]*)+$`)
	seen := map[string]string{}
	for _, n := range names {
		v := values[n]
		if !form.MatchString(v) {
			t.Errorf("%s = %q: want lower-case area.verb", n, v)
		}
		if prev, dup := seen[v]; dup {
			t.Errorf("%s and %s are both %q", prev, n, v)
		}
		seen[v] = n
	}
	if a := gatehouse.AuditSCIMUserUpdate.Area(); a != "scim" {
		t.Errorf("Area of %s = %q, want scim", gatehouse.AuditSCIMUserUpdate, a)
	}
}

func TestAuditActionsDocumented(t *testing.T) {
	names, values := declaredActions(t)
	doc, err := os.ReadFile("docs/audit.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range names {
		if !strings.Contains(string(doc), "| `"+values[n]+"` |") {
			t.Errorf("docs/audit.md has no row for %s (`%s`)", n, values[n])
		}
	}
}

// TestNoLiteralAuditActions fails when code outside tests writes an audit action as a string:
// a literal equal to a declared action, a literal or a concatenation given as an AuditEvent's
// Action, or a literal converted to AuditAction. Test files and test-support packages
// (storetest, ldaptest, …) may write the wire format out.
func TestNoLiteralAuditActions(t *testing.T) {
	_, values := declaredActions(t)
	known := map[string]bool{}
	for _, v := range values {
		known[v] = true
	}
	fset := token.NewFileSet()
	check := func(path string) {
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		bad := func(n ast.Node, why string) { t.Errorf("%s: %s", fset.Position(n.Pos()), why) }
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.BasicLit:
				if v, err := strconv.Unquote(n.Value); n.Kind == token.STRING && err == nil && known[v] {
					bad(n, "audit action "+n.Value+" written as a string; use its gatehouse.Audit… constant")
				}
			case *ast.CompositeLit:
				if !isAuditEvent(n.Type) {
					return true
				}
				for _, e := range n.Elts {
					kv, ok := e.(*ast.KeyValueExpr)
					if k, isID := kv.Key.(*ast.Ident); !ok || !isID || k.Name != "Action" {
						continue
					}
					switch kv.Value.(type) {
					case *ast.BasicLit, *ast.BinaryExpr:
						bad(kv.Value, "AuditEvent.Action built from a string; declare a gatehouse.Audit… constant")
					}
				}
			case *ast.CallExpr:
				if isAuditActionType(n.Fun) && len(n.Args) == 1 {
					if _, lit := n.Args[0].(*ast.BasicLit); lit {
						bad(n, "a string converted to AuditAction; declare a gatehouse.Audit… constant")
					}
				}
			}
			return true
		})
	}
	for _, root := range []string{".", "internal", "cmd", "bench", "connector"} {
		err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() {
				base := d.Name()
				if path != root && (root == "." || base == "testdata" || strings.HasSuffix(base, "test") || strings.HasPrefix(base, ".")) {
					return filepath.SkipDir
				}
				return nil
			}
			if strings.HasSuffix(path, ".go") && !strings.HasSuffix(path, "_test.go") && path != "auditaction.go" {
				check(path)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}

func isAuditEvent(e ast.Expr) bool {
	switch e := e.(type) {
	case *ast.Ident:
		return e.Name == "AuditEvent"
	case *ast.SelectorExpr:
		return e.Sel.Name == "AuditEvent"
	case *ast.StarExpr:
		return isAuditEvent(e.X)
	}
	return false
}

func isAuditActionType(e ast.Expr) bool {
	switch e := e.(type) {
	case *ast.Ident:
		return e.Name == "AuditAction"
	case *ast.SelectorExpr:
		return e.Sel.Name == "AuditAction"
	}
	return false
}
