// Package service is what Gatehouse does, independent of how it is asked: the API, the web UI
// and the demo seeder call it with a Principal, and it authorizes the call, runs it in one store
// transaction together with its audit events, and returns domain objects.
//
// A change also says what it implies (effects.go): the reconciles of the systems it concerns,
// the expiry of a time-bound grant, the messages to the people concerned. Its writer knows
// what it changed (the JML plan its identities and grants, a request decision its grants and
// whom to tell), so it states them as it writes, and the jobs are inserted in the same
// transaction (JobQueue, Notifier): committed with the change, or not at all.
//
// Authorization lives here, in one place (authz.go), so that the API and the UI cannot disagree
// about who may do what.
//
// # Capabilities
//
// The service is split by capability around a small shared core. The core (core.go, authz.go,
// the SoD cache in sod.go) holds the store, the clock and the logger, runs transactions (update),
// builds audit events (event) and checks who may do what; it depends on no capability. Each
// capability is a type that embeds the core and owns its files:
//
//	Auth           tokens.go sessions.go bootstrap.go   bearer tokens, sign-in sessions, the bootstrap token
//	Identities     identities.go employeeid.go          identities, by hand and in bulk; a leaver's end of
//	               termination.go                       Gatehouse access (tokens, delegations)
//	Grants         grants.go bulk.go expiry.go          grants: direct, bulk, revocation, expiry
//	Catalog        catalog.go systems.go sod.go         catalog plan and apply, system tests, SoD reports
//	Requests       requests.go routing.go decisions.go  access requests from intake to fulfilment,
//	               delegations.go fulfilment.go         approval routing, decisions, delegations
//	               termination_requests.go
//	Exceptions     exceptions.go                        the SoD exceptions register
//	Emergency      emergency.go                         break-glass grants and their reviews
//	HR             hr*.go confirmations.go              HR imports, the leaver guard, HR dates and
//	                                                    export, manager confirmations
//	InboundSCIM    scim*.go                             users and groups an identity provider pushes
//	Tasks          tasks.go                             manual provisioning tasks
//	Provisioning   provision.go                         reconciles, operations, drift
//	Notifications  notify.go                            request, SLA and expiry notifications
//	Audit          audit.go                             the audit log, its verification and checkpoints
//
// Service embeds every capability, so svc.CreateRequest is svc.Requests.CreateRequest; a caller
// that needs one capability may hold just that. Pure rules are not here but in internal/policy
// (birthright, SoD, justification quality, approval eligibility), where they are tested alone.
//
// The rule for dependencies: a capability reaches another only through a small interface of the
// methods it calls, declared next to it in capabilities.go and wired in New; never through
// Service. So what an HR import needs of requests (its leavers' open requests are cancelled) is
// written down where HR is declared, not found by reading method bodies. The dependencies today:
// Requests → Notifications, Exceptions; Identities → Requests; HR → Requests, Identities,
// InboundSCIM; InboundSCIM → HR; Catalog → HR; Emergency → Notifications; Notifications → Grants.
//
// # Wire types
//
// The service's operations take and return the wire types of the API: the domain's pages,
// filters and problems (package gatehouse), and the request bodies and answers declared here,
// next to the operation that uses them (NewGrant, ApplyResult, HRImportResult, …), with the
// JSON names docs/api.md documents. The API decodes into them and the client (internal/client)
// uses them as they are, so none is copied; a field added here is on the wire for both.
package service
