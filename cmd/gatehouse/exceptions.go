package main

import (
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/internal/service"
)

func (a *app) exceptionsCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:     "exceptions",
		Aliases: []string{"exception"},
		Short:   "Record, approve and list exceptions to SoD rules and policies",
		Long: `The exceptions register: someone may hold access an SoD rule with on_violation: exception forbids
only under an approved, unexpired exception, with a risk rationale and compensating controls.
Security approvers (settings.security_approvers) or admins decide, never the requester nor the
person concerned. When an exception expires, the access it allowed is revoked (--on-expiry
revoke, the default) or it comes back for review (--on-expiry review).

  gatehouse exceptions create --for ann@example.com --rule eng-vs-vault --rationale "..." \
      --controls "weekly log review" --expires 90d --review 30d
  gatehouse exceptions approve EXC-000001 --comment "controls checked"
  gatehouse exceptions list --expiring 30d
  gatehouse exceptions show EXC-000001`,
		Args: cobra.ArbitraryArgs,
		RunE: groupRun,
	}
	cmd.AddCommand(a.exceptionsCreateCommand(),
		a.exceptionsDecideCommand("approve", "Approve a pending exception (security approvers, admins)", true),
		a.exceptionsDecideCommand("reject", "Reject a pending exception (security approvers, admins)", false),
		a.exceptionsDecideCommand("revoke", "End an exception early; an approved one's access is revoked (security approvers, admins, its recorder)", false),
		a.exceptionsListCommand(), a.exceptionsShowCommand())
	return cmd
}

func (a *app) exceptionsCreateCommand() *cobra.Command {
	var (
		in                        service.NewException
		kind, expires, review, on string
	)
	create := &cobra.Command{
		Use:   "create --for EMAIL --rule SOD_RULE_ID [--entitlement ID ...] --rationale TEXT --controls TEXT --expires 90d [--review 30d]",
		Short: "Record an exception, pending a security approver's decision",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			x := in
			x.Kind, x.OnExpiry = gatehouse.ExceptionKind(kind), gatehouse.OnExpiry(on)
			if expires == "" {
				return usageErrorf(cmd, "--expires is required, e.g. 90d")
			}
			d, err := gatehouse.ParseDuration(expires)
			if err != nil {
				return usageErrorf(cmd, "--expires: %v", err)
			}
			x.Expires = d
			if review != "" {
				if x.Review, err = gatehouse.ParseDuration(review); err != nil {
					return usageErrorf(cmd, "--review: %v", err)
				}
			}
			c, err := a.client(cmd)
			if err != nil {
				return err
			}
			e, err := c.CreateException(cmd.Context(), x)
			if err != nil {
				return err
			}
			if a.json() {
				return printJSON(a.stdout, e)
			}
			printf(a.stdout, "%s %s for %s: expires %s, review %s, on expiry %s.\nApprove with: gatehouse exceptions approve %s --comment TEXT\n",
				e.Ref, e.Status, e.Identity, ts(e.ExpiresAt), ts(e.ReviewAt), e.OnExpiry, e.Ref)
			return nil
		},
	}
	f := create.Flags()
	f.StringVar(&in.For, "for", "", "the person concerned (email; default yourself; operators for someone else)")
	f.StringVar(&kind, "kind", "", "sod (default) or policy")
	f.StringVar(&in.Rule, "rule", "", "the SoD rule waived")
	f.StringArrayVar(&in.Entitlements, "entitlement", nil, "narrow to this entitlement of the rule (repeatable)")
	f.StringVar(&in.Rationale, "rationale", "", "risk rationale: why the business accepts the risk")
	f.StringVar(&in.Controls, "controls", "", "compensating controls")
	f.StringVar(&expires, "expires", "", "how long it lasts, e.g. 90d (at most 366d)")
	f.StringVar(&review, "review", "", "when to review it, e.g. 30d (default: at expiry)")
	f.StringVar(&on, "on-expiry", "", "revoke (default: the access it allowed is revoked) or review")
	return create
}

// exceptionsDecideCommand is one decision on an exception: approve (which can renew one back
// for review, hence --expires), reject or revoke.
func (a *app) exceptionsDecideCommand(verb, short string, renewable bool) *cobra.Command {
	var comment, renew string
	d := &cobra.Command{
		Use:   verb + " EXC --comment TEXT",
		Short: short,
		Args:  exactArgs(1, "EXC"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if strings.TrimSpace(comment) == "" {
				return usageErrorf(cmd, "--comment is required: say why")
			}
			dec := service.ExceptionDecision{Comment: comment}
			if renew != "" {
				d, err := gatehouse.ParseDuration(renew)
				if err != nil {
					return usageErrorf(cmd, "--expires: %v", err)
				}
				dec.Expires = d
			}
			c, err := a.client(cmd)
			if err != nil {
				return err
			}
			e, err := c.DecideException(cmd.Context(), args[0], verb, dec)
			if err != nil {
				return err
			}
			if a.json() {
				return printJSON(a.stdout, e)
			}
			printf(a.stdout, "%s: %s (expires %s).\n", e.Ref, e.Status, ts(e.ExpiresAt))
			return nil
		},
	}
	d.Flags().StringVar(&comment, "comment", "", "why (required)")
	if renewable {
		d.Flags().StringVar(&renew, "expires", "", "renew: a new life from now, e.g. 90d (required for one back for review)")
	}
	return d
}

func (a *app) exceptionsListCommand() *cobra.Command {
	var status, expiring, identity string
	var limit int
	list := &cobra.Command{
		Use:   "list [--expiring 30d] [--status pending,approved,...] [--for EMAIL]",
		Short: "List exceptions, newest first: everyone's for readers, your own otherwise",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := a.client(cmd)
			if err != nil {
				return err
			}
			q := service.ExceptionQuery{Identity: identity, Limit: limit}
			for _, st := range strings.Split(status, ",") {
				if st = strings.TrimSpace(st); st != "" {
					q.Statuses = append(q.Statuses, gatehouse.ExceptionStatus(st))
				}
			}
			if expiring != "" {
				d, err := gatehouse.ParseDuration(expiring)
				if err != nil {
					return usageErrorf(cmd, "--expiring: %v", err)
				}
				q.Expiring = time.Duration(d)
			}
			page, err := c.ListExceptions(cmd.Context(), q)
			if err != nil {
				return err
			}
			if page.Items == nil {
				page.Items = []*gatehouse.Exception{}
			}
			if a.json() {
				return printJSON(a.stdout, page)
			}
			t := newTable(a.stdout, "EXCEPTION", "STATUS", "FOR", "RULE", "EXPIRES", "REVIEW", "ON EXPIRY", "APPROVED BY")
			for _, e := range page.Items {
				t.row(e.Ref, string(e.Status), e.Identity, e.RuleID, ts(e.ExpiresAt), ts(e.ReviewAt), string(e.OnExpiry), e.ApprovedBy)
			}
			if err := t.flush(); err != nil {
				return err
			}
			a.moreHint(page.NextCursor)
			return nil
		},
	}
	list.Flags().StringVar(&expiring, "expiring", "", "only approved exceptions expiring within this time, e.g. 30d")
	list.Flags().StringVar(&status, "status", "", "only these statuses, comma-separated")
	list.Flags().StringVar(&identity, "for", "", "only this person's (email)")
	list.Flags().IntVar(&limit, "limit", 0, "page size (default 50, at most 1000)")
	return list
}

func (a *app) exceptionsShowCommand() *cobra.Command {
	show := &cobra.Command{
		Use:   "show EXC",
		Short: "Show an exception: rationale, controls, approver, dates and the grants it allowed",
		Args:  exactArgs(1, "EXC"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.client(cmd)
			if err != nil {
				return err
			}
			e, err := c.GetException(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			if a.json() {
				return printJSON(a.stdout, e)
			}
			return fields(a.stdout, "Exception", e.Ref, "Status", string(e.Status), "For", e.Identity, "Kind", string(e.Kind),
				"Rule", e.RuleID, "Entitlements", strings.Join(e.EntitlementIDs, ", "), "Rationale", e.Rationale,
				"Compensating controls", e.CompensatingControls, "Requested by", e.RequestedBy, "Approved by", e.ApprovedBy,
				"Approved", tsp(e.ApprovedAt), "Comment", e.Comment, "Expires", ts(e.ExpiresAt), "Review", ts(e.ReviewAt),
				"On expiry", string(e.OnExpiry), "Grants", strings.Join(e.GrantIDs, ", "))
		},
	}
	return show
}
