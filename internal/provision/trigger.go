package provision

import (
	"context"
	"database/sql"
	"encoding/json"
	"log/slog"
	"strings"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/internal/store"
)

// Enqueuer is what Triggering needs from the job host (jobs.Host).
type Enqueuer interface {
	Enqueue(ctx context.Context, systems []string, cause string, deprovision bool) ([]int64, error)
	EnqueueAll(ctx context.Context, cause string, deprovision bool) ([]int64, error)
}

// TargetedEnqueuer is an optional interface of an Enqueuer (jobs.Host) that can ask for
// targeted runs of the people a change touched (see RunOptions.Identities).
type TargetedEnqueuer interface {
	EnqueueFor(ctx context.Context, systems, identities []string, cause string, deprovision bool) ([]int64, error)
	EnqueueAllFor(ctx context.Context, identities []string, cause string, deprovision bool) ([]int64, error)
}

// Triggering wraps a store so that every committed change of desired state enqueues a
// reconcile of the systems it affects: a grant created or revoked reconciles its system, an HR
// import, a catalog apply or an identity change reconciles every system. It reads the audit
// events each transaction appends, so the service, HR import and catalog code need not know
// the queue exists. When every change names its people (identity and grant events), and the
// queue is a TargetedEnqueuer, the runs are targeted at those people: reading 200 movers'
// accounts instead of 20,000 is most of a triggered run's time on a SCIM app.
//
// The enqueue happens right after the commit, not inside the transaction: on SQLite the store
// and the queue share the one write connection, and a job insert inside the store's
// transaction would wait for itself. A crash between commit and enqueue loses no work: the
// scheduled reconcile of every system plans from the same desired state.
func Triggering(st store.Store, q Enqueuer, log *slog.Logger) store.Store {
	if log == nil {
		log = slog.Default()
	}
	return &triggerStore{Store: st, q: q, log: log}
}

type triggerStore struct {
	store.Store
	q   Enqueuer
	log *slog.Logger
}

// DB forwards the wrapped store's database (see sqlDB).
func (s *triggerStore) DB() *sql.DB {
	if d, ok := s.Store.(sqlDB); ok {
		return d.DB()
	}
	return nil
}

type watchTx struct {
	store.Tx
	events []*gatehouse.AuditEvent
}

func (t *watchTx) AppendAudit(ctx context.Context, ev *gatehouse.AuditEvent) error {
	if err := t.Tx.AppendAudit(ctx, ev); err != nil {
		return err
	}
	t.events = append(t.events, ev)
	return nil
}

// AppendAudits: the HR import appends its identity and grant events in one batch.
func (t *watchTx) AppendAudits(ctx context.Context, evs []*gatehouse.AuditEvent) error {
	if err := t.Tx.AppendAudits(ctx, evs); err != nil {
		return err
	}
	t.events = append(t.events, evs...)
	return nil
}

func (s *triggerStore) Update(ctx context.Context, fn func(tx store.Tx) error) error {
	var w *watchTx
	err := s.Store.Update(ctx, func(tx store.Tx) error {
		w = &watchTx{Tx: tx}
		return fn(w)
	})
	if err != nil || w == nil || len(w.events) == 0 {
		return err
	}
	t := Affected(w.events)
	if t.None() {
		return nil
	}
	// The change is committed: a failed enqueue must not turn it into an error for the
	// caller. The schedule catches up.
	qctx := context.WithoutCancel(ctx)
	tq, targeted := s.q.(TargetedEnqueuer)
	ids := s.identities(qctx, t)
	switch {
	case targeted && t.All:
		_, err = tq.EnqueueAllFor(qctx, ids, t.Cause, t.Deprovision)
	case targeted:
		_, err = tq.EnqueueFor(qctx, t.Systems, ids, t.Cause, t.Deprovision)
	case t.All:
		_, err = s.q.EnqueueAll(qctx, t.Cause, t.Deprovision)
	default:
		_, err = s.q.Enqueue(qctx, t.Systems, t.Cause, t.Deprovision)
	}
	if err != nil {
		s.log.Warn("enqueue reconcile after a change; the schedule will catch up", "cause", t.Cause, "err", err)
	}
	return nil
}

// identities completes t.Identities with the owners of the grants whose events did not name
// them (an HR leaver's revocations carry the grant id only), read after the commit. Nil (a
// full run) when any cannot be read or there are too many.
func (s *triggerStore) identities(ctx context.Context, t Trigger) []string {
	if t.Identities == nil || len(t.Identities)+len(t.grants) > MaxTargeted {
		return nil
	}
	ids := t.Identities
	for _, gid := range t.grants {
		g, err := s.Store.GetGrant(ctx, gid)
		if err != nil || g.IdentityID == "" {
			return nil
		}
		ids = append(ids, g.IdentityID)
	}
	return sortedUnique(ids)
}

// Trigger is what a committed transaction asks of the provisioning engine.
type Trigger struct {
	All         bool     // reconcile every system
	Systems     []string // else these
	Cause       string
	Deprovision bool // access is taken away: run first
	// Identities are the people the change touched, when every change names its people:
	// the runs are targeted at them. Nil for everybody (a catalog apply, a task, too many).
	Identities []string
	grants     []string // grant events that did not name their identity: read after commit
}

// None reports whether nothing needs reconciling.
func (t Trigger) None() bool { return !t.All && len(t.Systems) == 0 }

// hrApplied reports whether a reads as HR data applied to identities: an import, a held
// import approved, or start and end dates reached. A rejected import changed nothing.
func hrApplied(a gatehouse.AuditAction) bool {
	switch a {
	case gatehouse.AuditHRImport, gatehouse.AuditHRApprove, gatehouse.AuditHRDates:
		return true
	}
	return false
}

// identityWritten reports whether a created or replaced an identity's record, from any source
// (a person, an HR import, inbound SCIM). A change of Gatehouse roles is not one.
func identityWritten(a gatehouse.AuditAction) bool {
	switch a {
	case gatehouse.AuditIdentityCreate, gatehouse.AuditIdentityUpdate, gatehouse.AuditSCIMUserCreate, gatehouse.AuditSCIMUserUpdate:
		return true
	}
	return false
}

// Affected reads a transaction's audit events and says which systems to reconcile, why, and
// whether access is being removed.
func Affected(events []*gatehouse.AuditEvent) Trigger {
	var t Trigger
	seen := map[string]bool{}
	// Who the change touched; whole when some change is not about named people.
	people := map[string]bool{}
	whole := false
	touch := func(id string) {
		switch {
		case whole:
		case id == "" || len(people)+len(t.grants) >= MaxTargeted:
			whole = true // unnamed, or more people than a targeted run takes
		default:
			people[id] = true
		}
	}
	// A bulk change (an HR import appends an event per identity and grant, and its own
	// event last) reconciles everything: find that first, so that a 100,000-event import
	// does not decode every grant to learn what "everything" already covers.
	for _, ev := range events {
		if hrApplied(ev.Action) || ev.Action == gatehouse.AuditCatalogApply {
			t.All = true
			break
		}
	}
	for _, ev := range events {
		switch {
		case hrApplied(ev.Action):
			t.All = true
			if strings.HasPrefix(ev.Reference, "hr-import:") {
				t.Cause = ev.Reference
			}
			// Imports terminate people: run as deprovisioning, critical systems first.
			t.Deprovision = true
		case ev.Action == gatehouse.AuditCatalogApply:
			t.All = true
			if !strings.HasPrefix(t.Cause, "hr-import:") {
				t.Cause = CauseCatalog // birthright grants it recomputed are its doing
			}
			whole = true // a rule or a group changed: anybody may be concerned
		case ev.ObjectType == "identity" && identityWritten(ev.Action):
			// A status change (leave, termination, return) changes every system's plan.
			t.All = true
			touch(ev.ObjectID)
			if t.Deprovision {
				continue
			}
			var after struct {
				Status gatehouse.IdentityStatus `json:"status"`
			}
			if json.Unmarshal(ev.After, &after) == nil && after.Status != "" && after.Status != gatehouse.StatusActive {
				t.Deprovision = true
			}
		case ev.Action == gatehouse.AuditTaskComplete:
			// A person did a manual task: the next reconcile of its system reads it as done,
			// links the account and records nothing new.
			var tk struct {
				SystemID string `json:"system_id"`
			}
			if t.Cause == "" {
				t.Cause = "task:" + ev.ObjectID
			}
			whole = true
			if !t.All && json.Unmarshal(ev.After, &tk) == nil && tk.SystemID != "" && !seen[tk.SystemID] {
				seen[tk.SystemID] = true
				t.Systems = append(t.Systems, tk.SystemID)
			}
		case ev.ObjectType == "grant":
			if ev.Action == gatehouse.AuditGrantRevoke || ev.Action == gatehouse.AuditGrantExpire {
				t.Deprovision = true
			}
			if t.Cause == "" {
				t.Cause = GrantCause(ev.ObjectID)
				if strings.HasPrefix(ev.Reference, "hr-import:") {
					t.Cause = ev.Reference
				}
			}
			if t.All && whole {
				continue
			}
			var g struct {
				EntitlementID string `json:"entitlement_id"`
				IdentityID    string `json:"identity_id"`
			}
			raw := ev.After
			if len(raw) == 0 {
				raw = ev.Before
			}
			if json.Unmarshal(raw, &g) != nil {
				touch("")
				continue
			}
			switch {
			case g.IdentityID != "":
				touch(g.IdentityID)
			case ev.ObjectID != "" && !whole && len(people)+len(t.grants) < MaxTargeted:
				t.grants = append(t.grants, ev.ObjectID) // its owner is read after the commit
			default:
				touch("")
			}
			if t.All {
				continue
			}
			// Entitlement ids are "<system>/<slug>".
			if sys, _, ok := strings.Cut(g.EntitlementID, "/"); ok && !seen[sys] {
				seen[sys] = true
				t.Systems = append(t.Systems, sys)
			}
		}
	}
	if t.All {
		t.Systems = nil
	}
	if !whole && (len(people) > 0 || len(t.grants) > 0) {
		t.Identities = sortedKeys(people)
		if t.Identities == nil {
			t.Identities = []string{}
		}
	} else {
		t.grants = nil
	}
	if t.Cause == "" {
		t.Cause = CauseSchedule
	}
	return t
}
