package gatehouse

import (
	"testing"
	"time"
)

func TestPrioritySLA(t *testing.T) {
	for _, tc := range []struct {
		p    Priority
		want time.Duration
	}{
		{PriorityCritical, 4 * time.Hour}, {PriorityHigh, 8 * time.Hour}, {PriorityNormal, 24 * time.Hour},
		{PriorityLow, 72 * time.Hour}, {"", 24 * time.Hour},
	} {
		if got := tc.p.SLA(); got != tc.want {
			t.Errorf("%q.SLA() = %s, want %s", tc.p, got, tc.want)
		}
	}
}

func TestRequestRef(t *testing.T) {
	if got := RequestRef(123); got != "REQ-000123" {
		t.Fatalf("RequestRef(123) = %q", got)
	}
	for _, tc := range []struct {
		in   string
		n    int64
		isOK bool
	}{
		{"REQ-000123", 123, true}, {"req-7", 7, true}, {"REQ-1234567", 1234567, true},
		{"REQ-0", 0, false}, {"REQ-", 0, false}, {"TASK-000001", 0, false}, {"0190c0de-…", 0, false}, {"REQ--1", 0, false},
	} {
		n, ok := ParseRequestRef(tc.in)
		if ok != tc.isOK || (ok && n != tc.n) {
			t.Errorf("ParseRequestRef(%q) = %d, %v", tc.in, n, ok)
		}
	}
}

func TestRequestStatesAndSteps(t *testing.T) {
	open := map[RequestState]bool{RequestSubmitted: true, RequestPendingApproval: true, RequestReturned: true}
	for _, s := range []RequestState{RequestSubmitted, RequestPendingApproval, RequestApproved, RequestProvisioning, RequestFulfilled,
		RequestDenied, RequestReturned, RequestCancelled, RequestExpired, RequestFailed} {
		if !s.Valid() || s.Open() != open[s] {
			t.Errorf("%s: valid %v open %v", s, s.Valid(), s.Open())
		}
	}
	if RequestState("done").Valid() {
		t.Error("unknown state is valid")
	}
	r := &AccessRequest{Steps: []ApprovalStep{{Decision: DecisionApproved}, {}, {}}}
	if r.CurrentStep() != 1 {
		t.Fatalf("CurrentStep = %d", r.CurrentStep())
	}
	r.Steps[1].Decision, r.Steps[2].Decision = DecisionApproved, DecisionApproved
	if r.CurrentStep() != -1 {
		t.Fatalf("all decided: CurrentStep = %d", r.CurrentStep())
	}
	now := time.Now()
	d := &Delegation{StartsAt: now, EndsAt: now.Add(time.Hour)}
	if !d.Active(now) || d.Active(now.Add(-time.Second)) || d.Active(now.Add(time.Hour)) {
		t.Error("delegation is active exactly in [start, end)")
	}
}
