package service

import (
	"context"
	"sync"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/connector"
	"github.com/gatehouse/gatehouse/internal/jml"
	"github.com/gatehouse/gatehouse/internal/provision"
	"github.com/gatehouse/gatehouse/internal/store"
)

// The capabilities of the service, one type each, and what each needs of the others. A
// capability embeds *core and holds its own options; when it needs another capability it embeds
// a small interface naming just the methods it calls, declared here next to it and wired in New.
// The core needs no capability. See the package doc for which files each one owns.

// Auth turns tokens into principals and manages tokens, sign-in sessions and the bootstrap
// token (tokens.go, sessions.go, bootstrap.go).
type Auth struct {
	*core
	bootstrapHash string        // SHA-256 of GATEHOUSE_BOOTSTRAP_TOKEN, "" when unset
	bootstrap     bootstrapUses // when each client's bootstrap use was last audited (bootstrap.go)
}

// Identities reads and changes identities, also by hand and in bulk, and ends a leaver's access
// to Gatehouse itself (identities.go, employeeid.go, termination.go; CreateIdentities in
// identities.go).
type Identities struct {
	*core
	requestCloser // Requests: a leaver's open requests are cancelled and rerouted
}

// requestCloser is what terminating an identity needs of requests: its own open requests end,
// and the steps that wait for it go to someone else.
type requestCloser interface {
	cancelOpenRequests(ctx context.Context, tx store.Tx, p *gatehouse.Principal, beneficiary, why string) error
	rerouteFromLeavers(ctx context.Context, tx store.Tx, p *gatehouse.Principal, leavers map[string]string) error
}

// Grants reads, writes, revokes and expires grants (grants.go, bulk.go, expiry.go).
type Grants struct {
	*core
}

// Catalog reads, plans and applies the catalog, tests systems and reports SoD violations
// (catalog.go, systems.go, sod.go).
type Catalog struct {
	*core
	open provision.Opener
	// secrets is what connector secret references may name (catalog.go, Options.Secrets).
	secrets *connector.SecretPolicy
	// connectors are the connector types known: catalog validation checks settings against
	// them, and what a type can do (Tasks, Offline) is asked of them, never of a type's name.
	connectors gatehouse.ConnectorSpecs
	jmlApplier // HR: a catalog apply recomputes birthright as an HR import would
}

// jmlApplier applies a joiner/mover/leaver plan in a transaction (hr.go).
type jmlApplier interface {
	applyJML(ctx context.Context, tx store.Tx, fx *effects, p *gatehouse.Principal, ref string, plan *jml.Plan, st *hrState) error
}

// Requests runs access requests from intake to fulfilment: routing, decisions, delegations and
// the request sync (requests.go, routing.go, decisions.go, delegations.go, fulfilment.go,
// termination_requests.go). The pure rules it applies are in internal/policy.
type Requests struct {
	*core
	announcer       // Notifications: approvers and requesters are told, in the change's transaction
	exceptionGrants // Exceptions: grants written under an SoD exception are recorded on it
}

// announcer tells the people a request now waits for, or its requester (notify.go).
type announcer interface {
	announce(ctx context.Context, rd store.Reader, fx *effects, r *gatehouse.AccessRequest)
}

// exceptionGrants records on an exception the grants a request wrote under it (exceptions.go).
type exceptionGrants interface {
	recordExceptionGrants(ctx context.Context, tx store.Tx, p *gatehouse.Principal, u exceptionUse,
		r *gatehouse.AccessRequest, grants map[string]string) (*gatehouse.AuditEvent, error)
}

// Exceptions is the register of SoD exceptions: requests for them, decisions, expiry and the
// revocations on expiry (exceptions.go).
type Exceptions struct {
	*core
}

// Emergency is break-glass access and its after-the-fact reviews (emergency.go).
type Emergency struct {
	*core
	securityNotifier // Notifications: security hears of every emergency grant
}

// securityNotifier names entitlements in the message to security (notify.go).
type securityNotifier interface {
	entitlementName(ctx context.Context, rd store.Reader, id string) string
}

// HR imports HR snapshots and deltas, holds and decides them, applies HR dates, exports the HR
// view, and keeps the manager confirmations an import asks for (hr*.go, confirmations.go).
type HR struct {
	*core
	hr              HROptions
	leaverRequests  // Requests: a leaver's open requests are cancelled in the import's transaction
	accessEnder     // Identities: a leaver's tokens and delegations end
	scimGroupLeaver // InboundSCIM: a person SCIM deleted leaves its groups when the import is approved
}

// leaverRequests cancels the open requests of a plan's leavers (termination_requests.go).
type leaverRequests interface {
	closeLeaversRequests(ctx context.Context, tx store.Tx, p *gatehouse.Principal, plan *jml.Plan) error
}

// accessEnder ends what people may do in Gatehouse itself (termination.go).
type accessEnder interface {
	endGatehouseAccess(ctx context.Context, tx store.Tx, p *gatehouse.Principal, ref string, people []ending) error
}

// scimGroupLeaver takes the people a plan deletes by SCIM out of their SCIM groups (scimgroups.go).
type scimGroupLeaver interface {
	scimDeletionsLeaveGroups(ctx context.Context, tx store.Tx, p *gatehouse.Principal, plan *jml.Plan, ref string) error
}

// InboundSCIM is the SCIM service provider's side of the service: users and groups an identity
// provider pushes (scim.go, scimgroups.go, scimmatch.go, scimusergroups.go).
type InboundSCIM struct {
	*core
	scimHR // HR: a SCIM change is a joiner/mover/leaver change, with HR's options and guard
}

// scimHR is what a SCIM write needs of HR (hr.go).
type scimHR interface {
	jmlApplier
	hrOptions(settings gatehouse.Settings) jml.Options
}

// Tasks are the manual provisioning tasks (tasks.go).
type Tasks struct {
	*core
}

// Provisioning starts reconciles and reports operations and drift (provision.go).
type Provisioning struct {
	*core
	prov Provisioner // the provisioning job queue; nil when not running one
}

// Notifications tells people about requests, SLAs and expiring access (notify.go).
type Notifications struct {
	*core
	requestExpiry time.Duration // an undecided request expires this long after submission
	grants        expiringGrants
}

// expiringGrants lists the grants about to expire (expiry.go).
type expiringGrants interface {
	ExpiringGrants(ctx context.Context, p *gatehouse.Principal, within time.Duration) ([]*gatehouse.Grant, error)
}

// Audit reads and verifies the audit log and signs its checkpoints (audit.go).
type Audit struct {
	*core
	checkpoints *Checkpoints // signed audit checkpoints; nil: none

	// verified caches the last full audit verification for RecentVerification. It is only a
	// display shortcut: correctness never depends on it, so process-local state is fine here.
	verified struct {
		sync.Mutex
		result *Verification
		at     time.Time
	}
}
