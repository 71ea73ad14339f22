package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/gatehouse/gatehouse/internal/catalog"
	"github.com/gatehouse/gatehouse/internal/service"
)

// promptInput is where apply reads its confirmation, and whether it is a terminal someone
// answers at. Tests replace it.
var promptInput = func() (io.Reader, bool) { return os.Stdin, isTerminal(os.Stdin.Fd()) }

func (a *app) catalogApplyCommand() *cobra.Command {
	var (
		prune, yes bool
		reason     string
		rebind     []string
	)
	cmd := &cobra.Command{
		Use:   "apply PATH [--prune] [--yes] [--reason TEXT] [--rebind-secrets ID,...]",
		Short: "Make the stored catalog equal to a catalog, atomically (admins)",
		Long: `Apply a catalog: add, change and remove systems, entitlements, roles and SoD rules so that
the stored catalog equals the given one, in one transaction, with an audit event per change.

Removing an entitlement that people still hold is refused unless --prune is given; with
--prune their grants are revoked (and audited) too.

An apply that revokes grants (with --prune, of the entitlements it removes; or birthright grants
that changed roles no longer give) asks first: it shows how many grants of how many people it
revokes and what it removes, and applies on "y". When no one can answer (standard input is not a
terminal: a script, CI), it refuses and exits 2 unless --yes is given. The server checks it too:
it revokes only what the plan confirmed, and refuses when grants or the catalog changed between
the plan and the apply (plan again).

Changing a system's connector url while its secret references (*_env, *_file) stay the same
is refused: the secrets would go to the new server unasked. Name them again in the same change
(a different variable or file), or confirm with --rebind-secrets ID that they go along; plan
shows such systems with "!". Secret references must also be allowed by the server (serve
--secrets-dir, --secret-env-allow; never GATEHOUSE_*).

Exit codes: 0 applied (or nothing to apply), 1 refused or failed (nothing applied; also when
you answer no), 2 it would revoke grants and --yes was not given where no one can be asked.`,
		Args: exactArgs(1, "PATH"),
		RunE: func(cmd *cobra.Command, args []string) error {
			// Plan first: what the apply revokes, and its confirmation.
			c, files, plan, err := a.planCatalog(cmd, args[0])
			if err != nil {
				return err
			}
			opts := service.CatalogApply{Prune: prune, Reason: reason, RebindSecrets: rebind}
			// Without --prune, removing held entitlements is refused by the server with its
			// own advice (--prune): nothing to confirm yet.
			if rv := plan.Revocations; rv != nil && (prune || len(plan.Blocked()) == 0) {
				if err := a.confirmRevocations(cmd, args[0], plan, yes); err != nil {
					return err
				}
				opts.ConfirmRevocations = rv.Confirmation
			}
			res, err := c.ApplyCatalog(cmd.Context(), files, opts)
			if err != nil {
				return err
			}
			if a.json() {
				return printJSON(a.stdout, res)
			}
			if res.Plan == nil || res.Plan.Empty() || (res.Result != nil && res.Result.NoChange) {
				fmt.Fprintln(a.stdout, "No changes: the catalog is already applied.")
				return nil
			}
			writeChanges(a.stdout, res.Plan)
			t := res.Plan.Summary().Total()
			msg := fmt.Sprintf("Applied: %d added, %d changed, %d removed", t.Added, t.Changed, t.Removed)
			if res.Result != nil && res.Result.RevokedGrants > 0 {
				msg += fmt.Sprintf("; %s revoked", plural(res.Result.RevokedGrants, "grant", "grants"))
			}
			if res.Birthright != nil && res.Birthright.GrantsLost > 0 {
				msg += fmt.Sprintf("; %s no longer given by the rules revoked", plural(res.Birthright.GrantsLost, "birthright grant", "birthright grants"))
			}
			fmt.Fprintln(a.stdout, msg+".")
			return nil
		},
	}
	cmd.Flags().BoolVar(&prune, "prune", false, "remove entitlements even if people hold them, revoking their grants")
	cmd.Flags().BoolVarP(&yes, "yes", "y", false, "revoke the grants the apply takes away without asking (scripts, CI)")
	cmd.Flags().StringVar(&reason, "reason", "", "why (a ticket, a pull request), for the audit log")
	cmd.Flags().StringSliceVar(&rebind, "rebind-secrets", nil,
		"systems whose connector url changes while their secrets stay the same: confirm the secrets go to the new url")
	return cmd
}

// errDeclined: the person at the terminal answered no; nothing was applied.
var errDeclined = fmt.Errorf("nothing applied: the revocations were not confirmed")

// confirmRevocations asks whoever runs apply to confirm the grants plan revokes: with --yes it
// is confirmed; at a terminal the question is asked; elsewhere no one can answer, and the apply
// is refused as a usage error (the command line needs --yes).
func (a *app) confirmRevocations(cmd *cobra.Command, path string, plan *catalog.Plan, yes bool) error {
	if yes {
		return nil
	}
	rv := plan.Revocations
	var removed []string
	for _, c := range plan.Changes {
		if c.Op == catalog.OpRemove {
			line := c.Kind + " " + c.ID
			if c.ActiveGrants > 0 {
				line += fmt.Sprintf(" [%s]", plural(c.ActiveGrants, "active grant", "active grants"))
			}
			removed = append(removed, line)
		}
	}
	in, terminal := promptInput()
	if !terminal {
		msg := fmt.Sprintf("this apply would revoke %s", rv)
		if len(removed) > 0 {
			msg += fmt.Sprintf(" and remove %s (%s)", plural(len(removed), "object", "objects"), strings.Join(removed, ", "))
		}
		return usageErrorf(cmd, "%s; nothing applied. Standard input is not a terminal, so no one can confirm: see `gatehouse catalog plan %s`, then re-run with --yes to revoke them",
			msg, path)
	}
	// At a terminal: the whole plan, then the question on stderr (stdout may be piped). With
	// -o json, stdout is the answer's JSON alone.
	w := a.stdout
	if a.json() {
		w = a.stderr
	}
	writeChanges(w, plan)
	t := plan.Summary().Total()
	printf(w, "Plan: %d to add, %d to change, %d to remove.\n", t.Added, t.Changed, t.Removed)
	if len(removed) > 0 {
		printf(a.stderr, "Removes %s: %s\n", plural(len(removed), "object", "objects"), strings.Join(removed, ", "))
	}
	printf(a.stderr, "This apply revokes %s.\nApply and revoke them? [y/N] ", rv)
	answer, _ := bufio.NewReader(in).ReadString('\n')
	switch strings.ToLower(strings.TrimSpace(answer)) {
	case "y", "yes":
		return nil
	}
	return errDeclined
}
