package provision

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/connector"
	"github.com/gatehouse/gatehouse/connector/connectors"
	"github.com/gatehouse/gatehouse/internal/store"
)

// Actor is the audit actor of the provisioning engine.
const Actor = "system:provision"

// Opener opens a system's connector (connectors.OpenSystem in the binary, a fake in tests). It
// is given the whole system because some connectors need more than their settings (the manual
// connector names its tasks by the system and dates them by its tier).
type Opener func(ctx context.Context, sys *gatehouse.System) (connector.Connector, error)

// Reconciler reconciles one system at a time: inventory → plan → evidence → execution →
// evidence. It keeps no state between runs: everything it needs is in the store and the target.
type Reconciler struct {
	Store store.Store
	Open  Opener
	Now   func() time.Time
	Log   *slog.Logger
	// BatchSize is how many operation results share one evidence transaction (default 200):
	// one transaction per membership would make a 20,000-user first load crawl on SQLite.
	BatchSize int
	// Connectors are the connector types known, each declaring what it can do (whether
	// Gatehouse names its accounts); nil: every connector of the binary (connectors.Specs).
	Connectors gatehouse.ConnectorSpecs
}

// spec returns the declaration of the system's connector type (nil if unknown).
func (r *Reconciler) spec(sys *gatehouse.System) *gatehouse.ConnectorSpec {
	specs := r.Connectors
	if specs == nil {
		specs = connectors.Specs
	}
	return specs.Lookup(sys.Connector.Type)
}

// RunOptions describe why a reconcile runs.
type RunOptions struct {
	Cause   string    // hr-import:<id>, grant:<id>, catalog, schedule, …
	Since   time.Time // when the desired state changed (zero: unknown)
	JobID   int64     // the queue job running it, 0 when run directly
	Attempt int
	// Identities, when set, are the identities a change touched: a connector that can read
	// chosen accounts (connector.Finder) is asked for theirs only, and only they are planned
	// (see loadScoped). Empty, more than MaxTargeted, or a connector without Finder: a full run.
	Identities []string
}

// MaxTargeted is the most identities a targeted run reads one by one; beyond it, one full
// listing is cheaper than the lookups.
const MaxTargeted = 1000

// Error is a failed reconcile. It is retryable unless it wraps a connector.PermanentError: the
// queue retries with backoff, and the retry plans again from the desired state.
type Error struct {
	SystemID string
	Failed   int // operations that failed
	Err      error
}

func (e *Error) Error() string {
	if e.Failed > 0 {
		return fmt.Sprintf("reconcile %s: %d operations failed: %v", e.SystemID, e.Failed, e.Err)
	}
	return fmt.Sprintf("reconcile %s: %v", e.SystemID, e.Err)
}

func (e *Error) Unwrap() error { return e.Err }

func (r *Reconciler) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

// Time is the reconciler's clock (Now, or the wall clock): the job host stamps jobs and runs
// expiry sweeps with it, so tests that move the clock move both.
func (r *Reconciler) Time() time.Time { return r.now() }

func (r *Reconciler) log() *slog.Logger {
	if r.Log != nil {
		return r.Log
	}
	return slog.Default()
}

// Reconcile runs one system once and returns the finished run. A non-nil error is an *Error
// (the run is recorded as failed); store errors are returned as they are.
func (r *Reconciler) Reconcile(ctx context.Context, systemID string, o RunOptions) (*gatehouse.Reconcile, error) {
	if o.Identities = sortedUnique(o.Identities); len(o.Identities) > MaxTargeted {
		o.Identities = nil
	}
	run := &gatehouse.Reconcile{SystemID: systemID, Cause: o.Cause, JobID: o.JobID, Attempt: o.Attempt,
		Status: gatehouse.ReconcileRunning, StartedAt: r.now()}
	sys, err := r.Store.GetSystem(ctx, systemID)
	if err != nil {
		if gatehouse.ErrorCode(err) == gatehouse.ENOTFOUND {
			return nil, &Error{SystemID: systemID, Err: connector.Permanent(err)}
		}
		return nil, fmt.Errorf("reconcile %s: %w", systemID, err)
	}
	// The connector is opened before the run is recorded, so that the run says whether it is
	// targeted: the cause carries it (no schema change), because the run's counts and findings
	// are then about these people only.
	conn, openErr := r.Open(ctx, sys)
	_, finder := conn.(connector.Finder)
	// A system that names accounts plans whole: a new name must be checked against every
	// account of the directory, which a targeted read of a few people does not see.
	targeted := openErr == nil && finder && len(o.Identities) > 0 && !namesAccounts(r.spec(sys))
	if targeted {
		run.Cause = fmt.Sprintf("%s%s%d people)", o.Cause, TargetedMark, len(o.Identities))
	}
	if openErr == nil {
		defer conn.Close()
	}
	// Operations a crashed or cut-short run left pending are closed as failed: this run plans
	// whatever is still needed again, so they would only be misleading evidence. A targeted
	// run plans a few people only and leaves them to the next full run.
	err = r.Store.Update(ctx, func(tx store.Tx) error {
		if err := tx.CreateReconcile(ctx, run); err != nil {
			return err
		}
		n := 0
		if !targeted {
			var err error
			if n, err = tx.AbandonOperations(ctx, systemID, run.StartedAt, "interrupted; planned again by reconcile "+run.ID); err != nil {
				return err
			}
		}
		return tx.AppendAudit(ctx, r.event(gatehouse.AuditReconcileStart, run, map[string]any{"cause": o.Cause, "abandoned": n}))
	})
	if err != nil {
		return nil, fmt.Errorf("reconcile %s: start: %w", systemID, err)
	}
	finish := func(runErr error) (*gatehouse.Reconcile, error) {
		at := r.now()
		run.FinishedAt = &at
		run.Status = gatehouse.ReconcileConverged
		if runErr != nil {
			run.Status, run.Error = gatehouse.ReconcileFailed, runErr.Error()
		}
		// The run's record must land even when the job's context was cancelled mid-run.
		wctx := context.WithoutCancel(ctx)
		if err := r.Store.Update(wctx, func(tx store.Tx) error {
			if err := tx.UpdateReconcile(wctx, run); err != nil {
				return err
			}
			return tx.AppendAudit(wctx, r.event(gatehouse.AuditReconcileFinish, run, run))
		}); err != nil {
			return run, errors.Join(runErr, fmt.Errorf("reconcile %s: record finish: %w", systemID, err))
		}
		if runErr != nil {
			return run, &Error{SystemID: systemID, Failed: run.Failed, Err: runErr}
		}
		return run, nil
	}

	if openErr != nil {
		return finish(fmt.Errorf("open connector: %w", openErr))
	}
	var in *Input
	if targeted {
		in, err = r.loadScoped(ctx, sys, conn, o)
	} else {
		in, err = r.load(ctx, sys, conn, o)
	}
	if err != nil {
		return finish(err)
	}
	plan := PlanSystem(*in)
	// Desired state is in the plan now; a whole company's of it need not live through the run.
	in.Grants, in.Identities = nil, nil
	run.Planned = len(plan.Ops)
	if in.Inventory != nil {
		run.Accounts, run.Groups = len(in.Inventory.Accounts), len(in.Inventory.Groups)
	}
	for _, f := range plan.Findings {
		run.Findings = append(run.Findings, gatehouse.DriftFinding{Kind: string(f.Kind), SystemID: f.SystemID,
			IdentityID: f.IdentityID, Account: f.Account, Username: f.Username, Group: f.Group, Member: f.Member,
			Action: string(f.Action), Detail: f.Detail})
	}
	// An operation already waiting for a person (a manual task) keeps its row: planning it
	// again every reconcile would bury the evidence under copies.
	waiting, err := r.waiting(ctx, systemID)
	if err != nil {
		return finish(fmt.Errorf("read waiting operations: %w", err))
	}
	rows := make([]*gatehouse.Operation, len(plan.Ops))
	var fresh []*gatehouse.Operation
	var claims []int // the creations giving a new name
	for i, op := range plan.Ops {
		if w := waiting[waitKey(string(op.Kind), op.IdentityID, op.Account.ID, op.Group)]; w != nil {
			rows[i] = w
			continue
		}
		if op.NewName {
			claims = append(claims, i)
		}
		rows[i] = &gatehouse.Operation{ReconcileID: run.ID, SystemID: systemID, Kind: string(op.Kind),
			IdentityID: op.IdentityID, AccountRef: op.Account.ID, Username: op.Username, Group: op.Group,
			Cause: op.Cause, RequestedAt: op.RequestedAt, Status: gatehouse.OpPending, Attempts: max(o.Attempt, 1),
			Detail: op.Detail}
		fresh = append(fresh, rows[i])
	}
	// The new names are recorded with the plan, before any account is made (claimNames).
	var lost map[int]error
	if len(fresh) > 0 || len(run.Findings) > 0 {
		err = r.Store.Update(ctx, func(tx store.Tx) error {
			if err := tx.CreateOperations(ctx, fresh); err != nil {
				return err
			}
			if err := tx.UpdateReconcile(ctx, run); err != nil {
				return err
			}
			var given []map[string]string
			var err error
			if given, lost, err = claimNames(ctx, tx, plan, claims); err != nil {
				return err
			}
			ev := map[string]any{"operations": summarize(fresh), "findings": len(run.Findings)}
			if len(given) > 0 {
				ev["account_names"] = given
			}
			return tx.AppendAudit(ctx, r.event(gatehouse.AuditReconcilePlan, run, ev))
		})
		if err != nil {
			return finish(fmt.Errorf("record plan: %w", err))
		}
	}

	execErr := r.execute(ctx, conn, in, plan, rows, run, lost)
	// Work waiting for people that this run no longer asked for is withdrawn, but only after
	// a run that asked for everything it planned: one cut short by an outage did not.
	// A targeted run did not ask for other people's work: it withdraws nothing.
	if sw, ok := conn.(connector.Sweeper); ok && !targeted && !connector.IsRetryable(execErr) {
		if n, err := sw.Sweep(ctx); err != nil {
			execErr = errors.Join(execErr, fmt.Errorf("withdraw tasks no longer needed: %w", err))
		} else if n > 0 {
			r.log().Info("withdrew manual tasks no longer needed", "system", systemID, "tasks", n)
		}
	}
	if err := r.saveLinks(ctx, in, plan, rows); err != nil {
		execErr = errors.Join(execErr, fmt.Errorf("record accounts: %w", err))
	}
	return finish(execErr)
}

// waitKey identifies an operation waiting for a person across reconciles: by identity when it
// has one (the account of an account still being created has no id yet), else by account.
func waitKey(kind, identity, account, group string) string {
	who := "i:" + identity
	if identity == "" {
		who = "a:" + account
	}
	return kind + "\x00" + who + "\x00" + group
}

// waiting returns the system's operations waiting for a manual task, by waitKey.
func (r *Reconciler) waiting(ctx context.Context, systemID string) (map[string]*gatehouse.Operation, error) {
	ops, err := all(ctx, func(c string) (gatehouse.Page[*gatehouse.Operation], error) {
		return r.Store.ListOperations(ctx, gatehouse.OperationFilter{SystemID: systemID, Status: gatehouse.OpPending,
			Limit: gatehouse.MaxLimit, Cursor: c})
	})
	if err != nil {
		return nil, err
	}
	m := map[string]*gatehouse.Operation{}
	for _, o := range ops {
		if o.Task != "" {
			m[waitKey(o.Kind, o.IdentityID, o.AccountRef, o.Group)] = o
		}
	}
	return m, nil
}

// loadSystem reads what every run needs: the system's policy and entitlements, and the
// connector's capabilities.
func (r *Reconciler) loadSystem(ctx context.Context, sys *gatehouse.System, conn connector.Connector, o RunOptions) (*Input, error) {
	policy, err := ParseDriftPolicy(sys.Connector.Settings)
	if err != nil {
		return nil, connector.Permanent(err)
	}
	in := &Input{System: sys, Policy: policy, Cause: o.Cause, Since: o.Since, Now: r.now(), Capabilities: conn.Capabilities(), Spec: r.spec(sys)}
	if namesAccounts(in.Spec) {
		if in.Names, err = r.Store.ListAccountNames(ctx, sys.ID); err != nil {
			return nil, fmt.Errorf("load account names: %w", err)
		}
	}
	if in.Entitlements, err = all(ctx, func(c string) (gatehouse.Page[*gatehouse.Entitlement], error) {
		return r.Store.ListEntitlements(ctx, gatehouse.EntitlementFilter{System: sys.ID, Limit: gatehouse.MaxLimit, Cursor: c})
	}); err != nil {
		return nil, fmt.Errorf("load entitlements: %w", err)
	}
	return in, nil
}

// managedGroups are the external ids of entitlements: the groups the inventory reads.
func managedGroups(ents []*gatehouse.Entitlement) []string {
	var groups []string
	for _, e := range ents {
		if e.ExternalID != "" {
			groups = append(groups, e.ExternalID)
		}
	}
	return groups
}

func (r *Reconciler) event(action gatehouse.AuditAction, run *gatehouse.Reconcile, after any) *gatehouse.AuditEvent {
	return &gatehouse.AuditEvent{Time: r.now(), Actor: Actor, Action: action, ObjectType: "system",
		ObjectID: run.SystemID, After: mustJSON(after), Reference: run.ID, Reason: run.Cause}
}

// summarize counts operations by kind, for the plan's audit event.
func summarize(rows []*gatehouse.Operation) map[string]int {
	m := map[string]int{}
	for _, r := range rows {
		m[r.Kind]++
	}
	return m
}

// result is an operation's outcome as the audit log keeps it.
type result struct {
	ID      string `json:"id"`
	Kind    string `json:"kind"`
	Account string `json:"account,omitempty"`
	Group   string `json:"group,omitempty"`
	Status  string `json:"status"`
	Error   string `json:"error,omitempty"`
	Detail  string `json:"detail,omitempty"` // create_account: how the name was chosen
}

func results(rows []*gatehouse.Operation) map[string]any {
	out := make([]result, len(rows))
	for i, r := range rows {
		out[i] = result{r.ID, r.Kind, r.Username, r.Group, string(r.Status), r.Error, r.Detail}
	}
	return map[string]any{"operations": out}
}

func mustJSON(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		panic("provision: evidence does not marshal: " + err.Error())
	}
	return b
}
