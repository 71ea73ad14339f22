package provision

import (
	"slices"
	"strings"

	"github.com/gatehouse/gatehouse"
)

// Trigger is what a change of desired state asks of the provisioning engine: which systems to
// reconcile, for whom, why, and whether access is taken away. The service builds it with
// Changes while it writes the change, and the job queue inserts the reconciles in the same
// transaction (jobs.Host.ReconcileTx): they exist if and only if the change does, so a crash
// right after the commit loses none.
type Trigger struct {
	All         bool     // reconcile every system
	Systems     []string // else these
	Cause       string
	Deprovision bool // access is taken away: run first
	// Identities are the people the change touched, when every change names its people:
	// the runs are targeted at them (RunOptions.Identities), because reading 200 movers'
	// accounts instead of 20,000 is most of a triggered run's time on a SCIM app. Nil for
	// everybody (a catalog apply, a task, more than MaxTargeted people).
	Identities []string
}

// None reports whether nothing needs reconciling.
func (t Trigger) None() bool { return !t.All && len(t.Systems) == 0 }

// Changes collects what one transaction changed in the desired state, as the code that writes
// it says (a grant written or revoked, an identity written, HR data applied, a catalog applied,
// a manual task done), and turns it into a Trigger. The zero value is empty.
type Changes struct {
	all, deprovision bool
	systems          []string
	seen             map[string]bool // systems already listed
	people           map[string]bool // who the changes touched, unless whole
	whole            bool            // some change concerns anybody: no targeted run
	first            string          // the cause of the first grant or task
	hr               string          // the HR import applied: its cause wins
	catalog          bool
}

// touch records a person the change concerns; "" (unknown) or one more than a targeted run
// takes makes it a change of everybody.
func (c *Changes) touch(id string) {
	switch {
	case c.whole:
	case id == "" || len(c.people) >= MaxTargeted:
		c.whole, c.people = true, nil
	default:
		if c.people == nil {
			c.people = map[string]bool{}
		}
		c.people[id] = true
	}
}

func (c *Changes) system(id string) {
	if id == "" || c.seen[id] {
		return
	}
	if c.seen == nil {
		c.seen = map[string]bool{}
	}
	c.seen[id] = true
	c.systems = append(c.systems, id)
}

// Grant records a grant written (removed false) or revoked or expired (removed true): its
// system is reconciled for its person, a removal first. Entitlement ids are
// "<system>/<slug>"; an unknown one ("") matters only when everything is reconciled anyway.
func (c *Changes) Grant(grantID, identityID, entitlementID string, removed bool) {
	c.deprovision = c.deprovision || removed
	if c.first == "" {
		c.first = GrantCause(grantID)
	}
	c.touch(identityID)
	if sys, _, ok := strings.Cut(entitlementID, "/"); ok {
		c.system(sys)
	}
}

// Identity records an identity created or replaced, from any source (a person, an HR import,
// inbound SCIM): its status can change every system's plan, so every system is reconciled for
// it, as deprovisioning when it is no longer active (leave, termination).
func (c *Changes) Identity(id string, status gatehouse.IdentityStatus) {
	c.all = true
	c.touch(id)
	if status != "" && status != gatehouse.StatusActive {
		c.deprovision = true
	}
}

// HR records HR data applied to identities (an import, a held import approved, start and end
// dates reached): every system is reconciled, as deprovisioning, since imports terminate
// people. A ref "hr-import:<id>" is the cause of the runs.
func (c *Changes) HR(ref string) {
	c.all, c.deprovision = true, true
	if strings.HasPrefix(ref, "hr-import:") {
		c.hr = ref
	}
}

// Catalog records a catalog applied: a rule or a group changed, so anybody may be concerned,
// on any system (CauseCatalog, unless an HR import is the cause).
func (c *Changes) Catalog() {
	c.all, c.catalog = true, true
	c.whole, c.people = true, nil
}

// Task records a manual task a person did: the next reconcile of its system reads it as done,
// links the account and records nothing new. Nobody in particular: a full run.
func (c *Changes) Task(ref, systemID string) {
	if c.first == "" {
		c.first = "task:" + ref
	}
	c.whole, c.people = true, nil
	c.system(systemID)
}

// Trigger is what the changes recorded ask of the provisioning engine.
func (c *Changes) Trigger() Trigger {
	t := Trigger{All: c.all, Deprovision: c.deprovision}
	if !c.all {
		t.Systems = slices.Clone(c.systems)
	}
	switch {
	case c.hr != "":
		t.Cause = c.hr
	case c.catalog:
		t.Cause = CauseCatalog // birthright grants it recomputed are its doing
	case c.first != "":
		t.Cause = c.first
	default:
		t.Cause = CauseSchedule
	}
	if !c.whole && len(c.people) > 0 {
		t.Identities = sortedKeys(c.people)
	}
	return t
}
