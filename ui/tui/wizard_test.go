package tui

import (
	"context"
	"os"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"charm.land/huh/v2"

	"github.com/fineract-installer/fineract-installer/steps/answers"
	"github.com/fineract-installer/fineract-installer/steps/preflight"
)

// press feeds keys one by one, running what each returns.
func press(t *testing.T, m wizardModel, names ...string) wizardModel {
	t.Helper()
	for _, n := range names {
		m = update(t, m, keyMsg(n))
	}
	return m
}

// typeText types text as one pasted message.
func typeText(t *testing.T, m wizardModel, text string) wizardModel {
	t.Helper()
	return update(t, m, paste(text))
}

// goTo presses enter until the wizard shows the screen.
func goTo(t *testing.T, m wizardModel, s screenID) wizardModel {
	t.Helper()
	for range 30 {
		if m.screen == s {
			return m
		}
		m = press(t, m, "enter")
	}
	t.Fatalf("could not reach %s; stuck on %s:\n%s", s, m.screen, screen(m.View()))
	return m
}

func TestWizardBackAndForthKeepsAnswers(t *testing.T) {
	m := newTestWizard(t, testWizardOptions(t, passingChecks()), 80, 24)
	m = press(t, m, "esc")
	if m.screen != screenWelcome {
		t.Fatalf("esc on the first screen moved to %s", m.screen)
	}
	m = goTo(t, m, screenHost)
	m = press(t, m, "ctrl+u")
	m = typeText(t, m, "core.bank.example")
	m = press(t, m, "enter", "enter")
	if m.screen != screenVault {
		t.Fatalf("after the host fields the wizard shows %s, want the Vault screen:\n%s", m.screen, screen(m.View()))
	}
	m = press(t, m, "esc")
	if m.screen != screenHost {
		t.Fatalf("esc from Vault shows %s, want Host identity", m.screen)
	}
	if !strings.Contains(screen(m.View()), "> core.bank.example") {
		t.Fatalf("going back lost the typed host name:\n%s", screen(m.View()))
	}
	m = press(t, m, "esc", "esc", "esc")
	if m.screen != screenWelcome {
		t.Fatalf("three times esc from Host identity shows %s, want Welcome", m.screen)
	}
	m = goTo(t, m, screenReview)
	if got := m.d.answers().Host.Hostname; got != "core.bank.example" {
		t.Fatalf("the answers hold hostname %q after going back and forth", got)
	}
}

func TestWizardHostnameIsValidatedAsYouType(t *testing.T) {
	m := goTo(t, newTestWizard(t, testWizardOptions(t, passingChecks()), 80, 24), screenHost)
	m = press(t, m, "ctrl+u")
	m = typeText(t, m, "core_bank")
	want := `host.hostname "core_bank" is not a valid DNS name`
	if !strings.Contains(screen(m.View()), want) {
		t.Fatalf("the screen does not flag the hostname while typing; want %q in:\n%s", want, screen(m.View()))
	}
	m = press(t, m, "enter", "enter")
	if m.screen != screenHost {
		t.Fatalf("enter with an invalid hostname moved on to %s", m.screen)
	}
	m = press(t, m, "backspace", "backspace", "backspace", "backspace", "backspace")
	m = typeText(t, m, "-bank")
	if v := screen(m.View()); strings.Contains(v, "not a valid DNS name") || !strings.Contains(v, "will carry: core-bank") {
		t.Fatalf("fixing the hostname must clear the message and show the certificate names:\n%s", v)
	}
	m = press(t, m, "ctrl+u")
	if !strings.Contains(screen(m.View()), "host.hostname is empty") {
		t.Fatalf("an empty hostname must be flagged:\n%s", screen(m.View()))
	}
}

func TestWizardVaultThresholdUsesTheAnswersRules(t *testing.T) {
	m := goTo(t, newTestWizard(t, testWizardOptions(t, passingChecks()), 120, 40), screenVault)
	m = press(t, m, "enter", "ctrl+u")
	m = typeText(t, m, "7")
	if v := screen(m.View()); !strings.Contains(v, "vault.key_threshold (7) is larger than vault.key_shares (5)") {
		t.Fatalf("threshold above shares is not flagged live:\n%s", v)
	}
	m = press(t, m, "enter")
	if m.screen != screenVault {
		t.Fatal("the wizard accepted a threshold above the number of shares")
	}
	m = press(t, m, "backspace")
	m = typeText(t, m, "1")
	if v := screen(m.View()); !strings.Contains(v, "lets any single key holder unseal") {
		t.Fatalf("threshold 1 of 5 is not flagged:\n%s", v)
	}
	m = press(t, m, "backspace")
	m = typeText(t, m, "x")
	if v := screen(m.View()); !strings.Contains(v, "must be a whole number") {
		t.Fatalf("a non-number threshold is not flagged:\n%s", v)
	}
	m = press(t, m, "backspace")
	m = typeText(t, m, "3")
	if v := screen(m.View()); !strings.Contains(v, "any 3 key holders together unlock Vault") {
		t.Fatalf("the explanation does not follow the numbers:\n%s", v)
	}
	m = press(t, m, "enter", "enter")
	if m.screen != screenCerts {
		t.Fatalf("valid Vault answers did not move on: %s\n%s", m.screen, screen(m.View()))
	}
}

func TestWizardFlagsSubnetClashesLive(t *testing.T) {
	m := goTo(t, newTestWizard(t, testWizardOptions(t, passingChecks()), 120, 40), screenNetwork)
	m = press(t, m, "tab", "ctrl+u")
	m = typeText(t, m, "10.231.10.0/24")
	if v := screen(m.View()); !strings.Contains(v, "network.app.subnet 10.231.10.0/24 overlaps network.dmz.subnet 10.231.10.0/24") {
		t.Fatalf("an overlap between two networks is not flagged:\n%s", v)
	}
	m = press(t, m, "ctrl+u")
	m = typeText(t, m, "10.231.99.0/24")
	if v := screen(m.View()); !strings.Contains(v, "overlaps interface eth1 (10.231.99.0/24)") {
		t.Fatalf("a clash with the host's own network is not flagged:\n%s", v)
	}
	m = press(t, m, "ctrl+u")
	m = typeText(t, m, "10.231.20.5/24")
	if v := screen(m.View()); !strings.Contains(v, "has host bits set; did you mean 10.231.20.0/24?") {
		t.Fatalf("host bits are not flagged:\n%s", v)
	}
	m = press(t, m, "enter")
	if m.screen != screenNetwork {
		t.Fatal("the wizard left the network screen with an invalid subnet")
	}
	m = press(t, m, "ctrl+u")
	m = typeText(t, m, "10.231.99.0/24")
	m = press(t, m, "enter", "enter", "enter")
	if m.screen != screenNetwork || m.form.State != huh.StateNormal {
		t.Fatalf("the form was completed with a clash (screen %s)", m.screen)
	}
	if v := screen(m.View()); !strings.Contains(v, "┃ monitoring") || !strings.Contains(v, "* network.app.subnet 10.231.99.0/24 overlaps") {
		t.Fatalf("the last field must hold the form and say why:\n%s", v)
	}
}

func TestWizardProfileChangeResetsItsDefaults(t *testing.T) {
	m := goTo(t, newTestWizard(t, testWizardOptions(t, passingChecks()), 80, 24), screenProfile)
	m = press(t, m, "down")
	if !strings.Contains(screen(m.View()), "demo defaults") {
		t.Fatalf("choosing demo must say what changes:\n%s", screen(m.View()))
	}
	m = press(t, m, "enter")
	if m.screen != screenHost {
		t.Fatalf("profile screen did not move on: %s", m.screen)
	}
	a := m.d.answers()
	if a.Profile != answers.Demo || a.Vault.KeyShares != 1 || a.Vault.KeyThreshold != 1 || a.Vault.Custody != answers.CustodyFile {
		t.Fatalf("demo did not apply its Vault defaults: %+v", a.Vault)
	}
	if !reflect.DeepEqual(a.Groups, []string{answers.GroupCore, answers.GroupMonitoring}) {
		t.Fatalf("demo groups %v", a.Groups)
	}
	if !strings.Contains(m.notice, "demo defaults") {
		t.Fatalf("notice %q does not say the defaults changed", m.notice)
	}
}

func TestWizardDemoPassphraseRules(t *testing.T) {
	m := goTo(t, newTestWizard(t, testWizardOptions(t, passingChecks()), 80, 24), screenProfile)
	m = press(t, m, "down", "enter")
	m = goTo(t, m, screenVault)
	m = press(t, m, "enter", "enter", "enter")
	if !strings.Contains(screen(m.View()), "Custody file passphrase") {
		t.Fatalf("file custody must ask for a passphrase:\n%s", screen(m.View()))
	}
	m = typeText(t, m, "too short")
	m = press(t, m, "enter")
	if !strings.Contains(screen(m.View()), "needs at least 12 characters (it has 9)") {
		t.Fatalf("a short passphrase is not refused:\n%s", screen(m.View()))
	}
	m = typeText(t, m, " really")
	m = press(t, m, "enter")
	m = typeText(t, m, "too short reallx")
	m = press(t, m, "enter")
	if m.screen != screenVault || !strings.Contains(screen(m.View()), "the two passphrases differ") {
		t.Fatalf("different passphrases are not refused (screen %s):\n%s", m.screen, screen(m.View()))
	}
	m = press(t, m, "backspace")
	m = typeText(t, m, "y")
	m = press(t, m, "enter")
	if m.screen != screenCerts {
		t.Fatalf("matching passphrases did not move on: %s\n%s", m.screen, screen(m.View()))
	}
	if strings.Contains(screen(m.View()), "too short really") {
		t.Fatal("the passphrase is shown on screen")
	}
}

func TestWizardServicesShowMemoryAgainstTheHost(t *testing.T) {
	opts := testWizardOptions(t, passingChecks())
	opts.Host.MemoryMiB = 8192
	m := goTo(t, newTestWizard(t, opts, 120, 40), screenServices)
	v := screen(m.View())
	if !strings.Contains(v, "core (added automatically): always installed") || !strings.Contains(v, "✓ Memory: 3.7 GiB for the containers") {
		t.Fatalf("the services screen must say core is added and estimate memory:\n%s", v)
	}
	m = press(t, m, "down", "down", "down", "space")
	if !reflect.DeepEqual(m.d.optional, []string{answers.GroupLogging}) {
		t.Fatalf("selected groups %v, want logging", m.d.optional)
	}
	v = screen(m.View())
	if !strings.Contains(v, "✗ Memory: 7.9 GiB for the containers + 2.0 GiB for the host = 9.9 GiB; this host has 8.0 GiB") {
		t.Fatalf("logging on an 8 GiB host must be flagged:\n%s", v)
	}
	m = press(t, m, "space", "enter")
	if m.screen != screenReview {
		t.Fatalf("services did not move on to review: %s", m.screen)
	}
}

// The certificates screen checks each pair with the install's own check as
// it is typed, keeps the screen open while one is refused, and the review
// shows what was found: subject, issuer, expiry and fingerprint.
func TestWizardChecksImportedCertificates(t *testing.T) {
	withCmdBudget(t, 300*time.Millisecond) // each check reads files and renders the stack
	flat := func(m wizardModel) string { return strings.Join(strings.Fields(screen(m.View())), " ") }
	m := goTo(t, newTestWizard(t, testWizardOptions(t, passingChecks()), 120, 40), screenCerts)
	m = press(t, m, "down", "enter")
	m = typeText(t, m, "testdata/pki/missing.crt")
	m = press(t, m, "tab")
	m = typeText(t, m, "testdata/pki/ca.key")
	if v := flat(m); !strings.Contains(v, "✗ CA: import the CA from testdata/pki/missing.crt and testdata/pki/ca.key: the certificate file testdata/pki/missing.crt cannot be read: no such file or directory") {
		t.Fatalf("a missing file is not flagged:\n%s", screen(m.View()))
	}
	m = press(t, m, "enter", "enter", "enter")
	if m.screen != screenCerts || !strings.Contains(screen(m.View()), "┃ Gateway key file") {
		t.Fatalf("the wizard moved past a certificate that cannot be read:\n%s", screen(m.View()))
	}
	m = press(t, m, "shift+tab", "shift+tab", "shift+tab", "ctrl+u")
	m = typeText(t, m, "testdata/pki/ca.crt")
	if v := flat(m); !strings.Contains(v, "✓ CA: CN=Test Bank Root CA, issued by CN=Test Bank Root CA, valid until 2046-11-18") {
		t.Fatalf("a valid CA is not confirmed:\n%s", screen(m.View()))
	}
	m = press(t, m, "tab", "ctrl+u")
	m = typeText(t, m, "testdata/pki/other.key")
	if v := flat(m); !strings.Contains(v, "the private key (ECDSA P-256) does not match the CA certificate CN=Test Bank Root CA") {
		t.Fatalf("the PKI's key mismatch message is not shown:\n%s", screen(m.View()))
	}
	m = press(t, m, "enter", "enter", "enter")
	if m.screen != screenCerts || !strings.Contains(screen(m.View()), "┃ Gateway key file") {
		t.Fatalf("the wizard moved on with a key that does not match:\n%s", screen(m.View()))
	}
	m = press(t, m, "shift+tab", "shift+tab", "ctrl+u")
	m = typeText(t, m, "testdata/pki/ca.key")
	m = press(t, m, "tab")
	m = typeText(t, m, "testdata/pki/gateway.crt")
	m = press(t, m, "tab")
	m = typeText(t, m, "testdata/pki/gateway.key")
	if v := flat(m); !strings.Contains(v, "✓ Gateway: CN=bank-core-01, issued by CN=Test Bank Root CA, valid until 2046-11-28") {
		t.Fatalf("the gateway certificate from the imported CA is not confirmed:\n%s", screen(m.View()))
	}
	m = press(t, m, "enter")
	if m.screen != screenNetwork {
		t.Fatalf("valid imports did not move on: %s\n%s", m.screen, screen(m.View()))
	}
	m = goTo(t, m, screenReview)
	v := flat(m)
	for _, want := range []string{
		"CA: CN=Test Bank Root CA, issued by CN=Test Bank Root CA, valid until 2046-11-18, SHA-256 A2:5B:2E:98:E5:E4:86:BB",
		"gateway: CN=bank-core-01, issued by CN=Test Bank Root CA, valid until 2046-11-28, SHA-256 43:6F:FA:4E:9D:22:22:70",
		"✓ The answers are valid.",
	} {
		if !strings.Contains(v, want) {
			t.Errorf("the review lacks %q:\n%s", want, screen(m.View()))
		}
	}
	a := m.d.answers()
	if a.Certificates != (answers.Certificates{Source: answers.CertImport, CACert: "testdata/pki/ca.crt", CAKey: "testdata/pki/ca.key",
		GatewayChain: "testdata/pki/gateway.crt", GatewayKey: "testdata/pki/gateway.key"}) {
		t.Errorf("answers: %+v", a.Certificates)
	}
}

func TestWizardReviewRefusesToStartWhenChecksFail(t *testing.T) {
	opts := testWizardOptions(t, sampleChecks())
	m := goTo(t, newTestWizard(t, opts, 120, 40), screenReview)
	m = update(t, m, checksDoneMsg{seq: m.checks.seq, results: sampleChecks(), at: fixedNow})
	m = press(t, m, "enter")
	if m.finished || !strings.Contains(m.notice, "Host checks fail") {
		t.Fatalf("start with a failing check: finished %v, notice %q", m.finished, m.notice)
	}
	if !strings.Contains(screen(m.View()), "✗ Port 443: port 443 on every address is held by nginx") {
		t.Fatalf("the review does not list the failing check:\n%s", screen(m.View()))
	}
	withCmdBudget(t, 5*time.Second) // "s" validates and writes the file
	m = press(t, m, "s")
	if m.saved != opts.AnswersPath {
		t.Fatalf("s did not save the answers (notice %q)", m.notice)
	}
	data, err := os.ReadFile(opts.AnswersPath)
	if err != nil {
		t.Fatal(err)
	}
	back, err := answers.Parse(opts.AnswersPath, data)
	if err != nil {
		t.Fatalf("the saved answers file does not load: %v\n%s", err, data)
	}
	if !reflect.DeepEqual(back, m.d.answers()) {
		t.Fatalf("the saved file loads as\n%+v\nwant\n%+v", back, m.d.answers())
	}
}

func TestWizardSaveAndStartReturnsTheAnswers(t *testing.T) {
	opts := testWizardOptions(t, passingChecks())
	m := goTo(t, newTestWizard(t, opts, 80, 24), screenProfile)
	m = press(t, m, "down", "enter")
	m = goTo(t, m, screenVault)
	m = press(t, m, "enter", "enter", "enter")
	m = typeText(t, m, "classroom-2025")
	m = press(t, m, "enter")
	m = typeText(t, m, "classroom-2025")
	m = press(t, m, "enter")
	m = goTo(t, m, screenReview)
	m = update(t, m, checksDoneMsg{seq: m.checks.seq, results: passingChecks(), at: fixedNow})
	withCmdBudget(t, 5*time.Second) // starting saves the answers first
	m = press(t, m, "enter")
	if !m.finished || !m.result.Start || m.result.Saved != opts.AnswersPath {
		t.Fatalf("start: finished %v, result %+v, notice %q", m.finished, m.result, m.notice)
	}
	if string(m.result.CustodyPassphrase) != "classroom-2025" {
		t.Fatalf("the custody passphrase was not returned")
	}
	data, err := os.ReadFile(opts.AnswersPath)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(data), "classroom-2025") {
		t.Fatal("the passphrase was written into the answers file")
	}
	back, err := answers.Load(opts.AnswersPath)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, m.result.Answers) || back.Profile != answers.Demo {
		t.Fatalf("saved answers load as %+v, want %+v", back, m.result.Answers)
	}
}

func TestWizardAsksBeforeQuitting(t *testing.T) {
	m := newTestWizard(t, testWizardOptions(t, passingChecks()), 80, 24)
	m = press(t, m, "ctrl+c")
	if !m.quitAsk || !strings.Contains(screen(m.View()), "Quit the wizard? Nothing has been changed") {
		t.Fatalf("ctrl+c must ask first:\n%s", screen(m.View()))
	}
	m = press(t, m, "n")
	if m.quitAsk || m.finished {
		t.Fatal("n must keep the wizard going")
	}
	m = goTo(t, m, screenHost)
	m = press(t, m, "q")
	if m.quitAsk || !strings.Contains(m.d.hostname, "q") {
		t.Fatalf("q in a text field must be typed, not quit (hostname %q)", m.d.hostname)
	}
	m = press(t, m, "ctrl+c", "y")
	if !m.finished || m.result.Start {
		t.Fatalf("y must end the wizard without starting: %+v", m.result)
	}
	if m.View().Content != "" {
		t.Fatal("a finished wizard must clear its screen")
	}
}

func TestWizardRecheckRunsThePreflightAgain(t *testing.T) {
	var calls atomic.Int32
	opts := testWizardOptions(t, nil)
	opts.Preflight = func(context.Context, answers.Answers) []preflight.Result {
		if calls.Add(1) == 1 {
			return sampleChecks()
		}
		return passingChecks()
	}
	m := newTestWizard(t, opts, 80, 24)
	m = press(t, m, "enter")
	if !strings.Contains(screen(m.View()), "1 failing") {
		t.Fatalf("first run shows:\n%s", screen(m.View()))
	}
	m = press(t, m, "r")
	if !strings.Contains(screen(m.View()), "7 pass, 0 warning, 0 failing") {
		t.Fatalf("re-check did not show the new results:\n%s", screen(m.View()))
	}
	if calls.Load() < 2 {
		t.Fatalf("preflight ran %d times", calls.Load())
	}
}

func TestWizardFramesFitEverySize(t *testing.T) {
	opts := testWizardOptions(t, sampleChecks())
	m := newTestWizard(t, opts, 80, 24)
	for s := screenWelcome; s < screenCount; s++ {
		m = goTo(t, m, s)
		for _, sz := range [][2]int{{80, 24}, {100, 30}, {120, 40}, {200, 60}, {81, 25}} {
			m = update(t, m, tea.WindowSizeMsg{Width: sz[0], Height: sz[1]})
			checkFrame(t, m.draw(), sz[0], sz[1])
		}
		m = update(t, m, tea.WindowSizeMsg{Width: 60, Height: 20})
		if !strings.Contains(m.draw(), "make it at least 80×24") {
			t.Fatalf("a 60×20 terminal must be told the minimum size, got:\n%s", m.draw())
		}
		m = update(t, m, tea.WindowSizeMsg{Width: 80, Height: 24})
	}
}
