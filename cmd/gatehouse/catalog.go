package main

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/gatehouse/gatehouse/connector/connectors"
	"github.com/gatehouse/gatehouse/internal/catalog"
	"github.com/gatehouse/gatehouse/internal/client"
	"github.com/gatehouse/gatehouse/internal/service"
)

func (a *app) catalogCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "catalog",
		Short: "Validate, plan, apply and export the catalog (systems, entitlements, roles, SoD rules)",
		Long: `The catalog is YAML under version control: a file, or a directory of *.yaml files merged
in name order. Validate it offline, see what it would change with plan, then apply it:

  gatehouse catalog validate catalog/
  gatehouse catalog plan catalog/
  gatehouse catalog apply catalog/ --reason "PR #42"`,
		Args: cobra.ArbitraryArgs,
		RunE: groupRun,
	}
	cmd.AddCommand(a.catalogValidateCommand(), a.catalogPlanCommand(), a.catalogApplyCommand(), a.catalogExportCommand())
	return cmd
}

func plural(n int, one, many string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, one)
	}
	return fmt.Sprintf("%d %s", n, many)
}

func (a *app) catalogValidateCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "validate PATH",
		Short: "Check a catalog file or directory offline; list every problem as file:line: field: message",
		Long: `Check a catalog without a server: YAML syntax, fields, ids, references between objects,
privileged access (time-bound, security-approved), connector settings (secrets by reference
only) and birthright rules. Every problem is listed, one per line, as file:line: field: message.
Whether owners and approvers are known identities is checked by plan and apply on the server.

Exit code 0 when the catalog is valid, 1 when it has problems.`,
		Args: exactArgs(1, "PATH"),
		RunE: func(cmd *cobra.Command, args []string) error {
			files, err := catalog.Load(args[0])
			if err != nil {
				return err
			}
			doc, err := catalog.Parse(files, connectors.Specs)
			var probs catalog.Problems
			switch {
			case errors.As(err, &probs):
				if a.json() {
					if err := printJSON(a.stdout, map[string]any{"ok": false, "problems": probs}); err != nil {
						return err
					}
					return errFindings
				}
				for _, p := range probs {
					fmt.Fprintln(a.stdout, printable(p.String()))
				}
				fmt.Fprintln(a.stdout, plural(len(probs), "problem", "problems"))
				return errFindings
			case err != nil:
				return err
			}
			c := doc.Catalog
			if a.json() {
				return printJSON(a.stdout, map[string]any{
					"ok": true, "digest": doc.Digest, "systems": len(c.Systems), "entitlements": len(c.Entitlements),
					"roles": len(c.Roles), "sod_rules": len(c.SoD),
				})
			}
			printf(a.stdout, "catalog OK: %s, %s, %s, %s\n",
				plural(len(c.Systems), "system", "systems"), plural(len(c.Entitlements), "entitlement", "entitlements"),
				plural(len(c.Roles), "role", "roles"), plural(len(c.SoD), "SoD rule", "SoD rules"))
			return nil
		},
	}
}

// loadForServer reads catalog files to send to the server. Problems are found by the server
// too, but reading locally first names a missing path without a round trip.
func loadForServer(path string) ([]service.CatalogFile, error) {
	files, err := catalog.Load(path)
	if err != nil {
		return nil, err
	}
	return service.CatalogFilesOf(files), nil
}

// writeChanges writes one line per change: "+ entitlement corp-ldap/vpn",
// "~ system wiki (owner, tier)", "- role x [3 active grants]", then one line per new or moved
// pin of a designated email ("@ system wiki owner: it@example.com is pinned to …").
func writeChanges(w io.Writer, p *catalog.Plan) {
	for _, c := range p.Changes {
		sign := map[string]string{catalog.OpAdd: "+", catalog.OpChange: "~", catalog.OpRemove: "-"}[c.Op]
		line := sign + " " + c.Kind
		if c.Kind != catalog.KindSettings {
			line += " " + c.ID
		}
		if len(c.Fields) > 0 {
			line += " (" + strings.Join(c.Fields, ", ") + ")"
		}
		if c.ActiveGrants > 0 {
			line += fmt.Sprintf(" [%s]", plural(c.ActiveGrants, "active grant", "active grants"))
		}
		fmt.Fprintln(w, printable(line))
	}
	for _, pin := range p.Pins { // who each new or moved designated email is pinned to
		fmt.Fprintln(w, printable(pin.String()))
	}
}

// planCatalog reads the catalog at path and asks the server what applying it would change.
// Apply plans first too, for the revocations it must confirm, and goes on with the same client
// and files.
func (a *app) planCatalog(cmd *cobra.Command, path string) (*client.Client, []service.CatalogFile, *catalog.Plan, error) {
	files, err := loadForServer(path)
	if err != nil {
		return nil, nil, nil, err
	}
	c, err := a.client(cmd)
	if err != nil {
		return nil, nil, nil, err
	}
	plan, err := c.PlanCatalog(cmd.Context(), files)
	if err != nil {
		return nil, nil, nil, err
	}
	return c, files, plan, nil
}

func (a *app) catalogPlanCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "plan PATH",
		Short: "Show what applying a catalog would change, without changing anything",
		Args:  exactArgs(1, "PATH"),
		RunE: func(cmd *cobra.Command, args []string) error {
			_, _, plan, err := a.planCatalog(cmd, args[0])
			if err != nil {
				return err
			}
			if a.json() {
				return printJSON(a.stdout, plan)
			}
			if plan.Empty() {
				fmt.Fprintln(a.stdout, "No changes.")
				return nil
			}
			writeChanges(a.stdout, plan)
			for _, b := range plan.Blocked() {
				printf(a.stdout, "! %s %s has %s: apply refuses to remove it without --prune, which revokes them\n",
					b.Kind, b.ID, plural(b.ActiveGrants, "active grant", "active grants"))
			}
			for _, rb := range plan.SecretRebinds {
				printf(a.stdout, "! system %s: %s changes but its secrets (%s) stay the same: apply refuses it without --rebind-secrets %s\n",
					rb.System, strings.Join(rb.Settings, ", "), strings.Join(rb.Secrets, ", "), rb.System)
			}
			if rv := plan.Revocations; rv != nil {
				printf(a.stdout, "! apply revokes %s; it asks for confirmation first (--yes where no one can answer)\n", rv)
			}
			t := plan.Summary().Total()
			printf(a.stdout, "Plan: %d to add, %d to change, %d to remove.\n", t.Added, t.Changed, t.Removed)
			return nil
		},
	}
}

func (a *app) catalogExportCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "export",
		Short: "Print the stored catalog as catalog YAML (or JSON with -o json)",
		Long: `Print the stored catalog. The YAML is the catalog format, with every default written out, so
that it can be put under version control and applied back:

  gatehouse catalog export > catalog.yaml`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := a.client(cmd)
			if err != nil {
				return err
			}
			cat, err := c.GetCatalog(cmd.Context())
			if err != nil {
				return err
			}
			if a.json() {
				return printJSON(a.stdout, cat)
			}
			out, err := catalog.Format(cat)
			if err != nil {
				return err
			}
			_, err = a.stdout.Write(out)
			return err
		},
	}
}
