package tui

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"

	tea "charm.land/bubbletea/v2"
)

// ErrAborted means the person left the wizard without saving or starting.
var ErrAborted = errors.New("the wizard was left before the answers were saved")

// ErrNoTerminal means the wizard has no terminal to ask its questions in.
var ErrNoTerminal = errors.New("the wizard needs a terminal; use an answers file (fineract-installer answers init) or --accessible")

// RunWizard asks for the answers, screen by screen, and returns them. In a
// terminal it draws full screens on Terminal.Out; with Accessible (or
// TERM=dumb) it asks plain line prompts instead. Without a terminal it
// returns ErrNoTerminal. Leaving without saving returns ErrAborted.
func RunWizard(ctx context.Context, opts WizardOptions) (WizardResult, error) {
	if opts.Preflight == nil {
		return WizardResult{}, errors.New("tui: WizardOptions.Preflight is required")
	}
	if opts.AnswersPath != "" {
		if abs, err := filepath.Abs(opts.AnswersPath); err == nil {
			opts.AnswersPath = abs
		}
	}
	t := opts.Terminal.resolve()
	switch t.mode {
	case drawPlain:
		return WizardResult{}, ErrNoTerminal
	case drawAccessible:
		return runAccessibleWizard(ctx, opts, t)
	}
	p := tea.NewProgram(newWizard(ctx, opts, !t.noColor), t.programOptions(ctx)...)
	final, err := p.Run()
	switch {
	case errors.Is(err, tea.ErrProgramKilled) && ctx.Err() != nil:
		return WizardResult{}, fmt.Errorf("wizard: %w", ctx.Err())
	case err != nil && !errors.Is(err, tea.ErrInterrupted):
		return WizardResult{}, fmt.Errorf("run wizard: %w", err)
	}
	m, _ := final.(wizardModel)
	if !m.finished || (!m.result.Start && m.result.Saved == "") {
		return m.result, ErrAborted
	}
	return m.result, nil
}

// RunDeploy runs the install through opts.Run and shows it: the step list
// with progress and the services' logs, the Vault key ceremony, the
// failure screen with its actions, and the final checklist. Without a
// terminal (or with Plain) it prints one line per event instead; with
// Accessible it prints lines and asks its questions as line prompts.
//
// RunDeploy returns only after the last run attempt has returned: if the
// person stops the install, the running step is cancelled and waited for,
// so the state file stays consistent.
func RunDeploy(ctx context.Context, opts DeployOptions) (Outcome, error) {
	if opts.Run == nil {
		return Outcome{}, errors.New("tui: DeployOptions.Run is required")
	}
	t := opts.Terminal.resolve()
	if t.mode != drawScreen {
		return runLines(ctx, opts, t)
	}
	pipe := newPipeline(ctx, opts.Run)
	defer pipe.close()
	p := tea.NewProgram(newDeploy(ctx, opts, !t.noColor, pipe), t.programOptions(ctx)...)
	final, err := p.Run()
	m, _ := final.(deployModel)
	if m.mode == modeCeremony {
		m.cer.abandon()
	}
	switch {
	case errors.Is(err, tea.ErrProgramKilled), errors.Is(err, tea.ErrInterrupted):
		return Outcome{Status: Interrupted, Err: ctx.Err()}, nil
	case err != nil:
		return Outcome{}, fmt.Errorf("run deploy view: %w", err)
	}
	out := m.outcome
	if out.Status == "" {
		out.Status = Interrupted
	}
	return out, nil
}
