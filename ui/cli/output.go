package cli

import (
	"fmt"
	"io"
	"time"

	"github.com/dustin/go-humanize"

	"github.com/fineract-installer/fineract-installer/compose"
	"github.com/fineract-installer/fineract-installer/steps"
	"github.com/fineract-installer/fineract-installer/steps/event"
	"github.com/fineract-installer/fineract-installer/steps/validate"
	"github.com/fineract-installer/fineract-installer/ui/textout"
)

// Output formats.
const (
	formatText = "text"
	formatJSON = "json"
)

// printer writes results as text for people or JSON for programs. In
// JSON every object is one line carrying the contract's version and its
// type (see jsonRecord); in text, events, errors and the checklist are
// drawn by textout, as the screens draw them.
type printer struct {
	w      io.Writer
	format string
	st     textout.Styles
	ok     textout.Style
	warn   textout.Style
	bad    textout.Style
	dim    textout.Style
	bold   textout.Style
	events *textout.Events
	// width is the terminal's width in cells, zero when the output is not
	// a terminal (nothing is wrapped then).
	width int
}

// newPrinter returns a printer; color is decided once by the caller (from
// --no-color, NO_COLOR and whether w is a terminal), never by asking the
// terminal. Without colour the styles are empty and text is printed as it
// is.
func newPrinter(w io.Writer, format string, color bool) *printer {
	st := textout.Plain()
	if color {
		st = textout.Colored()
	}
	return &printer{w: w, format: format, st: st, ok: st.OK, warn: st.Warn, bad: st.Bad, dim: st.Dim, bold: st.Bold,
		events: textout.NewEvents(w, st, true)}
}

func (p *printer) json() bool { return p.format == formatJSON }

// record writes v, which must marshal to a JSON object, as one line of the
// JSON output contract: the object's fields after "schema" (the contract's
// version) and "type" (kind, one of the types ui/cli/schema documents).
func (p *printer) record(kind string, v any) error {
	b, err := jsonRecord(kind, v)
	if err != nil {
		return err
	}
	if _, err := p.w.Write(b); err != nil {
		return fmt.Errorf("write %s: %w", kind, err)
	}
	return nil
}

// logLine prints one service log line; stderr lines are marked with "!".
func (p *printer) logLine(l compose.LogLine, width int, timestamps bool) {
	if p.json() {
		_ = p.record(typeLog, l)
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

func humanBytes(n int64) string { return humanize.IBytes(uint64(max(n, 0))) }

// stepEvent prints a pipeline event.
func (p *printer) stepEvent(e steps.Event) {
	if e.Time.IsZero() {
		e.Time = time.Now().UTC()
	}
	if p.json() {
		_ = p.record(typeEvent, e) // an event stream has no one to tell
		return
	}
	p.events.Event(e)
}

// explanation prints a command's error: as an error object in JSON, else
// the cause, then the failing service's last log lines and the hint.
func (p *printer) explanation(x steps.Explanation, code int) {
	if p.json() {
		_ = p.record(typeError, errorRecord{Cause: x.Cause, Hint: x.Hint, Subject: x.Subject, Logs: x.Logs, ExitCode: code})
		return
	}
	textout.Explanation(p.w, p.st, x)
}

// checklist prints validation results: one checklist object in JSON, else
// the checklist as every screen draws it.
func (p *printer) checklist(rs []validate.Result) error {
	if p.json() {
		return p.record(typeChecklist, newChecklistRecord(rs))
	}
	_, err := fmt.Fprint(p.w, "\n"+textout.Checklist(p.st, rs, p.width))
	return err
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
