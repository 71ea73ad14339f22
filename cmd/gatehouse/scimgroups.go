package main

// SCIM groups: the groups an IdP pushed over SCIM, for people to review (read-only here).

import (
	"cmp"
	"fmt"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/gatehouse/gatehouse"
)

func (a *app) scimGroupsCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "scim-groups",
		Short: "Groups an IdP (Okta, Entra ID) pushed over SCIM, for review (readers)",
		Long: `An identity provider that provisions people into Gatehouse over SCIM (/scim/v2) may push
its groups too, so that who is in which IdP group can be reviewed next to the catalog's grants.
They are read-only here: the IdP that pushed a group is the only one that changes it.

  gatehouse scim-groups list --member ann@example.com
  gatehouse scim-groups show ID`,
		Args: cobra.ArbitraryArgs,
		RunE: groupRun,
	}
	cmd.AddCommand(a.scimGroupsListCommand(), a.scimGroupsShowCommand())
	return cmd
}

func (a *app) scimGroupsListCommand() *cobra.Command {
	var (
		f  gatehouse.SCIMGroupFilter
		lf listFlags
	)
	list := &cobra.Command{
		Use:     "list [--member EMAIL] [--name NAME]",
		Short:   "List SCIM groups by name, with their member count",
		Example: "  gatehouse scim-groups list --member ann@example.com\n  gatehouse scim-groups list --all -o json",
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := a.client(cmd)
			if err != nil {
				return err
			}
			page, err := collect(lf, func(o pageAt) (*gatehouse.Page[*gatehouse.SCIMGroup], error) {
				f.Limit, f.Cursor = o.Limit, o.Cursor
				return c.ListSCIMGroups(cmd.Context(), f)
			})
			if err != nil {
				return err
			}
			if a.json() {
				return printJSON(a.stdout, page)
			}
			t := newTable(a.stdout, "NAME", "MEMBERS", "SOURCE", "EXTERNAL ID", "UPDATED", "ID")
			for _, g := range page.Items {
				t.row(g.DisplayName, strconv.Itoa(len(g.Members)), cmp.Or(g.SourceName, g.Source), g.ExternalID, ts(g.UpdatedAt), g.ID)
			}
			if err := t.flush(); err != nil {
				return err
			}
			a.moreHint(page.NextCursor)
			return nil
		},
	}
	list.Flags().StringVar(&f.MemberID, "member", "", "groups of this identity: email, id or employee_id")
	list.Flags().StringVar(&f.DisplayName, "name", "", "the group with this display name (case-insensitive)")
	lf.register(list)
	return list
}

func (a *app) scimGroupsShowCommand() *cobra.Command {
	show := &cobra.Command{
		Use:   "show ID",
		Short: "Show one SCIM group and its members",
		Args:  exactArgs(1, "ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.client(cmd)
			if err != nil {
				return err
			}
			g, err := c.GetSCIMGroup(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			if a.json() {
				return printJSON(a.stdout, g)
			}
			if err := fields(a.stdout, "ID", g.ID, "Name", g.DisplayName, "External ID", g.ExternalID, "Source", cmp.Or(g.SourceName, g.Source),
				"Version", strconv.FormatInt(g.Version, 10), "Created", ts(g.CreatedAt), "Updated", ts(g.UpdatedAt),
				"Members", strconv.Itoa(len(g.Members))); err != nil {
				return err
			}
			if len(g.Members) == 0 {
				return nil
			}
			fmt.Fprintln(a.stdout)
			names := identityNames(cmd.Context(), c, g.Members)
			t := newTable(a.stdout, "MEMBER", "IDENTITY ID")
			for _, id := range g.Members {
				t.row(names[id], id)
			}
			return t.flush()
		},
	}
	return show
}
