package cli

import (
	"context"
	"slices"

	"github.com/spf13/cobra"

	"github.com/fineract-installer/fineract-installer/steps"
	"github.com/fineract-installer/fineract-installer/steps/frontdoor"
	"github.com/fineract-installer/fineract-installer/steps/tenants"
)

func newCredentialsCmd(a *app) *cobra.Command {
	var (
		co    custodyOptions
		names []string
	)
	cmd := &cobra.Command{
		Use:   "credentials [--tenant NAME]...",
		Short: "Show again the administrator passwords the installer set",
		Long: `Show the passwords the installer set for Fineract's administrator (and,
with the identity group, Keycloak's bootstrap admin) again, as the install
did: on a screen of their own in a terminal, cleared when you press Enter;
without a terminal, encrypted to credentials.pgp_key or in a file only
root reads, whose path is printed. They are kept in Vault and read from
what Vault delivered, so run as root on an unsealed installation.

With --tenant, the administrator passwords of tenants made by
` + "`tenants add`" + ` instead, read from Vault with the key holders' shares (the
demo custody passphrase, or typed in).`,
		Example: `  fineract-installer credentials
  fineract-installer credentials --tenant student1 --tenant student2`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			if len(names) > 0 {
				return tenantCredentials(ctx, a, co, names)
			}
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
	cmd.Flags().StringArrayVar(&names, "tenant", nil, "a tenant `NAME` made by tenants add (repeat for several)")
	cmd.Flags().StringVar(&co.passphraseFile, "unseal-passphrase-file", "", "`FILE` holding the demo custody passphrase (mode 0600)")
	cmd.Flags().StringVar(&co.keysFile, "unseal-keys-file", "", "`FILE` with unseal key shares, one per line (mode 0600)")
	return cmd
}

// tenantCredentials reads tenants' passwords from Vault, checking first
// that each is a tenant of this installation.
func tenantCredentials(ctx context.Context, a *app, co custodyOptions, names []string) error {
	env, pg, done, err := tenantsEnv(ctx, a)
	if err != nil {
		return err
	}
	defer done()
	if slices.Contains(names, tenants.Default) {
		return usageError("the default tenant's administrator password is what `fineract-installer credentials` shows without --tenant")
	}
	if _, err := pg.CheckKnown(ctx, names, false); err != nil {
		return withCode(ExitUsage, err)
	}
	vaultAccess, err := tenantsVault(a, env, co)
	if err != nil {
		return err
	}
	var creds []frontdoor.Credential
	err = vaultAccess.With(ctx, nil, func(pw tenants.Passwords) error {
		for _, n := range names {
			users, err := pw.Users(ctx, n)
			if err != nil {
				return err
			}
			if c, ok := env.TenantCredential(n, users); ok {
				creds = append(creds, c)
			}
		}
		return nil
	})
	if err != nil {
		return stepsFailed(err)
	}
	if len(creds) == 0 {
		return usageError("with the identity group people sign in to every tenant through Keycloak with their own accounts: a tenant has no administrator password to hand out")
	}
	return handoutTo(a, env, tenantsHandout)(ctx, creds)
}
