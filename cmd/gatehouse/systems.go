package main

// Systems' health: `systems test` checks a connector and explains a failure in plain words;
// `systems status` shows the last inventory, the drift and the recent operations.

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/connector"
	"github.com/gatehouse/gatehouse/connector/connectors"
	"github.com/gatehouse/gatehouse/internal/provision"
	"github.com/gatehouse/gatehouse/internal/service"
	"github.com/gatehouse/gatehouse/internal/store"
)

// systemOpener opens a system's connector, for the provisioning workers and `systems test`
// alike: secrets come from the server's environment and files, within what secrets allows,
// checked again at each use so that a catalog stored before the policy cannot reach past it.
func systemOpener(st store.Store, secrets *connector.SecretPolicy) provision.Opener {
	if secrets == nil {
		secrets = &connector.SecretPolicy{}
	}
	return func(ctx context.Context, sys *gatehouse.System) (connector.Connector, error) {
		return connectors.OpenSystem(ctx, sys, provision.Tasks{Store: st}, connector.OSSecrets{Policy: secrets})
	}
}

func (a *app) systemsTestCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "test ID",
		Short: "Check a system's connector: connection, credentials, configuration (operators)",
		Long: `Ask the server to open the system's connector with its configured credentials and check it
without changing anything: that the server is reachable, the secure connection works, the
credentials are accepted and the configured containers can be read. A failure is explained in
plain words (wrong URL, bad token or password, missing permission, a setting that names
something that does not exist) with the connector's own error as detail.

The test runs on the server, where the secrets are. Exits 1 when the check fails.`,
		Example: `  gatehouse systems test corp-ldap
  gatehouse systems test corp-ldap -o json`,
		Args: exactArgs(1, "ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.client(cmd)
			if err != nil {
				return err
			}
			res, err := c.TestSystem(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			if a.json() {
				if err := printJSON(a.stdout, res); err != nil {
					return err
				}
			} else {
				printSystemTest(a, res)
			}
			if !res.OK {
				return errFindings
			}
			return nil
		},
	}
}

// printSystemTest prints a test result: one line when it passed; the step, the kind, the
// plain-words explanation and the detail when it failed.
func printSystemTest(a *app, res *service.SystemTest) {
	head := fmt.Sprintf("%s (%s)", res.SystemID, res.Type)
	if spec := connectors.Specs.Lookup(res.Type); res.OK && spec != nil && spec.Offline != nil {
		// Tested without connecting: there is no duration worth showing.
		printf(a.stdout, "%s: OK — %s\n", head, res.Checked)
		return
	}
	if res.OK {
		printf(a.stdout, "%s: OK in %d ms — %s\n", head, res.DurationMS, res.Checked)
		return
	}
	kind := res.Failure
	if kind == "" {
		kind = "error"
	}
	step := res.Step
	if step == "" {
		step = "check"
	}
	printf(a.stdout, "%s: FAILED at %s: %s\n", head, step, kind)
	if res.Explanation != "" {
		printf(a.stdout, "  %s\n", res.Explanation)
	}
	if res.Detail != "" {
		printf(a.stdout, "  detail: %s\n", res.Detail)
	}
}

func (a *app) systemsStatusCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "status ID",
		Short: "A system's provisioning status: last inventory, drift, recent operations (readers)",
		Long: `Show what provisioning last saw of a system: the last finished reconcile (when the inventory
was read, how long it took, the operations it planned, applied and failed, the drift it found),
the open manual tasks of a manual system, and the latest operations.`,
		Example: `  gatehouse systems status corp-ldap`,
		Args:    exactArgs(1, "ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.client(cmd)
			if err != nil {
				return err
			}
			st, err := c.SystemStatus(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			if a.json() {
				return printJSON(a.stdout, st)
			}
			a.printSystemStatus(st)
			return nil
		},
	}
}

func (a *app) printSystemStatus(st *service.SystemStatus) {
	s := st.System
	kv := []string{"system", fmt.Sprintf("%s (%s, %s, tier %s)", s.ID, s.Name, s.Connector.Type, s.Tier)}
	if r := st.LastRun; r != nil {
		took := ""
		if r.FinishedAt != nil {
			took = ", took " + r.FinishedAt.Sub(r.StartedAt).Round(time.Millisecond).String()
		}
		kv = append(kv,
			"last inventory", fmt.Sprintf("%s (%s%s, cause %s)", tsp(r.FinishedAt), r.Status, took, r.Cause),
			"inventory size", plural(r.Accounts, "account", "accounts")+", "+plural(r.Groups, "group", "groups"),
			"operations", fmt.Sprintf("%d planned, %d applied, %d failed", r.Planned, r.Applied, r.Failed),
			"drift", driftSummary(r.Findings))
		if r.Error != "" {
			kv = append(kv, "error", r.Error)
		}
	} else {
		kv = append(kv, "last inventory", "none yet (gatehouse reconcile --system "+s.ID+")")
	}
	if len(st.Runs) > 0 && st.Runs[0].Status == gatehouse.ReconcileRunning {
		kv = append(kv, "running", "a reconcile started "+ts(st.Runs[0].StartedAt))
	}
	if connectors.Specs.Tasks(s.Connector.Type) {
		more := ""
		if st.MoreTasks {
			more = "+"
		}
		kv = append(kv, "open tasks", fmt.Sprintf("%d%s (%d overdue)", st.OpenTasks, more, st.OverdueTasks))
	}
	_ = fields(a.stdout, kv...)
	if r := st.LastRun; r != nil && len(r.Findings) > 0 {
		printf(a.stdout, "\ndrift findings (%d):\n", len(r.Findings))
		t := newTable(a.stdout, "KIND", "ACTION", "ACCOUNT", "GROUP", "DETAIL")
		for _, f := range r.Findings {
			t.row(f.Kind, f.Action, f.Username, f.Group+f.Member, truncate(f.Detail, 80))
		}
		_ = t.flush()
	}
	printf(a.stdout, "\nrecent operations (%d):\n", len(st.Operations))
	if len(st.Operations) > 0 {
		a.printOps(st.Operations)
	}
}

// driftSummary counts findings by action: "3 findings (2 enforce, 1 report)".
func driftSummary(fs []gatehouse.DriftFinding) string {
	if len(fs) == 0 {
		return "none"
	}
	n := map[string]int{}
	for _, f := range fs {
		n[f.Action]++
	}
	var parts []string
	for _, act := range []string{"enforce", "report"} {
		if n[act] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n[act], act))
		}
	}
	return fmt.Sprintf("%s (%s)", plural(len(fs), "finding", "findings"), strings.Join(parts, ", "))
}
