package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/gatehouse/gatehouse/internal/client"
)

func (a *app) hrExportCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "export [-o FILE]",
		Short: "Write the current people as an HR feed CSV, to edit and import again (auditors, operators, admins)",
		Long: `Write the people the HR feed owns as an HR CSV in the format of docs/hr.md: the twelve contract
columns, then one column per attribute, one row a person (terminated people too). Imported
back unchanged as a snapshot it changes nothing, so a snapshot can be exported, edited and
imported. Service accounts and the people a SCIM client owns are not HR's and are left out.

The file is personal data: the export is recorded in the audit log (identities.export, with
who and how many people). Here -o names the file to write (not an output format); it is
written with mode 0600 and replaced only once the whole export has arrived. Without -o the
CSV goes to standard output.`,
		Example: `  gatehouse hr export -o people.csv
  gatehouse hr import people.csv --dry-run     # no changes`,
		Args: noArgs,
		// -o is a file here, not table or json: skip the root's check of it.
		PersistentPreRunE: func(*cobra.Command, []string) error { return nil },
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := a.client(cmd)
			if err != nil {
				return err
			}
			file := ""
			if cmd.Flags().Changed("output") && a.output != "-" {
				file = a.output
			}
			if file == "" {
				_, err := c.ExportHR(cmd.Context(), a.stdout)
				return err
			}
			x, err := exportToFile(cmd, c, file)
			if err != nil {
				return err
			}
			printf(a.stdout, "Exported %d people to %s (%d bytes).\n", x.People, file, x.Bytes)
			return nil
		},
	}
}

// exportToFile writes the export next to file and renames it over file when it is complete:
// a failed export leaves file as it was.
func exportToFile(cmd *cobra.Command, c *client.Client, file string) (client.HRExport, error) {
	tmp, err := os.CreateTemp(filepath.Dir(file), ".gatehouse-export-*.csv")
	if err != nil {
		return client.HRExport{}, fmt.Errorf("write %s: %w", file, err)
	}
	done := false
	defer func() {
		if !done {
			_ = tmp.Close()
			_ = os.Remove(tmp.Name())
		}
	}()
	if err := tmp.Chmod(0o600); err != nil {
		return client.HRExport{}, fmt.Errorf("write %s: %w", file, err)
	}
	x, err := c.ExportHR(cmd.Context(), tmp)
	if err != nil {
		return x, err
	}
	if err := tmp.Close(); err != nil {
		return x, fmt.Errorf("write %s: %w", file, err)
	}
	if err := os.Rename(tmp.Name(), file); err != nil {
		return x, fmt.Errorf("write %s: %w", file, err)
	}
	done = true
	return x, nil
}
