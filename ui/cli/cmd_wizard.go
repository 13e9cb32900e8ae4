package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/fineract-installer/fineract-installer/assets"
	"github.com/fineract-installer/fineract-installer/compose"
	"github.com/fineract-installer/fineract-installer/steps"
	"github.com/fineract-installer/fineract-installer/steps/answers"
	"github.com/fineract-installer/fineract-installer/steps/frontdoor"
	"github.com/fineract-installer/fineract-installer/steps/hostfacts"
	"github.com/fineract-installer/fineract-installer/steps/install"
	"github.com/fineract-installer/fineract-installer/steps/installation"
	"github.com/fineract-installer/fineract-installer/steps/installdir"
	"github.com/fineract-installer/fineract-installer/steps/preflight"
	"github.com/fineract-installer/fineract-installer/steps/validate"
	"github.com/fineract-installer/fineract-installer/ui/tui"
)

// runWizard is what the bare command does in a terminal: the guided
// wizard, then the same plan as `install`, drawn live.
func runWizard(ctx context.Context, a *app) error {
	if !a.io.CanPrompt() {
		return usageError("no command given and no terminal to run the wizard in; run `fineract-installer --help` for the commands")
	}
	term := tui.Terminal{In: a.io.In, Out: a.io.Err, NoColor: !a.color(a.io.ErrTTY), Accessible: a.accessible}
	e, engineErr := a.connect(ctx)
	if e != nil {
		defer e.Close()
	}
	initial := answers.Defaults(answers.Production)
	initial.InstallDir = a.dir
	host := a.f.Host()
	if e != nil {
		// Subnets other Docker networks hold: preflight refuses them too.
		if docker, err := hostfacts.DockerSubnets(ctx, e.API(), a.project); err == nil {
			host.Taken = append(slices.Clone(host.Taken), docker...)
		}
	}
	res, err := tui.RunWizard(ctx, tui.WizardOptions{
		Terminal: term, Initial: initial, Host: host, AnswersPath: installation.Relative().AnswersFile(),
		Certificates: func(ctx context.Context, ans answers.Answers, now time.Time) install.ImportCheck {
			return install.CheckImports(ctx, ans, a.project, now)
		},
		Plan: func(ctx context.Context, ans answers.Answers) (*install.Changes, error) {
			return wizardPlan(ctx, a, e, engineErr, ans)
		},
		Preflight: func(ctx context.Context, ans answers.Answers) []preflight.Result {
			env, err := install.NewEnv(ans, a.project, ans.InstallDir, installdir.SecretsDir(a.project), e)
			if err != nil {
				return []preflight.Result{{ID: "answers", Title: "Answers", Status: preflight.Fail, Observed: err.Error(), Fix: "change the answers"}}
			}
			env.EngineErr = engineErr
			return preflight.Run(ctx, env.PreflightInput())
		},
	})
	switch {
	case errors.Is(err, tui.ErrAborted):
		return &silentError{code: ExitInterrupted}
	case err != nil:
		return err
	case !res.Start:
		fmt.Fprintf(a.io.Out, "Answers saved to %s; install with `fineract-installer install --answers %s`.\n", res.Saved, res.Saved)
		return nil
	}
	if e == nil {
		return withCode(ExitHostNotOK, engineErr)
	}
	ans := res.Answers
	env, err := install.NewEnv(ans, a.project, ans.InstallDir, installdir.SecretsDir(a.project), e)
	if err != nil {
		return withCode(ExitUsage, err)
	}
	// The files were checked on the review screen; they are read once more
	// here, and what is read now is what the certificates step imports.
	if err := loadCertImports(ctx, env); err != nil {
		return err
	}
	// The deploy program owns the terminal from here on: every question
	// the pipeline asks (key shares to show, confirm or type to unseal)
	// goes to its screen; the wizard asked the demo passphrase already.
	cer := tui.NewCeremony()
	if ans.Vault.Custody == answers.CustodyFile && len(res.CustodyPassphrase) == 0 {
		return errors.New("the wizard returned no demo custody passphrase")
	}
	custody, err := custodyWith(a, env, custodyOptions{installing: true, passphrase: res.CustodyPassphrase}, cer)
	if err != nil {
		return err
	}
	var checklist []validate.Result
	handout := func(ctx context.Context, creds []frontdoor.Credential) error {
		var b strings.Builder
		writeCredentials(&b, creds)
		return cer.ShowCredentials(ctx, strings.TrimLeft(b.String(), "\n"))
	}
	plan := install.Plan(env, custody, handout, func(rs []validate.Result) { checklist = rs })
	out, err := tui.RunDeploy(ctx, tui.DeployOptions{
		Terminal: term,
		Title:    fmt.Sprintf("Installing %s (%s profile) into %s", a.project, ans.Profile, ans.InstallDir),
		Steps:    tui.StepInfos(plan),
		Run: func(ctx context.Context, emit func(steps.Event)) error {
			unlock, err := lockInstallDir(ans.InstallDir)
			if err != nil {
				return err
			}
			defer unlock()
			trail, err := beginAudit(a, "install (wizard)", ans.InstallDir)
			if err != nil {
				return err
			}
			err = (&steps.Runner{Plan: plan, Dir: ans.InstallDir, Project: a.project, Events: trail.observe(plan, emit)}).Run(ctx)
			return trail.finish(ctx, err)
		},
		Ceremony: cer,
		Summary: func(context.Context) tui.Summary {
			url := fmt.Sprintf("https://%s:%d", ans.Host.Hostname, ans.Gateway.HTTPSPort)
			return tui.Summary{Checks: checklist, GatewayURL: url + "/fineract-provider/api/v1", WebAppURL: url + "/",
				Tenants: []string{assets.DefaultTenant}, SignIn: assets.FineractAdminUser + ", with the password shown once above (`fineract-installer credentials` shows it again)",
				Unseal: "after a reboot: fineract-installer unseal", Backups: "fineract-installer backup writes to " + env.BackupsDir()}
		},
		ResumeCommand: "fineract-installer install --answers " + res.Saved,
		SupportBundle: func(ctx context.Context) (string, error) {
			path, _, err := writeBundle(ctx, env, "", 500, a.build.Version)
			return path, err
		},
	})
	return deployOutcome(out, err)
}

// deployOutcome is the exit of a run in the deploy view: the view said
// what happened, so only the code is left.
func deployOutcome(out tui.Outcome, err error) error {
	if err != nil {
		return err
	}
	switch out.Status {
	case tui.Installed:
		return nil
	case tui.Interrupted:
		return &silentError{code: ExitInterrupted}
	}
	return &silentError{code: ExitFailed}
}

// readHost reads what the wizard proposes defaults from: the host's name,
// addresses, memory and the subnets its routes use. Docker's own networks
// are added by the wizard command, which has the engine.
func readHost() tui.HostFacts {
	h := tui.HostFacts{IPs: hostfacts.Addresses(), Taken: hostfacts.RouteSubnets("")}
	if name, err := os.Hostname(); err == nil {
		h.Hostname = name
	}
	if mem, err := hostfacts.ReadMemory(""); err == nil {
		h.MemoryMiB = int(mem.TotalMiB)
	}
	return h
}

// wizardPlan is what installing the wizard's answers would change in the
// installation already in their install dir; nil when there is none yet
// (a first install creates everything, and the review lists it).
func wizardPlan(ctx context.Context, a *app, e *compose.Engine, engineErr error, ans answers.Answers) (*install.Changes, error) {
	if ok, err := installdir.Exists(ans.InstallDir); err != nil || !ok {
		return nil, err
	}
	if e == nil {
		return nil, engineErr
	}
	env, err := install.NewEnv(ans, a.project, ans.InstallDir, installdir.SecretsDir(a.project), e)
	if err != nil {
		return nil, err
	}
	if chk := env.LoadImports(ctx); chk.Err() != nil || chk.Other != nil {
		return nil, errors.Join(chk.Err(), chk.Other)
	}
	return install.PlanChanges(ctx, env)
}
