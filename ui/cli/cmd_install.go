package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/fineract-installer/fineract-installer/assets"
	"github.com/fineract-installer/fineract-installer/compose"
	"github.com/fineract-installer/fineract-installer/steps"
	"github.com/fineract-installer/fineract-installer/steps/answers"
	"github.com/fineract-installer/fineract-installer/steps/install"
	"github.com/fineract-installer/fineract-installer/steps/installdir"
	"github.com/fineract-installer/fineract-installer/steps/validate"
)

type installOptions struct {
	src     answersSource
	yes     bool
	bundle  string
	custody custodyOptions
}

func newInstallCmd(a *app) *cobra.Command {
	var o installOptions
	cmd := &cobra.Command{
		Use:   "install",
		Short: "Install the stack from an answers file (or the demo defaults), with no questions",
		Long: `Install the stack from an answers file, or the demo profile's defaults with
--demo, without questions. Each step is idempotent: a rerun skips what is
in place and resumes where an earlier run stopped.

Key custody: the demo profile keeps Vault's unseal key in a file encrypted
with a passphrase (from --unseal-passphrase-file, $` + passphraseEnv + `
or the terminal): at least 12 characters, 6 different ones, not only
digits; a weaker one is refused before anything is installed. The
production profile shows the key shares once in the terminal and asks for
one back; without a terminal it needs vault.pgp_keys in the answers.`,
		Example: `  FINERACT_UNSEAL_PASSPHRASE=... fineract-installer install --demo --yes
  fineract-installer install --answers answers.yaml --yes --output json`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runInstall(cmd, a, o) },
	}
	o.src.flags(cmd)
	f := cmd.Flags()
	f.BoolVarP(&o.yes, "yes", "y", false, "do not ask for confirmation (needed when not running in a terminal)")
	f.StringVar(&o.bundle, "images-bundle", "", "load images from this `docker save` tarball instead of pulling")
	f.StringVar(&o.custody.passphraseFile, "unseal-passphrase-file", "", "file holding the demo custody passphrase (mode 0600)")
	f.StringVar(&o.custody.keysFile, "unseal-keys-file", "", "file with unseal key shares, one per line, mode 0600 (when Vault is sealed and no terminal is available)")
	return cmd
}

func runInstall(cmd *cobra.Command, a *app, o installOptions) error {
	ctx := cmd.Context()
	ans, err := o.src.load()
	if err != nil {
		return err
	}
	if cmd.Flags().Changed("dir") {
		ans.InstallDir = a.dir
	}
	if o.bundle != "" {
		ans.Images = answers.Images{Source: answers.ImagesBundle, Bundle: o.bundle}
	}
	if err := ans.Validate(); err != nil {
		return withCode(ExitUsage, err)
	}
	// Read only: a directory holding someone else's files is refused
	// before anything (preflight included) runs.
	if err := installdir.Claimable(ans.InstallDir); err != nil {
		return withCode(ExitUsage, err)
	}
	a.dir = ans.InstallDir

	e, engineErr := compose.Connect(ctx)
	if e != nil {
		defer e.Close()
	}
	env, err := install.NewEnv(ans, a.project, ans.InstallDir, installdir.SecretsDir(a.project), e)
	if err != nil {
		return withCode(ExitUsage, err)
	}
	env.EngineErr = engineErr

	p := a.printer()
	if !p.json() {
		printPlanSummary(a, env)
	}
	// The custody secrets are input like the answers: a weak passphrase or
	// an unsafe keys file is refused before the host is touched. Found only
	// once Vault was initialised, the shares would have nowhere to go.
	o.custody.installing = true
	custody, err := custodyFor(a, env, o.custody)
	if err != nil {
		return err
	}
	// Preflight writes nothing: a failing host is left exactly as it was.
	pre := &steps.Runner{Plan: install.PreflightPlan(env), Project: a.project, Events: p.stepEvent}
	if err := pre.Run(ctx); err != nil {
		if errors.Is(err, steps.ErrPreflight) {
			return &silentError{code: ExitHostNotOK}
		}
		return err
	}
	if err := confirm(a, o.yes, "install changes this host", fmt.Sprintf("Install the stack into %s?", ans.InstallDir)); err != nil {
		return err
	}
	unlock, err := lockInstallDir(ans.InstallDir)
	if err != nil {
		return err
	}
	defer unlock()
	var checklist []validate.Result
	r := &steps.Runner{Plan: install.Plan(env, custody, func(rs []validate.Result) { checklist = rs }), Dir: ans.InstallDir, Project: a.project, Events: p.stepEvent}
	if err := r.Run(ctx); err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("%w", context.Canceled)
		}
		return &silentError{code: ExitFailed} // the failed event said it all
	}
	if !p.json() {
		printChecklist(a, p, checklist)
		printInstalled(a, env)
	}
	return nil
}

func printPlanSummary(a *app, env *install.Env) {
	p := a.printer()
	ans := env.Answers
	var names []string
	for _, s := range env.Bundle.Services {
		names = append(names, s.Name)
	}
	fmt.Fprintf(a.io.Out, "%s %s profile, %d services (%s)\n", p.bold.Render("Plan:"), ans.Profile, len(names), strings.Join(names, ", "))
	fmt.Fprintf(a.io.Out, "      about %d MiB of memory; installing into %s as project %s\n\n",
		assets.MemoryEstimateMiB(ans.Groups, ans.Profile), ans.InstallDir, a.project)
}

func printInstalled(a *app, env *install.Env) {
	p := a.printer()
	ans := env.Answers
	url := "https://" + ans.Host.Hostname
	if ans.Gateway.HTTPSPort != 443 {
		url += fmt.Sprintf(":%d", ans.Gateway.HTTPSPort)
	}
	fmt.Fprintf(a.io.Out, "\n%s\n", p.ok.Render("The stack is installed."))
	fmt.Fprintf(a.io.Out, "  web app:      %s/\n", url)
	fmt.Fprintf(a.io.Out, "  API:          %s/fineract-provider/api/v1\n", url)
	fmt.Fprintf(a.io.Out, "  CA to trust:  %s\n", env.PKIDir()+"/ca.crt")
	fmt.Fprintf(a.io.Out, "  after a reboot Vault is sealed: run `fineract-installer unseal`\n")
}

// lockInstallDir takes the install dir's lock (beside it), then makes sure
// the directory is an installation's or new before anything is written into
// it: a directory holding someone else's files is refused, untouched.
func lockInstallDir(dir string) (func(), error) {
	unlock, err := steps.Lock(dir)
	if err != nil {
		return nil, withCode(ExitFailed, err)
	}
	if err := installdir.Mark(dir); err != nil {
		unlock()
		if errors.Is(err, installdir.ErrNotInstallDir) {
			return nil, withCode(ExitUsage, err)
		}
		return nil, withCode(ExitFailed, err)
	}
	return unlock, nil
}
