package main

// Emergency (break-glass) access: grant at once, list the post-event reviews, complete one.

import (
	"time"

	"github.com/spf13/cobra"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/internal/service"
)

func (a *app) emergencyCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "emergency",
		Short: "Emergency (break-glass) access: grant at once, then review what was done",
		Args:  cobra.ArbitraryArgs,
		RunE:  groupRun,
	}

	cmd.AddCommand(a.emergencyGrantCommand(), a.emergencyListCommand(), a.emergencyReviewCommand())
	return cmd
}

func (a *app) emergencyGrantCommand() *cobra.Command {
	var in service.NewEmergencyGrant
	var duration time.Duration
	grant := &cobra.Command{
		Use:   "grant --for EMAIL --entitlement ID --reason TEXT [--duration 1h]",
		Short: "Grant an emergency entitlement at once (emergency operators)",
		Long: `Grant an entitlement pre-approved for emergencies (emergency: true in the catalog) without
an approval chain. Only the catalog's emergency_operators with the operator role may, never for
themselves. The reason (15 characters at least) names the incident; the duration defaults to,
and may not exceed, the entitlement's max_duration and settings.emergency_max_duration (4h by
default). The access is provisioned at once and removed when it expires; security is told, and
a post-event review (EMG-000123) opens that someone other than you must complete within 24h.`,
		Example: `  gatehouse emergency grant --for dana@example.com --entitlement corp-ldap/db-admins \
    --reason "INC-4711 payments database down" --duration 1h`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if in.Identity == "" || in.Entitlement == "" || in.Reason == "" {
				return usageErrorf(cmd, "--for, --entitlement and --reason are required")
			}
			if duration < 0 {
				return usageErrorf(cmd, "--duration must not be negative")
			}
			if duration > 0 {
				in.Duration = gatehouse.Duration(duration)
			}
			c, err := a.client(cmd)
			if err != nil {
				return err
			}
			out, err := c.GrantEmergency(cmd.Context(), in)
			if err != nil {
				return err
			}
			if a.json() {
				return printJSON(a.stdout, out)
			}
			if err := fields(a.stdout, "Emergency", out.Review.Ref, "Grant", out.Grant.ID, "For", in.Identity,
				"Entitlement", out.Grant.EntitlementID, "Expires", tsp(out.Grant.ExpiresAt), "Review due", ts(out.Review.DueAt)); err != nil {
				return err
			}
			printf(a.stderr, "granted; security is notified and review %s is open until someone else completes it\n", out.Review.Ref)
			return nil
		},
	}
	grant.Flags().StringVar(&in.Identity, "for", "", "the beneficiary: email, id or employee_id")
	grant.Flags().StringVar(&in.Entitlement, "entitlement", "", "an entitlement with emergency: true")
	grant.Flags().StringVar(&in.Reason, "reason", "", "why, with the incident or ticket (15 characters at least)")
	grant.Flags().DurationVar(&duration, "duration", 0, "how long (default: the longest allowed)")
	return grant
}

func (a *app) emergencyListCommand() *cobra.Command {
	var open bool
	var limit int
	list := &cobra.Command{
		Use:     "list [--open]",
		Short:   "List post-event reviews of emergency grants, with the open and overdue counts (readers)",
		Example: "  gatehouse emergency list --open",
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := a.client(cmd)
			if err != nil {
				return err
			}
			out, err := c.ListEmergencyReviews(cmd.Context(), gatehouse.EmergencyReviewFilter{OpenOnly: open, Limit: limit})
			if err != nil {
				return err
			}
			if out.Items == nil {
				out.Items = []*gatehouse.EmergencyReview{}
			}
			if a.json() {
				return printJSON(a.stdout, out)
			}
			now := time.Now()
			t := newTable(a.stdout, "REVIEW", "STATUS", "DUE", "ENTITLEMENT", "GRANTED", "EXPIRES", "REASON")
			for _, r := range out.Items {
				status := "done"
				switch {
				case r.Overdue(now):
					status = "OVERDUE"
				case r.Open():
					status = "open"
				}
				t.row(r.Ref, status, ts(r.DueAt), r.EntitlementID, ts(r.GrantedAt), ts(r.ExpiresAt), truncate(r.Reason, 50))
			}
			_ = t.flush()
			printf(a.stderr, "%d open reviews, %d overdue\n", out.Open, out.Overdue)
			a.moreHint(out.NextCursor)
			return nil
		},
	}
	list.Flags().BoolVar(&open, "open", false, "only reviews not yet completed")
	list.Flags().IntVar(&limit, "limit", 0, "page size (default 50, at most 1000)")
	return list
}

func (a *app) emergencyReviewCommand() *cobra.Command {
	var done service.EmergencyReviewCompletion
	review := &cobra.Command{
		Use:   "review ID --who TEXT --why TEXT --what TEXT",
		Short: "Complete the post-event review of an emergency grant (operators, security approvers; not the granter)",
		Example: `  gatehouse emergency review EMG-000123 --who "dana@example.com" \
    --why "INC-4711 payments database down" --what "restarted the primary, no data changed"`,
		Args: exactArgs(1, "ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if done.Who == "" || done.Why == "" || done.What == "" {
				return usageErrorf(cmd, "--who, --why and --what are required: who used the access, why, and what was done")
			}
			c, err := a.client(cmd)
			if err != nil {
				return err
			}
			r, err := c.CompleteEmergencyReview(cmd.Context(), args[0], done)
			if err != nil {
				return err
			}
			if a.json() {
				return printJSON(a.stdout, r)
			}
			return fields(a.stdout, "Review", r.Ref, "Entitlement", r.EntitlementID, "Reason", r.Reason,
				"Completed by", r.CompletedBy, "Completed at", tsp(r.CompletedAt), "Who", r.Who, "Why", r.Why, "What", r.What)
		},
	}
	review.Flags().StringVar(&done.Who, "who", "", "who used the access")
	review.Flags().StringVar(&done.Why, "why", "", "why it was needed")
	review.Flags().StringVar(&done.What, "what", "", "what was done with it")
	return review
}
