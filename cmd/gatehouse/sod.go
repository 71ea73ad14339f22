package main

// `sod violations`: the detective separation-of-duties report (the sod command group itself,
// with list and show, is in catalogread.go).

import (
	"fmt"
	"strings"

	"github.com/gatehouse/gatehouse/internal/service"
	"github.com/spf13/cobra"
)

func (a *app) sodViolationsCommand() *cobra.Command {
	var f service.SoDViolationFilter
	cmd := &cobra.Command{
		Use:   "violations [--rule ID] [--identity EMAIL]",
		Short: "List everyone who holds a conflicting pair today",
		Long: `List everyone whose active grants break a separation-of-duties rule today, whatever the
rule's on_violation: record rules are the ones being rolled out detective-first, and block or
exception rules can still be broken by access granted before the rule existed. MODE is the rule's
on_violation; LEFT and RIGHT are the conflicting entitlements held; SINCE is when the person first
held both. Needs the auditor, operator or admin role. Exits 1 when there are violations, 0 when
there are none (like drift).`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := a.client(cmd)
			if err != nil {
				return err
			}
			rep, err := c.SoDViolations(cmd.Context(), f)
			if err != nil {
				return err
			}
			if a.json() {
				if err := printJSON(a.stdout, rep); err != nil {
					return err
				}
			} else {
				t := newTable(a.stdout, "RULE", "SEVERITY", "MODE", "IDENTITY", "LEFT", "RIGHT", "SINCE")
				for _, v := range rep.Items {
					t.row(v.Rule, v.Severity, v.OnViolation, v.Email, v.Left, v.Right, ts(v.Since))
				}
				_ = t.flush()
				modes := make([]string, 0, len(rep.ByOnViolation))
				for _, m := range []string{"block", "exception", "record"} {
					if n := rep.ByOnViolation[m]; n > 0 {
						modes = append(modes, fmt.Sprintf("%d %s", n, m))
					}
				}
				detail := ""
				if len(modes) > 0 {
					detail = " (" + strings.Join(modes, ", ") + ")"
				}
				printf(a.stderr, "%d violations by %d identities%s; %d rules checked against %d active grants\n",
					rep.Count, rep.Identities, detail, rep.RulesChecked, rep.GrantsChecked)
			}
			if rep.Count > 0 {
				return errFindings
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&f.Rule, "rule", "", "only this SoD rule id")
	cmd.Flags().StringVar(&f.Identity, "identity", "", "only this identity (email, id or employee_id)")
	return cmd
}
