// Package jobs hosts River, Gatehouse's durable job queue, in the store's own database (SQLite
// or PostgreSQL): one client per process, its workers and queues, and every recurring task.
//
//   - Reconciles (reconcile.go): reconcile_system jobs run by provision.Reconciler (the planner
//     and the reconciler stay in internal/provision), retried with exponential backoff;
//     reconcile_all fans out to every system. The reconciles a change implies are inserted in
//     its own transaction (ReconcileTx, with the store's *sql.Tx), so they are committed with
//     it. A system has at most one reconcile waiting: a change merges into it (coalesce.go). A reconcile holds its system's lease in the database while it
//     runs (lease.go), so reconciles of one system never overlap, in one process or across
//     replicas; one that finds the lease held snoozes and runs after. A process that stopped
//     mid-run is recovered at the next start, or by the leader's recover_reconciles job, once
//     its beacon went out (beacon.go) and its leases missed a renewal (within about 3/8 of
//     the lease TTL), or its leases ran out (interrupted.go).
//   - Grant expiry (expiry.go): an expire_grants job at each grant's expiry, inserted with the
//     grant (ScheduleExpiryTx), and a periodic sweep as the safety net.
//   - Periodic tasks (periodic.go): the scheduled reconcile, the expiry sweep, HR start and end
//     dates, the fulfilment of approved requests, the expiry of exceptions and the request and
//     grant notices are River periodic jobs. River's elected leader alone enqueues periodic jobs,
//     so N replicas on one PostgreSQL database run each once per interval, not N times; each is
//     unique within its interval's window while it waits, runs or after it completed, so the
//     start runs of several replicas, or of a replica restarted within the window, are one run.
//   - Other packages' jobs (notifications, internal/notify) register on the same client
//     (Options.Extra): a second client on the same database could take the leadership.
//
// What is not here runs in every process on purpose: the signing of audit checkpoints (each
// process signs with its own key into its own directory) and the warning about a bootstrap
// token left set (about the process's own environment).
package jobs
