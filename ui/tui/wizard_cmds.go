package tui

import (
	"bytes"
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"gopkg.in/yaml.v3"

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

// certPair names the two things a person may import.
type certPair int

const (
	pairCA certPair = iota
	pairGateway
)

// certCheck is the live result for one pair of files.
type certCheck struct {
	paths   [2]string // the paths checked (or being checked)
	pending bool
	ok      string // what was found, when valid
	problem string // the PKI's message, when not
}

// certCheckedMsg is the outcome of checking one pair.
type certCheckedMsg struct {
	pair  certPair
	check certCheck
}

// certState holds the latest check of each pair.
type certState [2]certCheck

func (s *certState) apply(msg certCheckedMsg) {
	if s[msg.pair].paths == msg.check.paths {
		s[msg.pair] = msg.check
	}
}

// request starts a check of every pair whose paths changed since the last
// one, and returns the commands to run.
func (s *certState) request(d *draft, now func() time.Time) []tea.Cmd {
	if d.certSource != answers.CertImport {
		return nil
	}
	var cmds []tea.Cmd
	for _, p := range []certPair{pairCA, pairGateway} {
		paths := d.certPaths(p)
		if s[p].paths == paths && (s[p].pending || s[p].ok != "" || s[p].problem != "" || paths == [2]string{}) {
			continue
		}
		s[p] = certCheck{paths: paths, pending: paths != [2]string{}}
		if paths == [2]string{} {
			continue
		}
		cmds = append(cmds, checkCertPair(p, paths, d.names(), d.caPaths(), now()))
	}
	return cmds
}

// certPaths are the trimmed file paths of a pair.
func (d *draft) certPaths(p certPair) [2]string {
	if p == pairCA {
		return [2]string{strings.TrimSpace(d.caCert), strings.TrimSpace(d.caKey)}
	}
	return [2]string{strings.TrimSpace(d.gwChain), strings.TrimSpace(d.gwKey)}
}

func (d *draft) caPaths() [2]string { return d.certPaths(pairCA) }

// names are the DNS names and addresses clients use for the gateway.
func (d *draft) names() []string {
	return append([]string{strings.TrimSpace(d.hostname)}, splitList(d.ips)...)
}

// checkCertPair reads and validates a pair with the PKI package's own
// checks, so the messages are the ones the install would give.
func checkCertPair(p certPair, paths [2]string, names []string, caPaths [2]string, now time.Time) tea.Cmd {
	return func() tea.Msg {
		return certCheckedMsg{pair: p, check: validatePair(p, paths, names, caPaths, now)}
	}
}

// validatePair does the reading and checking of checkCertPair; the
// accessible wizard calls it directly.
func validatePair(p certPair, paths [2]string, names []string, caPaths [2]string, now time.Time) certCheck {
	res := certCheck{paths: paths}
	what := [2]string{"certificate", "key"}
	if p == pairGateway {
		what[0] = "certificate chain"
	}
	var data [2][]byte
	for i, path := range paths {
		if path == "" {
			res.problem = fmt.Sprintf("give the %s file too", what[i])
			continue
		}
		b, err := os.ReadFile(path)
		if err != nil {
			res.problem = fmt.Sprintf("the %s file cannot be read: %v", what[i], unwrapPath(err))
			return res
		}
		data[i] = b
	}
	if res.problem != "" {
		return res
	}
	if p == pairCA {
		ca, err := pki.ValidateCA(data[0], data[1], now)
		if err != nil {
			res.problem = err.Error()
			return res
		}
		res.ok = fmt.Sprintf("CA %s, valid until %s", ca.Subject.CommonName, ca.NotAfter.Format("2006-01-02"))
		return res
	}
	opts := pki.ChainOptions{Names: names, Now: now}
	if roots, err := x509.SystemCertPool(); err == nil {
		opts.Roots = roots
	} else {
		opts.Roots = x509.NewCertPool()
	}
	if caPaths[0] != "" {
		if caPEM, err := os.ReadFile(caPaths[0]); err == nil {
			opts.Roots.AppendCertsFromPEM(caPEM)
		}
	}
	chain, err := pki.ValidateServerChain(data[0], data[1], opts)
	if err != nil {
		res.problem = err.Error()
		return res
	}
	leaf := chain.Certificates[0]
	res.ok = fmt.Sprintf("server certificate %s, valid until %s", leaf.Subject.CommonName, leaf.NotAfter.Format("2006-01-02"))
	if len(chain.Warnings) > 0 {
		res.ok += "; " + strings.Join(chain.Warnings, "; ")
	}
	return res
}

// unwrapPath drops the repeated path from an *os.PathError.
func unwrapPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// saveAnswers validates the answers completely (including the files they
// name) and writes the answers file, off the UI loop.
func saveAnswers(path string, a answers.Answers, start bool, now time.Time) tea.Cmd {
	return func() tea.Msg {
		if err := a.Validate(); err != nil {
			return savedMsg{path: path, err: err, start: start}
		}
		return savedMsg{path: path, err: writeAnswers(path, a, now), start: start}
	}
}

// marshalAnswers renders an answers file that answers.Parse loads back to
// the same answers.
func marshalAnswers(a answers.Answers, now time.Time) ([]byte, error) {
	var body bytes.Buffer
	enc := yaml.NewEncoder(&body)
	enc.SetIndent(2)
	if err := enc.Encode(a); err != nil {
		return nil, fmt.Errorf("encode answers: %w", err)
	}
	head := fmt.Sprintf("# fineract-installer answers file, written by the wizard on %s.\n"+
		"# No secret is stored here. Install again with:\n"+
		"#   fineract-installer install --answers THIS_FILE --yes\n", now.Format("2006-01-02 15:04"))
	return append([]byte(head), body.Bytes()...), nil
}

// writeAnswers writes the file atomically (temporary file, fsync, rename),
// creating its directory if needed.
func writeAnswers(path string, a answers.Answers, now time.Time) error {
	data, err := marshalAnswers(a, now)
	if err != nil {
		return err
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create %s: %w", dir, err)
	}
	tmp, err := os.CreateTemp(dir, ".answers-*.yaml")
	if err != nil {
		return fmt.Errorf("write answers file: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("write answers file: %w", err)
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return fmt.Errorf("write answers file: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("write answers file: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write answers file: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write answers file: %w", err)
	}
	return nil
}
