package jml

import (
	"errors"
	"io"
	"strings"
	"testing"
)

// TestHRBadBytes: a NUL, a control character, an over-long value or bytes that are not UTF-8
// in an HR feed (CSV or JSON) are refused, naming the line and, where it is known, the field.
func TestHRBadBytes(t *testing.T) {
	row := func(first, email, extra string) string {
		return "E1," + email + "," + first + ",Taylor,Eng,Dev,,Berlin,employee,active,2024-01-01," + extra
	}
	tests := []struct {
		name, csv string
		json      string
		want      string
		jsonWant  string // when not want with the first object's line
	}{
		{name: "NUL in email", csv: header + "\n" + row("Sam", "sam\x00@example.com", "") + "\n",
			json: `[{"employee_id":"E1","email":"sam\u0000@example.com","first_name":"Sam","last_name":"T","department":"Eng","title":"Dev","manager_id":"","location":"B","employment_type":"employee","status":"active","start_date":"2024-01-01","end_date":""}]`,
			want: "line 2: email: contains a NUL byte"},
		{name: "forged line in first name", csv: header + "\n" + row(`"Sam`+"\n"+`    roles: admin"`, "sam@example.com", "") + "\n",
			json: `[{"employee_id":"E1","email":"sam@example.com","first_name":"Sam\n    roles: admin","last_name":"T","department":"Eng","title":"Dev","manager_id":"","location":"B","employment_type":"employee","status":"active","start_date":"2024-01-01","end_date":""}]`,
			want: "line 2: first_name: contains the control character U+000A"},
		{name: "ANSI escape", csv: header + "\n" + row("\x1b[2J", "sam@example.com", "") + "\n",
			want: "line 2: first_name: contains the control character U+001B"},
		{name: "over-long name", csv: header + "\n" + row(strings.Repeat("a", 201), "sam@example.com", "") + "\n",
			want: "line 2: first_name: is 201 characters long; the limit is 200"},
		{name: "over-long attribute", csv: header + ",notes\n" + row("Sam", "sam@example.com", ","+strings.Repeat("n", 1001)) + "\n",
			want: "line 2: notes: is 1001 characters long; the limit is 1000"},
		{name: "invalid UTF-8", csv: header + "\n" + row("S\xe9m", "sam@example.com", "") + "\n",
			json: "[{\"employee_id\":\"E1\",\"email\":\"sam@example.com\",\"first_name\":\"S\xe9m\"}]",
			want: "line 2: first_name: not valid UTF-8", jsonWant: "byte 62: not valid UTF-8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseHR("hr.csv", strings.NewReader(tt.csv))
			var probs Problems
			if !errors.As(err, &probs) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("CSV: got %v, want a problem %q", err, tt.want)
			}
			if tt.json == "" {
				return
			}
			_, err = ParseHRJSON("hr.json", strings.NewReader(tt.json))
			want := strings.Replace(tt.want, "line 2", "line 1", 1) // the first object
			if tt.jsonWant != "" {
				want = tt.jsonWant
			}
			if !errors.As(err, &probs) || !strings.Contains(err.Error(), want) {
				t.Errorf("JSON: got %v, want a problem %q", err, want)
			}
		})
	}
	// Tabs and line breaks are fine in an attribute (a free-text column).
	if _, err := ParseHR("hr.csv", strings.NewReader(header+",notes\n"+row("Sam", "sam@example.com", `,"a`+"\n"+`b"`)+"\n")); err != nil {
		t.Errorf("a line break in an attribute: %v", err)
	}
}

func TestUTF8Reader(t *testing.T) {
	good := strings.Repeat("Zoë 山田 ", 5000)
	for _, chunk := range []int{1, 2, 3, 7, 4096} {
		r := &utf8Reader{r: &chunker{s: good, n: chunk}}
		var b strings.Builder
		buf := make([]byte, 8192)
		for {
			n, err := r.Read(buf)
			b.Write(buf[:n])
			if err != nil {
				if err != io.EOF {
					t.Fatalf("chunk %d: %v", chunk, err)
				}
				break
			}
		}
		if b.String() != good {
			t.Fatalf("chunk %d: bytes changed", chunk)
		}
		bad := &utf8Reader{r: &chunker{s: good[:100] + "\xff" + good[100:], n: chunk}}
		var err error
		for err == nil {
			_, err = bad.Read(buf)
		}
		if !errors.Is(err, errNotUTF8) {
			t.Fatalf("chunk %d: bad bytes: %v", chunk, err)
		}
	}
}

// chunker reads s n bytes at a time, splitting runes across reads.
type chunker struct {
	s string
	n int
}

func (c *chunker) Read(p []byte) (int, error) {
	if c.s == "" {
		return 0, io.EOF
	}
	n := min(c.n, len(p), len(c.s))
	copy(p, c.s[:n])
	c.s = c.s[n:]
	return n, nil
}
