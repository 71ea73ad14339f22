package main

import (
	"strings"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/internal/service"
	"github.com/spf13/cobra"
)

// identitiesUpdateCommand changes an identity by hand: a correction, a service account's owner,
// or a termination before HR catches up. Terminating here applies the leaver policy (grants
// revoked, open requests cancelled, Gatehouse tokens, sessions and delegations ended).
func (a *app) identitiesUpdateCommand() *cobra.Command {
	var (
		patch  service.IdentityPatch
		reason string
		attrs  []string
		// The typed fields are set from their flags' text when given.
		employment, status *string
	)
	str := map[string]**string{
		"email": &patch.Email, "first-name": &patch.FirstName, "last-name": &patch.LastName,
		"department": &patch.Department, "title": &patch.Title, "manager": &patch.ManagerID,
		"location": &patch.Location, "type": &employment, "status": &status,
		"start-date": &patch.StartDate, "end-date": &patch.EndDate,
	}
	vals := map[string]*string{}
	cmd := &cobra.Command{
		Use:   "update KEY --reason TEXT [--status terminated] [--email NEW] [...]",
		Short: "Change an identity by hand (operators); only the flags given change",
		Long: `Change an identity's fields by hand. Only the flags you give change; --reason is recorded in
the audit log. Setting --status terminated applies the leaver policy at once: every grant is
revoked, open requests are cancelled, and the person's Gatehouse tokens, web sessions and
delegations end in the same transaction.

Limits that no role lifts: nobody changes their own record or roles (birthright rules read
it), nor makes themselves someone's manager, and only an admin changes the email, status or end date
of an admin, of someone holding a designated power (security approver, emergency operator,
owner, named approver) or of a SCIM client's service account.`,
		Example: `  gatehouse identities update sam.taylor@example.com --status terminated --end-date 2026-12-07 \
      --reason "HR-5521: terminated today, feed catches up tonight"
  gatehouse identities update E1042 --title "Staff Engineer" --reason "HR correction"`,
		Args: exactArgs(1, "KEY"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if strings.TrimSpace(reason) == "" {
				return usageErrorf(cmd, "--reason is required: say why, for the audit log")
			}
			changed := 0
			for name, dst := range str {
				if cmd.Flags().Changed(name) {
					*dst = vals[name]
					changed++
				}
			}
			for _, kv := range attrs {
				k, v, ok := strings.Cut(kv, "=")
				if !ok || strings.TrimSpace(k) == "" {
					return usageErrorf(cmd, "--attr %q: write it as key=value (an empty value removes the key)", kv)
				}
				if patch.Attributes == nil {
					patch.Attributes = map[string]string{}
				}
				patch.Attributes[strings.TrimSpace(k)] = v
				changed++
			}
			if employment != nil {
				patch.EmploymentType = (*gatehouse.EmploymentType)(employment)
			}
			if status != nil {
				patch.Status = (*gatehouse.IdentityStatus)(status)
			}
			if changed == 0 {
				return usageErrorf(cmd, "nothing to change: give at least one field flag")
			}
			c, err := a.client(cmd)
			if err != nil {
				return err
			}
			id, err := c.UpdateIdentity(cmd.Context(), args[0], patch, reason)
			if err != nil {
				return err
			}
			if a.json() {
				return printJSON(a.stdout, id)
			}
			printf(a.stdout, "Updated identity %s (id %s): status %s.\n", id.Email, id.ID, id.Status)
			return nil
		},
	}
	fl := cmd.Flags()
	help := map[string]string{
		"email": "new email address", "first-name": "first name", "last-name": "last name",
		"department": "department", "title": "job title", "manager": "employee_id of the manager",
		"location": "location", "type": "employee, contractor or intern",
		"status":     "active, leave or terminated (terminated applies the leaver policy)",
		"start-date": "start date, YYYY-MM-DD", "end-date": "end date, YYYY-MM-DD",
	}
	for name := range str {
		vals[name] = new(string)
		fl.StringVar(vals[name], name, "", help[name])
	}
	fl.StringArrayVar(&attrs, "attr", nil, "attribute key=value (repeatable; empty value removes it)")
	fl.StringVar(&reason, "reason", "", "why, for the audit log (required)")
	return cmd
}
