package provision

import (
	"encoding/json"
	"fmt"
	"slices"
	"testing"

	"github.com/gatehouse/gatehouse"
)

func TestAffected(t *testing.T) {
	grantEv := func(action, id, ent, ref string) *gatehouse.AuditEvent {
		b, _ := json.Marshal(map[string]string{"entitlement_id": ent})
		return &gatehouse.AuditEvent{Action: gatehouse.AuditAction(action), ObjectType: "grant", ObjectID: id, After: b, Reference: ref}
	}
	tests := []struct {
		name   string
		events []*gatehouse.AuditEvent
		want   Trigger
	}{
		{"nothing", []*gatehouse.AuditEvent{{Action: "token.create", ObjectType: "token"}}, Trigger{Cause: CauseSchedule}},
		{"a grant reconciles its system", []*gatehouse.AuditEvent{grantEv("grant.create", "g1", "dir/eng", "")},
			Trigger{Systems: []string{"dir"}, Cause: "grant:g1"}},
		{"a revocation deprovisions", []*gatehouse.AuditEvent{grantEv("grant.revoke", "g1", "dir/eng", ""), grantEv("grant.revoke", "g2", "wiki/x", "")},
			Trigger{Systems: []string{"dir", "wiki"}, Cause: "grant:g1", Deprovision: true}},
		{"an HR import reconciles everything", []*gatehouse.AuditEvent{grantEv("grant.create", "g1", "dir/eng", "hr-import:i1"),
			{Action: "hr.import", ObjectType: "hr_import", Reference: "hr-import:i1"}},
			Trigger{All: true, Cause: "hr-import:i1", Deprovision: true}},
		{"a leaver by hand", []*gatehouse.AuditEvent{{Action: "identity.update", ObjectType: "identity", After: json.RawMessage(`{"status":"terminated"}`)}},
			Trigger{All: true, Cause: CauseSchedule, Deprovision: true}},
		{"a catalog apply", []*gatehouse.AuditEvent{{Action: "catalog.apply", ObjectType: "catalog"}}, Trigger{All: true, Cause: CauseCatalog}},
		{"a manual task done reconciles its system", []*gatehouse.AuditEvent{{Action: "task.complete", ObjectType: "task",
			ObjectID: "TASK-000007", After: json.RawMessage(`{"system_id":"badge","status":"done"}`)}},
			Trigger{Systems: []string{"badge"}, Cause: "task:TASK-000007"}},
		{"a task the engine cancelled triggers nothing", []*gatehouse.AuditEvent{{Action: "task.cancel", ObjectType: "task",
			ObjectID: "TASK-000008", After: json.RawMessage(`{"system_id":"badge"}`)}}, Trigger{Cause: CauseSchedule}},
	}
	for _, tt := range tests {
		got := Affected(tt.events)
		if got.All != tt.want.All || got.Cause != tt.want.Cause || got.Deprovision != tt.want.Deprovision || !slices.Equal(got.Systems, tt.want.Systems) {
			t.Errorf("%s: got %+v, want %+v", tt.name, got, tt.want)
		}
	}
}

// TestAffectedIdentities: who a transaction touched, when every change names its people; nil
// (everybody) otherwise.
func TestAffectedIdentities(t *testing.T) {
	ev := func(action, typ, id, after string) *gatehouse.AuditEvent {
		return &gatehouse.AuditEvent{Action: gatehouse.AuditAction(action), ObjectType: typ, ObjectID: id, After: json.RawMessage(after), Reference: "hr-import:i1"}
	}
	hr := ev("hr.import", "hr_import", "i1", `{}`)
	tests := []struct {
		name       string
		events     []*gatehouse.AuditEvent
		identities []string // nil: everybody
		grants     []string
	}{
		{"an HR mover", []*gatehouse.AuditEvent{ev("identity.update", "identity", "p2", `{"department":"Sales"}`),
			ev("grant.revoke", "grant", "g1", `{"entitlement_id":"app/eng","grant_id":"g1"}`),
			ev("grant.create", "grant", "g2", `{"entitlement_id":"app/sales","identity_id":"p2"}`), hr},
			[]string{"p2"}, []string{"g1"}},
		{"a grant by hand", []*gatehouse.AuditEvent{ev("grant.create", "grant", "g3", `{"entitlement_id":"app/eng","identity_id":"p1"}`)},
			[]string{"p1"}, nil},
		{"a held import changes nobody", []*gatehouse.AuditEvent{hr}, nil, nil},
		{"a catalog apply", []*gatehouse.AuditEvent{ev("grant.create", "grant", "g4", `{"entitlement_id":"app/eng","identity_id":"p1"}`),
			ev("catalog.apply", "catalog", "", `{}`)}, nil, nil},
		{"a grant event that does not decode", []*gatehouse.AuditEvent{ev("identity.update", "identity", "p2", `{}`),
			ev("grant.revoke", "grant", "g5", `[`)}, nil, nil},
		{"a task", []*gatehouse.AuditEvent{ev("task.complete", "task", "T1", `{"system_id":"badge"}`)}, nil, nil},
	}
	for _, tt := range tests {
		got := Affected(tt.events)
		if !slices.Equal(got.Identities, tt.identities) || (got.Identities == nil) != (tt.identities == nil) || !slices.Equal(got.grants, tt.grants) {
			t.Errorf("%s: identities %v grants %v, want %v %v", tt.name, got.Identities, got.grants, tt.identities, tt.grants)
		}
	}
	// More people than a targeted run takes: everybody.
	var many []*gatehouse.AuditEvent
	for i := range MaxTargeted + 1 {
		many = append(many, ev("identity.update", "identity", fmt.Sprint("p", i), `{}`))
	}
	if got := Affected(many); got.Identities != nil {
		t.Errorf("%d people: targeted at %d, want a full run", len(many), len(got.Identities))
	}
}
