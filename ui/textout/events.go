package textout

import (
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/dustin/go-humanize"

	"github.com/fineract-installer/fineract-installer/steps"
)

// Events draws pipeline events as lines. It is safe for concurrent use
// (an emitter may be called from several goroutines): each event's lines
// are written together.
type Events struct {
	mu sync.Mutex
	w  io.Writer
	st Styles
	// logs says whether service log lines are shown. A screen reader
	// leaves them out; a failure still shows the failing service's last
	// lines.
	logs bool
	// done holds the byte-progress subjects already reported complete.
	done map[string]bool
}

// NewEvents returns a renderer writing to w; logs says whether service log
// lines are drawn.
func NewEvents(w io.Writer, st Styles, logs bool) *Events {
	return &Events{w: w, st: st, logs: logs, done: map[string]bool{}}
}

// Event draws one event. A download (progress in bytes) is drawn once,
// when it completes, not once per chunk.
func (p *Events) Event(e steps.Event) {
	p.mu.Lock()
	defer p.mu.Unlock()
	st := p.st
	switch e.Kind {
	case steps.KindStarted:
		fmt.Fprintf(p.w, "%s %s\n", st.Bold.Render("▶"), st.Bold.Render(e.Title))
	case steps.KindDone:
		fmt.Fprintf(p.w, "%s %s %s\n", st.OK.Render("✓"), e.Title, st.Dim.Render("("+Elapsed(e.Elapsed)+")"))
	case steps.KindSkipped:
		fmt.Fprintf(p.w, "%s %s: %s\n", st.Dim.Render("↷"), e.Title, e.Message)
	case steps.KindWarning:
		fmt.Fprintf(p.w, "  %s %s\n", st.Warn.Render("!"), e.Message)
	case steps.KindLog:
		if !p.logs {
			return
		}
		sep := st.Dim.Render("|")
		if e.Stream == "stderr" {
			sep = st.Warn.Render("!")
		}
		fmt.Fprintf(p.w, "    %s %s %s\n", st.Dim.Render(e.Subject), sep, e.Message)
	case steps.KindProgress:
		p.progress(e)
	case steps.KindFailed:
		fmt.Fprintf(p.w, "%s %s failed: %s\n", st.Bad.Render("✗"), e.Title, st.Bad.Render(e.Cause))
		Details(p.w, st, steps.Explanation{Subject: e.Subject, Logs: e.Logs, Hint: e.Hint})
	}
}

func (p *Events) progress(e steps.Event) {
	if e.Unit == "bytes" {
		key := e.Step + "\x00" + e.Subject
		if e.Total <= 0 || e.Current < e.Total || p.done[key] {
			return
		}
		p.done[key] = true
		line := fmt.Sprintf("  %s: %s", e.Subject, humanize.IBytes(uint64(e.Total)))
		if e.Message != "" {
			line += p.st.Dim.Render(" (" + e.Message + ")")
		}
		fmt.Fprintln(p.w, line)
		return
	}
	if e.Subject == "" && e.Message == "" && e.Total == 0 {
		return
	}
	line := "  " + e.Subject
	if e.Total > 0 {
		line = fmt.Sprintf("  [%d/%d] %s", e.Current, e.Total, e.Subject)
	}
	switch {
	case e.Subject == "":
		line += e.Message
	case e.Message != "" && e.Message != e.Subject:
		line += p.st.Dim.Render(": " + e.Message)
	}
	fmt.Fprintln(p.w, line)
}

// Explanation draws a command's error: the cause, then the failing
// service's last log lines and the hint.
func Explanation(w io.Writer, st Styles, x steps.Explanation) {
	fmt.Fprintln(w, st.Bad.Render("error:")+" "+x.Cause)
	Details(w, st, x)
}

// Details draws a failure's last log lines and then its hint, under its
// cause.
func Details(w io.Writer, st Styles, x steps.Explanation) {
	if len(x.Logs) > 0 {
		subject := x.Subject
		if subject == "" {
			subject = "the service"
		}
		fmt.Fprintf(w, "  last log lines of %s:\n", subject)
		for _, l := range x.Logs {
			fmt.Fprintf(w, "    %s\n", l)
		}
	}
	if x.Hint != "" {
		fmt.Fprintf(w, "  %s %s\n", st.Bold.Render("hint:"), x.Hint)
	}
}

// Elapsed formats a duration the way every screen shows it: 0.4s, 1m23s,
// 2h05m.
func Elapsed(d time.Duration) string {
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%.1fs", d.Seconds())
	case d < time.Hour:
		return fmt.Sprintf("%dm%02ds", int(d.Minutes()), int(d.Seconds())%60)
	}
	return fmt.Sprintf("%dh%02dm", int(d.Hours()), int(d.Minutes())%60)
}
