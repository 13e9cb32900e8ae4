package tui

import (
	"context"
	"fmt"
	"strings"

	"charm.land/huh/v2"

	"github.com/fineract-installer/fineract-installer/steps/answers"
)

// accessibleWidth is the line width of the accessible wizard's text.
const accessibleWidth = 80

// runAccessibleWizard asks the wizard's questions as plain line prompts
// (huh's accessible mode), for screen readers: the same fields, validators
// and texts as the full-screen wizard, one after the other.
func runAccessibleWizard(ctx context.Context, opts WizardOptions, t resolved) (WizardResult, error) {
	in := newPromptInput(ctx, t.in)
	defer in.close()
	res, err := askAccessibleWizard(ctx, opts, t, in)
	if in.interrupted() {
		// Ctrl-C at any prompt: the answers are saved only at the end, so
		// nothing has been changed yet.
		fmt.Fprintln(t.out, "\nQuit the wizard. Nothing has been changed on this host.")
		return WizardResult{}, ErrAborted
	}
	return res, err
}

func askAccessibleWizard(ctx context.Context, opts WizardOptions, t resolved, in *promptInput) (WizardResult, error) {
	m := newWizard(ctx, opts, false)
	m.width, m.height = accessibleWidth, 1000
	out := t.lineOutput()
	say := func(s string) { fmt.Fprintln(out, s) }
	heading := func(s screenID) {
		say(fmt.Sprintf("\nStep %d of %d: %s (%s)", s+1, screenCount, screenTitles[s][0], screenTitles[s][1]))
	}
	// A prompt ended by Ctrl-C returns with its default; what was asked
	// must then go no further.
	ask := func(f *huh.Form) error {
		err := f.WithAccessible(true).WithInput(in).WithOutput(out).WithShowHelp(false).RunWithContext(ctx)
		if in.interrupted() {
			return ErrAborted
		}
		return err
	}
	confirm := func(q string) (bool, error) {
		var v bool
		err := ask(huh.NewForm(huh.NewGroup(huh.NewConfirm().Title(q).Value(&v))))
		return v, err
	}

	heading(screenWelcome)
	say(m.welcomeText(accessibleWidth))

	heading(screenPreflight)
	for {
		m.runChecksNow()
		say(m.checksText(accessibleWidth, true))
		again, err := confirm("Run the checks again?")
		if err != nil {
			return WizardResult{}, err
		}
		if !again {
			break
		}
	}

	// Bounded retries: at the end of input every prompt takes its default,
	// and a screen whose defaults are wrong would otherwise ask forever.
	const maxTries = 5
	tries := map[screenID]int{}
	for s := screenProfile; s <= screenReview; {
		if tries[s]++; tries[s] > maxTries {
			return WizardResult{}, fmt.Errorf("%s: still not answered after %d tries", screenTitles[s][0], maxTries)
		}
		if s == screenReview {
			heading(s)
			m.screen = screenReview
			m.runChecksNow()
			m.planNow()
			m.checkCertsNow()
			say(m.reviewText(accessibleWidth))
			action := "start"
			err := ask(huh.NewForm(huh.NewGroup(huh.NewSelect[string]().Title("What now?").Options(
				huh.NewOption("Save the answers and install now", "start"),
				huh.NewOption("Save the answers and leave", "save"),
				huh.NewOption("Change the answers (from the profile on)", "change"),
				huh.NewOption("Leave without saving", "quit"),
			).Value(&action))))
			if err != nil {
				return WizardResult{}, err
			}
			switch action {
			case "change":
				s = screenProfile
				continue
			case "quit":
				return WizardResult{Answers: m.d.answers()}, ErrAborted
			}
			res, err := m.finishNow(action == "start")
			if err != nil {
				say("Not done: " + err.Error())
				continue
			}
			return res, nil
		}
		heading(s)
		m.screen = s
		// The certificate files and the screen as a whole are checked
		// after the prompts (below), so one answer never traps a prompt.
		hooks := formHooks{certs: func() []string { return nil }, lines: true}
		for _, g := range groupsFor(s, m.d, opts.Host, hooks) {
			if !g.shown() {
				continue
			}
			form := huh.NewForm(g.group)
			run := func() error { return ask(form) }
			if g.secret {
				run = func() error { return in.hidden(func() error { return ask(form) }) }
			}
			if err := run(); err != nil {
				return WizardResult{}, err
			}
		}
		if s == screenProfile && m.d.profile != m.profile {
			m.d.applyProfile(m.d.profile)
			m.profile = m.d.profile
			say("Vault key sharing and the service groups now use the " + string(m.profile) + " defaults.")
		}
		if s == screenCerts {
			m.checkCertsNow()
		}
		if live := m.livePanel(); live != "" {
			say(live)
		}
		if ps := m.screenProblems(); len(ps) > 0 {
			say("Please fix: " + strings.Join(ps, "; "))
			continue
		}
		s++
	}
	return WizardResult{}, ErrAborted
}

// runChecksNow runs the preflight in line (the accessible wizard has no
// UI loop to keep responsive).
func (m *wizardModel) runChecksNow() {
	m.checks = checkState{seq: m.checks.seq + 1, results: m.opts.Preflight(m.ctx, m.d.answers()), at: m.now()}
}

// planNow plans an install with the answers in line, when the caller can.
func (m *wizardModel) planNow() {
	if m.opts.Plan == nil {
		return
	}
	c, err := m.opts.Plan(m.ctx, m.d.answers())
	m.plan = planState{seq: m.plan.seq + 1, changes: c, err: err}
}

// checkCertsNow checks the imported certificate files in line.
func (m *wizardModel) checkCertsNow() {
	if m.d.certSource != answers.CertImport {
		return
	}
	a := m.d.importAnswers()
	paths := [2][2]string{m.d.certPaths(pairCA), m.d.certPaths(pairGateway)}
	*m.certs = checkImports(m.ctx, m.opts.Certificates, paths, fmt.Sprint(a), a, m.now())
}

// finishNow saves the answers (when there is a path) and ends the wizard.
func (m *wizardModel) finishNow(start bool) (WizardResult, error) {
	if ps := m.reviewProblems(); len(ps) > 0 {
		return WizardResult{}, fmt.Errorf("the answers have problems: %s", strings.Join(ps, "; "))
	}
	if start && failedChecks(m.checks) {
		return WizardResult{}, fmt.Errorf("host checks fail; fix them, or save the answers and install later")
	}
	a := m.d.answers()
	res := WizardResult{Answers: a, Start: start}
	if m.opts.AnswersPath != "" {
		msg := saveAnswers(m.opts.AnswersPath, a, start)().(savedMsg)
		if msg.err != nil {
			return WizardResult{}, msg.err
		}
		res.Saved = msg.path
	} else if !start {
		return WizardResult{}, fmt.Errorf("no answers file path was given, so there is nowhere to save")
	}
	if start && a.Vault.Custody == answers.CustodyFile {
		res.CustodyPassphrase = []byte(m.d.passphrase)
	}
	return res, nil
}
