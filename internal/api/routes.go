package api

import (
	"net/http"
	"strings"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/internal/audit"
	"github.com/gatehouse/gatehouse/internal/catalog"
	"github.com/gatehouse/gatehouse/internal/jml"
	"github.com/gatehouse/gatehouse/internal/service"
)

// access says who may call a route. It documents the service's decision (in the OpenAPI
// document and the authorization walk test); it does not make it. The one thing the API itself
// enforces is that only public routes may be called without a token.
type access string

const (
	accessPublic       access = "public"
	accessSignedIn     access = "signed in"
	accessSelfOrReader access = "self or readers"
	accessReaders      access = "readers (auditor, operator, admin)"
	accessOperator     access = "operator"
	accessAdmin        access = "admin"
	// accessAdminOrAuditor: audit checkpoints, which auditors take when they choose.
	accessAdminOrAuditor access = "admin or auditor"
	accessSelfOrAdmin    access = "self or admin"
	// accessManagerOrAdmin: the manager a mover confirmation is addressed to, or an admin;
	// never the mover, whatever their roles.
	accessManagerOrAdmin access = "the addressed manager or admin, never the mover"
	// accessReaderOrAssignee: readers, and the person a manual system assigns its tasks to.
	accessReaderOrAssignee access = "readers, or the task's assignee"
	// Access requests: approvers decide the current step (admins do not bypass), the parties
	// cancel, the requester resubmits; nobody decides their own request.
	accessApprover    access = "the current step's approvers or their delegates, never the requester or beneficiary"
	accessParty       access = "the requester or the beneficiary"
	accessRequester   access = "the requester"
	accessRequestRead access = "the requester, the beneficiary, the approvers, and readers"
	// Emergency access: settings.emergency_operators with the operator role grant; operators
	// and security approvers review, never the granter.
	accessEmergencyOperator access = "emergency operators (settings.emergency_operators) with the operator role, not for themselves"
	accessEmergencyReviewer access = "operators and security approvers, never the granter"
	// accessSecurityApprover: settings.security_approvers or admins, never the requester nor
	// the person concerned (exceptions).
	accessSecurityApprover access = "security approvers or admins, never the requester or the person concerned"
	accessExceptionRead    access = "the person concerned, security approvers, and readers"
	accessExceptionRevoke  access = "security approvers, admins, or whoever recorded the exception"
)

// route is one entry of the route table: everything the mux, the query validation and the
// OpenAPI document need to know about an endpoint.
type route struct {
	name    string // operationId
	method  string
	path    string // ServeMux pattern path: {id}, or {id...} for an id with slashes
	tag     string
	summary string
	access  access
	query   []param
	// body is a value of the JSON request body type (for decoding docs and the schema); nil
	// for routes without a body. catalogBody routes also take YAML and get the larger limit.
	body        any
	catalogBody bool
	// hrBody routes take an HR feed: text/csv, or a JSON array (body is its element type's
	// slice), with the HR limit.
	hrBody   bool
	status   int // success status
	response any // value of the success answer type, for the schema; nil: see contentType
	// contentType of a non-JSON success answer (metrics).
	contentType string
	conflict    bool // may answer 409
	handle      func(a *api, w http.ResponseWriter, r *http.Request) error
}

// pattern is the ServeMux pattern of the route.
func (rt *route) pattern() string { return rt.method + " " + rt.path }

// pathParams lists the names of the path's wildcards.
func (rt *route) pathParams() []string {
	var names []string
	for _, seg := range strings.Split(rt.path, "/") {
		if strings.HasPrefix(seg, "{") && strings.HasSuffix(seg, "}") {
			names = append(names, strings.TrimSuffix(strings.Trim(seg, "{}"), "..."))
		}
	}
	return names
}

// register installs every route of the table on mux. This is the only place routes are
// registered.
func (a *api) register(mux *http.ServeMux) {
	for i := range routeTable {
		rt := &routeTable[i]
		mux.Handle(rt.pattern(), a.endpoint(rt))
		a.patterns = append(a.patterns, rt.pattern())
	}
}

// Query parameters shared by several routes.
var (
	pLimit  = param{name: "limit", kind: kindInt, min: 1, max: gatehouse.MaxLimit, desc: "page size (default 50)"}
	pCursor = param{name: "cursor", desc: "next_cursor of the previous page"}
	paged   = []param{pLimit, pCursor}
)

func withPaging(ps ...param) []param { return append(ps, paged...) }

func enumOf[T ~string](vs ...T) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = string(v)
	}
	return out
}

var (
	identityStatuses = enumOf(gatehouse.StatusActive, gatehouse.StatusLeave, gatehouse.StatusTerminated)
	employmentTypes  = enumOf(gatehouse.Employee, gatehouse.Contractor, gatehouse.Intern)
	accessRoles      = enumOf(gatehouse.RoleAdmin, gatehouse.RoleOperator, gatehouse.RoleAuditor)
	risks            = enumOf(gatehouse.RiskStandard, gatehouse.RiskSensitive, gatehouse.RiskPrivileged)
	grantSources     = enumOf(gatehouse.SourceBirthright, gatehouse.SourceRequest, gatehouse.SourceReview,
		gatehouse.SourceException, gatehouse.SourceEmergency, gatehouse.SourceDirect)
)

// routeTable is every route the API serves.
var routeTable = []route{
	// Health, metrics and the API description: public.
	{name: "healthz", method: "GET", path: "/healthz", tag: "health", access: accessPublic,
		summary: "Liveness: the process answers", status: 200, response: statusAnswer{},
		handle: (*api).healthz},
	{name: "readyz", method: "GET", path: "/readyz", tag: "health", access: accessPublic,
		summary: "Readiness: the database answers (503 when it does not)", status: 200, response: statusAnswer{},
		handle: (*api).readyz},
	{name: "metrics", method: "GET", path: "/metrics", tag: "health", access: accessPublic,
		summary: "Prometheus metrics", status: 200, contentType: "text/plain",
		handle: (*api).serveMetrics},
	{name: "openapi", method: "GET", path: "/api/v1/openapi.json", tag: "health", access: accessPublic,
		summary: "This OpenAPI document", status: 200, response: map[string]any{},
		handle: (*api).serveOpenAPI},

	// Identities.
	{name: "me", method: "GET", path: "/api/v1/me", tag: "identities", access: accessSignedIn,
		summary: "The caller: its principal and identity (null for the bootstrap admin)", status: 200, response: service.Me{},
		handle: (*api).me},
	{name: "listIdentities", method: "GET", path: "/api/v1/identities", tag: "identities", access: accessReaders,
		summary: "List identities",
		query: withPaging(
			param{name: "q", desc: "case-insensitive substring of email, names, employee_id, title"},
			param{name: "department"},
			param{name: "status", enum: identityStatuses},
			param{name: "employment_type", enum: employmentTypes},
			param{name: "manager_id", desc: "employee_id of the manager"},
			param{name: "role", enum: accessRoles, desc: "Gatehouse access role"},
			param{name: "location"},
		),
		status: 200, response: gatehouse.Page[*gatehouse.Identity]{}, handle: (*api).listIdentities},
	{name: "createIdentity", method: "POST", path: "/api/v1/identities", tag: "identities", access: accessOperator,
		summary: "Create an identity by hand (service accounts, before the HR feed)", body: createIdentityRequest{},
		status: 201, response: &gatehouse.Identity{}, conflict: true, handle: (*api).createIdentity},
	{name: "getIdentity", method: "GET", path: "/api/v1/identities/{id}", tag: "identities", access: accessSelfOrReader,
		summary: "Get an identity by id, email or employee_id", status: 200, response: &gatehouse.Identity{},
		handle: (*api).getIdentity},
	{name: "updateIdentity", method: "PATCH", path: "/api/v1/identities/{id}", tag: "identities", access: accessOperator,
		summary: "Change some fields of an identity", body: updateIdentityRequest{},
		status: 200, response: &gatehouse.Identity{}, conflict: true, handle: (*api).updateIdentity},
	{name: "setRoles", method: "PUT", path: "/api/v1/identities/{id}/roles", tag: "identities", access: accessAdmin,
		summary: "Replace an identity's Gatehouse roles", body: setRolesRequest{},
		status: 200, response: &gatehouse.Identity{}, conflict: true, handle: (*api).setRoles},

	// Catalog.
	{name: "getSettings", method: "GET", path: "/api/v1/settings", tag: "catalog", access: accessSignedIn,
		summary: "Catalog settings", status: 200, response: gatehouse.Settings{}, handle: (*api).getSettings},
	{name: "getCatalog", method: "GET", path: "/api/v1/catalog", tag: "catalog", access: accessSignedIn,
		summary: "The whole stored catalog", status: 200, response: &gatehouse.Catalog{}, handle: (*api).getCatalog},
	{name: "planCatalog", method: "POST", path: "/api/v1/catalog/plan", tag: "catalog", access: accessReaders,
		summary: "What applying a catalog would change; changes nothing", body: service.CatalogRequest{}, catalogBody: true,
		status: 200, response: &catalog.Plan{}, handle: (*api).planCatalog},
	{name: "applyCatalog", method: "POST", path: "/api/v1/catalog/apply", tag: "catalog", access: accessAdmin,
		summary: "Make the stored catalog equal to the given one, atomically; revoking grants needs the plan's confirmation (409 with the revocations otherwise)",
		query: []param{
			{name: "prune", kind: kindBool, desc: "delete what the catalog no longer names (also a JSON body field)"},
			{name: "reason", desc: "why, for the audit log (also a JSON body field)"},
			{name: "rebind_secrets", desc: "comma-separated ids of systems whose connector url changes while their secret references stay the same: confirms the secrets go to the new url (also a JSON body field)"},
			{name: "confirm_revocations", desc: "the revocations.confirmation of the plan: an apply that revokes grants is refused (409, with error.revocations) without it, or when what it would revoke changed since that plan (also a JSON body field)"},
		},
		body: service.CatalogRequest{}, catalogBody: true,
		status: 200, response: &service.ApplyResult{}, conflict: true, handle: (*api).applyCatalog},
	{name: "listSystems", method: "GET", path: "/api/v1/systems", tag: "catalog", access: accessSignedIn,
		summary: "List systems", status: 200, response: gatehouse.Page[*gatehouse.System]{}, handle: (*api).listSystems},
	{name: "getSystem", method: "GET", path: "/api/v1/systems/{id}", tag: "catalog", access: accessSignedIn,
		summary: "Get a system", status: 200, response: &gatehouse.System{}, handle: (*api).getSystem},
	{name: "testSystem", method: "POST", path: "/api/v1/systems/{id}/test", tag: "provisioning", access: accessOperator,
		summary: "Test a system's connector: connection, credentials, configured containers; changes nothing. 200 with ok false when the check failed, with the failure kind and a plain-words explanation",
		status:  200, response: &service.SystemTest{}, handle: (*api).testSystem},
	{name: "systemStatus", method: "GET", path: "/api/v1/systems/{id}/status", tag: "provisioning", access: accessReaders,
		summary: "A system's provisioning status: the last finished reconcile (last inventory, drift), recent runs and operations, open manual tasks",
		status:  200, response: &service.SystemStatus{}, handle: (*api).systemStatus},
	{name: "listEntitlements", method: "GET", path: "/api/v1/entitlements", tag: "catalog", access: accessSignedIn,
		summary: "List entitlements",
		query: withPaging(
			param{name: "system", desc: "system id"},
			param{name: "risk", enum: risks},
			param{name: "q", desc: "substring of id, name, description"},
			param{name: "requestable", kind: kindBool},
		),
		status: 200, response: gatehouse.Page[*gatehouse.Entitlement]{}, handle: (*api).listEntitlements},
	{name: "getEntitlement", method: "GET", path: "/api/v1/entitlements/{id...}", tag: "catalog", access: accessSignedIn,
		summary: "Get an entitlement; its id contains a slash (corp-ldap/engineering)",
		status:  200, response: &gatehouse.Entitlement{}, handle: (*api).getEntitlement},
	{name: "listRoles", method: "GET", path: "/api/v1/roles", tag: "catalog", access: accessSignedIn,
		summary: "List roles", status: 200, response: gatehouse.Page[*gatehouse.Role]{}, handle: (*api).listRoles},
	{name: "getRole", method: "GET", path: "/api/v1/roles/{id}", tag: "catalog", access: accessSignedIn,
		summary: "Get a role", status: 200, response: &gatehouse.Role{}, handle: (*api).getRole},
	{name: "listSoDRules", method: "GET", path: "/api/v1/sod-rules", tag: "catalog", access: accessSignedIn,
		summary: "List separation-of-duties rules", status: 200, response: gatehouse.Page[*gatehouse.SoDRule]{},
		handle: (*api).listSoDRules},
	{name: "getSoDRule", method: "GET", path: "/api/v1/sod-rules/{id}", tag: "catalog", access: accessSignedIn,
		summary: "Get a separation-of-duties rule", status: 200, response: &gatehouse.SoDRule{}, handle: (*api).getSoDRule},
	{name: "listSoDViolations", method: "GET", path: "/api/v1/sod/violations", tag: "catalog", access: accessReaders,
		summary: "Everyone whose active grants break an SoD rule today (detective; every on_violation mode), with counts; not paged",
		query: []param{
			{name: "rule", desc: "only this SoD rule id"},
			{name: "identity", desc: "only this identity: id, email or employee_id"},
		},
		status: 200, response: &service.SoDViolations{}, handle: (*api).listSoDViolations},

	// Grants and observed accounts.
	{name: "listGrants", method: "GET", path: "/api/v1/grants", tag: "grants", access: accessSelfOrReader,
		summary: "List grants; an ordinary identity sees its own",
		query: withPaging(
			param{name: "identity", desc: "id, email or employee_id"},
			param{name: "entitlement", desc: "entitlement id"},
			param{name: "system", desc: "system id"},
			param{name: "source", enum: grantSources},
			param{name: "status", enum: []string{"active", "revoked"}},
			param{name: "expiring", desc: "only grants in force that expire within this time from now (e.g. 7d, 48h)"},
		),
		status: 200, response: gatehouse.Page[*gatehouse.Grant]{}, handle: (*api).listGrants},
	{name: "createGrant", method: "POST", path: "/api/v1/grants", tag: "grants", access: accessOperator,
		summary: "Grant an entitlement directly (source: direct; never to yourself; SoD rules apply)", body: service.NewGrant{},
		status: 201, response: &gatehouse.Grant{}, conflict: true, handle: (*api).createGrant},
	{name: "getGrant", method: "GET", path: "/api/v1/grants/{id}", tag: "grants", access: accessSelfOrReader,
		summary: "Get a grant", status: 200, response: &gatehouse.Grant{}, handle: (*api).getGrant},
	{name: "revokeGrant", method: "POST", path: "/api/v1/grants/{id}/revoke", tag: "grants", access: accessOperator,
		summary: "Revoke a grant (it is kept as evidence)", body: revokeGrantRequest{},
		status: 200, response: &gatehouse.Grant{}, conflict: true, handle: (*api).revokeGrant},
	{name: "listAccounts", method: "GET", path: "/api/v1/accounts", tag: "grants", access: accessReaders,
		summary: "List observed accounts",
		query: withPaging(
			param{name: "system", desc: "system id"},
			param{name: "identity", desc: "identity id"},
			param{name: "orphaned", kind: kindBool, desc: "only accounts with no identity"},
		),
		status: 200, response: gatehouse.Page[*gatehouse.Account]{}, handle: (*api).listAccounts},

	// HR imports.
	{name: "importHR", method: "POST", path: "/api/v1/hr/imports", tag: "hr", access: accessOperator,
		summary: "Import an HR feed snapshot, or a delta (text/csv, or a JSON array); held when the leaver guard trips",
		query: []param{{name: "dry_run", kind: kindBool, desc: "plan only: answer the JML plan and change nothing (200)"},
			{name: "delta", kind: kindBool, desc: "the file lists only changes: rows are upserts, people it does not list are left alone, leavers are rows with status terminated, and a manager_id may name a stored person (docs/hr.md); default false: a full snapshot"},
			{name: "limit", kind: kindInt, min: 1, max: hrPageLimit, desc: "plan items per class in the answer (default 100, at most 1000); plan.summary counts everyone"},
			{name: "offset", kind: kindInt, max: hrOffsetLimit, desc: "skip this many items of each class (plan.page.next_offset of the previous page; send the same file again)"},
			{name: "class", enum: enumOf(jml.Classes()...), desc: "only this class's items"}},
		body: []hrRecord{}, hrBody: true,
		status: 201, response: &service.HRImportResult{}, conflict: true, handle: (*api).importHR},
	{name: "exportHR", method: "GET", path: "/api/v1/hr/export", tag: "hr", access: accessReaders,
		summary: "The people an HR snapshot owns, as an HR feed CSV in the contract's format (docs/hr.md); audited as identities.export",
		status:  200, contentType: "text/csv", handle: (*api).exportHR},
	{name: "applyHRDates", method: "POST", path: "/api/v1/hr/dates", tag: "hr", access: accessOperator,
		summary: "Apply what the calendar changes without a feed: passed end dates (leavers), reached start dates (pre-hires); idempotent",
		status:  200, response: &jml.Plan{}, handle: (*api).applyHRDates},
	{name: "listHRImports", method: "GET", path: "/api/v1/hr/imports", tag: "hr", access: accessReaders,
		summary: "List HR imports, newest first",
		query:   withPaging(param{name: "status", enum: enumOf(gatehouse.ImportApplied, gatehouse.ImportHeld, gatehouse.ImportRejected)}),
		status:  200, response: gatehouse.Page[*gatehouse.HRImport]{}, handle: (*api).listHRImports},
	{name: "getHRImport", method: "GET", path: "/api/v1/hr/imports/{id}", tag: "hr", access: accessReaders,
		summary: "Get an HR import with its summary", status: 200, response: &gatehouse.HRImport{},
		handle: (*api).getHRImport},
	{name: "listHRImportChanges", method: "GET", path: "/api/v1/hr/imports/{id}/changes", tag: "hr", access: accessReaders,
		summary: "An applied HR import's evidence: what it did to each person (named), in the order applied (the file's, then the people missing from it)",
		query: withPaging(
			param{name: "class", enum: enumOf(jml.Classes()...), desc: "only this class"},
			param{name: "late", kind: kindBool, desc: "only leavers terminated after their end date"},
		),
		status: 200, response: gatehouse.Page[*gatehouse.HRImportChange]{}, handle: (*api).listHRImportChanges},
	{name: "approveHRImport", method: "POST", path: "/api/v1/hr/imports/{id}/approve", tag: "hr", access: accessAdmin,
		summary: "Apply a held HR import, planned again against the current state", body: decideRequest{},
		status: 200, response: &service.HRImportResult{}, conflict: true, handle: (*api).approveHRImport},
	{name: "rejectHRImport", method: "POST", path: "/api/v1/hr/imports/{id}/reject", tag: "hr", access: accessAdmin,
		summary: "Close a held HR import without applying it", body: decideRequest{},
		status: 200, response: &gatehouse.HRImport{}, conflict: true, handle: (*api).rejectHRImport},

	// Mover confirmations: request access a mover kept, for the new manager to confirm.
	{name: "listConfirmations", method: "GET", path: "/api/v1/confirmations", tag: "hr", access: accessSignedIn,
		summary: "List mover confirmations, newest first: readers see all, others those addressed to them",
		query: withPaging(
			param{name: "status", enum: enumOf(gatehouse.ConfirmationOpen, gatehouse.ConfirmationConfirmed, gatehouse.ConfirmationRevoked)},
			param{name: "mine", kind: kindBool, desc: "only those addressed to the caller"},
			param{name: "manager_id", desc: "identity id of the addressed manager (readers)"},
			param{name: "identity_id", desc: "identity id of the mover"},
		),
		status: 200, response: gatehouse.Page[*gatehouse.Confirmation]{}, handle: (*api).listConfirmations},
	{name: "getConfirmation", method: "GET", path: "/api/v1/confirmations/{id}", tag: "hr", access: accessSignedIn,
		summary: "Get a mover confirmation (readers, or the addressed manager)", status: 200, response: &gatehouse.Confirmation{},
		handle: (*api).getConfirmation},
	{name: "confirmConfirmation", method: "POST", path: "/api/v1/confirmations/{id}/confirm", tag: "hr", access: accessManagerOrAdmin,
		summary: "Keep a mover's request access", body: decideConfirmationRequest{},
		status: 200, response: &gatehouse.Confirmation{}, conflict: true, handle: (*api).confirmConfirmation},
	{name: "revokeConfirmation", method: "POST", path: "/api/v1/confirmations/{id}/revoke", tag: "hr", access: accessManagerOrAdmin,
		summary: "Do not confirm a mover's request access: its grant is revoked", body: decideConfirmationRequest{},
		status: 200, response: &gatehouse.Confirmation{}, conflict: true, handle: (*api).revokeConfirmation},

	// Access requests (issue 5). The walk runs routes in table order: resubmit and cancel come
	// before create because they use the caller's own request (authz_test.go).
	{name: "listRequests", method: "GET", path: "/api/v1/requests", tag: "requests", access: accessSignedIn,
		summary: "List access requests, newest first: mine (default), pending-me (my approvals, also as delegate), or all (readers)",
		query: withPaging(
			param{name: "view", enum: []string{"mine", "pending-me", "all"}},
			param{name: "state", desc: "comma-separated request states"},
		),
		status: 200, response: gatehouse.Page[*gatehouse.AccessRequest]{}, handle: (*api).listRequests},
	{name: "getRequest", method: "GET", path: "/api/v1/requests/{id}", tag: "requests", access: accessRequestRead,
		summary: "Get an access request by id or number (REQ-000123), with its steps, findings and timeline",
		status:  200, response: &gatehouse.AccessRequest{}, handle: (*api).getRequest},
	{name: "previewRequest", method: "POST", path: "/api/v1/requests/preview", tag: "requests", access: accessSignedIn,
		summary: "Check and route a request without creating it: who approves each step and why, and the policy findings",
		body:    service.NewRequest{}, status: 200, response: &service.RequestPreview{}, conflict: true, handle: (*api).previewRequest},
	{name: "approveRequest", method: "POST", path: "/api/v1/requests/{id}/approve", tag: "requests", access: accessApprover,
		summary: "Approve the current step; the last approval writes the grants", body: requestDecision{},
		status: 200, response: &gatehouse.AccessRequest{}, conflict: true, handle: approveRequestHandler},
	{name: "denyRequest", method: "POST", path: "/api/v1/requests/{id}/deny", tag: "requests", access: accessApprover,
		summary: "Deny the request (comment required)", body: requestDecision{},
		status: 200, response: &gatehouse.AccessRequest{}, conflict: true, handle: denyRequestHandler},
	{name: "returnRequest", method: "POST", path: "/api/v1/requests/{id}/return", tag: "requests", access: accessApprover,
		summary: "Return the request to its requester for more information (comment required)", body: requestDecision{},
		status: 200, response: &gatehouse.AccessRequest{}, conflict: true, handle: returnRequestHandler},
	{name: "resubmitRequest", method: "POST", path: "/api/v1/requests/{id}/resubmit", tag: "requests", access: accessRequester,
		summary: "Resubmit a returned request with a new justification", body: resubmitBody{},
		status: 200, response: &gatehouse.AccessRequest{}, conflict: true, handle: (*api).resubmitRequest},
	{name: "cancelRequest", method: "POST", path: "/api/v1/requests/{id}/cancel", tag: "requests", access: accessParty,
		summary: "Cancel an open request", body: requestDecision{},
		status: 200, response: &gatehouse.AccessRequest{}, conflict: true, handle: cancelRequestHandler},
	{name: "createRequest", method: "POST", path: "/api/v1/requests", tag: "requests", access: accessSignedIn,
		summary: "Request access for yourself (or, as an operator, for someone): refused with a reason, returned when the justification is weak",
		body:    service.NewRequest{}, status: 201, response: &gatehouse.AccessRequest{}, conflict: true, handle: (*api).createRequest},
	{name: "createDelegation", method: "POST", path: "/api/v1/delegations", tag: "requests", access: accessSignedIn,
		summary: "Delegate your approvals to someone while you are away (operators: for someone else)",
		body:    service.NewDelegation{}, status: 201, response: &gatehouse.Delegation{}, handle: (*api).createDelegation},

	// Exceptions register: security approvers (settings) or admins decide, never the
	// requester nor the person concerned (service/exceptions.go).
	{name: "listExceptions", method: "GET", path: "/api/v1/exceptions", tag: "exceptions", access: accessSignedIn,
		summary: "List exceptions, newest first: one's own, or everyone's for readers; expiring=30d lists approved ones ending within 30 days",
		query: withPaging(
			param{name: "identity", desc: "id, email or employee_id"},
			param{name: "rule", desc: "SoD rule id"},
			param{name: "status", desc: "comma-separated: pending, approved, rejected, expired, revoked"},
			param{name: "expiring", desc: "a duration such as 30d"},
		),
		status: 200, response: gatehouse.Page[*gatehouse.Exception]{}, handle: (*api).listExceptions},
	{name: "getException", method: "GET", path: "/api/v1/exceptions/{id}", tag: "exceptions", access: accessExceptionRead,
		summary: "Get an exception by id or number (EXC-000123)",
		status:  200, response: &gatehouse.Exception{}, handle: (*api).getException},
	{name: "createException", method: "POST", path: "/api/v1/exceptions", tag: "exceptions", access: accessSignedIn,
		summary: "Record a pending exception (for yourself, or as an operator for someone) with risk rationale, compensating controls, expiry and review date",
		body:    service.NewException{}, status: 201, response: &gatehouse.Exception{}, handle: (*api).createException},
	{name: "approveException", method: "POST", path: "/api/v1/exceptions/{id}/approve", tag: "exceptions", access: accessSecurityApprover,
		summary: "Approve a pending exception (expires renews one back for review)", body: service.ExceptionDecision{},
		status: 200, response: &gatehouse.Exception{}, conflict: true, handle: (*api).approveException},
	{name: "rejectException", method: "POST", path: "/api/v1/exceptions/{id}/reject", tag: "exceptions", access: accessSecurityApprover,
		summary: "Reject a pending exception", body: service.ExceptionDecision{},
		status: 200, response: &gatehouse.Exception{}, conflict: true, handle: (*api).rejectException},
	{name: "revokeException", method: "POST", path: "/api/v1/exceptions/{id}/revoke", tag: "exceptions", access: accessExceptionRevoke,
		summary: "End an exception early: an approved one's access is revoked", body: service.ExceptionDecision{},
		status: 200, response: &gatehouse.Exception{}, conflict: true, handle: (*api).revokeException},

	// Emergency (break-glass) access (service/emergency.go).
	{name: "grantEmergency", method: "POST", path: "/api/v1/emergency/grants", tag: "emergency", access: accessEmergencyOperator,
		summary: "Grant an emergency entitlement at once (reason, short duration); security is told and a post-event review (EMG-000123) opens",
		body:    service.NewEmergencyGrant{}, status: 201, response: &service.EmergencyGrant{}, conflict: true, handle: (*api).grantEmergency},
	{name: "listEmergencyReviews", method: "GET", path: "/api/v1/emergency/reviews", tag: "emergency", access: accessReaders,
		summary: "List post-event reviews of emergency grants, newest first, with the open and overdue counts",
		query:   withPaging(param{name: "open", kind: kindBool, desc: "only reviews not yet completed"}),
		status:  200, response: &service.EmergencyReviews{}, handle: (*api).listEmergencyReviews},
	{name: "getEmergencyReview", method: "GET", path: "/api/v1/emergency/reviews/{id}", tag: "emergency", access: accessReaders,
		summary: "Get a post-event review by id or reference (EMG-000123)",
		status:  200, response: &gatehouse.EmergencyReview{}, handle: (*api).getEmergencyReview},
	{name: "completeEmergencyReview", method: "POST", path: "/api/v1/emergency/reviews/{id}/complete", tag: "emergency", access: accessEmergencyReviewer,
		summary: "Complete a post-event review: who used the access, why, and what was done (all required)",
		body:    service.EmergencyReviewCompletion{}, status: 200, response: &gatehouse.EmergencyReview{}, conflict: true,
		handle: (*api).completeEmergencyReview},

	// Provisioning (internal/provision): reconcile, its jobs, operations and drift.
	{name: "reconcile", method: "POST", path: "/api/v1/reconcile", tag: "provisioning", access: accessOperator,
		summary: "Enqueue a reconcile of one system, or of every system (critical first); follow it with reconcileJobs",
		body:    reconcileRequest{}, status: 200, response: &service.ReconcileStatus{}, handle: (*api).reconcile},
	{name: "reconcileJobs", method: "GET", path: "/api/v1/reconcile/jobs", tag: "provisioning", access: accessReaders,
		summary: "Progress of reconcile jobs: done, converged, the runs and their failed operations",
		query:   []param{{name: "ids", desc: "comma-separated job ids, as answered by reconcile"}},
		status:  200, response: &service.ReconcileStatus{}, handle: (*api).reconcileJobs},
	{name: "listOperations", method: "GET", path: "/api/v1/operations", tag: "provisioning", access: accessReaders,
		summary: "List provisioning operations (the evidence of every change in a target), newest first",
		query: withPaging(
			param{name: "system", desc: "system id"},
			param{name: "status", enum: enumOf(gatehouse.OpPending, gatehouse.OpRunning, gatehouse.OpApplied, gatehouse.OpFailed)},
			param{name: "identity", desc: "id, email or employee_id"},
			param{name: "reconcile", desc: "reconcile run id"},
		),
		status: 200, response: gatehouse.Page[*gatehouse.Operation]{}, handle: (*api).listOperations},
	{name: "drift", method: "GET", path: "/api/v1/drift", tag: "provisioning", access: accessReaders,
		summary: "The last finished reconcile of each system, with its drift findings",
		query:   []param{{name: "system", desc: "system id"}},
		status:  200, response: gatehouse.Page[*gatehouse.Reconcile]{}, handle: (*api).drift},

	// Manual fulfillment tasks (connector type manual): operations done by people.
	{name: "listTasks", method: "GET", path: "/api/v1/tasks", tag: "provisioning", access: accessReaderOrAssignee,
		summary: "List manual tasks, most urgent first, with the overdue count: readers see all, others those assigned to them",
		query: withPaging(
			param{name: "system", desc: "system id"},
			param{name: "status", enum: enumOf(gatehouse.TaskOpen, gatehouse.TaskDone, gatehouse.TaskCancelled), desc: "default: every status"},
			param{name: "overdue", kind: kindBool, desc: "only open tasks past their due time"},
		),
		status: 200, response: &service.TaskList{}, handle: (*api).listTasks},
	{name: "getTask", method: "GET", path: "/api/v1/tasks/{id}", tag: "provisioning", access: accessReaderOrAssignee,
		summary: "Get a manual task by id or reference (TASK-000123)", status: 200, response: &gatehouse.ManualTask{},
		handle: (*api).getTask},
	{name: "completeTask", method: "POST", path: "/api/v1/tasks/{id}/complete", tag: "provisioning", access: accessOperator,
		summary: "Record that a manual task was done: a note (required) and an optional evidence SHA-256; its operation is applied",
		body:    service.TaskCompletion{}, status: 200, response: &gatehouse.ManualTask{}, conflict: true,
		handle: (*api).completeTask},

	// SCIM groups: groups an IdP pushed over SCIM (/scim/v2), for people to review.
	{name: "listSCIMGroups", method: "GET", path: "/api/v1/scim-groups", tag: "identities", access: accessReaders,
		summary: "List the groups identity sources pushed over SCIM, by display name, with their members (identity ids)",
		query: withPaging(
			param{name: "display_name", desc: "exact, case-insensitive"},
			param{name: "member", desc: "groups of this identity: id, email or employee_id"},
		),
		status: 200, response: gatehouse.Page[*gatehouse.SCIMGroup]{}, handle: (*api).listSCIMGroups},
	{name: "getSCIMGroup", method: "GET", path: "/api/v1/scim-groups/{id}", tag: "identities", access: accessReaders,
		summary: "Get a SCIM group with its members (identity ids)", status: 200, response: &gatehouse.SCIMGroup{},
		handle: (*api).getSCIMGroup},

	// Audit.
	{name: "listAuditEvents", method: "GET", path: "/api/v1/audit/events", tag: "audit", access: accessReaders,
		summary: "List audit events, newest first",
		query: withPaging(
			param{name: "since", kind: kindTime},
			param{name: "until", kind: kindTime},
			param{name: "actor"},
			param{name: "action", desc: "exact, or a prefix ending in \".\" (grant.)"},
			param{name: "object_type"},
			param{name: "object_id"},
			param{name: "order", enum: []string{"asc", "desc"}, desc: "desc (default): newest first"},
		),
		status: 200, response: gatehouse.Page[*gatehouse.AuditEvent]{}, handle: (*api).listAuditEvents},
	{name: "verifyAudit", method: "GET", path: "/api/v1/audit/verify", tag: "audit", access: accessReaders,
		summary: "Re-compute the audit hash chain (200 whether or not it is intact)",
		status:  200, response: &service.Verification{}, handle: (*api).verifyAudit},
	{name: "createAuditCheckpoint", method: "POST", path: "/api/v1/audit/checkpoints", tag: "audit", access: accessAdminOrAuditor,
		summary: "Sign a checkpoint of the audit chain head now (Ed25519, the server's --audit-key) and write it to the checkpoint directory; 409 when the server has no audit key or the head is behind the newest checkpoint",
		status:  201, response: &audit.Checkpoint{}, conflict: true, handle: (*api).createCheckpoint},

	// Tokens.
	{name: "listTokens", method: "GET", path: "/api/v1/tokens", tag: "tokens", access: accessSignedIn,
		summary: "List tokens: admins all, others their own",
		query: []param{
			{name: "identity", desc: "id, email or employee_id (admins)"},
			{name: "include_revoked", kind: kindBool},
		},
		status: 200, response: gatehouse.Page[*gatehouse.Token]{}, handle: (*api).listTokens},
	{name: "createToken", method: "POST", path: "/api/v1/tokens", tag: "tokens", access: accessSelfOrAdmin,
		summary: "Create a token; its secret is in this answer only", body: service.TokenRequest{},
		status: 201, response: &service.CreatedToken{}, conflict: true, handle: (*api).createToken},
	{name: "revokeToken", method: "DELETE", path: "/api/v1/tokens/{id}", tag: "tokens", access: accessSelfOrAdmin,
		summary: "Revoke a token", status: 200, response: &gatehouse.Token{}, handle: (*api).revokeToken},
}
