package gatehouse

import "strings"

// AuditAction names what an audit event records, as "area.verb" ("grant.revoke"); SCIM writes
// name their resource too ("scim.user.update"). The value is what the log stores and the API
// returns, so a constant's value never changes once released: events already in a hash chain
// carry it. Every action is declared here, and docs/audit.md lists each one.
type AuditAction string

// Area is the part before the first dot: "grant" for grant.revoke.
func (a AuditAction) Area() string {
	area, _, _ := strings.Cut(string(a), ".")
	return area
}

// Identities.
const (
	// AuditIdentityCreate: a person or service identity was created (API, web, bulk, HR import).
	AuditIdentityCreate AuditAction = "identity.create"
	// AuditIdentityUpdate: an identity's attributes or status changed (API, web, HR import).
	AuditIdentityUpdate AuditAction = "identity.update"
	// AuditIdentityRoles: an identity's Gatehouse roles (admin, auditor, …) were set.
	AuditIdentityRoles AuditAction = "identity.roles"
	// AuditIdentitiesExport: people were exported as an HR file. Not in the hr area: those
	// actions apply HR data and make provisioning reconcile, and an export changes nothing.
	AuditIdentitiesExport AuditAction = "identities.export"
)

// Grants.
const (
	// AuditGrantCreate: access was granted (request fulfilled, direct grant, birthright, emergency).
	AuditGrantCreate AuditAction = "grant.create"
	// AuditGrantRevoke: access was revoked (by a person, a leaver, a prune, an exception, a mover).
	AuditGrantRevoke AuditAction = "grant.revoke"
	// AuditGrantExpire: a grant reached its end date and was removed.
	AuditGrantExpire AuditAction = "grant.expire"
	// AuditGrantNotifyExpiring: the holder of a grant was told it expires soon (once per grant).
	AuditGrantNotifyExpiring AuditAction = "grant.notify_expiring"
)

// Access requests.
const (
	// AuditRequestCreate: an access request was submitted.
	AuditRequestCreate AuditAction = "request.create"
	// AuditRequestResubmit: a returned request was submitted again.
	AuditRequestResubmit AuditAction = "request.resubmit"
	// AuditRequestCancel: a request was cancelled by its requester, or because the person left.
	AuditRequestCancel AuditAction = "request.cancel"
	// AuditRequestApprove: an approver approved a request's current step.
	AuditRequestApprove AuditAction = "request.approve"
	// AuditRequestDeny: an approver denied a request.
	AuditRequestDeny AuditAction = "request.deny"
	// AuditRequestReturn: an approver returned a request to its requester for more information.
	AuditRequestReturn AuditAction = "request.return"
	// AuditRequestReroute: a pending step was routed to another approver.
	AuditRequestReroute AuditAction = "request.reroute"
	// AuditRequestProvision: an approved request's grants were written and await the connector.
	AuditRequestProvision AuditAction = "request.provision"
	// AuditRequestFulfill: the connector applied an approved request.
	AuditRequestFulfill AuditAction = "request.fulfill"
	// AuditRequestFail: provisioning an approved request failed.
	AuditRequestFail AuditAction = "request.fail"
	// AuditRequestExpire: a request had no decision in time and was closed.
	AuditRequestExpire AuditAction = "request.expire"
	// AuditRequestRemind: the approvers of a waiting request were reminded.
	AuditRequestRemind AuditAction = "request.remind"
	// AuditRequestEscalate: a waiting request was escalated.
	AuditRequestEscalate AuditAction = "request.escalate"
)

// Delegations and mover confirmations.
const (
	// AuditDelegationCreate: an approver delegated their approvals for a period.
	AuditDelegationCreate AuditAction = "delegation.create"
	// AuditDelegationEnd: a delegation ended early (its delegate or delegator left).
	AuditDelegationEnd AuditAction = "delegation.end"
	// AuditConfirmationCreate: a mover kept requested access, for the new manager to confirm.
	AuditConfirmationCreate AuditAction = "confirmation.create"
	// AuditConfirmationConfirm: the new manager confirmed a mover's access.
	AuditConfirmationConfirm AuditAction = "confirmation.confirm"
	// AuditConfirmationRevoke: a mover's access was not confirmed and is revoked.
	AuditConfirmationRevoke AuditAction = "confirmation.revoke"
)

// HR imports.
const (
	// AuditHRImport: an HR file was imported, applied or held by the leaver guard.
	AuditHRImport AuditAction = "hr.import"
	// AuditHRApprove: a held HR import was approved and applied.
	AuditHRApprove AuditAction = "hr.approve"
	// AuditHRReject: a held HR import was rejected.
	AuditHRReject AuditAction = "hr.reject"
	// AuditHRDates: start or end dates passed and changed identities without a new import.
	AuditHRDates AuditAction = "hr.dates"
)

// The catalog: one catalog.apply per apply, after one event per object it changed.
const (
	// AuditCatalogApply: a catalog file was applied.
	AuditCatalogApply AuditAction = "catalog.apply"
	// AuditSettingsUpdate: a catalog apply changed the settings.
	AuditSettingsUpdate AuditAction = "settings.update"
	// AuditSystemCreate: a catalog apply added a system.
	AuditSystemCreate AuditAction = "system.create"
	// AuditSystemUpdate: a catalog apply changed a system.
	AuditSystemUpdate AuditAction = "system.update"
	// AuditSystemDelete: a catalog apply removed a system.
	AuditSystemDelete AuditAction = "system.delete"
	// AuditEntitlementCreate: a catalog apply added an entitlement.
	AuditEntitlementCreate AuditAction = "entitlement.create"
	// AuditEntitlementUpdate: a catalog apply changed an entitlement.
	AuditEntitlementUpdate AuditAction = "entitlement.update"
	// AuditEntitlementDelete: a catalog apply removed an entitlement.
	AuditEntitlementDelete AuditAction = "entitlement.delete"
	// AuditRoleCreate: a catalog apply added a role.
	AuditRoleCreate AuditAction = "role.create"
	// AuditRoleUpdate: a catalog apply changed a role.
	AuditRoleUpdate AuditAction = "role.update"
	// AuditRoleDelete: a catalog apply removed a role.
	AuditRoleDelete AuditAction = "role.delete"
	// AuditSoDCreate: a catalog apply added a separation-of-duties rule.
	AuditSoDCreate AuditAction = "sod.create"
	// AuditSoDUpdate: a catalog apply changed a separation-of-duties rule.
	AuditSoDUpdate AuditAction = "sod.update"
	// AuditSoDDelete: a catalog apply removed a separation-of-duties rule.
	AuditSoDDelete AuditAction = "sod.delete"
)

// Inbound SCIM.
const (
	// AuditSCIMUserCreate: an HR system created a user over SCIM.
	AuditSCIMUserCreate AuditAction = "scim.user.create"
	// AuditSCIMUserUpdate: an HR system replaced, patched or deleted a user over SCIM.
	AuditSCIMUserUpdate AuditAction = "scim.user.update"
	// AuditSCIMGroupCreate: a SCIM client created a group.
	AuditSCIMGroupCreate AuditAction = "scim_group.create"
	// AuditSCIMGroupReplace: a SCIM group's name or members changed (also when a member is deleted).
	AuditSCIMGroupReplace AuditAction = "scim_group.replace"
	// AuditSCIMGroupDelete: a SCIM client deleted a group.
	AuditSCIMGroupDelete AuditAction = "scim_group.delete"
)

// Provisioning: reconciles, accounts and manual tasks.
const (
	// AuditReconcileStart: a reconcile of a system started.
	AuditReconcileStart AuditAction = "reconcile.start"
	// AuditReconcilePlan: a reconcile planned its operations.
	AuditReconcilePlan AuditAction = "reconcile.plan"
	// AuditReconcileFinish: a reconcile finished (applied, failed or cancelled).
	AuditReconcileFinish AuditAction = "reconcile.finish"
	// AuditReconcileInterrupted: a reconcile left running by a stopped process was closed.
	AuditReconcileInterrupted AuditAction = "reconcile.interrupted"
	// AuditProvisionApply: a reconcile applied its operations to the target system.
	AuditProvisionApply AuditAction = "provision.apply"
	// AuditAccountObserve: a reconcile recorded accounts it found or linked to identities.
	AuditAccountObserve AuditAction = "account.observe"
	// AuditAccountNameRelease: the account name claimed for a creation that failed was freed.
	AuditAccountNameRelease AuditAction = "account_name.release"
	// AuditTaskCreate: a manual task was opened for a system without a connector.
	AuditTaskCreate AuditAction = "task.create"
	// AuditTaskCancel: a manual task was no longer needed.
	AuditTaskCancel AuditAction = "task.cancel"
	// AuditTaskComplete: a person marked a manual task done or failed.
	AuditTaskComplete AuditAction = "task.complete"
)

// API tokens and web sessions.
const (
	// AuditTokenCreate: an API token was issued.
	AuditTokenCreate AuditAction = "token.create"
	// AuditTokenRevoke: an API token was revoked (by a person, or because its owner left).
	AuditTokenRevoke AuditAction = "token.revoke"
	// AuditBootstrapUse: the bootstrap token was used to create the first admin.
	AuditBootstrapUse AuditAction = "bootstrap.use"
	// AuditSessionCreate: a person signed in to the web UI.
	AuditSessionCreate AuditAction = "session.create"
	// AuditSessionEnd: a web session ended (sign-out, revoked token, leaver).
	AuditSessionEnd AuditAction = "session.end"
)

// Emergency access.
const (
	// AuditEmergencyGrant: emergency (break-glass) access was granted, to be reviewed.
	AuditEmergencyGrant AuditAction = "emergency.grant"
	// AuditEmergencyNotifySecurity: the security approvers were told of an emergency grant.
	AuditEmergencyNotifySecurity AuditAction = "emergency.notify_security"
	// AuditEmergencyReview: a security approver reviewed an emergency grant.
	AuditEmergencyReview AuditAction = "emergency.review"
)

// Policy exceptions.
const (
	// AuditExceptionCreate: an exception to a separation-of-duties rule was requested.
	AuditExceptionCreate AuditAction = "exception.create"
	// AuditExceptionApprove: an exception was approved.
	AuditExceptionApprove AuditAction = "exception.approve"
	// AuditExceptionReject: an exception was rejected.
	AuditExceptionReject AuditAction = "exception.reject"
	// AuditExceptionUse: a request was granted under an exception.
	AuditExceptionUse AuditAction = "exception.use"
	// AuditExceptionReview: an exception reached its end date and went back for review.
	AuditExceptionReview AuditAction = "exception.review"
	// AuditExceptionExpire: an exception reached its end date and the access it allowed was revoked.
	AuditExceptionExpire AuditAction = "exception.expire"
	// AuditExceptionRevoke: an exception was revoked early.
	AuditExceptionRevoke AuditAction = "exception.revoke"
)
