package provision

import (
	"encoding/json"
	"slices"
	"testing"

	"github.com/gatehouse/gatehouse"
)

func TestAffected(t *testing.T) {
	grantEv := func(action, id, ent, ref string) *gatehouse.AuditEvent {
		b, _ := json.Marshal(map[string]string{"entitlement_id": ent})
		return &gatehouse.AuditEvent{Action: action, ObjectType: "grant", ObjectID: id, After: b, Reference: ref}
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
