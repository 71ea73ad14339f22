package provision

import (
	"fmt"
	"slices"
	"testing"

	"github.com/gatehouse/gatehouse"
)

// TestChanges: what each kind of change, as its writer states it, asks of the engine: which
// systems, why, and whether access is taken away.
func TestChanges(t *testing.T) {
	tests := []struct {
		name  string
		state func(c *Changes)
		want  Trigger
	}{
		{"nothing", func(*Changes) {}, Trigger{Cause: CauseSchedule}},
		{"a grant reconciles its system", func(c *Changes) { c.Grant("g1", "p1", "dir/eng", false) },
			Trigger{Systems: []string{"dir"}, Cause: "grant:g1"}},
		{"a revocation deprovisions", func(c *Changes) {
			c.Grant("g1", "p1", "dir/eng", true)
			c.Grant("g2", "p1", "wiki/x", true)
		}, Trigger{Systems: []string{"dir", "wiki"}, Cause: "grant:g1", Deprovision: true}},
		{"an HR import reconciles everything", func(c *Changes) {
			c.Grant("g1", "p1", "dir/eng", false)
			c.HR("hr-import:i1")
		}, Trigger{All: true, Cause: "hr-import:i1", Deprovision: true}},
		{"the HR date check", func(c *Changes) {
			c.Identity("p1", gatehouse.StatusTerminated)
			c.Grant("g1", "p1", "dir/eng", true)
			c.HR("hr-dates:2026-01-02")
		}, Trigger{All: true, Cause: "grant:g1", Deprovision: true}},
		{"a leaver by hand", func(c *Changes) { c.Identity("p1", gatehouse.StatusTerminated) },
			Trigger{All: true, Cause: CauseSchedule, Deprovision: true}},
		{"a new identity", func(c *Changes) { c.Identity("p1", gatehouse.StatusActive) },
			Trigger{All: true, Cause: CauseSchedule}},
		{"a catalog apply", func(c *Changes) { c.Catalog() }, Trigger{All: true, Cause: CauseCatalog}},
		{"a catalog apply that prunes", func(c *Changes) {
			c.Grant("g1", "p1", "", true)
			c.Catalog()
		}, Trigger{All: true, Cause: CauseCatalog, Deprovision: true}},
		{"a manual task done reconciles its system", func(c *Changes) { c.Task("TASK-000007", "badge") },
			Trigger{Systems: []string{"badge"}, Cause: "task:TASK-000007"}},
	}
	for _, tt := range tests {
		var c Changes
		tt.state(&c)
		got := c.Trigger()
		if got.All != tt.want.All || got.Cause != tt.want.Cause || got.Deprovision != tt.want.Deprovision || !slices.Equal(got.Systems, tt.want.Systems) {
			t.Errorf("%s: got %+v, want %+v", tt.name, got, tt.want)
		}
		if got.None() != (!tt.want.All && len(tt.want.Systems) == 0) {
			t.Errorf("%s: None = %v", tt.name, got.None())
		}
	}
}

// TestChangesIdentities: who a transaction touched, when every change names its people; nil
// (everybody) otherwise.
func TestChangesIdentities(t *testing.T) {
	tests := []struct {
		name       string
		state      func(c *Changes)
		identities []string // nil: everybody
	}{
		{"an HR mover", func(c *Changes) {
			c.Identity("p2", gatehouse.StatusActive)
			c.Grant("g1", "p2", "app/eng", true) // a revocation by id: its person is known
			c.Grant("g2", "p2", "app/sales", false)
			c.HR("hr-import:i1")
		}, []string{"p2"}},
		{"a grant by hand", func(c *Changes) { c.Grant("g3", "p1", "app/eng", false) }, []string{"p1"}},
		{"a catalog apply", func(c *Changes) {
			c.Grant("g4", "p1", "app/eng", false)
			c.Catalog()
		}, nil},
		{"a grant of nobody known", func(c *Changes) {
			c.Identity("p2", gatehouse.StatusActive)
			c.Grant("g5", "", "app/eng", true)
		}, nil},
		{"a task", func(c *Changes) { c.Task("T1", "badge") }, nil},
	}
	for _, tt := range tests {
		var c Changes
		tt.state(&c)
		got := c.Trigger()
		if !slices.Equal(got.Identities, tt.identities) || (got.Identities == nil) != (tt.identities == nil) {
			t.Errorf("%s: identities %v, want %v", tt.name, got.Identities, tt.identities)
		}
	}
	// More people than a targeted run takes: everybody.
	var many Changes
	for i := range MaxTargeted + 1 {
		many.Identity(fmt.Sprint("p", i), gatehouse.StatusActive)
	}
	if got := many.Trigger(); got.Identities != nil {
		t.Errorf("%d people: targeted at %d, want a full run", MaxTargeted+1, len(got.Identities))
	}
}
