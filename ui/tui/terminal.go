package tui

import (
	"io"
	"os"

	"github.com/charmbracelet/lipgloss"
	"github.com/mattn/go-isatty"
	"github.com/muesli/termenv"
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

// newRenderer makes the renderer the program draws with and installs it as
// lipgloss's default, which huh's themes use. The terminal's background is
// queried here, before the program owns the terminal, so adaptive colours
// never query it from inside View.
func newRenderer(out io.Writer, noColor bool) *lipgloss.Renderer {
	r := lipgloss.NewRenderer(out)
	if noColor {
		r.SetColorProfile(termenv.Ascii)
		r.SetHasDarkBackground(true)
	} else {
		r.HasDarkBackground()
	}
	lipgloss.SetDefaultRenderer(r)
	return r
}
