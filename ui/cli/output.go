package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"charm.land/lipgloss/v2"

	"github.com/fineract-installer/fineract-installer/compose"
	"github.com/fineract-installer/fineract-installer/steps"
	"github.com/fineract-installer/fineract-installer/steps/event"
)

// Output formats.
const (
	formatText = "text"
	formatJSON = "json"
)

// printer writes results as text for people or JSON for programs. Event and
// log records in JSON are one object per line with a "type" field.
type printer struct {
	w      io.Writer
	format string
	ok     style
	warn   style
	bad    style
	dim    style
	bold   style
}

// style paints text without changing its layout. lipgloss pads every line
// of a multi-line string to the width of the longest one, which leaves
// runs of spaces at the ends of a message's lines; each line is painted on
// its own instead.
type style struct{ lipgloss.Style }

// Render paints text line by line.
func (s style) Render(text string) string {
	lines := strings.Split(text, "\n")
	for i, l := range lines {
		lines[i] = s.Style.Render(l)
	}
	return strings.Join(lines, "\n")
}

// newPrinter returns a printer; color is decided once by the caller (from
// --no-color, NO_COLOR and whether w is a terminal), never by asking the
// terminal. Without colour the styles are empty and text is printed as it
// is.
func newPrinter(w io.Writer, format string, color bool) *printer {
	p := &printer{w: w, format: format}
	if color {
		// Base ANSI colours follow the terminal's palette, so they read
		// on light and dark backgrounds alike.
		p.ok = style{lipgloss.NewStyle().Foreground(lipgloss.Green)}
		p.warn = style{lipgloss.NewStyle().Foreground(lipgloss.Yellow)}
		p.bad = style{lipgloss.NewStyle().Foreground(lipgloss.Red)}
		p.dim = style{lipgloss.NewStyle().Faint(true)}
		p.bold = style{lipgloss.NewStyle().Bold(true)}
	}
	return p
}

func (p *printer) json() bool { return p.format == formatJSON }

// record writes one JSON line with a type field.
func (p *printer) record(kind string, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		fmt.Fprintf(p.w, `{"type":"error","text":%q}`+"\n", err.Error())
		return
	}
	fmt.Fprintf(p.w, `{"type":%q,%s`+"\n", kind, strings.TrimPrefix(string(b), "{"))
}

// document writes one JSON document (for commands whose whole result is one value).
func (p *printer) document(v any) error {
	enc := json.NewEncoder(p.w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// logLine prints one service log line; stderr lines are marked with "!".
func (p *printer) logLine(l compose.LogLine, width int, timestamps bool) {
	if p.json() {
		p.record("log", l)
		return
	}
	sep := p.dim.Render("|")
	if l.Stream == compose.Stderr {
		sep = p.warn.Render("!")
	}
	ts := ""
	if timestamps {
		ts = p.dim.Render(l.Time.Format("2006-01-02T15:04:05.000Z07:00")) + " "
	}
	fmt.Fprintf(p.w, "%-*s %s %s%s\n", width, l.Service, sep, ts, l.Text)
}

func humanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

// stepEvent prints a pipeline event. In text, progress with a byte count
// is shown at most once per subject per step, so pulls stay readable.
func (p *printer) stepEvent(e steps.Event) {
	if e.Time.IsZero() {
		e.Time = time.Now().UTC()
	}
	if p.json() {
		p.record("event", e)
		return
	}
	switch e.Kind {
	case steps.KindStarted:
		fmt.Fprintf(p.w, "%s %s\n", p.bold.Render("▶"), p.bold.Render(e.Title))
	case steps.KindDone:
		fmt.Fprintf(p.w, "%s %s %s\n", p.ok.Render("✓"), e.Title, p.dim.Render(e.Elapsed.Round(time.Millisecond).String()))
	case steps.KindSkipped:
		fmt.Fprintf(p.w, "%s %s %s\n", p.dim.Render("-"), e.Title, p.dim.Render("("+e.Message+")"))
	case steps.KindWarning:
		fmt.Fprintf(p.w, "  %s %s\n", p.warn.Render("!"), e.Message)
	case steps.KindLog:
		sep := p.dim.Render("|")
		if e.Stream == string(compose.Stderr) {
			sep = p.warn.Render("!")
		}
		fmt.Fprintf(p.w, "    %s %s %s\n", p.dim.Render(e.Subject), sep, e.Message)
	case steps.KindProgress:
		if e.Unit == "bytes" {
			if e.Current != e.Total {
				return
			}
			fmt.Fprintf(p.w, "  %s %s %s\n", e.Subject, e.Message, p.dim.Render(humanBytes(e.Total)))
			return
		}
		line := "  " + e.Subject
		if e.Total > 0 {
			line = fmt.Sprintf("  [%d/%d] %s", e.Current, e.Total, e.Subject)
		}
		if e.Message != "" && e.Message != e.Subject {
			line += p.dim.Render(": " + e.Message)
		}
		fmt.Fprintln(p.w, line)
	case steps.KindFailed:
		fmt.Fprintf(p.w, "%s %s: %s\n", p.bad.Render("✗"), e.Title, p.bad.Render(e.Cause))
		p.details(steps.Explanation{Subject: e.Subject, Logs: e.Logs, Hint: e.Hint})
	}
}

// explanation prints a command's error: the cause, then the failing
// service's last log lines and the hint, each on lines of their own.
func (p *printer) explanation(x steps.Explanation) {
	fmt.Fprintln(p.w, p.bad.Render("error:")+" "+x.Cause)
	p.details(x)
}

// details prints a failure's log lines and hint under its cause.
func (p *printer) details(x steps.Explanation) {
	if len(x.Logs) > 0 {
		fmt.Fprintf(p.w, "  last log lines of %s:\n", x.Subject)
		for _, l := range x.Logs {
			fmt.Fprintf(p.w, "    %s\n", l)
		}
	}
	if x.Hint != "" {
		fmt.Fprintf(p.w, "  %s %s\n", p.bold.Render("hint:"), x.Hint)
	}
}

// emitter adapts the printer to a step's emitter, for commands that run
// step-like work outside a plan: events are stamped with step, as a
// runner stamps them.
func (p *printer) emitter(step string) steps.Emitter {
	return event.Func(func(e steps.Event) {
		e.Step = step
		p.stepEvent(e)
	})
}
