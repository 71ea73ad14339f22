package main

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/internal/service"
)

func (a *app) requestCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "request",
		Short: "Request access, and approve, deny or return the requests waiting for you",
		Long: `Access requests: ask for a requestable catalog entitlement (or role) with a justification; the
approvers of each step decide in order, and the final approval writes the grants.

  gatehouse request preview --entitlement app/eng --justification "deploy the billing fix for INC-4211"
  gatehouse request create --entitlement app/admins --duration 8h --priority high --justification "..."
  gatehouse request list --pending-me
  gatehouse request approve REQ-000123 --comment "ok for the incident"
  gatehouse request deny REQ-000123 --comment "use the read-only role"
  gatehouse request return REQ-000123 --comment "which environment?"
  gatehouse request resubmit REQ-000123 --justification "..."
  gatehouse request cancel REQ-000123

Nobody approves a request they submitted or that is for themselves, whatever their roles.`,
		Args: cobra.ArbitraryArgs,
		RunE: groupRun,
	}
	cmd.AddCommand(a.requestCreateCommand(), a.requestPreviewCommand(), a.requestListCommand(), a.requestShowCommand(),
		a.requestDecideCommand("approve", "Approve the current step (the last approval writes the grants)", false),
		a.requestDecideCommand("deny", "Deny a request", true),
		a.requestDecideCommand("return", "Return a request to its requester for more information", true),
		a.requestDecideCommand("cancel", "Cancel your open request", false),
		a.requestResubmitCommand(), a.requestDelegateCommand())
	return cmd
}

// requestInput is the request that create and preview send, read from their common flags.
type requestInput struct {
	in       service.NewRequest
	duration string
	remove   bool
}

// flags registers the flags of a request on c.
func (ri *requestInput) flags(c *cobra.Command) {
	f := c.Flags()
	f.StringVar(&ri.in.For, "for", "", "the beneficiary's email (default: yourself; operators only for someone else)")
	f.StringVar(&ri.in.Entitlement, "entitlement", "", "entitlement id, e.g. corp-ldap/engineering")
	f.StringVar(&ri.in.Role, "role", "", "role id: all its entitlements (instead of --entitlement)")
	f.StringVar(&ri.in.Justification, "justification", "", "what task needs it and for how long")
	f.StringVar(&ri.duration, "duration", "", "how long, e.g. 8h or 30d (required for privileged access)")
	f.StringVar((*string)(&ri.in.Priority), "priority", "", "low, normal (default), high or critical: sets the SLA")
	f.BoolVar(&ri.remove, "remove", false, "give the access up instead (revoked at once, no approval)")
}

// request checks the flags and builds the request.
func (ri *requestInput) request(cmd *cobra.Command) (service.NewRequest, error) {
	r := ri.in
	if ri.duration != "" {
		d, err := gatehouse.ParseDuration(ri.duration)
		if err != nil {
			return r, usageErrorf(cmd, "--duration: %v", err)
		}
		r.Duration = d
	}
	if ri.remove {
		r.Action = gatehouse.ActionRemove
	}
	if (r.Entitlement == "") == (r.Role == "") {
		return r, usageErrorf(cmd, "name one --entitlement or one --role")
	}
	return r, nil
}

func (a *app) requestCreateCommand() *cobra.Command {
	var ri requestInput
	create := &cobra.Command{
		Use:   "create --entitlement ID|--role ID --justification TEXT [--for EMAIL] [--duration 8h] [--priority high]",
		Short: "Submit an access request",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			r, err := ri.request(cmd)
			if err != nil {
				return err
			}
			c, err := a.client(cmd)
			if err != nil {
				return err
			}
			x, err := c.CreateRequest(cmd.Context(), r)
			if err != nil {
				return err
			}
			if a.json() {
				return printJSON(a.stdout, x)
			}
			printf(a.stdout, "%s %s: %s, due %s.\n", x.Ref, x.State, strings.Join(x.Entitlements, ", "), ts(x.DueAt))
			if len(x.Missing) > 0 {
				printf(a.stdout, "Returned to you: it needs %s.\nFix it with: gatehouse request resubmit %s --justification TEXT\n", strings.Join(x.Missing, "; "), x.Ref)
			}
			return writeSteps(a.stdout, x.Steps)
		},
	}
	ri.flags(create)
	return create
}

func (a *app) requestPreviewCommand() *cobra.Command {
	var ri requestInput
	preview := &cobra.Command{
		Use:   "preview --entitlement ID|--role ID --justification TEXT [--for EMAIL] [--duration 8h]",
		Short: "Show who would approve each step, and the policy findings, without submitting",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			r, err := ri.request(cmd)
			if err != nil {
				return err
			}
			c, err := a.client(cmd)
			if err != nil {
				return err
			}
			x, err := c.PreviewRequest(cmd.Context(), r)
			if err != nil {
				return err
			}
			if a.json() {
				return printJSON(a.stdout, x)
			}
			printf(a.stdout, "For %s: %s (risk %s).\n", x.Beneficiary, strings.Join(x.Entitlements, ", "), x.Findings.Risk)
			if len(x.Missing) > 0 {
				printf(a.stdout, "It would be returned: it needs %s.\n", strings.Join(x.Missing, "; "))
			}
			writeFindings(a.stdout, x.Findings)
			return writeSteps(a.stdout, x.Steps)
		},
	}
	ri.flags(preview)
	return preview
}

func (a *app) requestListCommand() *cobra.Command {
	var (
		mine, pendingMe, all bool
		state                string
		limit                int
	)
	list := &cobra.Command{
		Use:   "list [--mine|--pending-me|--all] [--state STATE,...]",
		Short: "List requests, newest first: mine (default), those waiting for me, or all (readers)",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			view := "mine"
			n := 0
			for v, on := range map[string]bool{"mine": mine, "pending-me": pendingMe, "all": all} {
				if on {
					view = v
					n++
				}
			}
			if n > 1 {
				return usageErrorf(cmd, "choose one of --mine, --pending-me, --all")
			}
			c, err := a.client(cmd)
			if err != nil {
				return err
			}
			page, err := c.ListRequests(cmd.Context(), gatehouse.RequestQuery{View: view, RequestFilter: gatehouse.RequestFilter{
				States: splitStates(state), Limit: limit,
			}})
			if err != nil {
				return err
			}
			if page.Items == nil {
				page.Items = []*gatehouse.AccessRequest{}
			}
			if a.json() {
				return printJSON(a.stdout, page)
			}
			t := newTable(a.stdout, "REQUEST", "STATE", "FOR", "ACCESS", "PRIORITY", "DUE", "WAITING FOR")
			for _, x := range page.Items {
				waiting := ""
				if i := x.CurrentStep(); i >= 0 && x.State == gatehouse.RequestPendingApproval {
					waiting = string(x.Steps[i].Kind) + ": " + strings.Join(x.Steps[i].Emails, ", ")
				}
				t.row(x.Ref, string(x.State), x.Beneficiary, string(x.Action)+" "+strings.Join(x.Entitlements, ","),
					string(x.Priority), ts(x.DueAt), waiting)
			}
			if err := t.flush(); err != nil {
				return err
			}
			a.moreHint(page.NextCursor)
			return nil
		},
	}
	list.Flags().BoolVar(&mine, "mine", false, "requests I made or that are for me (default)")
	list.Flags().BoolVar(&pendingMe, "pending-me", false, "requests waiting for my decision (also as a delegate)")
	list.Flags().BoolVar(&all, "all", false, "every request (auditor, operator, admin)")
	list.Flags().StringVar(&state, "state", "", "only these states, comma-separated (e.g. pending_approval,returned)")
	list.Flags().IntVar(&limit, "limit", 0, "page size (default 50, at most 1000)")
	return list
}

func (a *app) requestShowCommand() *cobra.Command {
	show := &cobra.Command{
		Use:   "show REQ",
		Short: "Show a request: steps, who and why, policy findings, grants and timeline",
		Args:  exactArgs(1, "REQ"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.client(cmd)
			if err != nil {
				return err
			}
			x, err := c.GetRequest(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			if a.json() {
				return printJSON(a.stdout, x)
			}
			ttp := ""
			if x.FulfilledAt != nil {
				ttp = time.Duration(x.TimeToProvision).String()
			}
			if err := fields(a.stdout, "Request", x.Ref, "State", string(x.State), "Requester", x.Requester,
				"For", x.Beneficiary, "Action", string(x.Action), "Access", strings.Join(x.Entitlements, ", "),
				"Role", x.RoleID, "Risk", string(x.Findings.Risk), "Justification", x.Justification, "Duration", durationOrNone(x.Duration),
				"Priority", string(x.Priority), "Due", ts(x.DueAt), "Approved", tsp(x.ApprovedAt),
				"Fulfilled", tsp(x.FulfilledAt), "Time to provision", ttp, "Grants", strings.Join(x.GrantIDs, ", "),
				"Error", x.Error, "Missing", strings.Join(x.Missing, "; ")); err != nil {
				return err
			}
			writeFindings(a.stdout, x.Findings)
			if err := writeSteps(a.stdout, x.Steps); err != nil {
				return err
			}
			fmt.Fprintln(a.stdout, "\nTimeline:")
			t := newTable(a.stdout, "AT", "ACTOR", "EVENT", "COMMENT")
			for _, e := range x.Events {
				t.row(ts(e.At), e.Actor, e.Kind, e.Comment)
			}
			return t.flush()
		},
	}
	return show
}

// requestDecideCommand is one of the decisions on a request: approve, deny, return or cancel.
func (a *app) requestDecideCommand(verb, short string, needComment bool) *cobra.Command {
	var comment string
	use := verb + " REQ --comment TEXT"
	if !needComment {
		use = verb + " REQ [--comment TEXT]"
	}
	d := &cobra.Command{
		Use:   use,
		Short: short,
		Args:  exactArgs(1, "REQ"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if needComment && strings.TrimSpace(comment) == "" {
				return usageErrorf(cmd, "--comment is required: say why (the requester reads it)")
			}
			c, err := a.client(cmd)
			if err != nil {
				return err
			}
			x, err := c.DecideRequest(cmd.Context(), args[0], verb, comment)
			if err != nil {
				return err
			}
			if a.json() {
				return printJSON(a.stdout, x)
			}
			printf(a.stdout, "%s: %s.\n", x.Ref, x.State)
			if i := x.CurrentStep(); i >= 0 && x.State == gatehouse.RequestPendingApproval {
				printf(a.stdout, "Next: the %s step (%s).\n", x.Steps[i].Kind, strings.Join(x.Steps[i].Emails, ", "))
			}
			if len(x.GrantIDs) > 0 && verb == "approve" {
				printf(a.stdout, "Grants: %s.\n", strings.Join(x.GrantIDs, ", "))
			}
			return nil
		},
	}
	d.Flags().StringVar(&comment, "comment", "", "why, for the requester and the audit log")
	return d
}

func (a *app) requestResubmitCommand() *cobra.Command {
	var justification string
	resubmit := &cobra.Command{
		Use:   "resubmit REQ --justification TEXT",
		Short: "Resubmit a returned request with a better justification",
		Args:  exactArgs(1, "REQ"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.client(cmd)
			if err != nil {
				return err
			}
			x, err := c.ResubmitRequest(cmd.Context(), args[0], justification)
			if err != nil {
				return err
			}
			if a.json() {
				return printJSON(a.stdout, x)
			}
			printf(a.stdout, "%s: %s.\n", x.Ref, x.State)
			return writeSteps(a.stdout, x.Steps)
		},
	}
	resubmit.Flags().StringVar(&justification, "justification", "", "what task needs it and for how long")
	return resubmit
}

func (a *app) requestDelegateCommand() *cobra.Command {
	var (
		delegateTo, delegateFrom, until, reason string
	)
	delegate := &cobra.Command{
		Use:   "delegate --to EMAIL --until TIME [--from EMAIL] [--reason TEXT]",
		Short: "Let someone decide your approval steps while you are away",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			end, err := time.Parse(time.RFC3339, until)
			if err != nil {
				if d, derr := gatehouse.ParseDuration(until); derr == nil {
					end, err = time.Now().Add(time.Duration(d)), nil
				}
			}
			if err != nil || delegateTo == "" {
				return usageErrorf(cmd, "--to EMAIL and --until (RFC 3339 time, or a duration such as 7d) are required")
			}
			c, err := a.client(cmd)
			if err != nil {
				return err
			}
			d, err := c.CreateDelegation(cmd.Context(), service.NewDelegation{From: delegateFrom, To: delegateTo, EndsAt: end, Reason: reason})
			if err != nil {
				return err
			}
			if a.json() {
				return printJSON(a.stdout, d)
			}
			printf(a.stdout, "Delegation %s: %s decides for %s until %s.\n", d.ID, d.ToID, d.FromID, ts(d.EndsAt))
			return nil
		},
	}
	delegate.Flags().StringVar(&delegateTo, "to", "", "who decides instead (email)")
	delegate.Flags().StringVar(&delegateFrom, "from", "", "whose approvals (default: yours; operators for someone else, never to themselves)")
	delegate.Flags().StringVar(&until, "until", "", "end: an RFC 3339 time or a duration from now (7d)")
	delegate.Flags().StringVar(&reason, "reason", "", "why, for the audit log")
	return delegate
}

func durationOrNone(d gatehouse.Duration) string {
	if d == 0 {
		return "as long as allowed"
	}
	return d.String()
}

func writeFindings(w io.Writer, f gatehouse.RequestFindings) {
	for _, s := range f.SoD {
		printf(w, "SoD %s (%s, %s): %s with %s", s.Rule, s.Severity, s.OnViolation, s.Left, s.Right)
		if s.Exception != "" {
			printf(w, ", allowed by exception %s", s.Exception)
		}
		fmt.Fprintln(w)
	}
	for _, p := range f.Peers {
		printf(w, "Peers: %d of %d in %s / %s hold %s\n", p.Holding, p.Peers, p.Department, p.Title, p.EntitlementID)
	}
}

func writeSteps(w io.Writer, steps []gatehouse.ApprovalStep) error {
	if len(steps) == 0 {
		return nil
	}
	fmt.Fprintln(w, "\nApproval steps:")
	t := newTable(w, "#", "STEP", "APPROVERS", "WHY", "DECISION", "BY", "AT")
	for i, s := range steps {
		t.row(fmt.Sprint(i+1), string(s.Kind), strings.Join(s.Emails, ", "), s.Why, string(s.Decision), s.DecidedBy, tsp(s.DecidedAt))
	}
	return t.flush()
}

// splitStates reads --state's comma-separated request states.
func splitStates(s string) []gatehouse.RequestState {
	var out []gatehouse.RequestState
	for _, st := range strings.Split(s, ",") {
		if st = strings.TrimSpace(st); st != "" {
			out = append(out, gatehouse.RequestState(st))
		}
	}
	return out
}
