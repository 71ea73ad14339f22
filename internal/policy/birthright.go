package policy

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"

	"cel.dev/cel-go/cel"
	"cel.dev/cel-go/ext"

	"github.com/gatehouse/gatehouse"
)

// identityVar is what a birthright rule sees as `identity`. It is a separate struct, not
// gatehouse.Identity, so that CEL field names are the HR feed's snake_case column names and so
// that fields a rule must not depend on (id, roles, source, timestamps) are simply not there.
// Every field is a string, as in the feed; CEL's string functions work on all of them.
type identityVar struct {
	EmployeeID     string            `cel:"employee_id"`
	Email          string            `cel:"email"`
	FirstName      string            `cel:"first_name"`
	LastName       string            `cel:"last_name"`
	Department     string            `cel:"department"`
	Title          string            `cel:"title"`
	ManagerID      string            `cel:"manager_id"`
	Location       string            `cel:"location"`
	EmploymentType string            `cel:"employment_type"`
	Status         string            `cel:"status"`
	StartDate      string            `cel:"start_date"`
	EndDate        string            `cel:"end_date"`
	Kind           string            `cel:"kind"`
	Attributes     map[string]string `cel:"attributes"`
}

// costLimit bounds the work one evaluation may do. Rules are written by catalog admins, not
// attackers, but a rule evaluated for every identity on every HR import must not be able to
// stall the import with an accidental quadratic comprehension over attributes.
const costLimit = 100_000

// env is built once: building a cel.Env costs milliseconds, and a cel.Env is safe for
// concurrent use, as are the programs it makes.
var env = sync.OnceValues(func() (*cel.Env, error) {
	typ := reflect.TypeFor[identityVar]()
	return cel.NewEnv(
		ext.NativeTypes(typ, ext.ParseStructTags(true)),
		cel.Variable("identity", cel.ObjectType(nativeTypeName(typ))),
		// Strings gives lowerAscii, split, trim and friends, which rules over free-text HR
		// columns (titles, departments) need; OptionalTypes gives
		// identity.attributes[?"cost_center"].orValue("") for columns not every feed has.
		ext.Strings(),
		cel.OptionalTypes(),
	)
})

// nativeTypeName is the CEL name ext.NativeTypes gives a Go struct: its package's last path
// element and its type name.
func nativeTypeName(t reflect.Type) string {
	pkg := t.PkgPath()
	if i := strings.LastIndexByte(pkg, '/'); i >= 0 {
		pkg = pkg[i+1:]
	}
	return pkg + "." + t.Name()
}

// Rule is a compiled birthright rule. It is immutable and safe for concurrent use.
type Rule struct {
	expr string
	prg  cel.Program
}

// Issue is one problem CEL found in a rule. Line and Column are 1-based positions in the rule
// text (a rule written as a YAML block scalar can span lines); Line is 0 for a problem with the
// rule as a whole, such as its result type.
type Issue struct {
	Line    int    `json:"line"`
	Column  int    `json:"column"`
	Message string `json:"message"`
}

// CompileError says why a rule does not compile. Its message is one line, so that it fits in a
// catalog problem ("file:line: field: message").
type CompileError struct {
	Issues []Issue
}

func (e *CompileError) Error() string {
	parts := make([]string, len(e.Issues))
	for i, is := range e.Issues {
		switch {
		case is.Line == 0:
			parts[i] = is.Message
		case is.Line > 1:
			parts[i] = fmt.Sprintf("%s (line %d, column %d)", is.Message, is.Line, is.Column)
		default:
			parts[i] = fmt.Sprintf("%s (column %d)", is.Message, is.Column)
		}
	}
	return strings.Join(parts, "; ")
}

// CompileBirthright parses and type-checks a birthright rule. The rule must return a bool: an
// expression of another type (or of type dyn, whose result is only known at run time) is
// rejected, so that a rule never fails for the first time during an HR import. Compile errors
// are *CompileError values.
func CompileBirthright(expr string) (*Rule, error) {
	e, err := env()
	if err != nil {
		return nil, fmt.Errorf("policy: CEL environment: %w", err)
	}
	if strings.TrimSpace(expr) == "" {
		return nil, &CompileError{Issues: []Issue{{Message: "empty rule"}}}
	}
	ast, iss := e.Compile(expr)
	if iss.Err() != nil {
		ce := &CompileError{}
		for _, ie := range iss.Errors() {
			ce.Issues = append(ce.Issues, Issue{
				Line:    ie.Location.Line(),
				Column:  ie.Location.Column() + 1, // CEL columns are 0-based
				Message: withHint(ie.Message),
			})
		}
		return nil, ce
	}
	if out := ast.OutputType(); !out.IsExactType(cel.BoolType) {
		return nil, &CompileError{Issues: []Issue{{Message: fmt.Sprintf("must return a bool, returns %s", out)}}}
	}
	prg, err := e.Program(ast, cel.CostLimit(costLimit), cel.EvalOptions(cel.OptOptimize))
	if err != nil {
		return nil, &CompileError{Issues: []Issue{{Message: err.Error()}}}
	}
	return &Rule{expr: expr, prg: prg}, nil
}

// String returns the rule's source text.
func (r *Rule) String() string { return r.expr }

// Matches evaluates the rule for identity i. An evaluation error (for example a missing key in
// identity.attributes, which usually means the HR feed lacks that column) is returned, not
// turned into false, so that the caller can tell "does not match" from "cannot tell".
func (r *Rule) Matches(i *gatehouse.Identity) (bool, error) {
	if i == nil {
		return false, fmt.Errorf("policy: birthright rule evaluated without an identity")
	}
	attrs := i.Attributes
	if attrs == nil {
		// A nil map is a valid empty map to CEL too, but be explicit: `"x" in
		// identity.attributes` must be false, not an error, for people without extra columns.
		attrs = map[string]string{}
	}
	v := &identityVar{
		EmployeeID:     i.EmployeeID,
		Email:          i.Email,
		FirstName:      i.FirstName,
		LastName:       i.LastName,
		Department:     i.Department,
		Title:          i.Title,
		ManagerID:      i.ManagerID,
		Location:       i.Location,
		EmploymentType: string(i.EmploymentType),
		Status:         string(i.Status),
		StartDate:      i.StartDate,
		EndDate:        i.EndDate,
		Kind:           string(i.Kind),
		Attributes:     attrs,
	}
	out, _, err := r.prg.Eval(map[string]any{"identity": v})
	if err != nil {
		return false, fmt.Errorf("policy: rule %q for %s: %w", r.expr, i.Email, err)
	}
	b, ok := out.Value().(bool)
	if !ok {
		// Unreachable for a rule that type-checked as bool; kept so a CEL change cannot make a
		// non-bool silently count as a match.
		return false, fmt.Errorf("policy: rule %q returned %s, not a bool", r.expr, out.Type())
	}
	return b, nil
}

// Fields lists the fields of `identity` a rule may use, in HR feed order.
func Fields() []string { return slices.Clone(fieldNames) }

var fieldNames = func() []string {
	t := reflect.TypeFor[identityVar]()
	names := make([]string, t.NumField())
	for i := range t.NumField() {
		names[i] = t.Field(i).Tag.Get("cel")
	}
	return names
}()

// withHint adds the likely intended field to CEL's "undefined field" message: a misspelt HR
// column is the most common mistake in a birthright rule.
func withHint(msg string) string {
	const prefix = "undefined field '"
	if !strings.HasPrefix(msg, prefix) || !strings.HasSuffix(msg, "'") {
		return msg
	}
	name := msg[len(prefix) : len(msg)-1]
	best, bestD := "", 3 // suggest only close matches
	for _, f := range fieldNames {
		if d := editDistance(name, f); d < bestD {
			best, bestD = f, d
		}
	}
	if best != "" {
		return fmt.Sprintf("%s; did you mean '%s'?", msg, best)
	}
	return fmt.Sprintf("%s; identity has %s", msg, strings.Join(fieldNames, ", "))
}

// editDistance is the Levenshtein distance between a and b (bytes; field names are ASCII).
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
