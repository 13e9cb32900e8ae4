package tui

import (
	"context"
	"io"
	"os"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"
	"github.com/mattn/go-isatty"
)

// drawMode is how a Run function talks to the person.
type drawMode int

const (
	drawScreen     drawMode = iota // full-screen Bubble Tea program
	drawAccessible                 // line prompts and lines, for screen readers
	drawPlain                      // lines only, no questions
)

// resolved is a Terminal with its defaults filled in and its mode decided.
type resolved struct {
	in      io.Reader
	out     io.Writer
	mode    drawMode
	noColor bool
}

func (t Terminal) resolve() resolved {
	r := resolved{in: t.In, out: t.Out, noColor: t.NoColor || os.Getenv("NO_COLOR") != ""}
	if r.in == nil {
		r.in = os.Stdin
	}
	if r.out == nil {
		r.out = os.Stderr
	}
	switch {
	case t.Plain:
		r.mode = drawPlain
	case t.Accessible || os.Getenv("TERM") == "dumb":
		r.mode = drawAccessible // line prompts work on any reader
	case !isTerminal(r.in) || !isTerminal(r.out) || !isTerminal(os.Stdout):
		r.mode = drawPlain
	}
	return r
}

// Interactive reports whether RunWizard and RunDeploy would draw screens
// with these settings: only when input, output and stdout are terminals,
// so `installer | tee log` never gets escape sequences.
func Interactive(t Terminal) bool { return t.resolve().mode == drawScreen }

func isTerminal(v any) bool {
	f, ok := v.(interface{ Fd() uintptr })
	return ok && (isatty.IsTerminal(f.Fd()) || isatty.IsCygwinTerminal(f.Fd()))
}

// programOptions are the options of a full-screen program on this
// terminal. Bubble Tea detects the colour profile from the environment and
// the output; with colour off it draws with the ASCII profile instead
// (bold and the like, no colour). The models ask the terminal for its
// background only when colour is on (see askBackground).
func (t resolved) programOptions(ctx context.Context) []tea.ProgramOption {
	opts := []tea.ProgramOption{tea.WithInput(t.in), tea.WithOutput(t.out), tea.WithContext(ctx)}
	if t.noColor {
		opts = append(opts, tea.WithColorProfile(colorprofile.ASCII))
	}
	return opts
}

// lineOutput is where line prompts and progress lines are written: plain
// text whatever the styles emit, for screen readers and log files.
func (t resolved) lineOutput() io.Writer {
	return &colorprofile.Writer{Forward: t.out, Profile: colorprofile.NoTTY}
}
