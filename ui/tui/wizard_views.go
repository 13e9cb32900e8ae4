package tui

import (
	"fmt"
	"strings"

	"charm.land/bubbles/v2/key"
	"charm.land/lipgloss/v2"

	"github.com/fineract-installer/fineract-installer/assets"
	"github.com/fineract-installer/fineract-installer/steps/answers"
	"github.com/fineract-installer/fineract-installer/steps/preflight"
)

func (m wizardModel) header() string {
	left := m.st.AppName.Render("fineract-installer") + m.st.Muted.Render(" · install wizard")
	right := m.st.Muted.Render(fmt.Sprintf("step %d of %d", m.screen+1, screenCount))
	gap := max(m.width-lipgloss.Width(left)-lipgloss.Width(right), 1)
	title := screenTitles[m.screen]
	dots := ""
	for s := range screenCount {
		switch {
		case s < m.screen:
			dots += m.st.Accent.Render("●")
		case s == m.screen:
			dots += m.st.Selected.Render("◉")
		default:
			dots += m.st.Muted.Render("○")
		}
	}
	return left + strings.Repeat(" ", gap) + right + "\n" +
		dots + "  " + m.st.Heading.Render(title[0]) + m.st.Muted.Render(" — "+title[1]) + "\n\n"
}

func (m wizardModel) footer() string {
	if m.quitAsk {
		q := m.st.Warn.Render("Quit the wizard? Nothing has been changed on this host.")
		if m.saved != "" {
			q = m.st.Warn.Render("Quit the wizard? The answers are saved in " + m.saved + ".")
		}
		return q + "\n" + m.help.ShortHelpView([]key.Binding{m.keys.Yes, m.keys.No})
	}
	notice := ""
	switch {
	case m.notice != "":
		notice = m.st.Warn.Render(m.notice)
	case m.form == nil && !m.body.AtBottom():
		notice = m.st.Muted.Render("↓ more below: scroll with ↑/↓")
	}
	return notice + "\n" + m.help.ShortHelpView(m.helpKeys())
}

// helpKeys are the bindings that work on the current screen.
func (m wizardModel) helpKeys() []key.Binding {
	k := m.keys
	back := k.Back
	back.SetHelp("esc", "previous screen")
	switch m.screen {
	case screenWelcome:
		return []key.Binding{k.Continue, k.Scroll, k.Quit}
	case screenPreflight:
		return []key.Binding{k.Continue, k.Recheck, k.Scroll, back, k.Quit}
	case screenReview:
		back.SetHelp("esc", "back")
		return []key.Binding{k.Start, k.Save, k.Recheck, k.Scroll, back, k.Quit}
	}
	// The form's own bindings, with its arrow keys folded into one entry
	// so the bar fits 80 columns.
	var out []key.Binding
	arrows := false
	if m.form != nil {
		for _, b := range m.form.KeyBinds() {
			switch b.Help().Key {
			case "↑", "↓", "ctrl+a":
				arrows = true
				continue
			}
			out = append(out, b)
		}
	}
	if arrows {
		choose := k.Scroll
		choose.SetHelp("↑/↓", "choose")
		out = append([]key.Binding{choose}, out...)
	}
	return append(out, back, k.Interrupt)
}

// bodyView is the middle of the screen.
func (m wizardModel) bodyView() string {
	if m.form != nil {
		// huh pads every group to the tallest one; the live panel belongs
		// right under the fields on screen.
		return trimBlankLines(m.form.View()) + "\n\n" + m.live
	}
	return m.body.View()
}

// setBody refreshes the scrolling text of the screens without a form.
func (m *wizardModel) setBody() {
	w := max(m.width-2, 20)
	switch m.screen {
	case screenWelcome:
		m.body.SetContent(m.welcomeText(w))
	case screenPreflight:
		m.body.SetContent(m.checksText(w, true))
	case screenReview:
		m.body.SetContent(m.reviewText(w))
	}
}

func (m wizardModel) welcomeText(w int) string {
	low := assets.HostMemoryNeededMiB([]string{answers.GroupCore}, answers.Demo)
	high := assets.HostMemoryNeededMiB(answers.Groups, answers.Production)
	gw := m.d.base.Gateway
	var b strings.Builder
	p := func(s string) { b.WriteString(wrapText(s, w, "") + "\n") }
	item := func(s string) { b.WriteString(wrapText("  "+s, w, "     ") + "\n") }
	p("Installs a hardened Apache Fineract + Mifos X core-banking stack on this Docker host: " +
		"Vault, PostgreSQL, Fineract, the web app and a TLS gateway, plus optional single sign-on, " +
		"messaging, monitoring and logging.")
	b.WriteString("\n" + m.st.Heading.Render("What will happen") + "\n")
	item("1. Check this host: Docker engine, memory, disk, ports, subnets, clock.")
	item("2. Choose profile, host name, Vault keys, certificates, networks, services.")
	item("3. Review every answer on one screen; save them as an answers file.")
	item("4. Install with live progress and logs; prove the result with a checklist.")
	b.WriteString("\n" + m.st.Heading.Render("How long it takes") + "\n")
	item("10 to 20 minutes with the images present; downloading them adds a few GB.")
	item("Fineract's first start migrates its databases (up to 15 minutes).")
	b.WriteString("\n" + m.st.Heading.Render("What the host needs") + "\n")
	item("• Docker Engine 20.10 or newer, reachable by this user.")
	item(fmt.Sprintf("• Memory: %s (demo, core only) to %s (production, every group).", mib(low), mib(high)))
	item(fmt.Sprintf("• Free ports %d and %d; at least 5 GiB of disk for images.", gw.HTTPSPort, gw.HTTPPort))
	b.WriteString(m.st.Muted.Render("Nothing changes on this host until you start the install on the review screen."))
	return b.String()
}

// checksText renders the preflight results; withFix adds each fix.
func (m wizardModel) checksText(w int, withFix bool) string {
	var b strings.Builder
	switch {
	case m.checks.running && m.checks.results == nil:
		return m.spin.View() + " Checking this host…"
	case m.checks.running:
		b.WriteString(m.spin.View() + " Checking again…\n")
	default:
		b.WriteString(m.st.Muted.Render("Checked at "+m.checks.at.Format("15:04:05")) + "\n")
	}
	titleW := 0
	for _, r := range m.checks.results {
		titleW = max(titleW, lipgloss.Width(r.Title))
	}
	titleW = min(titleW, 32)
	indent := strings.Repeat(" ", titleW+4)
	for _, r := range m.checks.results {
		title := clip(r.Title, titleW)
		line := fmt.Sprintf("%s %-*s  %s", m.mark(string(r.Status)), titleW, title, r.Observed)
		b.WriteString(wrapText(line, w, indent) + "\n")
		if withFix && r.Fix != "" && r.Status != preflight.Pass {
			b.WriteString(wrapText(indent+m.st.Bold.Render("fix:")+" "+r.Fix, w, indent+"     ") + "\n")
		}
	}
	b.WriteString(wrapText(m.checksSummary(), w, ""))
	return b.String()
}

// checksSummary counts the results and says what a failure means.
func (m wizardModel) checksSummary() string {
	var pass, warn, fail int
	for _, r := range m.checks.results {
		switch r.Status {
		case preflight.Pass:
			pass++
		case preflight.Warn:
			warn++
		default:
			fail++
		}
	}
	s := fmt.Sprintf("%d pass, %d warning, %d failing.", pass, warn, fail)
	switch {
	case fail > 0 && m.screen == screenReview:
		return m.st.Fail.Render(s) + " The install cannot start until they pass."
	case fail > 0:
		return m.st.Fail.Render(s) + " Failing checks stop the install before anything changes. " +
			"Ports and subnets are set in the next screens; the checks run again on the review screen."
	case warn > 0:
		return m.st.Warn.Render(s)
	}
	return m.st.Pass.Render(s)
}

// mark is the status symbol, readable without colour.
func (m wizardModel) mark(status string) string {
	switch status {
	case "pass":
		return m.st.Pass.Render("✓")
	case "warn":
		return m.st.Warn.Render("!")
	default:
		return m.st.Fail.Render("✗")
	}
}
