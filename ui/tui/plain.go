package tui

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"charm.land/huh/v2"

	"github.com/fineract-installer/fineract-installer/steps"
	"github.com/fineract-installer/fineract-installer/ui/textout"
)

// lineWriter prints a run as lines: for a log file or CI without a
// terminal (logs included), or for a screen reader (logs left out; a
// failure still shows the failing service's last lines).
type lineWriter struct {
	w      io.Writer
	events *textout.Events
}

func newLineWriter(w io.Writer, accessible bool) *lineWriter {
	return &lineWriter{w: w, events: textout.NewEvents(w, textout.Plain(), !accessible)}
}

func (p *lineWriter) event(e steps.Event) { p.events.Event(e) }

func (p *lineWriter) summary(s Summary) {
	if s.WebAppURL != "" {
		fmt.Fprintf(p.w, "Web app: %s\n", s.WebAppURL)
	}
	if len(s.Tenants) > 0 {
		fmt.Fprintf(p.w, "Tenants: %s\n", strings.Join(s.Tenants, ", "))
	}
	if s.SignIn != "" {
		fmt.Fprintf(p.w, "First sign-in: %s\n", s.SignIn)
	}
	if s.GatewayURL != "" {
		fmt.Fprintf(p.w, "API gateway: %s\n", s.GatewayURL)
	}
	if s.Unseal != "" {
		fmt.Fprintf(p.w, "After a reboot: %s\n", s.Unseal)
	}
	if s.Backups != "" {
		fmt.Fprintf(p.w, "Backups: %s\n", s.Backups)
	}
	if len(s.Checks) > 0 {
		fmt.Fprint(p.w, textout.Checklist(textout.Plain(), s.Checks, 0))
	}
}

// runLines is RunDeploy without a screen. With a person at a line prompt
// (accessible mode) it runs the key ceremony and offers the failure
// actions; without one, a failure ends it.
func runLines(ctx context.Context, opts DeployOptions, t resolved) (Outcome, error) {
	pipe := newPipeline(ctx, opts.Run)
	defer pipe.close()
	lw := newLineWriter(t.out, t.mode == drawAccessible)
	var prompt *linePrompt
	if t.mode == drawAccessible {
		in := newPromptInput(ctx, t.in)
		defer in.close()
		prompt = &linePrompt{in: in, out: t.lineOutput()}
	}
	var requests chan ceremonyRequest
	if opts.Ceremony != nil {
		requests = opts.Ceremony.requests
	}
	out := Outcome{}
	for {
		updates := pipe.start()
		var runErr error
		var failed string
	read:
		for {
			select {
			case u := <-updates:
				if u.end {
					runErr = u.err
					break read
				}
				if u.event.Kind == steps.KindFailed {
					failed = u.event.Step
				}
				lw.event(u.event)
			case req := <-requests:
				req.reply <- prompt.ceremony(req)
			}
		}
		out.Err, out.FailedStep = runErr, failed
		switch {
		case runErr == nil:
			out.Status, out.FailedStep = Installed, ""
			if opts.Summary != nil {
				fmt.Fprintln(t.out, "Checking the installation…")
				lw.summary(opts.Summary(ctx))
			}
			return out, nil
		case ctx.Err() != nil:
			out.Status = Interrupted
			return out, nil
		}
		out.Status = Failed
		if prompt == nil {
			return out, nil
		}
		switch prompt.failureAction(opts.SupportBundle != nil) {
		case "retry":
			continue
		case "bundle":
			path, err := opts.SupportBundle(ctx)
			if err != nil {
				fmt.Fprintf(t.out, "Support bundle not written: %v\n", err)
			} else {
				out.SupportBundle = path
				fmt.Fprintf(t.out, "Support bundle written to %s\n", path)
			}
			if prompt.yes("Retry the install now?") {
				continue
			}
		}
		if opts.ResumeCommand != "" {
			fmt.Fprintf(t.out, "The state is kept; `%s` resumes.\n", opts.ResumeCommand)
		}
		return out, nil
	}
}

// linePrompt asks questions with huh's accessible prompts.
type linePrompt struct {
	in  *promptInput
	out io.Writer
}

// ceremony answers one key ceremony request at a line prompt. Without a
// person to ask (nil prompt), the shares cannot be shown safely.
func (p *linePrompt) ceremony(req ceremonyRequest) ceremonyReply {
	if p == nil {
		return ceremonyReply{err: errors.New("the Vault key shares can only be shown to a person at a terminal: " +
			"run the install in a terminal (or with --accessible)")}
	}
	switch {
	case req.secret != "":
		return p.secret(req.secret)
	case req.credentials != "":
		fmt.Fprintf(p.out, "\nWARNING: these passwords are shown ONCE: record them now.\n%s\n", req.credentials)
		for !p.yes("Have you recorded them? They will not be shown again.") {
			if p.in.interrupted() {
				return ceremonyReply{err: fmt.Errorf("vault key ceremony: %w", p.in.ctx.Err())}
			}
			fmt.Fprintln(p.out, "Take your time; the install waits.")
		}
		return ceremonyReply{}
	case !req.ask:
		n := len(req.shares)
		fmt.Fprintf(p.out, "\nWARNING: these %d Vault unseal key shares are shown ONCE and the installer does not keep them. "+
			"Record each one now. %s\n", n, vaultExplanation(n, req.threshold))
		for i, s := range req.shares {
			fmt.Fprintf(p.out, "Share %d: %s\n", i+1, s)
		}
		for !p.yes(fmt.Sprintf("Have you recorded all %d shares? They will not be shown again.", n)) {
			if p.in.interrupted() {
				return ceremonyReply{err: fmt.Errorf("vault key ceremony: %w", p.in.ctx.Err())}
			}
			fmt.Fprintln(p.out, "Take your time; the install waits.")
		}
		return ceremonyReply{}
	}
	var v string
	err := huh.NewInput().Title(fmt.Sprintf("Type share #%d exactly as you recorded it:", req.index+1)).
		Value(&v).RunAccessible(p.out, p.in)
	if err == nil && p.in.interrupted() {
		err = p.in.ctx.Err()
	}
	if err != nil {
		return ceremonyReply{err: fmt.Errorf("vault key ceremony: %w", err)}
	}
	return ceremonyReply{entered: strings.TrimSpace(v)}
}

// secret reads one line with the terminal's echo off: Ceremony.Secret at
// a line prompt. huh's own password field needs the terminal's descriptor,
// which promptInput hides, so echo is turned off around a plain field as
// the wizard's passphrase prompts do.
func (p *linePrompt) secret(prompt string) ceremonyReply {
	var v string
	err := p.in.hidden(func() error {
		return huh.NewInput().Title(prompt).Value(&v).RunAccessible(p.out, p.in)
	})
	if err == nil && p.in.interrupted() {
		err = p.in.ctx.Err()
	}
	if err != nil {
		return ceremonyReply{err: fmt.Errorf("ask %q: %w", strings.TrimSpace(prompt), err)}
	}
	if v = strings.TrimSpace(v); v == "" {
		return ceremonyReply{err: errors.New("nothing was entered")}
	}
	return ceremonyReply{entered: v}
}

// failureAction asks what to do after a failure.
func (p *linePrompt) failureAction(bundle bool) string {
	opts := []huh.Option[string]{huh.NewOption("Retry", "retry")}
	if bundle {
		opts = append(opts, huh.NewOption("Write a support bundle", "bundle"))
	}
	opts = append(opts, huh.NewOption("Quit and resume later (the state is kept)", "quit"))
	choice := "quit"
	if err := huh.NewSelect[string]().Title("What now?").Options(opts...).Value(&choice).RunAccessible(p.out, p.in); err != nil {
		return "quit"
	}
	return choice
}

func (p *linePrompt) yes(q string) bool {
	var v bool
	if err := huh.NewConfirm().Title(q).Value(&v).RunAccessible(p.out, p.in); err != nil {
		return false
	}
	return v
}
