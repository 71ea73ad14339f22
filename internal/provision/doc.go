// Package provision is the provisioning engine: it makes every connected system agree with the
// desired state (identities and grants) that HR, the catalog and requests write.
//
// The work is split so that each part can be tested on its own:
//
//   - Plan (plan.go) is pure: desired state + stored account links + a connector's inventory →
//     idempotent operations and drift findings. No database, no network, no clock of its own.
//   - Reconciler (reconcile.go) runs one system: reads inventory, plans, records every
//     operation as a row (the evidence: cause, requested/started/finished, result), executes the
//     operations through the connector and records the results.
//   - An operation a connector defers to a person (connector.Deferred: a manual task) stays
//     pending, naming its task, and is not recorded again while the task is open; the store
//     applies it when the task is done. Tasks (tasks.go) is the manual connector's task store.
//   - The jobs that run reconciles are internal/jobs': one durable River job per system in the
//     same database (never one per membership: River on SQLite works about 200 jobs/s), retried
//     with exponential backoff on retryable connector errors. A retry re-plans from scratch, so
//     a crash or an outage never loses an operation: desired state is in the database. A run a
//     stopped process left running is marked interrupted at start (MarkInterrupted).
//   - A change of desired state states what it changed (Changes, trigger.go: a grant, an
//     identity, HR data, a catalog, a manual task) as the service writes it, and the reconciles
//     it asks for (a Trigger) are inserted in the change's own transaction
//     (jobs.Host.ReconcileTx), so a crash right after the commit loses none. When the
//     change names its people (an HR import, a grant), the runs are targeted (targeted.go): a
//     connector that can read chosen accounts (connector.Finder) is asked for theirs only, and
//     only they are planned, because reading 20,000 accounts to apply 200 movers was most of a
//     triggered run. Everybody else's drift is left to the full runs (schedule, catalog, CLI).
package provision
