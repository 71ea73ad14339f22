// Package manual is the connector for systems without an API: every operation becomes a
// fulfillment task for a person (create Ann's account in the badge system, add Bob to Payroll
// Admins), with a due time from the system's tier.
//
// The observed state of a manual system is what operators have confirmed: Inventory replays the
// done tasks, so a done task counts as applied and the next reconcile plans nothing for it.
// An operation whose task is open returns connector.Deferred (the engine records it as pending,
// waiting for the task, and does not retry); asking again finds the same open task rather than
// making a second one. Open tasks a reconcile no longer asks for (the grant was revoked before
// anybody did it) are cancelled by Sweep.
//
// Tasks live in the Gatehouse database, but the connector does not touch it: it is given a
// TaskStore, declared here where it is used, which the provisioning engine implements on the
// store (with the audit events every write needs).
package manual
