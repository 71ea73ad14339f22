package policy

import (
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/gatehouse/gatehouse"
)

func TestCompileBirthright(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		expr    string
		wantErr string // substring; "" means it compiles
	}{
		{"department and status", `identity.department == "Engineering" && identity.status == "active"`, ""},
		{"attribute index", `identity.attributes["cost_center"] == "CC-1"`, ""},
		{"attribute presence", `"cost_center" in identity.attributes`, ""},
		{"optional attribute", `identity.attributes[?"cost_center"].orValue("") == "CC-1"`, ""},
		{"string extension", `identity.title.lowerAscii().contains("engineer")`, ""},
		{"every field", `identity.employee_id != "" && identity.email.endsWith("@example.com") &&
			identity.first_name != "" && identity.last_name != "" && identity.title != "" &&
			identity.manager_id != "" && identity.location == "Berlin" &&
			identity.employment_type == "contractor" && identity.start_date < "2025-01-01" &&
			identity.end_date == "" && identity.kind == "person"`, ""},
		{"misspelt field", `identity.departmnt == "x"`, "undefined field 'departmnt'; did you mean 'department'?"},
		{"unknown field lists fields", `identity.salary == "x"`, "identity has employee_id, email"},
		{"string result", `identity.department`, "must return a bool, returns string"},
		{"map result", `identity.attributes`, "must return a bool, returns map(string, string)"},
		{"dyn result", `dyn(identity.department)`, "must return a bool, returns dyn"},
		{"unknown variable", `user.department == "x"`, "undeclared reference to 'user'"},
		{"type mismatch", `identity.department == 1`, "no matching overload"},
		{"syntax error", `identity.department ==`, "Syntax error"},
		{"empty", "  ", "empty rule"},
		{"second line position", "identity.status == \"active\" &&\n  identity.departmnt == \"x\"", "(line 2, column 11)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r, err := CompileBirthright(tt.expr)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("CompileBirthright(%q): %v", tt.expr, err)
				}
				if r.String() != tt.expr {
					t.Errorf("String() = %q, want the source", r.String())
				}
				return
			}
			if err == nil {
				t.Fatalf("CompileBirthright(%q) compiled; want error containing %q", tt.expr, tt.wantErr)
			}
			var ce *CompileError
			if !errors.As(err, &ce) {
				t.Errorf("error %T is not a *CompileError", err)
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("error %q does not contain %q", err, tt.wantErr)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error %q spans lines; it must fit in one catalog problem", err)
			}
		})
	}
}

func alice() *gatehouse.Identity {
	return &gatehouse.Identity{
		EmployeeID: "E100", Email: "alice@example.com", FirstName: "Alice", LastName: "Ng",
		Department: "Engineering", Title: "Senior Engineer", ManagerID: "E001", Location: "Berlin",
		EmploymentType: gatehouse.Employee, Status: gatehouse.StatusActive, StartDate: "2024-03-01",
		Kind: gatehouse.KindPerson, Attributes: map[string]string{"cost_center": "CC-1"},
	}
}

func TestRuleMatches(t *testing.T) {
	t.Parallel()
	noAttrs := alice()
	noAttrs.Attributes = nil
	leaver := alice()
	leaver.Status = gatehouse.StatusTerminated
	leaver.EndDate = "2025-06-30"
	tests := []struct {
		name    string
		expr    string
		who     *gatehouse.Identity
		want    bool
		wantErr string
	}{
		{"match", `identity.department == "Engineering" && identity.status == "active"`, alice(), true, ""},
		{"leaver does not match", `identity.department == "Engineering" && identity.status == "active"`, leaver, false, ""},
		{"attribute", `identity.attributes["cost_center"] == "CC-1"`, alice(), true, ""},
		{"presence without attributes", `"cost_center" in identity.attributes`, noAttrs, false, ""},
		{"optional without attributes", `identity.attributes[?"cost_center"].orValue("none") == "none"`, noAttrs, true, ""},
		{"missing attribute is an error", `identity.attributes["cost_center"] == "CC-1"`, noAttrs, false, "no such key"},
		{"enum fields are strings", `identity.employment_type == "employee" && identity.kind == "person"`, alice(), true, ""},
		{"dates compare as text", `identity.start_date >= "2024-01-01" && identity.end_date == ""`, alice(), true, ""},
		{"end date", `identity.end_date != ""`, leaver, true, ""},
		{"string functions", `identity.title.lowerAscii().contains("engineer")`, alice(), true, ""},
		{"nil identity", `true`, nil, false, "without an identity"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r, err := CompileBirthright(tt.expr)
			if err != nil {
				t.Fatal(err)
			}
			got, err := r.Matches(tt.who)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Matches = %v, %v; want error containing %q", got, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Matches: %v", err)
			}
			if got != tt.want {
				t.Errorf("Matches = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestRuleConcurrent runs one rule from many goroutines; with -race it shows the shared
// environment and program are safe to share.
func TestRuleConcurrent(t *testing.T) {
	t.Parallel()
	r, err := CompileBirthright(`identity.department == "Engineering" && "cost_center" in identity.attributes`)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 100 {
				if ok, err := r.Matches(alice()); !ok || err != nil {
					t.Errorf("Matches = %v, %v", ok, err)
					return
				}
			}
		})
		wg.Go(func() {
			if _, err := CompileBirthright(`identity.location == "Berlin"`); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
}

func TestFields(t *testing.T) {
	t.Parallel()
	got := strings.Join(Fields(), ",")
	want := "employee_id,email,first_name,last_name,department,title,manager_id,location,employment_type,status,start_date,end_date,kind,attributes"
	if got != want {
		t.Errorf("Fields() = %s\nwant        %s", got, want)
	}
}

func BenchmarkMatches(b *testing.B) {
	r, err := CompileBirthright(`identity.department == "Engineering" && identity.status == "active" && identity.attributes["cost_center"] == "CC-1"`)
	if err != nil {
		b.Fatal(err)
	}
	who := alice()
	b.ReportAllocs()
	for b.Loop() {
		if ok, err := r.Matches(who); !ok || err != nil {
			b.Fatalf("Matches = %v, %v", ok, err)
		}
	}
}

func BenchmarkCompileBirthright(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := CompileBirthright(`identity.department == "Engineering" && identity.status == "active"`); err != nil {
			b.Fatal(err)
		}
	}
}
