package jml

import (
	"errors"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse"
)

const header = "employee_id,email,first_name,last_name,department,title,manager_id,location,employment_type,status,start_date,end_date"

func TestParseHRGood(t *testing.T) {
	csv := "\xef\xbb\xbf" + "Status,employee_id,email,first_name,last_name,department,title,manager_id,location,employment_type,start_date,end_date,cost_center\n" +
		"active,E2,bob@example.com,Bob,B,Eng,Dev,E1,Berlin,contractor,2024-01-01,2027-01-01,CC2\n" +
		"active,E1, Ann@Example.com ,Ann,A,Eng,Head,,Berlin,employee,2020-01-01,,CC1\n"
	ids, err := ParseHR("hr.csv", strings.NewReader(csv))
	if err != nil {
		t.Fatal(err)
	}
	if len(ids) != 2 {
		t.Fatalf("got %d identities", len(ids))
	}
	b := ids[0]
	if b.EmployeeID != "E2" || b.ManagerID != "E1" || b.EmploymentType != gatehouse.Contractor || b.Status != gatehouse.StatusActive ||
		b.EndDate != "2027-01-01" || b.Attributes["cost_center"] != "CC2" || b.Source != Source || b.Kind != gatehouse.KindPerson {
		t.Errorf("bob = %+v", b)
	}
	if ids[1].Email != "Ann@Example.com" {
		t.Errorf("email not trimmed: %q", ids[1].Email)
	}
}

func TestParseHRProblems(t *testing.T) {
	tests := []struct {
		name string
		csv  string
		want []string // every problem, in order
	}{
		{"empty", "", []string{"f.csv: line 1: header: the file is empty; a header row is required"}},
		{"missing column", "employee_id,email\nE1,a@x.io\n", []string{
			`f.csv: line 1: header: required column "first_name" is missing`,
			`f.csv: line 1: header: required column "last_name" is missing`,
			`f.csv: line 1: header: required column "department" is missing`,
			`f.csv: line 1: header: required column "title" is missing`,
			`f.csv: line 1: header: required column "manager_id" is missing`,
			`f.csv: line 1: header: required column "location" is missing`,
			`f.csv: line 1: header: required column "employment_type" is missing`,
			`f.csv: line 1: header: required column "status" is missing`,
			`f.csv: line 1: header: required column "start_date" is missing`,
			`f.csv: line 1: header: required column "end_date" is missing`,
		}},
		{"duplicate column", header + ",email\n", []string{`f.csv: line 1: header: column "email" appears twice`}},
		{"every row problem", header + "\n" +
			",a@x.io,,,,,,,employee,active,2020-01-01,\n" + // line 2
			"E1,bad-email,,,,,,,employee,active,2020-01-01,\n" + // 3
			"E1,b@x.io,,,,,,,worker,away,2020-13-01,2020-01-01\n" + // 4
			"E3,A@X.IO,,,,,E9,,intern,active,2021-01-01,2020-12-31\n" + // 5
			"E4,,,,,,E4,,employee,leave,,\n" + // 6
			"E5,e5@x.io,,,,\n", // 7
			[]string{
				"f.csv: line 2: employee_id: required",
				`f.csv: line 3: email: "bad-email" is not a valid email address`,
				`f.csv: line 4: employee_id: "E1" duplicates line 3`,
				`f.csv: line 4: employment_type: "worker" is not one of employee, contractor, intern`,
				`f.csv: line 4: status: "away" is not one of active, leave, terminated`,
				`f.csv: line 4: start_date: "2020-13-01" is not a date (YYYY-MM-DD)`,
				`f.csv: line 5: email: "A@X.IO" duplicates line 2 (emails are compared ignoring case)`,
				"f.csv: line 5: end_date: 2020-12-31 is before start_date 2021-01-01",
				`f.csv: line 5: manager_id: "E9" is not the employee_id of any row: ` + SnapshotHint,
				"f.csv: line 6: email: required",
				"f.csv: line 6: start_date: required (YYYY-MM-DD)",
				`f.csv: line 6: manager_id: "E4" is the person themselves`,
				"f.csv: line 7: row has 6 fields, the header has 12",
			}},
		{"cycle", header + "\n" +
			"E1,a@x.io,,,,,E3,,employee,active,2020-01-01,\n" +
			"E2,b@x.io,,,,,E1,,employee,active,2020-01-01,\n" +
			"E3,c@x.io,,,,,E2,,employee,active,2020-01-01,\n" +
			"E4,d@x.io,,,,,E1,,employee,active,2020-01-01,\n",
			[]string{"f.csv: line 2: manager_id: manager cycle: E1 → E3 → E2 → E1"}},
		{"bad quote", header + "\nE1,\"a@x.io,,\n", []string{`f.csv: line 2: CSV: extraneous or missing " in quoted-field`}},
		{"latin1", header + "\nE1,a@x.io,J\xf6rg,,,,,,employee,active,2020-01-01,\n", []string{"f.csv: line 2: first_name: not valid UTF-8 (save the file as UTF-8)"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseHR("f.csv", strings.NewReader(tc.csv))
			var ps Problems
			if !errors.As(err, &ps) {
				t.Fatalf("err = %v, want Problems", err)
			}
			got := strings.Split(ps.Error(), "\n")
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("problems:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
			if gatehouse.ErrorCode(err) != gatehouse.EINVALID {
				t.Errorf("code = %q", gatehouse.ErrorCode(err))
			}
		})
	}
}

func TestParseHRJSON(t *testing.T) {
	body := `[{"employee_id":"E1","email":"a@x.io","employment_type":"employee","status":"active","start_date":"2020-01-01","cost_center":"C1","manager_id":null},
	{"employee_id":"E2","email":"b@x.io","employment_type":"employee","status":"active","start_date":"2020-01-01","manager_id":"E7"}]`
	_, err := ParseHRJSON("body", strings.NewReader(body))
	if err == nil || !strings.Contains(err.Error(), `body: line 2: manager_id: "E7" is not the employee_id of any row`) {
		t.Fatalf("err = %v", err)
	}
	ids, err := ParseHRJSON("body", strings.NewReader(body[:strings.Index(body, ",\n")]+"]"))
	if err != nil {
		t.Fatal(err)
	}
	if len(ids) != 1 || ids[0].Attributes["cost_center"] != "C1" {
		t.Fatalf("ids = %+v", ids[0])
	}
	ids, err = ParseHRJSON("body", strings.NewReader(`[{"employee_id":1000000,"email":"a@x.io","employment_type":"employee","status":"active","start_date":"2020-01-01"}]`))
	if err != nil || ids[0].EmployeeID != "1000000" {
		t.Fatalf("numeric employee_id: %v, %+v", err, ids)
	}
	if _, err := ParseHRJSON("body", strings.NewReader(`[{"employee_id":["x"]}]`)); err == nil || !strings.Contains(err.Error(), "body: line 1: employee_id: must be a string") {
		t.Fatalf("array value: %v", err)
	}
}
