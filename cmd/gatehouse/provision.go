package main

// Provisioning: reconcile, ops and drift (clients), and the workers serve runs.

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/riverqueue/river"
	"github.com/spf13/cobra"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/connector"
	"github.com/gatehouse/gatehouse/connector/connectors"
	"github.com/gatehouse/gatehouse/internal/client"
	"github.com/gatehouse/gatehouse/internal/jobs"
	"github.com/gatehouse/gatehouse/internal/provision"
	"github.com/gatehouse/gatehouse/internal/service"
	"github.com/gatehouse/gatehouse/internal/store"
)

// defaultReconcileInterval is how often serve reconciles every system when nothing changed:
// drift made by hand in a target is found and repaired within this time.
const defaultReconcileInterval = 10 * time.Minute

// newJobHost builds the job host on st's database: the provisioning workers and the scheduled
// reconcile (interval 0: none), with other packages' jobs registered by extra. Connectors
// resolve their secrets under secrets (serve --secrets-dir, --secret-env-allow). The caller
// schedules the service's periodic tasks, starts it and stops it.
func newJobHost(ctx context.Context, st store.Store, secrets *connector.SecretPolicy, interval, lease time.Duration, log *slog.Logger,
	extra ...func(*river.Workers, map[string]river.QueueConfig)) (*jobs.Host, error) {
	rec := &provision.Reconciler{Store: st, Log: log, Open: systemOpener(st, secrets)}
	return jobs.New(ctx, st, rec, jobs.Options{Interval: interval, LeaseTTL: lease, Logger: log,
		Supported: func(t string) bool { return connectors.Registry[t] != nil }, Extra: extra})
}

func (a *app) reconcileCommand() *cobra.Command {
	var (
		system  string
		wait    bool
		poll    time.Duration
		timeout time.Duration
	)
	cmd := &cobra.Command{
		Use:   "reconcile [--system ID] [--wait]",
		Short: "Make target systems agree with the desired state (operators)",
		Long: `Enqueue a reconcile of one system, or of every system (critical systems first). Each
reconcile reads the system's accounts and groups, plans the operations that make it agree with
identities and grants, and runs them; every operation is recorded (gatehouse ops list).

With --wait, wait until every reconcile has finished: exit 0 when all converged, 1 listing the
operations that failed. A target that is down is retried with exponential backoff meanwhile, so
--wait waits through an outage; --timeout bounds the wait. A server that stops in the middle
of a reconcile marks the run interrupted when it starts again and runs the same job again (at
once after a graceful stop, within about 3/8 of --reconcile-lease after a kill), so --wait
follows it through a restart (it gives up when the server has not answered for 2m).`,
		Example: `  gatehouse reconcile --system corp-ldap --wait`,
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := a.client(cmd)
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			st, err := c.Reconcile(ctx, system)
			if err != nil && wait {
				return needAnswer(err) // without the jobs' ids there is nothing to wait for
			}
			if err != nil {
				return err
			}
			if wait {
				last := ""
				var down time.Time // since when the server has not answered; zero: it answers
				var expired <-chan time.Time
				if timeout > 0 {
					expired = time.After(timeout)
				}
			poll:
				for !st.Done {
					line := progress(st)
					if line != last && !a.json() {
						fmt.Fprintln(a.stderr, printable(line))
						last = line
					}
					select {
					case <-ctx.Done():
						return ctx.Err()
					case <-expired:
						// Report where things stand; the jobs go on in the server.
						printf(a.stderr, "gave up waiting after %s\n", timeout)
						break poll
					case <-time.After(poll):
					}
					next, err := c.ReconcileJobs(ctx, jobIDs(st))
					switch {
					case err == nil:
						st, down = next, time.Time{}
					case !serverDown(err):
						return err
					case down.IsZero():
						// A restart: the server marks the runs it cut short interrupted and
						// runs their jobs again, so the same jobs can be followed after it.
						down = time.Now()
						fmt.Fprintf(a.stderr, "server unavailable (%v); waiting up to %s for it to come back\n", err, restartGrace)
					case time.Since(down) > restartGrace:
						return err
					}
				}
			}
			if a.json() {
				if err := printJSON(a.stdout, st); err != nil {
					return err
				}
			} else {
				a.printReconcile(st, wait)
			}
			if wait && !st.Converged {
				return errFindings
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&system, "system", "", "system id (default: every system)")
	cmd.Flags().BoolVar(&wait, "wait", false, "wait until converged; exit 1 listing failed operations otherwise")
	cmd.Flags().DurationVar(&poll, "poll", 500*time.Millisecond, "with --wait: how often to ask for progress")
	cmd.Flags().DurationVar(&timeout, "timeout", 0, "with --wait: stop waiting after this long and exit 1 (0: wait until done)")
	return cmd
}

// restartGrace is how long reconcile --wait keeps asking a server that does not answer: long
// enough for a restart, short enough that a server that is gone ends the wait.
const restartGrace = 2 * time.Minute

// serverDown reports whether err means the server did not answer (a restart, a replica out of
// rotation) rather than that it refused the request.
func serverDown(err error) bool {
	var unreachable *client.UnreachableError
	return errors.As(err, &unreachable) || client.IsCode(err, gatehouse.EUNAVAILABLE)
}

// progress is one line about jobs still running, for --wait.
func progress(st *service.ReconcileStatus) string {
	done, retrying := 0, 0
	for _, j := range st.Jobs {
		switch {
		case j.Done:
			done++
		case j.Error != "":
			retrying++
		}
	}
	s := fmt.Sprintf("waiting: %d of %d reconciles finished", done, len(st.Jobs))
	if retrying > 0 {
		s += fmt.Sprintf(", %d retrying after errors", retrying)
	}
	return s
}

func (a *app) printReconcile(st *service.ReconcileStatus, waited bool) {
	t := newTable(a.stdout, "JOB", "SYSTEM", "STATE", "ATTEMPT", "PLANNED", "APPLIED", "FAILED", "FINDINGS", "ERROR")
	last := map[int64]*gatehouse.Reconcile{}
	for _, r := range st.Runs {
		if last[r.JobID] == nil {
			last[r.JobID] = r
		}
	}
	for _, j := range st.Jobs {
		planned, applied, failed, findings, sys := "", "", "", "", j.SystemID
		if r := last[j.ID]; r != nil {
			planned, applied, failed = fmt.Sprint(r.Planned), fmt.Sprint(r.Applied), fmt.Sprint(r.Failed)
			findings, sys = fmt.Sprint(len(r.Findings)), r.SystemID
		}
		t.row(fmt.Sprint(j.ID), sys, j.State, fmt.Sprint(j.Attempt), planned, applied, failed, findings, truncate(j.Error, 80))
	}
	_ = t.flush()
	if len(st.Failed) > 0 {
		fmt.Fprintln(a.stdout, "\nFailed operations:")
		a.printOps(st.Failed)
	}
	switch {
	case !waited:
		fmt.Fprintln(a.stdout, "\nEnqueued. Follow with: gatehouse reconcile --wait, gatehouse ops list")
	case st.Converged:
		fmt.Fprintln(a.stdout, "\nConverged.")
	default:
		fmt.Fprintln(a.stdout, "\nNot converged.")
	}
}

func (a *app) printOps(ops []*gatehouse.Operation) {
	t := newTable(a.stdout, "FINISHED", "SYSTEM", "OPERATION", "ACCOUNT", "GROUP", "STATUS", "CAUSE", "LATENCY", "DETAIL")
	for _, o := range ops {
		latency := ""
		if o.FinishedAt != nil && o.Status == gatehouse.OpApplied {
			latency = o.FinishedAt.Sub(o.RequestedAt).Round(time.Millisecond).String()
		}
		detail := o.Error
		if detail == "" && o.Task != "" && o.Status == gatehouse.OpPending {
			detail = "waiting for " + o.Task // a person does it: gatehouse tasks list
		}
		switch {
		case detail == "":
			detail = o.Detail // how a created account's name was chosen
		case o.Detail != "":
			detail += " (naming: " + o.Detail + ")" // why the name refused was the one chosen
		}
		t.row(tsp(o.FinishedAt), o.SystemID, o.Kind, o.Username, o.Group, string(o.Status), o.Cause, latency, truncate(detail, 160))
	}
	_ = t.flush()
}

func (a *app) opsCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:     "ops",
		Aliases: []string{"operations"},
		Short:   "Provisioning operations: every change made (or tried) in a target system",
		Args:    cobra.ArbitraryArgs,
		RunE:    groupRun,
	}
	cmd.AddCommand(a.opsListCommand())
	return cmd
}

func (a *app) opsListCommand() *cobra.Command {
	var (
		f      gatehouse.OperationFilter
		failed bool
		lf     listFlags
	)
	list := &cobra.Command{
		Use:   "list [--system ID] [--failed]",
		Short: "List operations, newest first (auditors, operators, admins)",
		Long: `List provisioning operations, newest first: what was done in which system, for whom, why
(cause: grant:<id>, hr-import:<id>, catalog, drift, schedule), and how long after the desired
state changed it was applied (LATENCY: time-to-provision or time-to-deprovision).`,
		Example: `  gatehouse ops list --system corp-ldap --failed`,
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := a.client(cmd)
			if err != nil {
				return err
			}
			if failed {
				f.Status = gatehouse.OpFailed
			}
			page, err := collect(lf, func(o pageAt) (*gatehouse.Page[*gatehouse.Operation], error) {
				f.Limit, f.Cursor = o.Limit, o.Cursor
				return c.ListOperations(cmd.Context(), f)
			})
			if err != nil {
				return err
			}
			if a.json() {
				return printJSON(a.stdout, page)
			}
			a.printOps(page.Items)
			a.moreHint(page.NextCursor)
			return nil
		},
	}
	list.Flags().StringVar(&f.SystemID, "system", "", "system id")
	list.Flags().BoolVar(&failed, "failed", false, "only failed operations")
	list.Flags().StringVar(&f.IdentityID, "identity", "", "identity id, email or employee_id")
	lf.register(list)
	return list
}

func (a *app) driftCommand() *cobra.Command {
	var system string
	cmd := &cobra.Command{
		Use:   "drift [--system ID]",
		Short: "What the last reconcile of each system found that nobody asked for",
		Long: `Show the drift findings of the last finished reconcile of each system: memberships nobody
granted, accounts that match no identity, leavers' enabled accounts, foreign group members.
ACTION says whether the system's drift policy repairs it (enforce) or only reports it (report).
Exits 1 when there are findings.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := a.client(cmd)
			if err != nil {
				return err
			}
			runs, err := c.Drift(cmd.Context(), system)
			if err != nil {
				return err
			}
			if a.json() {
				if err := printJSON(a.stdout, runs); err != nil {
					return err
				}
			} else {
				t := newTable(a.stdout, "SYSTEM", "KIND", "ACTION", "ACCOUNT", "GROUP", "DETAIL")
				for _, r := range runs {
					for _, f := range r.Findings {
						t.row(r.SystemID, f.Kind, f.Action, f.Username, f.Group+f.Member, f.Detail)
					}
				}
				_ = t.flush()
				for _, r := range runs {
					printf(a.stderr, "%s: last reconciled %s (%s), %d findings\n", r.SystemID, tsp(r.FinishedAt), r.Status, len(r.Findings))
				}
			}
			for _, r := range runs {
				if len(r.Findings) > 0 {
					return errFindings
				}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&system, "system", "", "system id")
	return cmd
}

// jobIDs returns the ids of a reconcile status's jobs, to ask for their progress again.
func jobIDs(st *service.ReconcileStatus) []int64 {
	ids := make([]int64, len(st.Jobs))
	for i, j := range st.Jobs {
		ids[i] = j.ID
	}
	return ids
}
