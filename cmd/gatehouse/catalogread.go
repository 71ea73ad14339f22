package main

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/internal/client"
)

// The read commands of the catalog: systems, entitlements, roles and SoD rules. Everyone signed
// in may read the catalog, to know what to ask for.

func (a *app) systemsCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:     "systems",
		Aliases: []string{"system"},
		Short:   "List, show and test systems (target applications and directories)",
		Args:    cobra.ArbitraryArgs,
		RunE:    groupRun,
	}
	cmd.AddCommand(a.systemsListCommand(), a.systemsShowCommand(), a.systemsTestCommand(), a.systemsStatusCommand()) // systems.go
	return cmd
}

func (a *app) systemsListCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List systems",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := a.client(cmd)
			if err != nil {
				return err
			}
			list, err := c.ListSystems(cmd.Context())
			if err != nil {
				return err
			}
			if a.json() {
				return printJSON(a.stdout, gatehouse.Page[*gatehouse.System]{Items: nonNil(list)})
			}
			t := newTable(a.stdout, "ID", "NAME", "TIER", "CONNECTOR", "OWNER")
			for _, s := range list {
				t.row(s.ID, s.Name, string(s.Tier), s.Connector.Type, s.Owner)
			}
			return t.flush()
		},
	}
}

func (a *app) systemsShowCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "show ID",
		Short: "Show a system, its connector settings and its entitlements",
		Args:  exactArgs(1, "ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.client(cmd)
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			s, err := c.GetSystem(ctx, args[0])
			if err != nil {
				return err
			}
			ents, err := collect(listFlags{all: true}, func(o pageAt) (*gatehouse.Page[*gatehouse.Entitlement], error) {
				return c.ListEntitlements(ctx, gatehouse.EntitlementFilter{System: s.ID, Limit: o.Limit, Cursor: o.Cursor})
			})
			if err != nil {
				return err
			}
			if a.json() {
				return printJSON(a.stdout, map[string]any{"system": s, "entitlements": nonNil(ents.Items)})
			}
			kv := []string{"id", s.ID, "name", s.Name, "owner", s.Owner, "owner pinned to", pinText(ctx, c, s.Owner, s.OwnerID), "tier", string(s.Tier), "connector", s.Connector.Type}
			keys := make([]string, 0, len(s.Connector.Settings))
			for k := range s.Connector.Settings {
				keys = append(keys, k)
			}
			slices.Sort(keys)
			for _, k := range keys {
				kv = append(kv, "  "+k, fmt.Sprint(s.Connector.Settings[k]))
			}
			if err := fields(a.stdout, kv...); err != nil {
				return err
			}
			printf(a.stdout, "\nentitlements (%d):\n", len(ents.Items))
			return a.entitlementTable(ents.Items)
		},
	}
}

func (a *app) entitlementTable(list []*gatehouse.Entitlement) error {
	t := newTable(a.stdout, "ID", "NAME", "KIND", "RISK", "MAX_DURATION", "REQUESTABLE", "OWNER")
	for _, e := range list {
		maxD := ""
		if e.MaxDuration > 0 {
			maxD = shortDuration(e.MaxDuration)
		}
		t.row(e.ID, truncate(e.Name, 36), string(e.Kind), string(e.Risk), maxD, yesNo(e.Requestable), e.Owner)
	}
	return t.flush()
}

// pinText shows the identity a designated email was pinned to at catalog apply: powers go by
// that identity, whoever holds the email now. The person's current email is looked up when the
// caller may read it, so that a renamed holder shows as who they are now.
func pinText(ctx context.Context, c *client.Client, email, id string) string {
	if id == "" {
		return "nobody (apply the catalog again to pin it)"
	}
	who, err := c.GetIdentity(ctx, id)
	switch {
	case err != nil:
		return "identity " + id
	case strings.EqualFold(who.Email, email):
		return who.Email + " (identity " + id + ")"
	}
	return who.Email + " (identity " + id + "; renamed since the catalog named " + email + ": the power stays with this person)"
}

// approverPins shows the pins of the emails named in an approval chain ("" when none is named).
func approverPins(ctx context.Context, c *client.Client, e *gatehouse.Entitlement) string {
	var out []string
	for _, step := range e.Approval {
		if strings.Contains(step, "@") {
			out = append(out, step+" → "+pinText(ctx, c, step, e.ApproverID(step)))
		}
	}
	return strings.Join(out, ", ")
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func (a *app) entitlementsCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:     "entitlements",
		Aliases: []string{"entitlement", "ents"},
		Short:   "List and show entitlements (what can be granted in each system)",
		Args:    cobra.ArbitraryArgs,
		RunE:    groupRun,
	}
	cmd.AddCommand(a.entitlementsListCommand(), a.entitlementsShowCommand())
	return cmd
}

func (a *app) entitlementsListCommand() *cobra.Command {
	var (
		f           gatehouse.EntitlementFilter
		lf          listFlags
		requestable string
	)
	list := &cobra.Command{
		Use:     "list",
		Short:   "List entitlements",
		Example: `  gatehouse entitlements list --system aws --risk privileged`,
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if requestable != "" {
				b, err := strconv.ParseBool(requestable)
				if err != nil {
					return usageErrorf(cmd, "--requestable %q: use true or false", requestable)
				}
				f.Requestable = &b
			}
			c, err := a.client(cmd)
			if err != nil {
				return err
			}
			page, err := collect(lf, func(o pageAt) (*gatehouse.Page[*gatehouse.Entitlement], error) {
				f.Limit, f.Cursor = o.Limit, o.Cursor
				return c.ListEntitlements(cmd.Context(), f)
			})
			if err != nil {
				return err
			}
			if a.json() {
				return printJSON(a.stdout, page)
			}
			if err := a.entitlementTable(page.Items); err != nil {
				return err
			}
			a.moreHint(page.NextCursor)
			return nil
		},
	}
	list.Flags().StringVar(&f.System, "system", "", "system id")
	list.Flags().StringVar((*string)(&f.Risk), "risk", "", "standard, sensitive or privileged")
	list.Flags().StringVar(&f.Query, "q", "", "substring of id, name or description")
	list.Flags().StringVar(&requestable, "requestable", "", "true or false")
	lf.register(list)
	return list
}

func (a *app) entitlementsShowCommand() *cobra.Command {
	show := &cobra.Command{
		Use:   "show ID",
		Short: "Show an entitlement (ID is system/slug)",
		Args:  exactArgs(1, "ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.client(cmd)
			if err != nil {
				return err
			}
			e, err := c.GetEntitlement(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			if a.json() {
				return printJSON(a.stdout, e)
			}
			maxD := "none (may be permanent)"
			if e.MaxDuration > 0 {
				maxD = shortDuration(e.MaxDuration)
			}
			return fields(a.stdout,
				"id", e.ID,
				"system", e.System,
				"name", e.Name,
				"description", e.Description,
				"external_id", e.ExternalID,
				"kind", string(e.Kind),
				"risk", string(e.Risk),
				"owner", e.Owner,
				"owner pinned to", pinText(cmd.Context(), c, e.Owner, e.OwnerID),
				"requestable", yesNo(e.Requestable),
				"max_duration", maxD,
				"approval", strings.Join(e.Approval, " → "),
				"approvers pinned to", approverPins(cmd.Context(), c, e),
			)
		},
	}
	return show
}

func (a *app) rolesCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:     "roles",
		Aliases: []string{"role"},
		Short:   "List and show roles (bundles of entitlements; birthright roles assign themselves)",
		Args:    cobra.ArbitraryArgs,
		RunE:    groupRun,
	}
	cmd.AddCommand(a.rolesListCommand(), a.rolesShowCommand())
	return cmd
}

func (a *app) rolesListCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List roles",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := a.client(cmd)
			if err != nil {
				return err
			}
			list, err := c.ListRoles(cmd.Context())
			if err != nil {
				return err
			}
			if a.json() {
				return printJSON(a.stdout, gatehouse.Page[*gatehouse.Role]{Items: nonNil(list)})
			}
			t := newTable(a.stdout, "ID", "NAME", "ENTITLEMENTS", "BIRTHRIGHT")
			for _, r := range list {
				t.row(r.ID, r.Name, strconv.Itoa(len(r.Entitlements)), truncate(strings.Join(strings.Fields(r.Birthright), " "), 70))
			}
			return t.flush()
		},
	}
}

func (a *app) rolesShowCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "show ID",
		Short: "Show a role, its entitlements and its birthright rule",
		Args:  exactArgs(1, "ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.client(cmd)
			if err != nil {
				return err
			}
			r, err := c.GetRole(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			if a.json() {
				return printJSON(a.stdout, r)
			}
			birthright := r.Birthright
			if birthright == "" {
				birthright = "none (requested, not assigned)"
			}
			if err := fields(a.stdout, "id", r.ID, "name", r.Name, "description", r.Description, "birthright", birthright); err != nil {
				return err
			}
			printf(a.stdout, "\nentitlements (%d):\n", len(r.Entitlements))
			for _, e := range r.Entitlements {
				printf(a.stdout, "  %s\n", e)
			}
			return nil
		},
	}
}

func (a *app) sodCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "sod",
		Short: "List and show separation-of-duties rules, and who breaks them",
		Args:  cobra.ArbitraryArgs,
		RunE:  groupRun,
	}
	cmd.AddCommand(a.sodListCommand(), a.sodShowCommand())
	cmd.AddCommand(a.sodViolationsCommand()) // sod.go
	return cmd
}

func (a *app) sodListCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List SoD rules",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := a.client(cmd)
			if err != nil {
				return err
			}
			list, err := c.ListSoDRules(cmd.Context())
			if err != nil {
				return err
			}
			if a.json() {
				return printJSON(a.stdout, gatehouse.Page[*gatehouse.SoDRule]{Items: nonNil(list)})
			}
			t := newTable(a.stdout, "ID", "SEVERITY", "ON_VIOLATION", "LEFT", "RIGHT")
			for _, r := range list {
				t.row(r.ID, r.Severity, r.OnViolation, strings.Join(r.Left, ","), strings.Join(r.Right, ","))
			}
			return t.flush()
		},
	}
}

func (a *app) sodShowCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "show ID",
		Short: "Show a SoD rule",
		Args:  exactArgs(1, "ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.client(cmd)
			if err != nil {
				return err
			}
			r, err := c.GetSoDRule(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			if a.json() {
				return printJSON(a.stdout, r)
			}
			return fields(a.stdout,
				"id", r.ID,
				"description", r.Description,
				"left", strings.Join(r.Left, ", "),
				"right", strings.Join(r.Right, ", "),
				"severity", r.Severity,
				"on_violation", r.OnViolation,
			)
		},
	}
}

// nonNil makes an empty list print as [] rather than null in JSON.
func nonNil[T any](list []T) []T {
	if list == nil {
		return []T{}
	}
	return list
}

// shortDuration writes a duration the way catalogs do: "8h", "90m", "30d" rather than
// "720h0m0s".
func shortDuration(d gatehouse.Duration) string {
	td := time.Duration(d)
	if td >= 24*time.Hour && td%(24*time.Hour) == 0 {
		return strconv.FormatInt(int64(td/(24*time.Hour)), 10) + "d"
	}
	s := td.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}
