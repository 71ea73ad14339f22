package jml

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzParseHR checks that any input either parses into identities that hold the feed's
// invariants or fails with Problems that each name a line — never a panic or another error.
func FuzzParseHR(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.csv")
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(header + "\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		ids, err := ParseHR("fuzz.csv", bytes.NewReader(data))
		if err != nil {
			var ps Problems
			if !errors.As(err, &ps) || len(ps) == 0 {
				t.Fatalf("error is not Problems: %v", err)
			}
			for _, p := range ps {
				if !strings.HasPrefix(ProblemText(p), "fuzz.csv: ") { // the HR wording (String is the compiler form)
					t.Fatalf("problem without file: %q", p)
				}
			}
			return
		}
		emp := map[string]bool{}
		mail := map[string]bool{}
		for _, id := range ids {
			if id.EmployeeID == "" || emp[id.EmployeeID] || mail[strings.ToLower(id.Email)] {
				t.Fatalf("accepted a bad identity: %+v", id)
			}
			if err := id.Validate(); err != nil {
				t.Fatalf("accepted identity fails Validate: %v", err)
			}
			emp[id.EmployeeID], mail[strings.ToLower(id.Email)] = true, true
		}
		for _, id := range ids {
			if id.ManagerID != "" && !emp[id.ManagerID] {
				t.Fatalf("accepted unknown manager %q", id.ManagerID)
			}
		}
	})
}
