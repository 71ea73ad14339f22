package main

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/gatehouse/gatehouse"
)

func (a *app) whoamiCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "whoami",
		Short: "Show who the token belongs to and its Gatehouse roles",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := a.client(cmd)
			if err != nil {
				return err
			}
			me, err := c.Me(cmd.Context())
			if err != nil {
				return err
			}
			if a.json() {
				return printJSON(a.stdout, me)
			}
			roles := joinRoles(me.Principal.Roles)
			if roles == "" {
				roles = "none (you see your own access)"
			}
			if me.Identity == nil {
				return fields(a.stdout,
					"identity", "bootstrap admin (GATEHOUSE_BOOTSTRAP_TOKEN; belongs to no identity)",
					"roles", roles,
					"server", c.Addr())
			}
			id := me.Identity
			return fields(a.stdout,
				"identity", fmt.Sprintf("%s <%s>", id.DisplayName(), id.Email),
				"title", joinNonEmpty(", ", id.Title, id.Department),
				"roles", roles,
				"token", me.Principal.TokenID,
				"server", c.Addr())
		},
	}
}

func (a *app) identitiesCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:     "identities",
		Aliases: []string{"identity", "ids"},
		Short:   "List, show and create identities; set Gatehouse roles",
		Args:    cobra.ArbitraryArgs,
		RunE:    groupRun,
	}
	cmd.AddCommand(a.identitiesListCommand(), a.identitiesShowCommand(), a.identitiesCreateCommand(), a.identitiesUpdateCommand(), a.identitiesRolesCommand())
	return cmd
}

func (a *app) identitiesListCommand() *cobra.Command {
	var (
		f  gatehouse.IdentityFilter
		lf listFlags
	)
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List identities (auditors, operators, admins)",
		Example: `  gatehouse identities list --department Engineering --status active
  gatehouse identities list --type contractor --all -o json | jq -r '.items[].email'`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := a.client(cmd)
			if err != nil {
				return err
			}
			page, err := collect(lf, func(o pageAt) (*gatehouse.Page[*gatehouse.Identity], error) {
				f.Limit, f.Cursor = o.Limit, o.Cursor
				return c.ListIdentities(cmd.Context(), f)
			})
			if err != nil {
				return err
			}
			if a.json() {
				return printJSON(a.stdout, page)
			}
			t := newTable(a.stdout, "EMPLOYEE_ID", "EMAIL", "NAME", "DEPARTMENT", "TITLE", "TYPE", "STATUS", "MANAGER", "ROLES")
			for _, i := range page.Items {
				t.row(i.EmployeeID, i.Email, i.DisplayName(), i.Department, truncate(i.Title, 32),
					string(i.EmploymentType), string(i.Status), i.ManagerID, joinRoles(i.Roles))
			}
			if err := t.flush(); err != nil {
				return err
			}
			a.moreHint(page.NextCursor)
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.Query, "q", "", "substring of email, name, employee_id or title")
	fl.StringVar(&f.Department, "department", "", "department, exactly")
	fl.StringVar((*string)(&f.Status), "status", "", "active, leave or terminated")
	fl.StringVar((*string)(&f.EmploymentType), "type", "", "employee, contractor or intern")
	fl.StringVar(&f.ManagerID, "manager", "", "employee_id of the manager")
	fl.StringVar((*string)(&f.Role), "role", "", "Gatehouse role: admin, operator or auditor")
	fl.StringVar(&f.Location, "location", "", "location, exactly")
	lf.register(cmd)
	return cmd
}

func (a *app) identitiesShowCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "show KEY",
		Short: "Show an identity (by id, email or employee_id) and its active grants",
		Args:  exactArgs(1, "KEY"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.client(cmd)
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			id, err := c.GetIdentity(ctx, args[0])
			if err != nil {
				return err
			}
			grants, err := collect(listFlags{all: true}, func(o pageAt) (*gatehouse.Page[*gatehouse.Grant], error) {
				return c.ListGrants(ctx, gatehouse.GrantQuery{GrantFilter: gatehouse.GrantFilter{IdentityID: id.ID, Status: "active", Limit: o.Limit, Cursor: o.Cursor}})
			})
			if err != nil {
				return err
			}
			if a.json() {
				return printJSON(a.stdout, map[string]any{"identity": id, "grants": grants.Items})
			}
			manager := id.ManagerID
			if manager != "" {
				if m, err := c.GetIdentity(ctx, manager); err == nil {
					manager = fmt.Sprintf("%s (%s <%s>)", m.EmployeeID, m.DisplayName(), m.Email)
				}
			}
			if err := fields(a.stdout,
				"name", id.DisplayName(),
				"email", id.Email,
				"employee_id", id.EmployeeID,
				"id", id.ID,
				"kind", string(id.Kind),
				"department", id.Department,
				"title", id.Title,
				"manager", manager,
				"location", id.Location,
				"employment_type", string(id.EmploymentType),
				"status", string(id.Status),
				"start_date", id.StartDate,
				"end_date", id.EndDate,
				"gatehouse_roles", joinRoles(id.Roles),
				"source", cmp.Or(id.SourceName, id.Source),
				"created", ts(id.CreatedAt),
				"updated", ts(id.UpdatedAt),
			); err != nil {
				return err
			}
			if len(id.Attributes) > 0 {
				fmt.Fprintln(a.stdout, "\nattributes:")
				keys := make([]string, 0, len(id.Attributes))
				for k := range id.Attributes {
					keys = append(keys, k)
				}
				slices.Sort(keys)
				var kv []string
				for _, k := range keys {
					kv = append(kv, "  "+k, id.Attributes[k])
				}
				if err := fields(a.stdout, kv...); err != nil {
					return err
				}
			}
			printf(a.stdout, "\nactive grants (%d):\n", len(grants.Items))
			if len(grants.Items) == 0 {
				return nil
			}
			t := newTable(a.stdout, "ENTITLEMENT", "SOURCE", "REFERENCE", "GRANTED", "EXPIRES", "ID")
			for _, g := range grants.Items {
				t.row(g.EntitlementID, string(g.Source), g.Reference, ts(g.GrantedAt), tsp(g.ExpiresAt), g.ID)
			}
			return t.flush()
		},
	}
}

func (a *app) identitiesCreateCommand() *cobra.Command {
	var (
		in     gatehouse.Identity
		attrs  []string
		kind   string
		reason string
	)
	cmd := &cobra.Command{
		Use:   "create",
		Short: "Create an identity by hand (operators): a service account, or before the HR feed",
		Example: `  gatehouse identities create --email ci-bot@example.com --kind service --department IT \
      --manager E1042 --reason "CI deploy bot, CHG-1234"
  gatehouse identities create --email jo.doe@example.com --employee-id E9001 --first-name Jo \
      --last-name Doe --department Sales --title "Account Executive" --start-date 2026-02-01 \
      --attr cost_center=CC-SAL-02`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if in.Email == "" {
				return usageErrorf(cmd, "--email is required")
			}
			in.Kind = gatehouse.IdentityKind(kind)
			for _, kv := range attrs {
				k, v, ok := strings.Cut(kv, "=")
				if !ok || strings.TrimSpace(k) == "" {
					return usageErrorf(cmd, "--attr %q: write it as key=value", kv)
				}
				if in.Attributes == nil {
					in.Attributes = map[string]string{}
				}
				in.Attributes[strings.TrimSpace(k)] = v
			}
			c, err := a.client(cmd)
			if err != nil {
				return err
			}
			id, err := c.CreateIdentity(cmd.Context(), &in, reason)
			if err != nil {
				return err
			}
			if a.json() {
				return printJSON(a.stdout, id)
			}
			printf(a.stdout, "Created identity %s (id %s).\n", id.Email, id.ID)
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&in.Email, "email", "", "email address (required)")
	fl.StringVar(&in.EmployeeID, "employee-id", "", "HR employee id (required for a person)")
	fl.StringVar(&in.FirstName, "first-name", "", "first name")
	fl.StringVar(&in.LastName, "last-name", "", "last name")
	fl.StringVar(&in.Department, "department", "", "department")
	fl.StringVar(&in.Title, "title", "", "job title")
	fl.StringVar(&in.ManagerID, "manager", "", "employee_id of the manager")
	fl.StringVar(&in.Location, "location", "", "location")
	fl.StringVar((*string)(&in.EmploymentType), "type", "", "employee (default), contractor or intern")
	fl.StringVar((*string)(&in.Status), "status", "", "active (default), leave or terminated")
	fl.StringVar(&in.StartDate, "start-date", "", "start date, YYYY-MM-DD")
	fl.StringVar(&in.EndDate, "end-date", "", "end date, YYYY-MM-DD (contractors should have one)")
	fl.StringArrayVar(&attrs, "attr", nil, "extra attribute key=value (repeatable)")
	fl.StringVar(&kind, "kind", "person", "person or service")
	fl.StringVar(&reason, "reason", "", "why, for the audit log")
	return cmd
}

func (a *app) identitiesRolesCommand() *cobra.Command {
	var (
		set    string
		reason string
	)
	cmd := &cobra.Command{
		Use:   "roles KEY [--set admin,operator,auditor]",
		Short: "Show or replace an identity's Gatehouse roles (setting them: admins, never their own)",
		Example: `  gatehouse identities roles omar.haddad@example.com
  gatehouse identities roles omar.haddad@example.com --set operator,auditor --reason "IAM-42"
  gatehouse identities roles omar.haddad@example.com --set ""      # remove every role`,
		Args: exactArgs(1, "KEY"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.client(cmd)
			if err != nil {
				return err
			}
			var id *gatehouse.Identity
			if cmd.Flags().Changed("set") {
				roles := []gatehouse.AccessRole{}
				for _, r := range strings.Split(set, ",") {
					if r = strings.TrimSpace(r); r != "" {
						roles = append(roles, gatehouse.AccessRole(r))
					}
				}
				for _, r := range roles {
					if !r.Valid() {
						return usageErrorf(cmd, "--set: %q is not one of admin, operator, auditor", r)
					}
				}
				id, err = c.SetRoles(cmd.Context(), args[0], roles, reason)
			} else {
				id, err = c.GetIdentity(cmd.Context(), args[0])
			}
			if err != nil {
				return err
			}
			if a.json() {
				rs := id.Roles
				if rs == nil {
					rs = []gatehouse.AccessRole{}
				}
				return printJSON(a.stdout, map[string]any{"identity": id.Email, "roles": rs})
			}
			roles := joinRoles(id.Roles)
			if roles == "" {
				roles = "none"
			}
			printf(a.stdout, "%s: %s\n", id.Email, roles)
			return nil
		},
	}
	cmd.Flags().StringVar(&set, "set", "", "comma-separated roles to give, replacing the current ones (\"\" removes all)")
	cmd.Flags().StringVar(&reason, "reason", "", "why, for the audit log")
	return cmd
}

// joinNonEmpty joins the non-empty parts with sep.
func joinNonEmpty(sep string, parts ...string) string {
	return strings.Join(slices.DeleteFunc(parts, func(s string) bool { return s == "" }), sep)
}
