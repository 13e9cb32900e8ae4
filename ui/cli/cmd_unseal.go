package cli

import (
	"context"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/fineract-installer/fineract-installer/steps"
	"github.com/fineract-installer/fineract-installer/steps/answers"
	"github.com/fineract-installer/fineract-installer/steps/install"
	"github.com/fineract-installer/fineract-installer/steps/installdir"
)

// requireInstallDir refuses a --dir that holds no installation, without
// touching anything.
func requireInstallDir(a *app) error {
	ok, err := installdir.Exists(a.dir)
	if err != nil || !ok {
		if err == nil {
			err = fmt.Errorf("no installation in %s", a.dir)
		}
		return withCode(ExitUsage, fmt.Errorf("%w; pass --dir with the install directory", err))
	}
	return nil
}

// installedEnv rebuilds the environment of an existing installation from
// the answers kept in its install dir.
func installedEnv(ctx context.Context, a *app) (*install.Env, func(), error) {
	if err := requireInstallDir(a); err != nil {
		return nil, nil, err
	}
	inst, err := a.open()
	if err != nil {
		return nil, nil, err
	}
	ans, err := answers.Load(inst.AnswersFile())
	if err != nil {
		return nil, nil, withCode(ExitUsage, err)
	}
	e, err := a.engine(ctx)
	if err != nil {
		return nil, nil, err
	}
	env, err := install.NewEnv(ans, inst.Project, inst.Dir, inst.SecretsDir(), e)
	if err != nil {
		e.Close()
		return nil, nil, err
	}
	return env, func() { e.Close() }, nil
}

func newUnsealCmd(a *app) *cobra.Command {
	var co custodyOptions
	cmd := &cobra.Command{
		Use:   "unseal",
		Short: "After a reboot: unseal Vault, deliver the secrets again and start the services",
		Long: `After a host reboot Vault is sealed and the services' secret files (kept
only in memory) are gone. unseal asks for the key shares (or reads the demo
custody file), unseals Vault, delivers the secrets again with a short-lived
token that is revoked right after, and starts the services.`,
		Example: `  fineract-installer unseal
  FINERACT_UNSEAL_PASSPHRASE=... fineract-installer unseal        # demo profile
  fineract-installer unseal --unseal-keys-file /media/usb/shares   # no terminal`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			if err := requireInstallDir(a); err != nil {
				return err
			}
			if err := refuseWhileLocked(a); err != nil {
				return err
			}
			env, done, err := installedEnv(ctx, a)
			if err != nil {
				return err
			}
			defer done()
			if _, err := os.Stat(env.VaultRecordFile()); err != nil {
				return usageError("Vault was never initialised by this installation (%s has no record); run `fineract-installer install`", a.dir)
			}
			custody, err := custodyFor(a, env, co)
			if err != nil {
				return err
			}
			unlock, err := lockInstallation(a)
			if err != nil {
				return err
			}
			defer unlock()
			plan := (&steps.Plan{}).
				Then(install.VaultStartStep{Env: env}).
				Then(install.VaultSetupStep{Env: env, Custody: custody}).
				Then(install.ServicesStep{Env: env})
			if err := runDay2(ctx, a, "unseal", a.dir, plan); err != nil {
				return err
			}
			if p := a.printer(); !p.json() {
				fmt.Fprintln(a.io.Out, p.ok.Render("Vault is unsealed and every service has its secrets."))
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&co.passphraseFile, "unseal-passphrase-file", "", "`FILE` holding the demo custody passphrase (mode 0600)")
	cmd.Flags().StringVar(&co.keysFile, "unseal-keys-file", "", "`FILE` with unseal key shares, one per line (mode 0600)")
	return cmd
}
