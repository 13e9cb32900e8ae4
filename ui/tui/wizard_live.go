package tui

import (
	"fmt"
	"strings"

	"github.com/charmbracelet/x/ansi"

	"github.com/fineract-installer/fineract-installer/assets"
	"github.com/fineract-installer/fineract-installer/steps/answers"
)

// livePanel is the screen's live checks under its form.
func (m wizardModel) livePanel() string {
	w := max(m.width-4, 20)
	var out []string
	bad := func(s string) { out = append(out, wrapText(m.st.Fail.Render("✗")+" "+s, w, "  ")) }
	good := func(s string) { out = append(out, wrapText(m.st.Pass.Render("✓")+" "+s, w, "  ")) }
	info := func(s string) { out = append(out, wrapText(m.st.Muted.Render(s), w, "")) }
	d := m.d
	switch m.screen {
	case screenProfile:
		if d.profile != m.profile {
			info("Leaving this screen resets the Vault key sharing and service groups to the " + string(d.profile) + " defaults.")
		}
	case screenHost:
		ps := append(d.problems("host.hostname"), d.problems("host.ips")...)
		for _, p := range ps {
			bad(p)
		}
		if len(ps) == 0 {
			good("The gateway certificate will carry: " + strings.Join(nonEmpty(d.names()), ", "))
		}
	case screenVault:
		info(vaultExplanation(atoi(d.shares), atoi(d.threshold)))
		for _, p := range m.screenProblems() {
			bad(p)
		}
	case screenCerts:
		if d.certSource != answers.CertImport {
			info("The installer's CA (ECDSA P-256) issues one certificate per service. It may sign only this stack's names, so a stolen CA key cannot impersonate any other site.")
			break
		}
		for _, p := range []certPair{pairCA, pairGateway} {
			name := [2]string{"CA", "Gateway"}[p]
			c := m.certs[p]
			switch {
			case c.paths == [2]string{}:
				info(name + ": not imported")
			case c.pending:
				info(name + ": checking " + strings.Join(nonEmpty(c.paths[:]), " and ") + "…")
			case c.problem != "":
				bad(name + ": " + c.problem)
			default:
				good(name + ": " + c.ok)
			}
		}
		if m.certs[pairCA].paths == [2]string{} && m.certs[pairGateway].paths == [2]string{} {
			info("Give a CA (certificate and key), a gateway certificate chain and key, or both.")
		}
	case screenNetwork:
		clashes := d.clashes(m.opts.Host.Taken)
		for i, role := range segmentRoles {
			ps := append(d.problems("network."+role+".subnet"), clashes[i]...)
			if len(ps) == 0 {
				good(fmt.Sprintf("%-11s %s", role, segmentDescriptions[i]))
			}
			for _, p := range ps {
				bad(p)
			}
		}
	case screenServices:
		out = append(out, m.memoryPanel(w)...)
	}
	return strings.Join(out, "\n")
}

// vaultExplanation says in plain words what shares and threshold mean.
func vaultExplanation(n, t int) string {
	if n < 1 || t < 1 || t > n {
		return "Vault makes N key shares; any T of them unlock it. Losing more than N−T shares locks the data for good."
	}
	if n == 1 {
		return "One share unlocks Vault on its own: whoever holds it can read every secret, and losing it locks the data for good."
	}
	return fmt.Sprintf("%d shares, %d needed: any %d key holders together unlock Vault, no %d can. Losing %d shares locks the data for good.",
		n, t, t, t-1, n-t+1)
}

// memoryPanel compares the selected groups' memory with the host's.
func (m wizardModel) memoryPanel(w int) []string {
	d := m.d
	groups, added, err := assets.ResolveGroups(d.optional)
	if err != nil {
		return []string{m.st.Fail.Render("✗ ") + err.Error()}
	}
	var out []string
	for _, g := range groups {
		if why, ok := added[g]; ok {
			out = append(out, wrapText(m.st.Muted.Render("+ "+g+" (added automatically): "+why), w, "  "))
		}
	}
	limits := assets.MemoryEstimateMiB(groups, d.profile)
	need := limits + assets.HostReserveMiB
	line := fmt.Sprintf("Memory: %s for the containers + %s for the host = %s", mib(limits), mib(assets.HostReserveMiB), mib(need))
	switch host := m.opts.Host.MemoryMiB; {
	case host == 0:
		out = append(out, wrapText(m.st.Warn.Render("!")+" "+line+"; this host's memory is unknown.", w, "  "))
	case need > host:
		out = append(out, wrapText(m.st.Fail.Render("✗")+" "+line+"; this host has "+mib(host)+
			". Deselect a group, use the demo profile or add memory.", w, "  "))
	default:
		out = append(out, wrapText(m.st.Pass.Render("✓")+" "+line+"; this host has "+mib(host)+".", w, "  "))
	}
	return out
}

// screenProblems lists what stops the current screen from being left
// forwards.
func (m wizardModel) screenProblems() []string { return m.problemsOn(m.screen) }

// problemsOn lists what stops a screen from being left forwards.
func (m wizardModel) problemsOn(s screenID) []string {
	d := m.d
	var ps []string
	switch s {
	case screenHost:
		ps = append(d.problems("host.hostname"), d.problems("host.ips")...)
	case screenVault:
		for _, p := range []string{"vault.key_shares", "vault.key_threshold", "vault.custody", "vault.passphrase_repeat"} {
			ps = append(ps, d.problems(p)...)
		}
	case screenCerts:
		if d.certSource != answers.CertImport {
			return nil
		}
		if d.certPaths(pairCA) == [2]string{} && d.certPaths(pairGateway) == [2]string{} {
			return []string{"import needs a CA, a gateway certificate, or both; or choose generate"}
		}
		for _, p := range []certPair{pairCA, pairGateway} {
			c := m.certs[p]
			switch {
			case c.paths != d.certPaths(p) || c.pending:
				paths := d.certPaths(p)
				ps = append(ps, "still checking "+strings.Join(nonEmpty(paths[:]), " and "))
			case c.problem != "":
				ps = append(ps, c.problem)
			}
		}
	case screenNetwork:
		ps = d.networkProblems(m.opts.Host.Taken)
	}
	return ps
}

func nonEmpty(xs []string) []string {
	var out []string
	for _, x := range xs {
		if strings.TrimSpace(x) != "" {
			out = append(out, x)
		}
	}
	return out
}

// trimBlankLines drops trailing lines that hold only spaces.
func trimBlankLines(s string) string {
	ls := strings.Split(s, "\n")
	for len(ls) > 0 && strings.TrimSpace(ansi.Strip(ls[len(ls)-1])) == "" {
		ls = ls[:len(ls)-1]
	}
	return strings.Join(ls, "\n")
}
