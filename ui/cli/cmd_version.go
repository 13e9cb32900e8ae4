package cli

import (
	"fmt"

	"github.com/spf13/cobra"
)

func newVersionCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the installer's version",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			p := a.printer()
			if p.json() {
				return p.record(typeVersion, a.build)
			}
			line := "fineract-installer " + a.build.Version
			if a.build.Commit != "" {
				line += " (" + a.build.Commit + ")"
			}
			fmt.Fprintln(a.io.Out, line+" "+a.build.Go)
			return nil
		},
	}
}

// noArgs rejects positional arguments with exit code 2.
func noArgs(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return usageError("%s takes no arguments (got %q)", cmd.CommandPath(), args[0])
	}
	return nil
}
