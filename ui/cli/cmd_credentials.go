package cli

import (
	"github.com/spf13/cobra"

	"github.com/fineract-installer/fineract-installer/steps"
)

func newCredentialsCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "credentials",
		Short: "Show again the administrator passwords the installer set",
		Long: `Show the passwords the installer set for Fineract's administrator (and,
with the identity group, Keycloak's bootstrap admin) again, as the install
did: on a screen of its own in a terminal, cleared when you press Enter;
without a terminal, in a file only root reads, whose path is printed.
They are kept in Vault and read from what Vault delivered, so run as root
on an unsealed installation.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			env, done, err := installedEnv(ctx, a)
			if err != nil {
				return err
			}
			defer done()
			creds, err := env.Credentials(ctx)
			if err != nil {
				return steps.Fail(err, "run as root; after a reboot run `fineract-installer unseal` first")
			}
			return handoutFor(a, env)(ctx, creds)
		},
	}
}
