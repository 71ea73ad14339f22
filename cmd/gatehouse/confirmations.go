package main

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/internal/client"
)

func (a *app) confirmationsCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "confirmations",
		Short: "Confirm or revoke the request access of movers (their new manager, or admins)",
		Long: `When HR moves someone, access that came from requests is kept but must be confirmed by the
new manager. Each such grant is a confirmation addressed to that manager:

  gatehouse confirmations list --mine --status open
  gatehouse confirmations confirm ID --comment "still on the project"
  gatehouse confirmations revoke ID --comment "not needed in the new team"   # revokes the grant

Readers (auditor, operator, admin) list all of them; anyone else lists those addressed to them.
The addressed manager or an admin decides; nobody decides on their own access.`,
		Args: cobra.ArbitraryArgs,
		RunE: groupRun,
	}
	cmd.AddCommand(a.confirmationsListCommand(),
		a.confirmationsDecideCommand("confirm", "Keep a mover's request access", (*client.Client).ConfirmConfirmation),
		a.confirmationsDecideCommand("revoke", "Do not confirm a mover's request access: the grant is revoked", (*client.Client).RevokeConfirmation))
	return cmd
}

func (a *app) confirmationsListCommand() *cobra.Command {
	var (
		status string
		mine   bool
		lf     listFlags
	)
	list := &cobra.Command{
		Use:   "list [--mine] [--status open|confirmed|revoked]",
		Short: "List mover confirmations, newest first",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := a.client(cmd)
			if err != nil {
				return err
			}
			page, err := collect(lf, func(o pageAt) (*gatehouse.Page[*gatehouse.Confirmation], error) {
				return c.ListConfirmations(cmd.Context(), gatehouse.ConfirmationQuery{Mine: mine, ConfirmationFilter: gatehouse.ConfirmationFilter{
					Status: gatehouse.ConfirmationStatus(status), Limit: o.Limit, Cursor: o.Cursor,
				}})
			})
			if err != nil {
				return err
			}
			if a.json() {
				return printJSON(a.stdout, page)
			}
			t := newTable(a.stdout, "ID", "CREATED", "IDENTITY", "ENTITLEMENT", "MANAGER", "STATUS", "DECIDED BY")
			for _, x := range page.Items {
				t.row(x.ID, ts(x.CreatedAt), x.IdentityID, x.EntitlementID, x.ManagerID, string(x.Status), x.DecidedBy)
			}
			if err := t.flush(); err != nil {
				return err
			}
			a.moreHint(page.NextCursor)
			return nil
		},
	}
	list.Flags().BoolVar(&mine, "mine", false, "only those addressed to me")
	list.Flags().StringVar(&status, "status", "", "only confirmations with this status: open, confirmed or revoked")
	lf.register(list)
	return list
}

// confirmationsDecideCommand is one decision on a confirmation: confirm or revoke.
func (a *app) confirmationsDecideCommand(verb, short string,
	call func(c *client.Client, ctx context.Context, id, comment string) (*gatehouse.Confirmation, error)) *cobra.Command {
	var comment string
	d := &cobra.Command{
		Use:   verb + " ID [--comment TEXT]",
		Short: short,
		Args:  exactArgs(1, "ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.client(cmd)
			if err != nil {
				return err
			}
			x, err := call(c, cmd.Context(), args[0], comment)
			if err != nil {
				return err
			}
			if a.json() {
				return printJSON(a.stdout, x)
			}
			printf(a.stdout, "Confirmation %s: %s (%s of identity %s).\n", x.ID, x.Status, x.EntitlementID, x.IdentityID)
			return nil
		},
	}
	d.Flags().StringVar(&comment, "comment", "", "why, for the audit log")
	return d
}
