package main

import (
	"time"

	"github.com/spf13/cobra"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/internal/client"
	"github.com/gatehouse/gatehouse/internal/service"
)

func (a *app) grantsCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:     "grants",
		Aliases: []string{"grant"},
		Short:   "List, show, create and revoke grants (who should have which entitlement, and why)",
		Args:    cobra.ArbitraryArgs,
		RunE:    groupRun,
	}
	cmd.AddCommand(a.grantsListCommand(), a.grantsShowCommand(), a.grantsCreateCommand(), a.grantsRevokeCommand())
	return cmd
}

// grantState is how a grant reads in a table.
func grantState(g *gatehouse.Grant, now time.Time) string {
	switch {
	case g.RevokedAt != nil:
		return "revoked"
	case !g.Active(now):
		return "expired"
	}
	return "active"
}

func (a *app) grantsListCommand() *cobra.Command {
	var (
		f        gatehouse.GrantQuery
		expiring string
		lf       listFlags
	)
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List grants (yours, or everyone's for auditors, operators and admins)",
		Example: `  gatehouse grants list --identity sam.taylor@example.com
  gatehouse grants list --entitlement aws/prod-admin --status all
  gatehouse grants list --source direct --all -o json
  gatehouse grants list --expiring 7d`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			switch f.Status {
			case "active", "revoked":
			case "all":
				f.Status = ""
			default:
				return usageErrorf(cmd, "--status %q: use active, revoked or all", f.Status)
			}
			if expiring != "" {
				d, err := gatehouse.ParseDuration(expiring)
				if err != nil {
					return usageErrorf(cmd, "--expiring: %v", err)
				}
				f.Expiring = d
				if f.Status != "active" {
					return usageErrorf(cmd, "--expiring lists grants in force: leave --status at active")
				}
			}
			c, err := a.client(cmd)
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			page, err := collect(lf, func(o pageAt) (*gatehouse.Page[*gatehouse.Grant], error) {
				f.Limit, f.Cursor = o.Limit, o.Cursor
				return c.ListGrants(ctx, f)
			})
			if err != nil {
				return err
			}
			if a.json() {
				return printJSON(a.stdout, page)
			}
			ids := make([]string, len(page.Items))
			for i, g := range page.Items {
				ids[i] = g.IdentityID
			}
			names := identityNames(ctx, c, ids)
			now := time.Now()
			t := newTable(a.stdout, "ID", "IDENTITY", "ENTITLEMENT", "SOURCE", "REFERENCE", "GRANTED", "EXPIRES", "STATE")
			for _, g := range page.Items {
				t.row(g.ID, names[g.IdentityID], g.EntitlementID, string(g.Source), g.Reference,
					ts(g.GrantedAt), tsp(g.ExpiresAt), grantState(g, now))
			}
			if err := t.flush(); err != nil {
				return err
			}
			a.moreHint(page.NextCursor)
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.IdentityID, "identity", "", "identity id, email or employee_id")
	fl.StringVar(&f.EntitlementID, "entitlement", "", "entitlement id (system/slug)")
	fl.StringVar(&f.System, "system", "", "system id")
	fl.StringVar((*string)(&f.Source), "source", "", "direct, birthright, request, review, exception or emergency")
	fl.StringVar(&f.Status, "status", "active", "active, revoked or all")
	fl.StringVar(&expiring, "expiring", "", "only grants in force that expire within this time from now (e.g. 7d, 48h)")
	lf.register(cmd)
	return cmd
}

func (a *app) grantsShowCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "show ID",
		Short: "Show a grant",
		Args:  exactArgs(1, "ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.client(cmd)
			if err != nil {
				return err
			}
			g, err := c.GetGrant(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			if a.json() {
				return printJSON(a.stdout, g)
			}
			return a.printGrant(cmd, c, g)
		},
	}
}

func (a *app) printGrant(cmd *cobra.Command, c *client.Client, g *gatehouse.Grant) error {
	who := identityNames(cmd.Context(), c, []string{g.IdentityID})[g.IdentityID]
	return fields(a.stdout,
		"id", g.ID,
		"identity", who,
		"entitlement", g.EntitlementID,
		"source", string(g.Source),
		"reference", g.Reference,
		"granted_by", g.GrantedBy,
		"granted_at", ts(g.GrantedAt),
		"expires_at", tsp(g.ExpiresAt),
		"state", grantState(g, time.Now()),
		"revoked_at", tsp(g.RevokedAt),
		"revoked_by", g.RevokedBy,
		"revoke_reason", g.RevokeReason,
	)
}

func (a *app) grantsCreateCommand() *cobra.Command {
	var (
		in       service.NewGrant
		duration string
	)
	cmd := &cobra.Command{
		Use:   "create",
		Short: "Grant an entitlement directly (operators): source direct, with a reference and a reason",
		Long: `Grant an entitlement directly (operators). The grant's source is direct; requests, emergency
access (gatehouse emergency grant), birthright rules and reviews write their own sources, and
asking for one of those here is refused. Nobody grants to themselves. SoD rules apply as they do
to requests: a block rule refuses, an exception rule refuses unless the person holds an approved
exception for it. The reference is your ticket (INC-4412, CHG-42); a Gatehouse number must be
real and fit: EXC-n an approved exception in force for this person and entitlement, REQ-n an
approved request of this person for it, TASK-n a manual task about them; EMG-n never.`,
		Example: `  gatehouse grants create --identity sam.taylor@example.com --entitlement aws/prod-readonly \
      --reference INC-4412 --reason "Incident follow-up" --duration 72h
  gatehouse grants create --identity ann@example.com --entitlement pay/approve \
      --reference EXC-000007 --reason "Month-end cover under the exception"`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			for _, req := range []struct{ flag, val string }{
				{"--identity", in.Identity}, {"--entitlement", in.Entitlement}, {"--reference", in.Reference}, {"--reason", in.Reason},
			} {
				if req.val == "" {
					return usageErrorf(cmd, "%s is required", req.flag)
				}
			}
			if duration != "" {
				d, err := gatehouse.ParseDuration(duration)
				if err != nil {
					return usageErrorf(cmd, "--duration: %v", err)
				}
				in.Duration = d
			}
			c, err := a.client(cmd)
			if err != nil {
				return err
			}
			g, err := c.CreateGrant(cmd.Context(), in)
			if err != nil {
				return err
			}
			if a.json() {
				return printJSON(a.stdout, g)
			}
			until := "no expiry"
			if g.ExpiresAt != nil {
				until = "until " + tsp(g.ExpiresAt)
			}
			printf(a.stdout, "Granted %s to %s, %s (grant %s).\n", g.EntitlementID, in.Identity, until, g.ID)
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&in.Identity, "identity", "", "identity id, email or employee_id (required)")
	fl.StringVar(&in.Entitlement, "entitlement", "", "entitlement id, system/slug (required)")
	fl.StringVar(&in.Reference, "reference", "", "your ticket, or an approved exception EXC-n (required)")
	fl.StringVar(&in.Reason, "reason", "", "why (required)")
	fl.StringVar(&duration, "duration", "", "how long, e.g. 8h or 30d (default: the entitlement's max_duration, or no expiry)")
	fl.StringVar((*string)(&in.Source), "source", "", "direct, the only source accepted here (others are written by their own flows)")
	return cmd
}

func (a *app) grantsRevokeCommand() *cobra.Command {
	var reason string
	cmd := &cobra.Command{
		Use:     "revoke ID --reason TEXT",
		Short:   "Revoke a grant (operators); it is kept as evidence",
		Example: `  gatehouse grants revoke 0193f0c2-… --reason "Left the project, REQ-2211"`,
		Args:    exactArgs(1, "ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if reason == "" {
				return usageErrorf(cmd, "--reason is required: say why the access is removed")
			}
			c, err := a.client(cmd)
			if err != nil {
				return err
			}
			g, err := c.RevokeGrant(cmd.Context(), args[0], reason)
			if err != nil {
				return err
			}
			if a.json() {
				return printJSON(a.stdout, g)
			}
			printf(a.stdout, "Revoked grant %s (%s).\n", g.ID, g.EntitlementID)
			return nil
		},
	}
	cmd.Flags().StringVar(&reason, "reason", "", "why the access is removed (required)")
	return cmd
}
