package tui

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/fineract-installer/fineract-installer/steps/answers"
	"github.com/fineract-installer/fineract-installer/steps/pki"
	"github.com/fineract-installer/fineract-installer/steps/preflight"
)

// runChecks runs the injected preflight off the UI loop.
func runChecks(ctx context.Context, run func(context.Context, answers.Answers) []preflight.Result, a answers.Answers, seq int, now func() time.Time) tea.Cmd {
	return func() tea.Msg {
		rs := run(ctx, a)
		return checksDoneMsg{seq: seq, results: rs, at: now()}
	}
}

// runPlan plans an install with the answers off the UI loop.
func runPlan(ctx context.Context, plan PlanFunc, a answers.Answers, seq int) tea.Cmd {
	return func() tea.Msg {
		c, err := plan(ctx, a)
		return planDoneMsg{seq: seq, changes: c, err: err}
	}
}

// certPair names the two things a person may import.
type certPair int

const (
	pairCA certPair = iota
	pairGateway
)

// certCheck is the live result for one pair of files.
type certCheck struct {
	paths   [2]string // the paths checked (or being checked)
	input   string    // everything the check depended on, to spot a stale one
	pending bool
	ok      string        // what was found, when valid
	found   *pki.Imported // the same, for the review
	problem string        // the install's message, when not
}

// certCheckedMsg is the outcome of checking the certificate screen's
// files; input says what was checked.
type certCheckedMsg struct {
	input  string
	checks certState
}

// certState holds the latest check of each pair.
type certState [2]certCheck

func (s *certState) apply(msg certCheckedMsg) {
	for p := range s {
		if s[p].input == msg.input {
			s[p] = msg.checks[p]
		}
	}
}

// request starts a check when the files, or the answers they are checked
// against, changed since the last one, and returns the command to run.
func (s *certState) request(ctx context.Context, check CertificateCheck, d *draft, now func() time.Time) []tea.Cmd {
	if d.certSource != answers.CertImport {
		return nil
	}
	a := d.importAnswers()
	input := fmt.Sprint(a)
	if s[pairCA].input == input && s[pairGateway].input == input {
		return nil
	}
	for _, p := range []certPair{pairCA, pairGateway} {
		paths := d.certPaths(p)
		s[p] = certCheck{paths: paths, input: input, pending: paths != [2]string{}}
	}
	if d.certPaths(pairCA) == [2]string{} && d.certPaths(pairGateway) == [2]string{} {
		return nil
	}
	// The command runs off the UI loop: it gets copies, never the draft.
	at, paths := now(), [2][2]string{d.certPaths(pairCA), d.certPaths(pairGateway)}
	return []tea.Cmd{func() tea.Msg {
		return certCheckedMsg{input: input, checks: checkImports(ctx, check, paths, input, a, at)}
	}}
}

// certPaths are the trimmed file paths of a pair.
func (d *draft) certPaths(p certPair) [2]string {
	if p == pairCA {
		return [2]string{strings.TrimSpace(d.caCert), strings.TrimSpace(d.caKey)}
	}
	return [2]string{strings.TrimSpace(d.gwChain), strings.TrimSpace(d.gwKey)}
}

// importAnswers are the answers so far with the files typed on the
// certificates screen: both pairs are checked together, as the install
// checks them (a CA need not permit the names of an imported gateway
// certificate, whose chain may end at the CA's root).
func (d *draft) importAnswers() answers.Answers {
	a := d.answers()
	ca, gw := d.certPaths(pairCA), d.certPaths(pairGateway)
	a.Certificates = answers.Certificates{Source: answers.CertImport, CACert: ca[0], CAKey: ca[1], GatewayChain: gw[0], GatewayKey: gw[1]}
	return a
}

// names are the DNS names and addresses clients use for the gateway.
func (d *draft) names() []string {
	return append([]string{strings.TrimSpace(d.hostname)}, splitList(d.ips)...)
}

// checkImports checks the files with the install's own check, so the
// messages are the ones the install would give; the accessible wizard calls
// it directly, the full-screen one off the UI loop.
func checkImports(ctx context.Context, check CertificateCheck, paths [2][2]string, input string, a answers.Answers, now time.Time) certState {
	chk := check(ctx, a, now)
	var out certState
	for _, p := range []certPair{pairCA, pairGateway} {
		res := certCheck{paths: paths[p], input: input}
		st := chk.CA
		if p == pairGateway {
			st = chk.Gateway
		}
		switch {
		case res.paths == [2]string{}:
		case st.Err != nil:
			res.problem = st.Err.Error()
		case st.Found != nil:
			res.found = st.Found
			res.ok = fmt.Sprintf("%s, issued by %s, valid until %s", st.Found.Subject, st.Found.Issuer, st.Found.NotAfter.UTC().Format("2006-01-02"))
			if len(st.Warnings) > 0 {
				res.ok += "; " + strings.Join(st.Warnings, "; ")
			}
		case chk.Other != nil:
			res.problem = "cannot be checked yet: " + chk.Other.Error()
		default:
			res.problem = "cannot be checked yet: fix the other files first"
		}
		out[p] = res
	}
	return out
}

// saveAnswers validates the answers and writes the answers file, off the
// UI loop. The certificate files they import were checked already: the
// review refuses to save while a check is pending or failed.
func saveAnswers(path string, a answers.Answers, start bool) tea.Cmd {
	return func() tea.Msg {
		return savedMsg{path: path, err: writeAnswers(path, a), start: start}
	}
}

// writeAnswers saves the answers file (answers.Save), creating its
// directory if needed.
func writeAnswers(path string, a answers.Answers) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create %s: %w", dir, err)
	}
	return answers.Save(path, a)
}
