package tui

import (
	"fmt"
	"strings"
	"time"

	"charm.land/lipgloss/v2"
	"github.com/dustin/go-humanize"

	"github.com/fineract-installer/fineract-installer/steps"
	"github.com/fineract-installer/fineract-installer/ui/textout"
)

// stepStatus is where one step stands on screen.
type stepStatus int

const (
	stepPending stepStatus = iota
	stepRunning
	stepDone
	stepSkipped
	stepFailed
	stepStopped // interrupted on request
)

// progress is one subject's progress within a step (an image's bytes, the
// services ready so far).
type progress struct {
	subject string
	current int64
	total   int64
	unit    string
	message string
}

// stepRow is one step of the plan as the deploy view shows it.
type stepRow struct {
	id       string
	title    string
	status   stepStatus
	started  time.Time
	elapsed  time.Duration
	message  string
	warnings []string
	progress []progress // in order of first report
	failure  *steps.Event
}

// maxWarnings bounds the warnings kept per step.
const maxWarnings = 5

// maxSubjects bounds the progress lines shown under a running step.
const maxSubjects = 3

// apply updates the row with one of its step's events.
func (r *stepRow) apply(e steps.Event, now time.Time) {
	at := e.Time
	if at.IsZero() {
		at = now
	}
	switch e.Kind {
	case steps.KindStarted:
		r.status, r.started, r.message = stepRunning, at, ""
		r.progress, r.failure, r.elapsed = nil, nil, 0
	case steps.KindProgress:
		if r.status == stepPending {
			r.status, r.started = stepRunning, at
		}
		if e.Message != "" {
			r.message = e.Message
		}
		if e.Total > 0 || e.Current > 0 {
			r.setProgress(progress{subject: e.Subject, current: e.Current, total: e.Total, unit: e.Unit, message: e.Message})
		}
	case steps.KindWarning:
		r.warnings = append(r.warnings, e.Message)
		if len(r.warnings) > maxWarnings {
			r.warnings = r.warnings[len(r.warnings)-maxWarnings:]
		}
	case steps.KindDone:
		r.status, r.elapsed, r.progress = stepDone, e.Elapsed, nil
	case steps.KindSkipped:
		r.status, r.message, r.progress = stepSkipped, e.Message, nil
	case steps.KindFailed:
		ev := e
		r.status, r.elapsed, r.failure = stepFailed, e.Elapsed, &ev
	}
}

func (r *stepRow) setProgress(p progress) {
	for i := range r.progress {
		if r.progress[i].subject == p.subject {
			r.progress[i] = p
			return
		}
	}
	r.progress = append(r.progress, p)
}

// fraction is how far the step is, 0 to 1, from its progress reports.
func (r *stepRow) fraction() float64 {
	switch r.status {
	case stepDone, stepSkipped:
		return 1
	case stepPending:
		return 0
	}
	var cur, total int64
	for _, p := range r.progress {
		if p.total > 0 {
			cur += min(p.current, p.total)
			total += p.total
		}
	}
	if total == 0 {
		return 0
	}
	return float64(cur) / float64(total)
}

// overall is the fraction of the plan done, running steps counted by
// their own progress.
func overall(rows []stepRow) (float64, int) {
	if len(rows) == 0 {
		return 0, 0
	}
	sum, finished := 0.0, 0
	for i := range rows {
		sum += rows[i].fraction()
		if rows[i].status == stepDone || rows[i].status == stepSkipped {
			finished++
		}
	}
	return sum / float64(len(rows)), finished
}

// bar draws a progress bar of width cells; filled and empty cells differ
// in shape, so it reads without colour. (A static bar: bubbles/progress
// animates with its own ticks, and this view redraws on events anyway.)
func bar(st Styles, frac float64, width int) string {
	width = max(width, 1)
	full := int(frac*float64(width) + 0.5)
	full = min(max(full, 0), width)
	return st.Bar.Full.Render(strings.Repeat("█", full)) + st.Bar.Empty.Render(strings.Repeat("░", width-full))
}

// formatElapsed is textout's, so the screen and the lines agree.
func formatElapsed(d time.Duration) string { return textout.Elapsed(d) }

// amount formats a progress count in its unit.
func amount(n int64, unit string) string {
	if unit == "bytes" {
		return humanize.IBytes(uint64(max(n, 0)))
	}
	return fmt.Sprint(n)
}

// stepLines renders every row (with detail lines under running and failed
// steps) and says which line the current step starts on.
func stepLines(st Styles, rows []stepRow, spin string, width int, now time.Time) (out []string, focus int) {
	focus = -1
	titleW := 0
	for _, r := range rows {
		titleW = max(titleW, lipgloss.Width(r.title))
	}
	titleW = min(titleW, width-16)
	for _, r := range rows {
		var mark, right string
		switch r.status {
		case stepPending:
			mark = st.Muted.Render("·")
		case stepRunning:
			mark = st.Accent.Render(spin)
			right = formatElapsed(now.Sub(r.started))
		case stepDone:
			mark, right = st.Pass.Render("✓"), formatElapsed(r.elapsed)
		case stepSkipped:
			mark, right = st.Muted.Render("↷"), "skipped"
		case stepFailed:
			mark, right = st.Fail.Render("✗"), "failed "+formatElapsed(r.elapsed)
		case stepStopped:
			mark, right = st.Warn.Render("■"), "stopped"
		}
		if len(r.warnings) > 0 && r.status != stepFailed {
			right = st.Warn.Render(fmt.Sprintf("%d warning ", len(r.warnings))) + right
		}
		if focus < 0 && (r.status == stepRunning || r.status == stepFailed) {
			focus = len(out)
		}
		title := fmt.Sprintf("%-*s", titleW, clip(r.title, titleW))
		if r.status == stepPending {
			title = st.Muted.Render(title)
		}
		out = append(out, fmt.Sprintf("%s %s  %s", mark, title, st.Muted.Render(right)))
		if r.status == stepRunning {
			out = append(out, detailLines(st, r, width)...)
		}
		if r.status == stepFailed && r.failure != nil {
			out = append(out, clip("    "+st.Fail.Render(r.failure.Cause), width))
		}
	}
	return out, focus
}

// detailLines show a running step's progress: a bar per subject with a
// known total, or its latest message, and its latest warning.
func detailLines(st Styles, r stepRow, width int) []string {
	var out []string
	shown := 0
	for _, p := range r.progress {
		if p.total <= 0 || shown == maxSubjects {
			continue
		}
		shown++
		name := fmt.Sprintf("%-24s", clip(p.subject, 24))
		counts := fmt.Sprintf(" %s / %s", amount(p.current, p.unit), amount(p.total, p.unit))
		barW := min(max(width-4-24-1-26, 10), 40)
		line := "    " + name + " " + bar(st, float64(p.current)/float64(p.total), barW) + counts
		if p.message != "" && p.unit == "bytes" {
			line += st.Muted.Render("  " + p.message)
		}
		out = append(out, clip(line, width))
	}
	if more := countTotals(r.progress) - shown; more > 0 {
		out = append(out, st.Muted.Render(fmt.Sprintf("    and %d more", more)))
	}
	if shown == 0 && r.message != "" {
		out = append(out, clip("    "+st.Muted.Render(r.message), width))
	}
	if n := len(r.warnings); n > 0 {
		out = append(out, clip("    "+st.Warn.Render("! "+r.warnings[n-1]), width))
	}
	return out
}

func countTotals(ps []progress) int {
	n := 0
	for _, p := range ps {
		if p.total > 0 {
			n++
		}
	}
	return n
}

// window picks height lines of ls around the focus line, marking what was
// cut above and below.
func window(st Styles, ls []string, focus, height int) []string {
	if len(ls) <= height || height < 3 {
		if len(ls) > height {
			return ls[:max(height, 0)]
		}
		return ls
	}
	if focus < 0 {
		focus = len(ls) - 1
	}
	start := min(max(focus-height/3, 0), len(ls)-height)
	out := append([]string(nil), ls[start:start+height]...)
	if start > 0 {
		out[0] = st.Muted.Render(fmt.Sprintf("  ⋮ %d more above", start+1))
	}
	if end := start + height; end < len(ls) {
		out[height-1] = st.Muted.Render(fmt.Sprintf("  ⋮ %d more below", len(ls)-end+1))
	}
	return out
}
