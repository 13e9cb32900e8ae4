// Package tui is the installer's terminal interface: the wizard that
// collects the answers and the deploy view that shows the pipeline's events.
// It does no installing itself; everything that changes the host happens in
// the functions it is given.
//
// # Wizard
//
// RunWizard walks nine screens (welcome, preflight, profile, host, Vault,
// certificates, networks, services, review) and returns a WizardResult:
//
//	res, err := tui.RunWizard(ctx, tui.WizardOptions{
//		Terminal:    tui.Terminal{NoColor: noColor, Accessible: accessible},
//		Initial:     initial, // answers.Defaults(answers.Production), InstallDir from --dir
//		Host:        host,    // from package hostfacts: name, addresses, memory, taken subnets
//		Preflight:   func(ctx context.Context, a answers.Answers) []preflight.Result { return preflight.Run(ctx, in(a)) },
//		AnswersPath: "answers.yaml",
//	})
//
// Fields are checked as they are typed with the answers package's own rules
// (and the PKI package's, for imported certificates, off the UI loop);
// esc goes back a screen and keeps every answer. The review screen saves the
// answers file (answers.Load reads it back) and starts the install only when
// the answers are valid and the host checks pass. err is ErrAborted when the
// person left without saving, ErrNoTerminal when there is no terminal to ask
// in. Res.CustodyPassphrase holds the demo custody file's passphrase; it is
// never written anywhere.
//
// # Deploy
//
// RunDeploy runs the install and shows it: the plan's steps with status
// marks and times, byte progress of image pulls, overall progress, and the
// services' logs (per service, scrollable, followable, bounded by
// logtail's rings; stderr lines carry a "!" gutter):
//
//	cer := tui.NewCeremony() // production custody only
//	custody := vault.ShowAndConfirm(
//		func(ctx context.Context, r *vault.InitResult) error { return cer.Show(ctx, r.Keys, r.Threshold) },
//		cer.Ask)
//	plan := buildPlan(answers, custody)
//	out, err := tui.RunDeploy(ctx, tui.DeployOptions{
//		Title:         "production install of " + answers.Host.Hostname,
//		Steps:         tui.StepInfos(plan),
//		Run:           func(ctx context.Context, emit func(steps.Event)) error { return (&steps.Runner{Plan: plan, Dir: dir, Project: project, Events: emit}).Run(ctx) },
//		Ceremony:      cer,
//		Summary:       func(ctx context.Context) tui.Summary { ... validation results and URLs ... },
//		SupportBundle: func(ctx context.Context) (string, error) { ... },
//		ResumeCommand: "fineract-installer install --answers answers.yaml",
//	})
//
// When a step fails, the failure screen shows the step, the cause, the hint
// and the failing service's last lines, with actions: retry (Run is called
// again; the runner resumes), full logs, support bundle (SupportBundle),
// and quit to resume later. After a successful run the final screen shows
// where to log in, how to unseal after a reboot, where backups go and the
// validation checklist grouped by area. Outcome says how it ended.
// Stopping a running install (q or Ctrl-C, confirmed) cancels the running
// step and waits for Run to return before RunDeploy does.
//
// # Terminals
//
// Screens are drawn on Terminal.Out, os.Stderr by default, in the alternate
// screen (the key shares never reach the scrollback); stdout stays free for
// results. Screens are drawn only when input, output and stdout are all
// terminals (Interactive); otherwise RunDeploy prints one line per event
// and RunWizard returns ErrNoTerminal. Accessible (or TERM=dumb) asks the
// same questions as huh's line prompts and prints progress as lines.
// NoColor and NO_COLOR draw without colour; no meaning is carried by colour
// alone. With colour on, a full-screen program asks the terminal for its
// background colour once it runs and restyles for it; with colour off it
// asks nothing about colours, and line prompts and lines ask the terminal
// nothing at all. The screens are laid out for 80×24 and up, and redraw on
// resize.
package tui
