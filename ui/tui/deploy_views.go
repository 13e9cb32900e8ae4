package tui

import (
	"fmt"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/fineract-installer/fineract-installer/steps"
	"github.com/fineract-installer/fineract-installer/steps/validate"
	"github.com/fineract-installer/fineract-installer/ui/logtail"
	"github.com/fineract-installer/fineract-installer/ui/textout"
)

// Chrome of the deploy screens.
const deployHeaderLines = 2

// View draws the current screen on the alternate screen, so the key
// shares never reach the scrollback.
func (m deployModel) View() tea.View {
	v := tea.NewView(m.draw())
	v.AltScreen = true
	return v
}

// draw is the current screen's text.
func (m deployModel) draw() string {
	if m.done {
		return ""
	}
	if m.width < minWidth || m.height < minHeight {
		return tooSmall(m.width, m.height)
	}
	return frame(m.width, m.height, m.header(), m.bodyView(), m.footer())
}

func (m deployModel) header() string {
	title := m.opts.Title
	if title == "" {
		title = "install"
	}
	left := m.st.AppName.Render("fineract-installer") + m.st.Muted.Render(" · "+title)
	end := m.ended
	if end.IsZero() {
		end = m.now()
	}
	right := m.st.Muted.Render(formatElapsed(end.Sub(m.began)))
	gap := max(m.width-lipgloss.Width(left)-lipgloss.Width(right), 1)
	frac, finished := overall(m.rows)
	var state string
	switch {
	case m.stopping:
		state = m.st.Warn.Render(m.spin.View() + " Stopping: waiting for the running step to stop safely…")
	case m.mode == modeFinal:
		state = m.st.Pass.Render(fmt.Sprintf("✓ Installed: %d of %d steps", finished, len(m.rows)))
	case m.mode == modeFailed || (m.mode == modeLogs && m.back == modeFailed):
		r := m.failedRow()
		name := "the install"
		if r != nil {
			name = r.title
		}
		state = m.st.Fail.Render("✗ Failed: "+name) + m.st.Muted.Render(fmt.Sprintf("  (%d of %d steps done)", finished, len(m.rows)))
	default:
		barW := max(min(m.width-40, 50), 10)
		state = "Overall " + bar(m.st, frac, barW) + fmt.Sprintf(" %3.0f%%  %d of %d steps", frac*100, finished, len(m.rows))
	}
	return left + strings.Repeat(" ", gap) + right + "\n" + state
}

func (m deployModel) footer() string {
	var notice string
	switch {
	case m.quitAsk:
		step := "the install"
		for _, r := range m.rows {
			if r.status == stepRunning {
				step = r.title
				break
			}
		}
		notice = m.st.Warn.Render(wrapText(fmt.Sprintf("Stop the install? %s is cancelled safely and the state is kept; %s.",
			step, m.resumeText()), m.width, ""))
	case m.bundle.writing:
		notice = m.spin.View() + " Writing the support bundle…"
	case m.bundle.err != nil:
		notice = m.st.Fail.Render(wrapText("Support bundle not written: "+m.bundle.err.Error(), m.width, ""))
	case m.bundle.path != "":
		notice = m.st.Pass.Render("Support bundle written to " + m.bundle.path)
	}
	if m.fullHelp {
		return notice + "\n" + m.help.FullHelpView(m.helpKeys().FullHelp())
	}
	return notice + "\n" + m.help.ShortHelpView(m.helpKeys().ShortHelp())
}

// resumeText says how to continue later.
func (m deployModel) resumeText() string {
	if m.opts.ResumeCommand != "" {
		return "`" + m.opts.ResumeCommand + "` resumes"
	}
	return "running the same command again resumes"
}

// helpKeys are the bindings of the current screen.
func (m deployModel) helpKeys() bindings {
	k := m.keys
	if m.quitAsk {
		return bindings{short: []key.Binding{k.Yes, k.No}}
	}
	logs := []key.Binding{k.NextLog, k.PrevLog, k.Up, k.Down, k.PageUp, k.PageDown, k.Top, k.Bottom, k.Follow}
	switch m.mode {
	case modeCeremony:
		return bindings{short: m.cer.helpKeys(k)}
	case modeRunning:
		quit := k.Quit
		quit.SetHelp("q", "stop")
		next := k.NextLog
		next.SetHelp("→/tab", "service")
		return bindings{
			short: []key.Binding{next, k.Scroll, k.Follow, k.FullLogs, k.Help, quit},
			full:  [][]key.Binding{logs, {k.FullLogs, k.Help, quit}},
		}
	case modeLogs:
		back := k.Back
		back.SetHelp("esc", "back")
		next := k.NextLog
		next.SetHelp("←/→", "service")
		return bindings{
			short: []key.Binding{next, k.Scroll, k.Follow, k.Bottom, back, k.Help},
			full:  [][]key.Binding{logs, {back, k.Help}},
		}
	case modeFailed:
		acts := []key.Binding{k.Retry, k.FullLogs}
		if m.opts.SupportBundle != nil {
			acts = append(acts, k.Bundle)
		}
		acts = append(acts, k.Resume)
		return bindings{short: append(acts, k.Help), full: [][]key.Binding{acts, {k.Up, k.Down, k.PageUp, k.PageDown, k.Help}}}
	case modeFinal:
		quit := k.Quit
		quit.SetHelp("q", "exit")
		return bindings{short: []key.Binding{k.Scroll, k.PageUp, k.PageDown, quit}}
	}
	return bindings{short: []key.Binding{k.Interrupt}}
}

// bodyHeight is the room between header and footer.
func (m deployModel) bodyHeight() int {
	return max(m.height-deployHeaderLines-len(lines(m.footer())), 1)
}

// layout sizes the log tail and the scrolling body for the mode.
func (m *deployModel) layout() {
	h := m.bodyHeight()
	m.cer.setWidth(m.width)
	switch m.mode {
	case modeLogs:
		m.tail.SetSize(m.width, h)
	case modeRunning, modeCeremony, modeChecking:
		ls, _ := stepLines(m.st, m.rows, m.spin.View(), m.width, m.now())
		stepsH := min(len(ls), max((h-1)*3/5, 3))
		m.tail.SetSize(m.width, max(h-stepsH-1, 3))
	case modeFailed, modeFinal:
		m.body.SetWidth(m.width)
		m.body.SetHeight(h)
		if m.mode == modeFailed {
			m.body.SetContent("\n" + m.failureText(m.width-1))
		} else {
			m.body.SetContent("\n" + m.finalText(m.width-1))
		}
	}
}

func (m deployModel) bodyView() string {
	h := m.bodyHeight()
	switch m.mode {
	case modeCeremony:
		return "\n" + m.cer.view(m.st, m.width)
	case modeLogs:
		return m.tail.View()
	case modeFailed, modeFinal:
		return m.body.View()
	}
	ls, focus := stepLines(m.st, m.rows, m.spin.View(), m.width, m.now())
	stepsH := min(len(ls), max((h-1)*3/5, 3))
	body := strings.Join(window(m.st, ls, focus, stepsH), "\n")
	if m.mode == modeChecking {
		return body + "\n\n" + m.spin.View() + " Checking the installation: running the validation checklist…"
	}
	return body + "\n\n" + m.tail.View()
}

// failureText is the failure screen: what failed, why, what to do.
func (m deployModel) failureText(w int) string {
	var b strings.Builder
	r := m.failedRow()
	cause, hint, subject := "", "", ""
	var logs []string
	if r != nil && r.failure != nil {
		cause, hint, subject, logs = r.failure.Cause, r.failure.Hint, r.failure.Subject, r.failure.Logs
		b.WriteString(m.st.Fail.Render(fmt.Sprintf("✗ %s failed after %s", r.title, formatElapsed(r.elapsed))) + "\n\n")
	} else {
		b.WriteString(m.st.Fail.Render("✗ The install stopped") + "\n\n")
	}
	if cause == "" && m.runErr != nil {
		// The run stopped outside a step: its error says all there is,
		// with its hint and log lines apart as in a failed step's event.
		x := steps.Explain(m.runErr)
		cause, hint, subject, logs = x.Cause, x.Hint, x.Subject, x.Logs
	}
	b.WriteString(labelledBlock(m.st.Bold.Render("Cause"), cause, w))
	b.WriteString(labelledBlock(m.st.Bold.Render("Hint"), hint, w))
	if subject == "" {
		subject = m.tail.Selected()
	}
	if len(logs) == 0 && subject != "" {
		for _, l := range m.tail.Last(subject, 12) {
			mark := "│"
			if l.Stream == logtail.Stderr {
				mark = m.st.Log.StderrGutter.Render("!")
			}
			logs = append(logs, mark+" "+l.Text)
		}
	} else {
		if len(logs) > 12 {
			logs = logs[len(logs)-12:]
		}
		marked := make([]string, len(logs))
		for i, l := range logs {
			marked[i] = "│ " + l
		}
		logs = marked
	}
	if len(logs) > 0 {
		b.WriteString("\n" + m.st.Heading.Render("Last lines from "+subject) + "\n")
		for _, l := range logs {
			b.WriteString(clip("  "+l, w) + "\n")
		}
	}
	b.WriteString("\n" + wrapText("Nothing is lost: every finished step is recorded, and "+m.resumeText()+" at this step.", w, ""))
	return b.String()
}

// labelWidth is the width of the labels of the failure screen's blocks
// ("Cause", "Hint") with the space after them.
const labelWidth = 7

// labelledBlock lays text out beside its label, each of its lines wrapped
// on its own to the width left of w and indented under the first, so a
// block never runs into the next one and a line break the text carries
// (errors joined one per line) starts a line of the block, not column 0.
// An empty text draws nothing.
func labelledBlock(label, text string, w int) string {
	if text == "" {
		return ""
	}
	indent := strings.Repeat(" ", labelWidth)
	var lines []string
	for _, para := range strings.Split(strings.TrimRight(text, "\n"), "\n") {
		lines = append(lines, strings.Split(wrapText(strings.TrimSpace(para), w-labelWidth, ""), "\n")...)
	}
	var b strings.Builder
	for i, l := range lines {
		if i == 0 {
			b.WriteString(label + strings.Repeat(" ", max(labelWidth-ansi.StringWidth(label), 1)))
		} else {
			b.WriteString(indent)
		}
		b.WriteString(l + "\n")
	}
	return b.String()
}

// finalText is the final screen: where to log in, how to run the stack,
// and the checklist with its evidence.
func (m deployModel) finalText(w int) string {
	var b strings.Builder
	s := m.summary
	done, skipped := 0, 0
	for _, r := range m.rows {
		switch r.status {
		case stepDone:
			done++
		case stepSkipped:
			skipped++
		}
	}
	head := fmt.Sprintf("✓ Installed in %s: %s run", formatElapsed(m.ended.Sub(m.began)), plural(done, "step"))
	if skipped > 0 {
		head += fmt.Sprintf(", %d already done", skipped)
	}
	b.WriteString(m.st.Pass.Render(head) + "\n\n")
	row := func(l, v string) {
		if v != "" {
			b.WriteString(wrapText(fmt.Sprintf("  %-15s %s", l, v), w, strings.Repeat(" ", 18)) + "\n")
		}
	}
	if s.WebAppURL != "" || s.GatewayURL != "" {
		b.WriteString(m.st.Heading.Render("Where to log in") + "\n")
		row("Web app", s.WebAppURL)
		row("Tenants", strings.Join(s.Tenants, ", "))
		row("First sign-in", s.SignIn)
		row("API gateway", s.GatewayURL)
	}
	if s.Unseal != "" || s.Backups != "" {
		b.WriteString(m.st.Heading.Render("Running it") + "\n")
		row("After a reboot", s.Unseal)
		row("Backups", s.Backups)
	}
	if len(s.Checks) > 0 {
		b.WriteString("\n" + m.checklistText(s.Checks, w))
	}
	return strings.TrimRight(b.String(), "\n")
}

// checklistText is the validation checklist in the screen's styles.
func (m deployModel) checklistText(checks []validate.Result, w int) string {
	return textout.Checklist(m.st.text(), checks, w)
}
