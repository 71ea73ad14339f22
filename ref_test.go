package gatehouse

import "testing"

func TestRefs(t *testing.T) {
	for _, tc := range []struct {
		parse func(string) (int64, bool)
		in    string
		want  int64
		ok    bool
	}{
		{ParseRequestRef, "REQ-000123", 123, true},
		{ParseRequestRef, "req-7", 7, true},
		{ParseRequestRef, "REQ-0", 0, false},
		{ParseRequestRef, "EXC-000001", 0, false},
		{ParseExceptionRef, "EXC-000042", 42, true},
		{ParseEmergencyRef, "emg-000001", 1, true},
		{ParseTaskRef, "TASK-000009", 9, true},
		{ParseTaskRef, "TASK-x", 0, false},
		{ParseTaskRef, "01a2164e-0e0f", 0, false},
	} {
		if n, ok := tc.parse(tc.in); n != tc.want || ok != tc.ok {
			t.Errorf("parse %q = %d, %v; want %d, %v", tc.in, n, ok, tc.want, tc.ok)
		}
	}
	if got := RequestRef(123); got != "REQ-000123" {
		t.Errorf("RequestRef(123) = %q", got)
	}
	if got := TaskRef(1234567); got != "TASK-1234567" {
		t.Errorf("TaskRef(1234567) = %q", got)
	}
}
