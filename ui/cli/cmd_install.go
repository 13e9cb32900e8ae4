package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/fineract-installer/fineract-installer/assets"
	"github.com/fineract-installer/fineract-installer/compose"
	"github.com/fineract-installer/fineract-installer/steps"
	"github.com/fineract-installer/fineract-installer/steps/answers"
	"github.com/fineract-installer/fineract-installer/steps/install"
	"github.com/fineract-installer/fineract-installer/steps/installation"
	"github.com/fineract-installer/fineract-installer/steps/installdir"
	"github.com/fineract-installer/fineract-installer/steps/tenants"
	"github.com/fineract-installer/fineract-installer/steps/validate"
)

type installOptions struct {
	src     answersSource
	yes     bool
	bundle  string
	accept  []string
	custody custodyOptions
	// waitTimeout bounds the wait for the workloads (Kubernetes target).
	waitTimeout time.Duration
	// vaultTokenFile holds the Vault token of an install on Kubernetes.
	vaultTokenFile string
}

func newInstallCmd(a *app) *cobra.Command {
	var o installOptions
	var t targetFlags
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
one back; without a terminal it needs vault.pgp_keys in the answers.

Images: the first install records the image ID of every service in
INSTALL_DIR/` + installation.Relative().ImageRecordFile() + `; every later run (and unseal, certs rotate, backup,
restore) refuses an image that differs, before any container changes,
unless the change is accepted with --accept-image-change SERVICE. An
--images-bundle FILE needs FILE` + compose.BundleManifestSuffix + ` next to it (written by
` + "`fineract-installer images bundle`" + `); the bundle is checked against it before
anything is loaded.`,
		Example: `  FINERACT_UNSEAL_PASSPHRASE=... fineract-installer install --demo --yes
  fineract-installer install --answers answers.yaml --yes --output json
  fineract-installer install --answers answers.yaml --images-bundle /media/usb/stack-images.tar
  fineract-installer install --answers answers.yaml --accept-image-change gateway
  fineract-installer install --target kubernetes --answers answers.yaml --context prod --yes`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			onKube, err := t.kubernetes()
			if err != nil {
				return err
			}
			if onKube {
				if err := refuseDockerOnly(cmd, "images-bundle", "accept-image-change", "unseal-passphrase-file", "unseal-keys-file"); err != nil {
					return err
				}
				return runInstallKube(cmd, a, o, t)
			}
			for _, name := range []string{"wait-timeout", "vault-token-file"} {
				if cmd.Flags().Changed(name) {
					return usageError("--%s is for --target kubernetes", name)
				}
			}
			return runInstall(cmd, a, o)
		},
	}
	o.src.flags(cmd)
	t.flags(cmd)
	f := cmd.Flags()
	f.BoolVarP(&o.yes, "yes", "y", false, "do not ask for confirmation (needed when not running in a terminal)")
	f.StringVar(&o.bundle, "images-bundle", "", "load missing images from this tarball `FILE`, made by the images bundle command; its FILE"+compose.BundleManifestSuffix+" must sit next to it")
	f.StringArrayVar(&o.accept, "accept-image-change", nil, "accept that this `SERVICE`'s image differs from the one recorded at install, and record the new one (repeatable)")
	f.StringVar(&o.custody.passphraseFile, "unseal-passphrase-file", "", "`FILE` holding the demo custody passphrase (mode 0600)")
	f.DurationVar(&o.waitTimeout, "wait-timeout", defaultWaitTimeout, "with --target kubernetes: wait at most `DURATION` for the workloads to become ready")
	f.StringVar(&o.vaultTokenFile, "vault-token-file", "", "with --target kubernetes: `FILE` (mode 0600) holding the Vault token that configures Vault for the pods")
	f.StringVar(&o.custody.keysFile, "unseal-keys-file", "", "`FILE` with unseal key shares, one per line, mode 0600 (when Vault is sealed and no terminal is available)")
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
	if ans.Images.Source == answers.ImagesBundle {
		if _, err := compose.ReadBundleManifest(compose.BundleManifestPath(ans.Images.Bundle)); err != nil {
			return usageHint(err, "an images bundle needs its manifest next to it: make both with `fineract-installer images bundle --out FILE` on a host that has the images")
		}
	}
	a.dir = ans.InstallDir
	if err := a.adoptProject(); err != nil {
		return err
	}

	e, engineErr := a.connect(ctx)
	if e != nil {
		defer e.Close()
	}
	env, err := install.NewEnv(ans, a.project, ans.InstallDir, installdir.SecretsDir(a.project), e)
	if err != nil {
		return o.src.renderError(err)
	}
	env.EngineErr = engineErr
	if err := acceptImageChanges(env, o.accept); err != nil {
		return err
	}
	if err := loadCertImports(ctx, env); err != nil {
		return err
	}

	p := a.printer()
	if !p.json() {
		printPlanSummary(ctx, a, env)
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
	trail, err := beginAudit(a, "install", ans.InstallDir)
	if err != nil {
		return err
	}
	var checklist []validate.Result
	plan := install.Plan(env, custody, handoutFor(a, env), func(rs []validate.Result) { checklist = rs })
	r := &steps.Runner{Plan: plan, Dir: ans.InstallDir, Project: a.project, Events: trail.observe(plan, p.stepEvent)}
	if err := r.Run(ctx); err != nil {
		if ctx.Err() != nil {
			return trail.finish(ctx, fmt.Errorf("%w", context.Canceled))
		}
		return trail.finish(ctx, stepsFailed(err)) // the failed event said it all
	}
	if err := trail.finish(ctx, nil); err != nil {
		return err
	}
	// The stack is installed whatever happens to the snapshot: a failure
	// is reported with what to do.
	if _, err := snapshotDefaultTenant(ctx, env); err != nil && p.json() {
		p.stepEvent(steps.Event{Kind: steps.KindWarning, Step: "demo-snapshot", Subject: "default",
			Message: fmt.Sprintf("the default tenant's first snapshot for `demo reset` failed: %v; take it with `fineract-installer demo snapshot default` before a class", err)})
	} else if err != nil {
		fmt.Fprintf(a.io.Err, "%s the default tenant's first snapshot for `demo reset` failed: %v\n  take it with `fineract-installer demo snapshot default` before a class\n", a.errPrinter().warn.Render("!"), err)
	}
	if err := p.checklist(checklist); err != nil {
		return err
	}
	if !p.json() {
		printInstalled(a, env)
	}
	return nil
}

// acceptImageChanges checks that each service named by
// --accept-image-change is one of the stack's.
func acceptImageChanges(env *install.Env, services []string) error {
	known := map[string]bool{}
	var names []string
	for _, s := range env.Bundle.Services {
		known[s.Name] = true
		names = append(names, s.Name)
	}
	for _, s := range services {
		if !known[s] {
			return usageError("--accept-image-change %q: not a service of this stack (its services: %s)", s, strings.Join(names, ", "))
		}
	}
	env.AcceptImageChange = services
	return nil
}

func printPlanSummary(ctx context.Context, a *app, env *install.Env) {
	p := a.printer()
	ans := env.Answers
	var names []string
	for _, s := range env.Bundle.Services {
		names = append(names, s.Name)
	}
	fmt.Fprintf(a.io.Out, "%s %s profile, %d services (%s)\n", p.bold.Render("Plan:"), ans.Profile, len(names), strings.Join(names, ", "))
	fmt.Fprintf(a.io.Out, "      about %d MiB of memory; installing into %s as project %s\n",
		assets.MemoryEstimateMiB(ans.Groups, ans.Profile), ans.InstallDir, a.project)
	printImagePlan(ctx, a, env)
	fmt.Fprintln(a.io.Out)
}

// printImagePlan says what happens to each image that is not simply the
// recorded one: recorded for the first time, an accepted change, or a
// change that will stop the install.
func printImagePlan(ctx context.Context, a *app, env *install.Env) {
	if env.Engine == nil {
		return
	}
	p := a.printer()
	plan, err := env.PlanImages(ctx)
	if err != nil {
		fmt.Fprintf(a.io.Out, "      %s images: %v\n", p.warn.Render("!"), err)
		return
	}
	var first, same int
	for _, ip := range plan {
		f := ip.Found
		switch {
		case ip.Recorded == nil:
			first++
		case ip.Changed() && ip.Accept:
			fmt.Fprintf(a.io.Out, "      %s image change of %s accepted: %s %s -> %s %s\n", p.warn.Render("!"), ip.Service, ip.Recorded.Image, ip.Recorded.ID, f.Image, f.ID)
		case ip.Changed():
			fmt.Fprintf(a.io.Out, "      %s %s: %s is %s here, the installation was made with %s %s; the install will stop before any container changes (accept it with --accept-image-change %s)\n",
				p.bad.Render("✗"), ip.Service, f.Image, f.ID, ip.Recorded.Image, ip.Recorded.ID, ip.Service)
		case ip.Accept && f.ID == "":
			fmt.Fprintf(a.io.Out, "      --accept-image-change %s: %s is not on this host yet; the image pulled or loaded will be recorded in place of %s\n", ip.Service, f.Image, ip.Recorded.ID)
		case ip.Accept:
			fmt.Fprintf(a.io.Out, "      --accept-image-change %s: the image is the recorded one (%s); nothing to accept\n", ip.Service, ip.Recorded.ID)
			same++
		case f.ID == "":
			fmt.Fprintf(a.io.Out, "      %s: %s is not on this host; once pulled or loaded it must be the recorded %s\n", ip.Service, f.Image, ip.Recorded.ID)
		default:
			same++
		}
	}
	switch {
	case first == len(plan):
		fmt.Fprintf(a.io.Out, "      images: each service's image ID is recorded in %s at this first install\n", env.ImageRecordFile())
	case first > 0:
		fmt.Fprintf(a.io.Out, "      images: %d as recorded, %d to record for services new to this installation\n", same, first)
	default:
		fmt.Fprintf(a.io.Out, "      images: %d as recorded\n", same)
	}
}

func printInstalled(a *app, env *install.Env) {
	p := a.printer()
	ans := env.Answers
	url := signInURL(ans)
	fmt.Fprintf(a.io.Out, "\n%s\n", p.ok.Render("The stack is installed."))
	fmt.Fprintf(a.io.Out, "  web app:      %s (tenant identifier: %s)\n", url, tenants.Default)
	fmt.Fprintf(a.io.Out, "  API:          %sfineract-provider/api/v1\n", url)
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
