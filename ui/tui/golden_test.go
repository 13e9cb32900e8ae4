package tui

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/bubbles/spinner"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/exp/teatest"

	"github.com/fineract-installer/fineract-installer/steps"
	"github.com/fineract-installer/fineract-installer/steps/validate"
)

// sizes are the terminal sizes every screen is checked at.
var sizes = [][2]int{{80, 24}, {120, 40}}

// step is one move of a scripted session: keys or text to send, then the
// text the screen must show before the next move.
type step struct {
	keys  []tea.KeyMsg // sent first
	text  string       // then pasted
	after []tea.KeyMsg // then sent
	wait  string
	also  string // a second text that must show too, in any order
}

func keys(names ...string) []tea.KeyMsg {
	out := make([]tea.KeyMsg, len(names))
	for i, n := range names {
		out[i] = keyMsg(n)
	}
	return out
}

// keyMsg builds the key message for a key name.
func keyMsg(name string) tea.KeyMsg {
	types := map[string]tea.KeyType{
		"enter": tea.KeyEnter, "esc": tea.KeyEsc, "ctrl+c": tea.KeyCtrlC, "up": tea.KeyUp, "down": tea.KeyDown,
		"left": tea.KeyLeft, "right": tea.KeyRight, "tab": tea.KeyTab, "shift+tab": tea.KeyShiftTab,
		"ctrl+u": tea.KeyCtrlU, "backspace": tea.KeyBackspace, "pgup": tea.KeyPgUp, "pgdown": tea.KeyPgDown,
		"home": tea.KeyHome, "end": tea.KeyEnd,
	}
	if name == "space" {
		return tea.KeyMsg{Type: tea.KeySpace, Runes: []rune{' '}}
	}
	if t, ok := types[name]; ok {
		return tea.KeyMsg{Type: t}
	}
	return tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(name)}
}

// drive runs a model in a test program at a size, plays the steps and
// returns the final model once the program has quit.
func drive(t *testing.T, m tea.Model, w, h int, script []step) tea.Model {
	t.Helper()
	tm := teatest.NewTestModel(t, m, teatest.WithInitialTermSize(w, h))
	for _, s := range script {
		for _, k := range s.keys {
			tm.Send(k)
		}
		if s.text != "" {
			// One pasted message, so a live check runs once for the
			// whole text rather than once per character.
			tm.Send(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(s.text), Paste: true})
		}
		for _, k := range s.after {
			tm.Send(k)
		}
		if s.wait != "" {
			want, also := []byte(s.wait), []byte(s.also)
			teatest.WaitFor(t, tm.Output(), func(b []byte) bool { return bytes.Contains(b, want) && bytes.Contains(b, also) },
				teatest.WithDuration(5*time.Second), teatest.WithCheckInterval(5*time.Millisecond))
		}
	}
	if err := tm.Quit(); err != nil {
		t.Fatal(err)
	}
	return tm.FinalModel(t, teatest.WithFinalTimeout(5*time.Second))
}

// golden compares a frame with testdata/<test name>.golden (go test -update
// rewrites it) and checks the frame fits the terminal.
func golden(t *testing.T, view string, w, h int) {
	t.Helper()
	checkFrame(t, view, w, h)
	teatest.RequireEqualOutput(t, []byte(view+"\n"))
}

// checkFrame fails unless the frame is exactly h lines of at most w cells.
func checkFrame(t *testing.T, view string, w, h int) {
	t.Helper()
	ls := strings.Split(view, "\n")
	if len(ls) != h {
		t.Fatalf("frame has %d lines, want %d:\n%s", len(ls), h, view)
	}
	for i, l := range ls {
		if got := len([]rune(plain(l))); got > w {
			if cells := cellWidth(l); cells > w {
				t.Fatalf("line %d is %d cells wide, more than %d: %q", i+1, cells, w, plain(l))
			}
		}
	}
}

// wizardScript reaches each wizard screen from the start.
var wizardScripts = map[string][]step{
	"welcome":   {{wait: "What will happen"}},
	"preflight": {{keys: keys("enter"), wait: "held by nginx"}},
	"profile":   {{keys: keys("enter"), wait: "held by nginx"}, {keys: keys("enter"), wait: "Which profile?"}, {keys: keys("down"), wait: "demo defaults"}},
	"host": {{keys: keys("enter"), wait: "held by nginx"}, {keys: keys("enter"), wait: "Which profile?"}, {keys: keys("enter"), wait: "Host name"},
		{keys: keys("ctrl+u"), text: "core_bank", wait: "not a valid DNS name"}},
	"vault": append(toVault(), step{keys: keys("enter"), wait: "┃ Shares needed"},
		step{keys: keys("ctrl+u"), text: "7", wait: "larger than vault.key_shares"}),
	"certs": append(toCerts(),
		step{keys: keys("down", "enter"), wait: "┃ CA certificate file"},
		step{text: "testdata/pki/ca.crt", wait: "no key file is given"},
		step{keys: keys("tab"), wait: "┃ CA key file"},
		// The install's message, wrapped: its words may break anywhere.
		step{text: "testdata/pki/other.key", wait: "other.key:", also: "ECDSA"}),
	"network": append(toNetwork(),
		step{keys: keys("tab"), wait: "┃ app"},
		step{keys: keys("ctrl+u"), text: "10.231.99.0/24", wait: "which this host already uses"},
		step{keys: keys("tab"), wait: "┃ data"},
		step{keys: keys("ctrl+u"), text: "10.231.10.0/24", wait: "overlaps network.dmz.subnet"}),
	"services": append(toServices(), step{keys: keys("down", "down", "down", "space"), wait: "7.9 GiB for the containers"}),
	"review":   append(toServices(), step{keys: keys("enter"), wait: "Answers file"}, step{keys: keys("enter"), wait: "Host checks fail"}),
	// The bank's CA and a gateway certificate from it: each is checked as
	// it is typed, and the review shows what was found.
	"review-import": append(toCerts(),
		step{keys: keys("down", "enter"), wait: "┃ CA certificate file"},
		step{text: "testdata/pki/ca.crt", after: keys("tab"), wait: "┃ CA key file"},
		step{text: "testdata/pki/ca.key", after: keys("tab"), wait: "┃ Gateway certificate chain file"},
		step{text: "testdata/pki/gateway.crt", after: keys("tab"), wait: "┃ Gateway key file"},
		step{text: "testdata/pki/gateway.key", wait: "✓ Gateway: CN=bank-core-01"},
		step{keys: keys("enter"), wait: "monitoring >"},
		step{keys: keys("enter", "enter", "enter", "enter"), wait: "Optional service groups"},
		step{keys: keys("enter"), wait: "43:6F:FA", also: "Networks"}),
	"quit": {{keys: keys("enter"), wait: "held by nginx"}, {keys: keys("q"), wait: "Quit the wizard?"}},
}

func toVault() []step {
	return []step{{keys: keys("enter"), wait: "held by nginx"}, {keys: keys("enter"), wait: "Which profile?"},
		{keys: keys("enter"), wait: "Host name"}, {keys: keys("enter", "enter"), wait: "Key shares"}}
}

func toCerts() []step {
	return append(toVault(), step{keys: keys("enter", "enter", "enter"), wait: "Where do the certificates"})
}

func toNetwork() []step {
	return append(toCerts(), step{keys: keys("enter"), wait: "monitoring >"})
}

func toServices() []step {
	return append(toNetwork(), step{keys: keys("enter", "enter", "enter", "enter"), wait: "Optional service groups"})
}

func TestGoldenWizard(t *testing.T) {
	for name, script := range wizardScripts {
		for _, sz := range sizes {
			t.Run(fmt.Sprintf("%s/%dx%d", name, sz[0], sz[1]), func(t *testing.T) {
				opts := testWizardOptions(t, sampleChecks())
				opts.AnswersPath = "/srv/fineract/answers.yaml" // the same in every run; never written here
				m := drive(t, newWizard(context.Background(), opts, testStyles()), sz[0], sz[1], script)
				golden(t, m.(wizardModel).View(), sz[0], sz[1])
			})
		}
	}
}

func TestGoldenWizardDemoPassphrase(t *testing.T) {
	script := []step{
		{keys: keys("enter"), wait: "held by nginx"}, {keys: keys("enter"), wait: "Which profile?"},
		{keys: keys("down", "enter"), wait: "Host name"}, {keys: keys("enter", "enter"), wait: "Key shares"},
		{keys: keys("enter", "enter", "enter"), wait: "Custody file passphrase"},
		{text: "classroom", wait: "it has 9"},
	}
	for _, sz := range sizes {
		t.Run(fmt.Sprintf("%dx%d", sz[0], sz[1]), func(t *testing.T) {
			m := drive(t, newWizard(context.Background(), testWizardOptions(t, sampleChecks()), testStyles()), sz[0], sz[1], script)
			golden(t, m.(wizardModel).View(), sz[0], sz[1])
		})
	}
}

// staticSpinner keeps goldens stable: one frame, never advancing.
var staticSpinner = spinner.Spinner{Frames: []string{"⠿"}, FPS: time.Hour}

// scriptedRun emits events, then runs then (if any), then returns end.
type scriptedRun struct {
	events []steps.Event
	then   func(ctx context.Context) error
}

func (s scriptedRun) run(ctx context.Context, emit func(steps.Event)) error {
	for _, e := range s.events {
		emit(e)
	}
	if s.then != nil {
		return s.then(ctx)
	}
	return nil
}

// blockUntilDone holds a run open (a running step) until it is cancelled.
func blockUntilDone(ctx context.Context) error { <-ctx.Done(); return ctx.Err() }

func failedEvents() []steps.Event {
	evs := midRunEvents()
	evs = append(evs[:len(evs):len(evs)],
		done("images", "Make the container images available", 83),
		steps.Event{Kind: steps.KindStarted, Step: "certificates", Time: at(-2)},
		done("certificates", "Issue certificates", 0.8),
		steps.Event{Kind: steps.KindStarted, Step: "networks", Time: at(-1)},
		done("networks", "Create networks and volumes", 0.3),
		steps.Event{Kind: steps.KindStarted, Step: "vault-start", Time: at(-1)},
		steps.Event{Kind: steps.KindFailed, Step: "vault-start", Title: "Start Vault", Elapsed: 31 * time.Second,
			Cause: "service vault exited with code 1 while starting", Subject: "vault",
			Hint: "see `fineract-installer logs vault`; after fixing the cause, run the same command again",
			Logs: []string{"Error parsing listener configuration.", "Error initializing listener of type tcp: open /vault/tls/vault.key: permission denied"}},
	)
	return evs
}

func finalSummary() Summary {
	return Summary{
		GatewayURL: "https://bank-core-01/fineract-provider/api/v1",
		WebAppURL:  "https://bank-core-01/",
		Unseal:     "fineract-installer unseal (any 3 of the 5 key holders)",
		Backups:    "/opt/fineract-stack/backups, every night at 02:00, kept 14 days",
		Checks: []validate.Result{
			{ID: "tls-gateway", Area: validate.AreaTLS, Title: "Gateway accepts TLS 1.3 only", Status: validate.Pass, Evidence: "TLS 1.3 handshake with TLS_AES_128_GCM_SHA256; TLS 1.2 refused"},
			{ID: "tls-chain", Area: validate.AreaTLS, Title: "Service certificates chain to the CA", Status: validate.Pass, Evidence: "9 of 9 verified against ca.crt"},
			{ID: "net-data", Area: validate.AreaNetwork, Title: "data network is internal", Status: validate.Pass, Evidence: "Internal=true; no route out from postgres"},
			{ID: "vault-audit", Area: validate.AreaVault, Title: "Vault audit device on", Status: validate.Pass, Evidence: "file audit device at /vault/logs/audit.log"},
			{ID: "pg-tls", Area: validate.AreaPostgres, Title: "PostgreSQL requires TLS", Status: validate.Pass, Evidence: "ssl=on; hostssl only in pg_hba.conf"},
			{ID: "secrets-env", Area: validate.AreaSecrets, Title: "No secret in container environments", Status: validate.Pass, Evidence: "14 containers inspected, 0 secret-shaped values"},
			{ID: "backup-recent", Area: validate.AreaBackups, Title: "A recent backup exists", Status: validate.Warn, Evidence: "no backup yet", Fix: "run fineract-installer backup now, or wait for tonight's"},
			{ID: "host-swap", Area: validate.AreaHost, Title: "Swap is off or limited", Status: validate.Fail, Evidence: "swappiness 60 with 8 GiB swap", Fix: "set vm.swappiness=1 in /etc/sysctl.d/ and run sysctl --system"},
		},
	}
}

// deployScripts reach each deploy screen.
type deployScript struct {
	run    scriptedRun
	opts   func(*DeployOptions)
	script []step
}

func ceremonyShares() []string {
	return []string{
		"q8QqSRQ0Hb5Hc2QWXXyq7T3VQvDZ8Yx0Qn2eA3nLbX9f", "Kx1r8rLxGgM+o7fSg5v1k8k7A0Zt1bqT2m8Zc3P4qWcr",
		"7mHc0Jt1Wq9e6r2s3Zo8xL5kDfVbN4yG1uA0iE7pRtSw", "Zp3Qw8Er5Ty2Ui6Op9As1Df4Gh7Jk0LzXcVbNm3Qw5Er",
		"Mn8Bv5Cx2Za7Sd4Fg1Hj6Kl9Pq3Wo0Ei5Ru8Ty2Ui4Op",
	}
}

func deployScripts() map[string]deployScript {
	cer := func(ask bool) deployScript {
		c := NewCeremony()
		then := func(ctx context.Context) error {
			if err := c.Show(ctx, ceremonyShares(), 3); err != nil {
				return err
			}
			if ask {
				if _, err := c.Ask(ctx, 2); err != nil {
					return err
				}
				if _, err := c.Ask(ctx, 2); err != nil {
					return err
				}
			}
			return blockUntilDone(ctx)
		}
		// The request and the events before it travel on different
		// channels; both must have arrived before the frame is final.
		s := []step{{wait: "shown ONCE", also: "3 of 10 steps"}}
		if ask {
			s = append(s, step{keys: keys("enter"), wait: "Have you recorded"}, step{keys: keys("y"), wait: "Type share #3"},
				step{text: "not the share", after: keys("enter"), wait: "Attempt 2 of 3"})
		}
		return deployScript{run: scriptedRun{events: midRunEvents()[:6], then: then}, opts: func(o *DeployOptions) { o.Ceremony = c }, script: s}
	}
	return map[string]deployScript{
		"running": {run: scriptedRun{events: midRunEvents(), then: blockUntilDone}, script: []step{{wait: "log line 30"}}},
		"logs": {run: scriptedRun{events: midRunEvents(), then: blockUntilDone},
			script: []step{{wait: "log line 30"}, {keys: keys("l"), wait: "←/→ service"}, {keys: keys("up", "up", "up"), wait: "paused"}}},
		"stop": {run: scriptedRun{events: midRunEvents(), then: blockUntilDone},
			script: []step{{wait: "log line 30"}, {keys: keys("q"), wait: "Stop the install?"}}},
		"ceremony-show": cer(false),
		"ceremony-ask":  cer(true),
		"failure": {run: scriptedRun{events: failedEvents(), then: func(context.Context) error { return fmt.Errorf("step vault-start: failed") }},
			opts: func(o *DeployOptions) {
				o.SupportBundle = func(context.Context) (string, error) { return "/tmp/support-7f3a.tar.gz", nil }
			},
			script: []step{{wait: "Last lines from vault"}, {keys: keys("b"), wait: "Support bundle written"}}},
		"final": {run: scriptedRun{events: append(failedEvents()[:len(failedEvents())-1],
			done("vault-start", "Start Vault", 4.1), done("vault", "Initialise Vault and deliver secrets", 6.5),
			done("services", "Start the services", 312), done("validate", "Prove the installation", 9))},
			opts:   func(o *DeployOptions) { o.Summary = func(context.Context) Summary { return finalSummary() } },
			script: []step{{wait: "Where to log in"}}},
	}
}

func TestGoldenDeploy(t *testing.T) {
	for name := range deployScripts() {
		for _, sz := range sizes {
			t.Run(fmt.Sprintf("%s/%dx%d", name, sz[0], sz[1]), func(t *testing.T) {
				ds := deployScripts()[name] // fresh ceremony hook per run
				opts := DeployOptions{Title: "production install of bank-core-01", Steps: planSteps(), Run: ds.run.run, Now: clock,
					ResumeCommand: "fineract-installer install --answers answers.yaml"}
				if ds.opts != nil {
					ds.opts(&opts)
				}
				pipe := newPipeline(context.Background(), opts.Run)
				t.Cleanup(pipe.close)
				m := newDeploy(context.Background(), opts, testStyles(), pipe)
				m.spin = spinner.New(spinner.WithSpinner(staticSpinner))
				final := drive(t, m, sz[0], sz[1], ds.script).(deployModel)
				golden(t, final.View(), sz[0], sz[1])
			})
		}
	}
}
