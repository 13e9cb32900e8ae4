package cli

import (
	"github.com/spf13/cobra"

	"github.com/fineract-installer/fineract-installer/steps/answers"
)

func newAnswersCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "answers",
		Short: "Work with answers files (the non-interactive form of the wizard)",
		Args:  noArgs,
		RunE:  func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	var profile string
	initCmd := &cobra.Command{
		Use:   "init",
		Short: "Print a commented answers file with a profile's defaults",
		Example: `  fineract-installer answers init > answers.yaml
  fineract-installer answers init --profile demo > demo.yaml`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if a.printer().json() {
				// The answers file is YAML, and nothing else would be
				// the answer; a JSON stream must hold JSON objects only.
				return usageError("answers init prints the answers file itself, which is YAML: run it without --output json")
			}
			data, err := answers.Template(answers.Profile(profile))
			if err != nil {
				return withCode(ExitUsage, err)
			}
			_, err = a.io.Out.Write(data)
			return err
		},
	}
	initCmd.Flags().StringVar(&profile, "profile", string(answers.Production), "`PROFILE`: production or demo")
	cmd.AddCommand(initCmd)
	return cmd
}
