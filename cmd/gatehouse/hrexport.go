package main

import (
	"io"

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
		Args:              noArgs,
		PersistentPreRunE: outputIsFile,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := a.client(cmd)
			if err != nil {
				return err
			}
			file := a.outputFile(cmd)
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

// exportToFile writes the export to file, which a failed export leaves as it was.
func exportToFile(cmd *cobra.Command, c *client.Client, file string) (client.HRExport, error) {
	var x client.HRExport
	err := writePrivateFile(file, func(w io.Writer) error {
		var err error
		x, err = c.ExportHR(cmd.Context(), w)
		return err
	})
	return x, err
}
