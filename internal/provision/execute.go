package provision

import (
	"context"
	"errors"
	"fmt"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/connector"
	"github.com/gatehouse/gatehouse/internal/store"
)

// execute runs the plan's operations in order and records their results in batches. It stops
// at the first retryable error (the target is probably down: the rest would fail the same way,
// and the retry plans them again) and carries on after a permanent one (one bad account must not
// block everybody else's leaver removal).
func (r *Reconciler) execute(ctx context.Context, conn connector.Connector, in *Input, plan Plan,
	rows []*gatehouse.Operation, run *gatehouse.Reconcile, lost map[int]error) error {
	batch := r.BatchSize
	if batch <= 0 {
		batch = 200
	}
	created := map[string]connector.AccountRef{} // identity → account made by this run
	failedCreate := map[string]bool{}
	var pending []*gatehouse.Operation
	flush := func() error {
		if len(pending) == 0 {
			return nil
		}
		wctx := context.WithoutCancel(ctx) // evidence of what was done must be kept
		err := r.Store.Update(wctx, func(tx store.Tx) error {
			for _, row := range pending {
				if err := tx.UpdateOperation(wctx, row); err != nil {
					return err
				}
			}
			return tx.AppendAudit(wctx, r.event(gatehouse.AuditProvisionApply, run, results(pending)))
		})
		pending = pending[:0]
		return err
	}
	var errs []error              // permanent failures
	var stopped, firstRetry error // the retryable error that stopped the run
	// A connector that changes many memberships of a group in one request gets them together:
	// each group's adds (and each group's removes) run as one batch where the first of them
	// stands in the plan, which keeps the plan's order (removals before creations before
	// additions). batched holds each batched operation's result once its batch ran.
	mb, _ := conn.(connector.MemberBatcher)
	batches := membershipBatches(plan.Ops, rows, mb != nil)
	batched := map[int]error{}
	batchRan := map[int]bool{} // by the batch's first index
	runBatch := func(idx []int) {
		first := plan.Ops[idx[0]]
		var add, remove []connector.AccountRef
		var members []int
		for _, j := range idx {
			o := &plan.Ops[j]
			if o.Account.ID == "" {
				if failedCreate[o.IdentityID] {
					batched[j] = connector.Permanentf("not run: the account could not be created")
					continue
				}
				o.Account = created[o.IdentityID]
				rows[j].AccountRef = o.Account.ID
			}
			if o.Kind == OpAddMember {
				add = append(add, o.Account)
			} else {
				remove = append(remove, o.Account)
			}
			members = append(members, j)
		}
		if len(members) == 0 {
			return
		}
		err := mb.ChangeMembers(ctx, first.Group, add, remove)
		if err == nil || connector.IsRetryable(err) {
			for _, j := range members {
				batched[j] = err
			}
			return
		}
		// Refused as a whole: one by one, so that only the bad change fails.
		r.log().Warn("batch refused; applying its changes one by one", "system", run.SystemID, "group", first.Group,
			"changes", len(members), "err", err)
		var retry error
		for _, j := range members {
			if retry != nil {
				batched[j] = fmt.Errorf("not run: an earlier operation failed: %w", retry)
				continue
			}
			_, batched[j] = apply(ctx, conn, plan.Ops[j])
			if connector.IsRetryable(batched[j]) {
				retry = batched[j]
			}
		}
	}
	// Creations run concurrently when the connector allows it (connector.Concurrent): they
	// are handed out when the loop reaches the first of them, and recorded here in plan order.
	conc := concurrency(conn)
	// noteCreate notes the outcome of a creation (run in turn or ahead of it).
	noteCreate := func(op Op, row *gatehouse.Operation, ref connector.AccountRef, err error) {
		// A deferred creation names the account it will be: the memberships planned
		// for it are asked for at once, not one reconcile later.
		if err == nil || connector.IsDeferred(err) {
			created[op.IdentityID] = ref
			row.AccountRef = ref.ID
		}
		if err != nil && !connector.IsDeferred(err) {
			failedCreate[op.IdentityID] = true
			if op.NewName {
				// No account under the name: the next run names the person again.
				r.releaseName(ctx, run, op, err)
			}
		}
	}
	var ahead map[int]outcome
	for i, op := range plan.Ops {
		row := rows[i]
		wasWaiting := row.Task != ""
		if conc > 1 && ahead == nil && op.Kind == OpCreateAccount && stopped == nil {
			ahead = r.createConcurrently(ctx, conn, plan.Ops, rows, lost, i, conc)
		}
		start := r.now()
		early, ran := ahead[i]
		if ran {
			start = early.start
		}
		if !wasWaiting {
			row.StartedAt = &start
		}
		var err error
		switch {
		case ran:
			// Sent before an error stopped the run, perhaps: what happened is recorded.
			err = early.err
			noteCreate(op, row, early.ref, err)
			if connector.IsRetryable(err) && stopped == nil {
				stopped = err
			}
		case stopped != nil:
			err = fmt.Errorf("not run: an earlier operation failed: %w", stopped)
		case op.Account.ID == "" && op.Kind != OpCreateAccount && failedCreate[op.IdentityID]:
			err = connector.Permanentf("not run: the account could not be created")
		case op.Refused != "":
			// The naming rule could not name the person: nothing is sent to the system.
			err = connector.Permanentf("%s", op.Refused)
			failedCreate[op.IdentityID] = true
		case batches[i] != nil:
			if b := batches[i]; !batchRan[b[0]] {
				batchRan[b[0]] = true
				runBatch(b)
			}
			err = batched[i]
			if connector.IsRetryable(err) {
				stopped = err
			}
		default:
			if op.Account.ID == "" && op.Kind != OpCreateAccount {
				op.Account = created[op.IdentityID]
				row.AccountRef = op.Account.ID
			}
			if err = lost[i]; err != nil {
				// Of two runs naming two people alike at once, this one lost the name
				// (claimNames): nothing is sent, and the retry names the person again.
				failedCreate[op.IdentityID] = true
				stopped = err
				break
			}
			var ref connector.AccountRef
			ref, err = apply(ctx, conn, op)
			if op.Kind == OpCreateAccount {
				noteCreate(op, row, ref, err)
			}
			if connector.IsRetryable(err) {
				stopped = err
			}
		}
		if task := connector.DeferredTask(err); task != "" {
			// Handed to a person: pending, naming the task, until the task is done
			// (the store then marks it applied) or cancelled. Not a failure, not retried.
			if wasWaiting && row.Task == task {
				continue // nothing new to record
			}
			row.Task, row.Status, row.Error, row.FinishedAt = task, gatehouse.OpPending, "", nil
			pending = append(pending, row)
			continue
		}
		end := r.now()
		if ran {
			end = early.end
		}
		row.FinishedAt = &end
		if err != nil {
			row.Status, row.Error = gatehouse.OpFailed, err.Error()
			run.Failed++
			switch {
			// Creations run concurrently may meet more than one retryable error: they
			// all count as the outage that stopped the run, not as permanent failures.
			case (errors.Is(err, stopped) || connector.IsRetryable(err)) && firstRetry == nil:
				firstRetry = fmt.Errorf("%s: %w", op, err)
			case stopped == nil || !(errors.Is(err, stopped) || connector.IsRetryable(err)):
				errs = append(errs, fmt.Errorf("%s: %w", op, err))
			}
		} else {
			row.Status = gatehouse.OpApplied
			run.Applied++
		}
		pending = append(pending, row)
		if len(pending) >= batch {
			if err := flush(); err != nil {
				return fmt.Errorf("record results: %w", err)
			}
		}
	}
	if err := flush(); err != nil {
		return fmt.Errorf("record results: %w", err)
	}
	if len(errs) == 0 && stopped == nil {
		return nil
	}
	if stopped != nil {
		// Retryable, even when some operations also failed permanently: only the retryable
		// error is wrapped, so that IsPermanent does not find the others.
		if len(errs) > 0 {
			return fmt.Errorf("%w (and %d operations failed permanently: %v)", firstRetry, len(errs), errors.Join(errs...))
		}
		return firstRetry
	}
	// Only permanent failures: retrying cannot help until somebody changes something.
	return connector.Permanent(errors.Join(errs...))
}

// membershipBatches groups the membership operations of a plan for a MemberBatcher. For each
// group, the changes of accounts that exist already (removals, and additions of accounts this
// run does not create or enable) form one batch, run where the first of them stands: with the
// removals, early, as deprovisioning should be. The additions of accounts this run creates or
// enables form a second batch, run where the first of them stands, after those accounts exist.
// A batch of one operation is not a batch; operations already waiting for a person stay out.
// It returns, for each batched operation's index, the indices of its batch in plan order (nil
// for the rest).
func membershipBatches(ops []Op, rows []*gatehouse.Operation, enabled bool) [][]int {
	out := make([][]int, len(ops))
	if !enabled {
		return out
	}
	late := map[string]bool{} // identities whose account this run creates or enables
	for _, op := range ops {
		if op.Kind == OpCreateAccount || op.Kind == OpEnable {
			late[op.IdentityID] = true
		}
	}
	type key struct {
		late  bool
		group string
	}
	byKey := map[key][]int{}
	for i, op := range ops {
		if (op.Kind == OpAddMember || op.Kind == OpRemoveMember) && rows[i].Task == "" {
			k := key{op.Kind == OpAddMember && (op.Account.ID == "" || late[op.IdentityID]), op.Group}
			byKey[k] = append(byKey[k], i)
		}
	}
	for _, idx := range byKey {
		if len(idx) < 2 {
			continue
		}
		for _, i := range idx {
			out[i] = idx
		}
	}
	return out
}

// apply runs one operation through the connector.
func apply(ctx context.Context, conn connector.Connector, op Op) (connector.AccountRef, error) {
	switch op.Kind {
	case OpCreateAccount:
		return conn.CreateAccount(ctx, *op.Spec)
	case OpEnable:
		return op.Account, conn.SetEnabled(ctx, op.Account, true)
	case OpDisable:
		return op.Account, conn.SetEnabled(ctx, op.Account, false)
	case OpAddMember:
		return op.Account, conn.AddMember(ctx, op.Group, op.Account)
	case OpRemoveMember:
		return op.Account, conn.RemoveMember(ctx, op.Group, op.Account)
	}
	return op.Account, connector.Permanentf("unknown operation %q", op.Kind)
}
