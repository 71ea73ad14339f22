package policy

import (
	"slices"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse"
)

func person(id string, st gatehouse.IdentityStatus) *gatehouse.Identity {
	return &gatehouse.Identity{ID: id, Email: id + "@example.com", Status: st}
}

func TestApprovalChain(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		approval []string
		risk     gatehouse.Risk
		want     []string
	}{
		{nil, gatehouse.RiskStandard, []string{"owner"}},
		{nil, gatehouse.RiskPrivileged, []string{"security"}},
		{[]string{"manager"}, gatehouse.RiskStandard, []string{"manager"}},
		{[]string{"manager", "owner"}, gatehouse.RiskSensitive, []string{"manager", "owner"}},
		{[]string{"manager"}, gatehouse.RiskPrivileged, []string{"manager", "security"}},
		{[]string{"security", "owner"}, gatehouse.RiskPrivileged, []string{"security", "owner"}},
		{[]string{"boss@example.com"}, gatehouse.RiskStandard, []string{"boss@example.com"}},
	} {
		e := &gatehouse.Entitlement{ID: "app/x", Approval: tc.approval, Risk: tc.risk}
		if got := ApprovalChain(e); !slices.Equal(got, tc.want) {
			t.Errorf("chain of %v (%s) = %v, want %v", tc.approval, tc.risk, got, tc.want)
		}
		if len(tc.approval) > 0 && tc.approval[0] != e.Approval[0] {
			t.Errorf("ApprovalChain changed the entitlement's chain: %v", e.Approval)
		}
	}
	e := &gatehouse.Entitlement{Approval: make([]string, 1, 4), Risk: gatehouse.RiskPrivileged}
	e.Approval[0] = "manager"
	ApprovalChain(e)
	if e.Approval[:2][1] != "" {
		t.Errorf("ApprovalChain wrote into the catalog's chain: %q", e.Approval[:2])
	}
}

func TestEligibleApprovers(t *testing.T) {
	t.Parallel()
	active, gone := gatehouse.StatusActive, gatehouse.StatusTerminated
	for _, tc := range []struct {
		name  string
		cands []*gatehouse.Identity
		ok    string // ids, comma separated
		notes []string
	}{
		{"none", nil, "", nil},
		{"active others", []*gatehouse.Identity{person("a", active), person("b", active)}, "a,b", nil},
		{"terminated", []*gatehouse.Identity{person("a", gone), person("b", active)}, "b", []string{"a@example.com is terminated"}},
		{"beneficiary", []*gatehouse.Identity{person("ben", active)}, "", []string{"ben@example.com is the beneficiary (no one approves their own access)"}},
		{"requester", []*gatehouse.Identity{person("req", active), person("a", active)}, "a",
			[]string{"req@example.com submitted the request (no one approves their own request)"}},
		{"twice", []*gatehouse.Identity{person("a", active), person("a", active)}, "a", nil},
		{"terminated twice, noted once", []*gatehouse.Identity{person("a", gone), person("a", gone)}, "", []string{"a@example.com is terminated"}},
		{"on leave may approve", []*gatehouse.Identity{person("l", gatehouse.StatusLeave)}, "l", nil},
	} {
		ok, notes := EligibleApprovers(tc.cands, "req", "ben")
		if got := strings.Join(ids(ok), ","); got != tc.ok || !slices.Equal(notes, tc.notes) {
			t.Errorf("%s: ok %q notes %q, want %q %q", tc.name, got, notes, tc.ok, tc.notes)
		}
	}
	// A self-request: the one person is both, and is named as the beneficiary.
	ok, notes := EligibleApprovers([]*gatehouse.Identity{person("me", active)}, "me", "me")
	if len(ok) != 0 || len(notes) != 1 || !strings.Contains(notes[0], "beneficiary") {
		t.Errorf("self-request: ok %v notes %q", ok, notes)
	}
}

func TestUntaken(t *testing.T) {
	t.Parallel()
	a, b := person("a", gatehouse.StatusActive), person("b", gatehouse.StatusActive)
	for _, tc := range []struct {
		name  string
		taken map[string]string
		ok    string
		note  string // substring of the only note; "" for none
	}{
		{"nobody taken", nil, "a,b", ""},
		{"one taken", map[string]string{"a": StepName(gatehouse.StepManager)}, "b", "a@example.com already decides the manager step (one person decides at most one step"},
		{"other request's people", map[string]string{"c": "the owner step"}, "a,b", ""},
	} {
		ok, notes := Untaken([]*gatehouse.Identity{a, b}, tc.taken)
		got := strings.Join(ids(ok), ",")
		if got != tc.ok || (tc.note == "") != (len(notes) == 0) || (tc.note != "" && (len(notes) != 1 || !strings.Contains(notes[0], tc.note))) {
			t.Errorf("%s: ok %q notes %q, want %q %q", tc.name, got, notes, tc.ok, tc.note)
		}
	}
	ok, notes := Untaken([]*gatehouse.Identity{a, b}, map[string]string{"a": "the manager step", "b": "the owner step"})
	if len(ok) != 0 || len(notes) != 2 {
		t.Errorf("all taken: ok %v notes %q", ok, notes)
	}
}

func TestDecidedStepsAndAllDecidedElsewhere(t *testing.T) {
	t.Parallel()
	r := &gatehouse.AccessRequest{Steps: []gatehouse.ApprovalStep{
		{Kind: gatehouse.StepManager, Approvers: []string{"m"}, Decision: gatehouse.DecisionApproved, DecidedByID: "m"},
		{Kind: gatehouse.StepOwner, Approvers: []string{"o", "m"}, Decision: gatehouse.DecisionApproved, DecidedByID: "o"},
		{Kind: gatehouse.StepSecurity, Approvers: []string{"o", "m"}, Emails: []string{"o@example.com"}},
		{Kind: gatehouse.StepPerson, Approvers: []string{"o", "x"}},
	}}
	for _, tc := range []struct {
		j     int
		taken map[string]string
	}{
		{0, map[string]string{}},
		{1, map[string]string{"m": "the manager step"}},
		{2, map[string]string{"m": "the manager step", "o": "the owner step"}},
	} {
		if got := DecidedSteps(r, tc.j); len(got) != len(tc.taken) || !func() bool {
			for k, v := range tc.taken {
				if got[k] != v {
					return false
				}
			}
			return true
		}() {
			t.Errorf("DecidedSteps(r, %d) = %v, want %v", tc.j, got, tc.taken)
		}
	}
	// A step decided without a recorded person (older data) takes nobody.
	old := &gatehouse.AccessRequest{Steps: []gatehouse.ApprovalStep{{Kind: gatehouse.StepManager, Decision: gatehouse.DecisionApproved}, {}}}
	if got := DecidedSteps(old, 1); len(got) != 0 {
		t.Errorf("DecidedSteps without DecidedByID = %v", got)
	}

	taken := DecidedSteps(r, 2)
	notes, all := AllDecidedElsewhere(r.Steps[2], taken)
	want := []string{
		"o@example.com decided the owner step (one person decides at most one step of a request)",
		"m decided the manager step (one person decides at most one step of a request)", // no email: the id
	}
	if !all || !slices.Equal(notes, want) {
		t.Errorf("security step: all %v notes %q, want %q", all, notes, want)
	}
	if notes, all := AllDecidedElsewhere(r.Steps[3], DecidedSteps(r, 3)); all || notes != nil {
		t.Errorf("a step with an undecided approver: all %v notes %q", all, notes)
	}
}

func TestStepQuestionAndSameStep(t *testing.T) {
	t.Parallel()
	a, b := person("a", gatehouse.StatusActive), person("b", gatehouse.StatusActive)
	for _, tc := range []struct {
		kind     gatehouse.StepKind
		eligible []*gatehouse.Identity
		system   string
		want     string
	}{
		{gatehouse.StepManager, []*gatehouse.Identity{a}, "app", "manager|a"},
		{gatehouse.StepSecurity, []*gatehouse.Identity{a, b}, "app", "security|a,b"},
		{gatehouse.StepOwner, nil, "app", "owner||fallback of system app"},
		{gatehouse.StepOwner, nil, "crm", "owner||fallback of system crm"},
	} {
		if got := StepQuestion(tc.kind, tc.eligible, tc.system); got != tc.want {
			t.Errorf("StepQuestion(%s, %d people, %s) = %q, want %q", tc.kind, len(tc.eligible), tc.system, got, tc.want)
		}
	}
	have := []gatehouse.ApprovalStep{{Kind: gatehouse.StepManager, Approvers: []string{"a"}}, {Kind: gatehouse.StepOwner, Approvers: []string{"a", "b"}}}
	for _, tc := range []struct {
		st   gatehouse.ApprovalStep
		want bool
	}{
		{gatehouse.ApprovalStep{Kind: gatehouse.StepManager, Approvers: []string{"a"}, Entitlement: "other"}, true},
		{gatehouse.ApprovalStep{Kind: gatehouse.StepOwner, Approvers: []string{"a"}}, false},
		{gatehouse.ApprovalStep{Kind: gatehouse.StepOwner, Approvers: []string{"b", "a"}}, false}, // order is part of the step
		{gatehouse.ApprovalStep{Kind: gatehouse.StepSecurity, Approvers: []string{"a"}}, false},
	} {
		if got := SameStep(have, tc.st); got != tc.want {
			t.Errorf("SameStep(%s %v) = %v, want %v", tc.st.Kind, tc.st.Approvers, got, tc.want)
		}
	}
}
