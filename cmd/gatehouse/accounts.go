package main

import (
	"strconv"

	"github.com/spf13/cobra"

	"github.com/gatehouse/gatehouse"
)

func (a *app) accountsCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:     "accounts",
		Aliases: []string{"account"},
		Short:   "List observed accounts (what connectors read from target systems)",
		Args:    cobra.ArbitraryArgs,
		RunE:    groupRun,
	}
	cmd.AddCommand(a.accountsListCommand())
	return cmd
}

func (a *app) accountsListCommand() *cobra.Command {
	var (
		f  gatehouse.AccountFilter
		lf listFlags
	)
	list := &cobra.Command{
		Use:     "list",
		Short:   "List observed accounts (auditors, operators, admins)",
		Example: `  gatehouse accounts list --system corp-ldap --orphaned`,
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := a.client(cmd)
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			page, err := collect(lf, func(o pageAt) (*gatehouse.Page[*gatehouse.Account], error) {
				f.Limit, f.Cursor = o.Limit, o.Cursor
				return c.ListAccounts(ctx, f)
			})
			if err != nil {
				return err
			}
			if a.json() {
				return printJSON(a.stdout, page)
			}
			ids := make([]string, len(page.Items))
			for i, acc := range page.Items {
				ids[i] = acc.IdentityID
			}
			names := identityNames(ctx, c, ids)
			t := newTable(a.stdout, "SYSTEM", "USERNAME", "IDENTITY", "ENABLED", "MEMBERSHIPS", "OBSERVED", "EXTERNAL_ID")
			for _, acc := range page.Items {
				who := names[acc.IdentityID]
				if acc.IdentityID == "" {
					who = "(orphan)"
				}
				t.row(acc.SystemID, acc.Username, who, yesNo(acc.Enabled), strconv.Itoa(len(acc.Memberships)),
					ts(acc.ObservedAt), acc.ExternalID)
			}
			if err := t.flush(); err != nil {
				return err
			}
			a.moreHint(page.NextCursor)
			return nil
		},
	}
	list.Flags().StringVar(&f.SystemID, "system", "", "system id")
	list.Flags().StringVar(&f.IdentityID, "identity", "", "identity id")
	list.Flags().BoolVar(&f.Orphaned, "orphaned", false, "only accounts that belong to no identity")
	lf.register(list)
	return list
}
