package store

import (
	"context"
	"database/sql"
	"time"

	"github.com/gatehouse/gatehouse"
)

// Store is the database behind Gatehouse.
type Store interface {
	Reader
	// Update runs fn in one write transaction. If fn returns an error, or the transaction wrote
	// state without appending an audit event, nothing is committed.
	Update(ctx context.Context, fn func(tx Tx) error) error
	// TouchToken records that a token was used. It is not audited: it changes no decision.
	TouchToken(ctx context.Context, id string, at time.Time) error
	// TouchSession records a web session's last activity (for its idle timeout). It is not
	// audited, like TouchToken; an ended session is not touched (ENOTFOUND for no session).
	TouchSession(ctx context.Context, id string, at time.Time) error
	// AcquireLease takes lease l.Name for l.Holder until l.ExpiresAt, or renews it when
	// l.Holder already holds it, unless another holder's lease has not run out at now. It
	// returns the lease as it stands and whether l.Holder holds it. Not audited, like
	// TouchToken: the work it guards is. Replicas sharing a database share the lease.
	AcquireLease(ctx context.Context, l Lease, now time.Time) (Lease, bool, error)
	// ReleaseLease drops holder's lease name (nothing when another holder has it).
	ReleaseLease(ctx context.Context, name, holder string) error
	// ListLeases returns the leases whose names start with prefix, run out or not, by name:
	// whoever recovers work after a crash tells a live holder from a dead one by them.
	ListLeases(ctx context.Context, prefix string) ([]Lease, error)
	// Ping checks the database answers (for /readyz).
	Ping(ctx context.Context) error
	// Engine names the database engine: "sqlite" or "postgres".
	Engine() string
	Close() error
}

// Reader reads state. Get methods return an error with code gatehouse.ENOTFOUND when nothing
// matches; they never return (nil, nil).
type Reader interface {
	// GetIdentity finds an identity by id, email (case-insensitive) or employee_id.
	GetIdentity(ctx context.Context, key string) (*gatehouse.Identity, error)
	ListIdentities(ctx context.Context, f gatehouse.IdentityFilter) (gatehouse.Page[*gatehouse.Identity], error)
	CountIdentities(ctx context.Context, f gatehouse.IdentityFilter) (int, error)
	// IdentitiesByEmployeeID returns the identities whose employee_id is one of ids (exactly),
	// in no order: the people of a chunk of an HR feed.
	IdentitiesByEmployeeID(ctx context.Context, ids []string) ([]*gatehouse.Identity, error)

	GetSettings(ctx context.Context) (gatehouse.Settings, error)
	GetSystem(ctx context.Context, id string) (*gatehouse.System, error)
	ListSystems(ctx context.Context) ([]*gatehouse.System, error)
	GetEntitlement(ctx context.Context, id string) (*gatehouse.Entitlement, error)
	ListEntitlements(ctx context.Context, f gatehouse.EntitlementFilter) (gatehouse.Page[*gatehouse.Entitlement], error)
	GetRole(ctx context.Context, id string) (*gatehouse.Role, error)
	ListRoles(ctx context.Context) ([]*gatehouse.Role, error)
	GetSoDRule(ctx context.Context, id string) (*gatehouse.SoDRule, error)
	ListSoDRules(ctx context.Context) ([]*gatehouse.SoDRule, error)
	// LoadCatalog returns the whole stored catalog, each list sorted by id.
	LoadCatalog(ctx context.Context) (*gatehouse.Catalog, error)

	GetGrant(ctx context.Context, id string) (*gatehouse.Grant, error)
	ListGrants(ctx context.Context, f gatehouse.GrantFilter) (gatehouse.Page[*gatehouse.Grant], error)
	// CountActiveGrants counts unrevoked grants per entitlement id, for the given entitlements.
	CountActiveGrants(ctx context.Context, entitlementIDs []string) (map[string]int, error)
	// ActiveGrantsOf returns the unrevoked grants of these identities, in no order.
	ActiveGrantsOf(ctx context.Context, identityIDs []string) ([]*gatehouse.Grant, error)

	ListAccounts(ctx context.Context, f gatehouse.AccountFilter) (gatehouse.Page[*gatehouse.Account], error)
	// ListAccountNames returns the names given to people on a system, by identity id.
	ListAccountNames(ctx context.Context, systemID string) ([]*gatehouse.AccountName, error)

	GetToken(ctx context.Context, id string) (*gatehouse.Token, error)
	GetTokenByHash(ctx context.Context, hash string) (*gatehouse.Token, error)
	ListTokens(ctx context.Context, f gatehouse.TokenFilter) ([]*gatehouse.Token, error)

	// GetSession returns a web session by id; GetSessionByHash by the hash of its secret.
	GetSession(ctx context.Context, id string) (*gatehouse.Session, error)
	GetSessionByHash(ctx context.Context, hash string) (*gatehouse.Session, error)

	// GetHRImport returns an HR import with its content (kept while it is held).
	GetHRImport(ctx context.Context, id string) (*gatehouse.HRImport, error)
	// ListHRImports lists HR imports, newest first, without their content.
	ListHRImports(ctx context.Context, f gatehouse.HRImportFilter) (gatehouse.Page[*gatehouse.HRImport], error)
	// ListHRImportChanges lists an applied import's evidence, a person a row, in the order applied (seq).
	ListHRImportChanges(ctx context.Context, f gatehouse.HRImportChangeFilter) (gatehouse.Page[*gatehouse.HRImportChange], error)

	// GetConfirmation returns one mover confirmation.
	GetConfirmation(ctx context.Context, id string) (*gatehouse.Confirmation, error)
	// ListConfirmations lists mover confirmations, newest first.
	ListConfirmations(ctx context.Context, f gatehouse.ConfirmationFilter) (gatehouse.Page[*gatehouse.Confirmation], error)

	// --- Provisioning evidence (internal/provision) ---

	// GetReconcile returns one reconcile run with its drift findings.
	GetReconcile(ctx context.Context, id string) (*gatehouse.Reconcile, error)
	// ListReconciles lists reconcile runs, newest first.
	ListReconciles(ctx context.Context, f gatehouse.ReconcileFilter) (gatehouse.Page[*gatehouse.Reconcile], error)
	// ListOperations lists provisioning operations, newest first.
	ListOperations(ctx context.Context, f gatehouse.OperationFilter) (gatehouse.Page[*gatehouse.Operation], error)

	// GetTask returns one manual fulfillment task by its id or its reference (TASK-000123).
	GetTask(ctx context.Context, idOrRef string) (*gatehouse.ManualTask, error)
	// ListTasks lists manual fulfillment tasks, oldest first (by number).
	ListTasks(ctx context.Context, f gatehouse.TaskFilter) (gatehouse.Page[*gatehouse.ManualTask], error)

	// GetSCIMGroup returns one SCIM group with its members.
	GetSCIMGroup(ctx context.Context, id string) (*gatehouse.SCIMGroup, error)
	// ListSCIMGroups lists SCIM groups by display name, with their members.
	ListSCIMGroups(ctx context.Context, f gatehouse.SCIMGroupFilter) (gatehouse.Page[*gatehouse.SCIMGroup], error)
	// CountSCIMGroups counts the groups f selects (Limit and Cursor are ignored).
	CountSCIMGroups(ctx context.Context, f gatehouse.SCIMGroupFilter) (int, error)
	// ListSCIMMemberships returns the SCIM groups each of identityIDs is a member of, by
	// identity id, each list by lowercased display name: one query for a page of users.
	ListSCIMMemberships(ctx context.Context, identityIDs []string) (map[string][]gatehouse.SCIMMembership, error)

	ListAuditEvents(ctx context.Context, f gatehouse.AuditFilter) (gatehouse.Page[*gatehouse.AuditEvent], error)
	// ScanAuditEvents calls fn for every event in sequence order, in constant memory.
	ScanAuditEvents(ctx context.Context, fn func(*gatehouse.AuditEvent) error) error
	// ScanAuditRange is ScanAuditEvents of the events with from <= seq <= to.
	ScanAuditRange(ctx context.Context, from, to int64, fn func(*gatehouse.AuditEvent) error) error
	// AuditHead returns the sequence and hash of the last appended event (0 and the genesis hash
	// for an empty log), as recorded by the chain head, not by reading the events.
	AuditHead(ctx context.Context) (seq int64, hash string, err error)
	// AuditEvent returns the stored event with sequence seq (ENOTFOUND when none is stored): a
	// signed checkpoint's event is looked up to see that the log still holds what was signed.
	AuditEvent(ctx context.Context, seq int64) (*gatehouse.AuditEvent, error)

	// --- Access requests (service/requests.go) ---

	// GetRequest returns one access request by its id or its reference (REQ-000123).
	GetRequest(ctx context.Context, idOrRef string) (*gatehouse.AccessRequest, error)
	// ListRequests lists access requests, newest first (by number).
	ListRequests(ctx context.Context, f gatehouse.RequestFilter) (gatehouse.Page[*gatehouse.AccessRequest], error)
	// ListDelegations lists approval delegations, oldest first.
	ListDelegations(ctx context.Context, f gatehouse.DelegationFilter) ([]*gatehouse.Delegation, error)
	// CountPeers counts an identity's peers (other active identities with its department and
	// title; none when its department is empty) and, per entitlement, how many of them hold an
	// unrevoked grant of it.
	CountPeers(ctx context.Context, who *gatehouse.Identity, entitlementIDs []string) (peers int, holding map[string]int, err error)

	// --- Exceptions register (service/exceptions.go) ---

	// GetException returns one exception by its id or its reference (EXC-000123).
	GetException(ctx context.Context, idOrRef string) (*gatehouse.Exception, error)
	// ListExceptions lists exceptions, newest first (by number).
	ListExceptions(ctx context.Context, f gatehouse.ExceptionFilter) (gatehouse.Page[*gatehouse.Exception], error)

	// --- Emergency access (service/emergency.go) ---

	// GetEmergencyReview returns one post-event review by its id or its reference (EMG-000123).
	GetEmergencyReview(ctx context.Context, idOrRef string) (*gatehouse.EmergencyReview, error)
	// ListEmergencyReviews lists post-event reviews, newest first (by number).
	ListEmergencyReviews(ctx context.Context, f gatehouse.EmergencyReviewFilter) (gatehouse.Page[*gatehouse.EmergencyReview], error)
	// CountEmergencyReviews counts open reviews, and of those the ones due at or before now.
	CountEmergencyReviews(ctx context.Context, now time.Time) (open, overdue int, err error)
}

// Tx is a write transaction. Its reads see its own writes. After a store error the transaction
// may be unusable (PostgreSQL aborts it), so fn should return the error rather than carry on.
type Tx interface {
	Reader

	// SQL is the transaction itself, for the job queue alone: the jobs a change implies
	// (reconciles, expiries, notifications) are inserted in it, so they exist if and only if
	// the change does. On SQLite the store's one write connection is in this transaction, so
	// an insert on any other connection would wait for it for ever.
	SQL() *sql.Tx

	CreateIdentity(ctx context.Context, i *gatehouse.Identity) error // sets ID, CreatedAt, UpdatedAt
	UpdateIdentity(ctx context.Context, i *gatehouse.Identity) error // by ID; sets UpdatedAt
	// CreateIdentities creates is in order, with the effect and the errors of CreateIdentity on
	// each, faster: PostgreSQL takes thousands of rows a statement. An error of one row is a
	// *RowError naming its index; nothing of the batch may be assumed written after an error.
	CreateIdentities(ctx context.Context, is []*gatehouse.Identity) error
	// UpdateIdentities is UpdateIdentity on each of is, in order, likewise in bulk.
	UpdateIdentities(ctx context.Context, is []*gatehouse.Identity) error

	PutSettings(ctx context.Context, s gatehouse.Settings) error
	PutSystem(ctx context.Context, s *gatehouse.System) error // insert or replace by id
	DeleteSystem(ctx context.Context, id string) error
	PutEntitlement(ctx context.Context, e *gatehouse.Entitlement) error
	DeleteEntitlement(ctx context.Context, id string) error
	PutRole(ctx context.Context, r *gatehouse.Role) error
	DeleteRole(ctx context.Context, id string) error
	PutSoDRule(ctx context.Context, r *gatehouse.SoDRule) error
	DeleteSoDRule(ctx context.Context, id string) error

	CreateGrant(ctx context.Context, g *gatehouse.Grant) error // sets ID (and GrantedAt if zero)
	RevokeGrant(ctx context.Context, id string, at time.Time, by, reason string) error
	// CreateGrants is CreateGrant on each of gs, in order, in bulk (errors as CreateIdentities).
	CreateGrants(ctx context.Context, gs []*gatehouse.Grant) error
	// RevokeGrants is RevokeGrant of each revocation at at by by, in order, in bulk (errors as
	// CreateIdentities).
	RevokeGrants(ctx context.Context, rs []Revocation, at time.Time, by string) error

	UpsertAccount(ctx context.Context, a *gatehouse.Account) error // by (system_id, external_id)
	// AssignAccountName records the name given to a person on a system (setting AssignedAt if
	// zero). Recording the person's own name again is a no-op; a name another person of the
	// system holds (without case), or a second name for the person, is an ECONFLICT error.
	AssignAccountName(ctx context.Context, n *gatehouse.AccountName) error
	// ReleaseAccountName forgets a person's name on a system if it is still name (the account
	// could not be created under it).
	ReleaseAccountName(ctx context.Context, systemID, identityID, name string) error

	CreateToken(ctx context.Context, t *gatehouse.Token) error // sets ID, and CreatedAt if zero
	RevokeToken(ctx context.Context, id string, at time.Time) error

	// CreateSession stores a web session (sets ID, and CreatedAt and LastSeenAt when zero).
	CreateSession(ctx context.Context, s *gatehouse.Session) error
	// EndSession ends one session at at for reason; an ended one is ECONFLICT.
	EndSession(ctx context.Context, id string, at time.Time, reason string) error
	// EndSessionsOf ends, at at, every session of the identities identityIDs that has not ended,
	// and returns them as ended (ordered by id): a termination signs the leavers' browsers out.
	// Sessions past their absolute timeout are left as they are.
	EndSessionsOf(ctx context.Context, identityIDs []string, at time.Time, reason string) ([]*gatehouse.Session, error)
	// EndSessionsOfToken ends the sessions the token tokenID opened, likewise.
	EndSessionsOfToken(ctx context.Context, tokenID string, at time.Time, reason string) ([]*gatehouse.Session, error)
	// RevokeTokensOf revokes, at at, every token of the identities identityIDs that is neither
	// revoked nor expired, and returns those tokens as revoked (ordered by id). It is how a
	// termination ends a leaver's Gatehouse access: one statement per batch of identities.
	RevokeTokensOf(ctx context.Context, identityIDs []string, at time.Time) ([]*gatehouse.Token, error)

	CreateHRImport(ctx context.Context, imp *gatehouse.HRImport) error // sets ID, and CreatedAt if zero
	// UpdateHRImport writes an import's status, reason, summary, content and decision, by ID.
	UpdateHRImport(ctx context.Context, imp *gatehouse.HRImport) error
	// CreateHRImportChanges stores a batch of an import's evidence rows (ImportID and Seq
	// set by the caller; the import must exist). A (ImportID, Seq) already stored is ECONFLICT.
	CreateHRImportChanges(ctx context.Context, cs []*gatehouse.HRImportChange) error

	// CreateConfirmations records mover confirmations (setting ID, and CreatedAt if zero).
	CreateConfirmations(ctx context.Context, cs []*gatehouse.Confirmation) error
	// DecideConfirmation writes a confirmation's status, decider, decision time and comment,
	// by ID.
	DecideConfirmation(ctx context.Context, c *gatehouse.Confirmation) error

	// --- Provisioning evidence (internal/provision) ---

	CreateReconcile(ctx context.Context, r *gatehouse.Reconcile) error // sets ID
	// UpdateReconcile writes a run's status, finish time, counts, error and findings, by ID.
	UpdateReconcile(ctx context.Context, r *gatehouse.Reconcile) error
	// CreateOperations records planned operations (setting ID and CreatedAt).
	CreateOperations(ctx context.Context, ops []*gatehouse.Operation) error
	// UpdateOperation writes an operation's status, times, attempts, error, account and task, by
	// ID. An operation waiting for a manual task gives the task its cause when it has none.
	UpdateOperation(ctx context.Context, op *gatehouse.Operation) error
	// AbandonOperations marks a system's pending and running operations failed with reason:
	// a run cut short (crash, outage) leaves them behind, and the next run plans them again.
	// Operations waiting for a manual task are not abandoned: a person is working on them.
	AbandonOperations(ctx context.Context, systemID string, at time.Time, reason string) (int, error)

	// CreateTask records a manual task (setting ID, Number, CreatedAt if zero, Status open,
	// and IdentityID / EntitlementID from the account's email and the group when empty). When
	// an open task for the same system, kind, account and group exists it is idempotent: t is
	// filled from the existing task and created is false. So it is when doneSince is set and
	// such a task was done at or after it: the work was finished after the caller read the
	// system's state (t's Status tells the two apart).
	CreateTask(ctx context.Context, t *gatehouse.ManualTask, doneSince time.Time) (created bool, err error)
	// FinishTask closes an open task with t's status (done or cancelled), CompletedBy,
	// CompletedAt, Note and EvidenceSHA256, and settles the operations waiting for it: applied
	// when done, failed when cancelled. A task that is not open is an ECONFLICT.
	FinishTask(ctx context.Context, t *gatehouse.ManualTask) error

	// CreateSCIMGroup stores a new group (sets ID, Version 1, CreatedAt, UpdatedAt). A display
	// name already taken (case-insensitive) is ECONFLICT; members must be identity ids.
	CreateSCIMGroup(ctx context.Context, g *gatehouse.SCIMGroup) error
	// UpdateSCIMGroup replaces a group's name, external id and members when its stored Version
	// is g.Version (else ECONFLICT), and bumps Version and UpdatedAt in g.
	UpdateSCIMGroup(ctx context.Context, g *gatehouse.SCIMGroup) error
	// DeleteSCIMGroup deletes a group and its memberships.
	DeleteSCIMGroup(ctx context.Context, id string) error

	// AppendAudit seals ev into the hash chain (filling Seq, Time if zero, PrevHash, Hash) and
	// stores it. Appends are serialized across concurrent transactions and replicas.
	AppendAudit(ctx context.Context, ev *gatehouse.AuditEvent) error
	// AppendAudits appends events in order, exactly as AppendAudit on each would, faster: a
	// bulk change (an HR import) appends hundreds of thousands.
	AppendAudits(ctx context.Context, evs []*gatehouse.AuditEvent) error

	// CreateRequest stores a new access request: it sets ID, the next Number of the database
	// (sequential, safe under concurrent writers), Ref, Version 1, and CreatedAt and UpdatedAt
	// when zero.
	CreateRequest(ctx context.Context, r *gatehouse.AccessRequest) error
	// UpdateRequest writes r when its stored Version is r.Version (else ECONFLICT: someone
	// decided first), and bumps Version and UpdatedAt in r.
	UpdateRequest(ctx context.Context, r *gatehouse.AccessRequest) error
	// CreateDelegation stores a delegation (sets ID, and CreatedAt when zero).
	CreateDelegation(ctx context.Context, d *gatehouse.Delegation) error
	// EndDelegations ends, at at, every delegation from or to the identities identityIDs that
	// has not ended by then (one not started yet becomes the empty interval [at, at)), and
	// returns them as they were before.
	EndDelegations(ctx context.Context, identityIDs []string, at time.Time) ([]*gatehouse.Delegation, error)

	// CreateException stores a new exception: it sets ID, the next Number (sequential, safe
	// under concurrent writers), Ref, Version 1, and CreatedAt and UpdatedAt when zero.
	CreateException(ctx context.Context, e *gatehouse.Exception) error
	// UpdateException writes e when its stored Version is e.Version (else ECONFLICT), and bumps
	// Version and UpdatedAt in e.
	UpdateException(ctx context.Context, e *gatehouse.Exception) error

	// NextEmergencyNumber takes the next emergency number of the database (sequential, safe
	// under concurrent writers): the grant's reference is made from it before the review exists.
	NextEmergencyNumber(ctx context.Context) (int64, error)
	// CreateEmergencyReview stores a new post-event review with the Number from
	// NextEmergencyNumber: it sets ID and Ref.
	CreateEmergencyReview(ctx context.Context, r *gatehouse.EmergencyReview) error
	// UpdateEmergencyReview writes r by ID. Completing an already completed review is
	// ECONFLICT: someone completed it first.
	UpdateEmergencyReview(ctx context.Context, r *gatehouse.EmergencyReview) error
}

// Revocation is one grant to revoke in a RevokeGrants batch, and why.
type Revocation struct {
	GrantID string
	Reason  string
}

// RowError is the error of one row of a batch write (CreateIdentities, CreateGrants, …): the
// same error the one-row method gives for that row, and the row's index in the batch, so that
// the caller can name what the row was about (the person of an HR feed).
type RowError struct {
	Index int
	Err   error
}

func (e *RowError) Error() string { return e.Err.Error() }
func (e *RowError) Unwrap() error { return e.Err }

// Lease is work that runs once at a time across replicas (an HR import): who holds it, and
// until when unless renewed.
type Lease struct {
	Name       string
	Holder     string
	Note       string // what the holder is doing, for whoever is refused
	AcquiredAt time.Time
	ExpiresAt  time.Time
}
