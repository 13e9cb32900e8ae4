package tui

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"charm.land/bubbles/v2/spinner"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/exp/teatest/v2"

	"github.com/fineract-installer/fineract-installer/steps"
	"github.com/fineract-installer/fineract-installer/steps/validate"
)

// sizes are the terminal sizes every screen is checked at.
var sizes = [][2]int{{80, 24}, {120, 40}}

// step is one move of a scripted session: keys or text to send, then the
// text the screen must show before the next move.
type step struct {
	keys  []tea.KeyPressMsg // sent first
	text  string            // then pasted
	after []tea.KeyPressMsg // then sent
	wait  string
	also  []string // more texts that must show too, in any order
	// until, when set, must hold for the model too (for what the screen
	// shows only at some sizes).
	until func(tea.Model) bool
}

func keys(names ...string) []tea.KeyPressMsg {
	out := make([]tea.KeyPressMsg, len(names))
	for i, n := range names {
		out[i] = keyMsg(n)
	}
	return out
}

// keyMsg builds the key press for a key name.
func keyMsg(name string) tea.KeyPressMsg {
	named := map[string]tea.Key{
		"enter": {Code: tea.KeyEnter}, "esc": {Code: tea.KeyEscape}, "ctrl+c": {Code: 'c', Mod: tea.ModCtrl},
		"up": {Code: tea.KeyUp}, "down": {Code: tea.KeyDown}, "left": {Code: tea.KeyLeft}, "right": {Code: tea.KeyRight},
		"tab": {Code: tea.KeyTab}, "shift+tab": {Code: tea.KeyTab, Mod: tea.ModShift}, "ctrl+u": {Code: 'u', Mod: tea.ModCtrl},
		"backspace": {Code: tea.KeyBackspace}, "pgup": {Code: tea.KeyPgUp}, "pgdown": {Code: tea.KeyPgDown},
		"home": {Code: tea.KeyHome}, "end": {Code: tea.KeyEnd}, "space": {Code: tea.KeySpace, Text: " "},
	}
	if k, ok := named[name]; ok {
		return tea.KeyPressMsg(k)
	}
	r := []rune(name)
	if len(r) != 1 {
		panic("keyMsg: unknown key " + name)
	}
	return tea.KeyPressMsg{Code: r[0], Text: name}
}

// paste is text pasted in one message, so a live check runs once for the
// whole text rather than once per character.
func paste(text string) tea.PasteMsg { return tea.PasteMsg{Content: text} }

// watched runs a model under test and keeps its latest frame: the model
// and the text it showed. Tests wait on that frame: Bubble Tea writes only
// the cells that changed, so a text on screen need not appear whole in the
// program's output.
type watched struct {
	tea.Model
	last *atomic.Pointer[shown]
}

// shown is a model and the text of its frame.
type shown struct {
	model tea.Model
	text  string
}

func watch(m tea.Model) watched { return watched{Model: m, last: &atomic.Pointer[shown]{}} }

func (w watched) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	m, cmd := w.Model.Update(msg)
	return watched{Model: m, last: w.last}, cmd
}

func (w watched) View() tea.View {
	v := w.Model.View()
	w.last.Store(&shown{model: w.Model, text: screen(v)})
	return v
}

// program is a model running in a test program.
type program struct {
	tm *teatest.TestModel
	w  watched
}

func runTest(t *testing.T, m tea.Model, w, h int) program {
	t.Helper()
	wm := watch(m)
	return program{tm: teatest.NewTestModel(t, wm, teatest.WithInitialTermSize(w, h)), w: wm}
}

func (p program) send(msgs ...tea.Msg) {
	for _, m := range msgs {
		p.tm.Send(m)
	}
}

// waitFor waits until the screen shows every text, and returns it.
func (p program) waitFor(t *testing.T, texts ...string) string {
	t.Helper()
	return p.waitUntil(t, nil, texts...)
}

// waitUntil waits until the screen shows every text and, when until is
// set, the model shown satisfies it; it returns the screen.
func (p program) waitUntil(t *testing.T, until func(tea.Model) bool, texts ...string) string {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		var now shown
		if l := p.w.last.Load(); l != nil {
			now = *l
		}
		ok := now.model != nil && (until == nil || until(now.model))
		for _, s := range texts {
			ok = ok && strings.Contains(now.text, s)
		}
		if ok {
			return now.text
		}
		if time.Now().After(deadline) {
			t.Fatalf("the screen did not show %q within 5 s; it shows:\n%s", texts, now.text)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// finalModel returns the model the program ended with.
func finalModel[M tea.Model](t *testing.T, p program) M {
	t.Helper()
	return p.tm.FinalModel(t, teatest.WithFinalTimeout(5*time.Second)).(watched).Model.(M)
}

// drive runs a model in a test program at a size, plays the steps and
// returns the final model once the program has quit.
func drive[M tea.Model](t *testing.T, m M, w, h int, script []step) M {
	t.Helper()
	p := runTest(t, m, w, h)
	for _, s := range script {
		for _, k := range s.keys {
			p.send(k)
		}
		if s.text != "" {
			p.send(paste(s.text))
		}
		for _, k := range s.after {
			p.send(k)
		}
		if s.wait != "" {
			p.waitUntil(t, s.until, append([]string{s.wait}, s.also...)...)
		}
	}
	if err := p.tm.Quit(); err != nil {
		t.Fatal(err)
	}
	return finalModel[M](t, p)
}

// golden compares a frame's text, without its styling, with
// testdata/<test name>.golden (go test -update rewrites it) and checks the
// frame fits the terminal.
func golden(t *testing.T, view string, w, h int) {
	t.Helper()
	checkFrame(t, view, w, h)
	teatest.RequireEqualOutput(t, []byte(plain(view)+"\n"))
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
		step{text: "testdata/pki/other.key", wait: "other.key:", also: []string{"ECDSA"}}),
	"network": append(toNetwork(),
		step{keys: keys("tab"), wait: "┃ app"},
		step{keys: keys("ctrl+u"), text: "10.231.99.0/24", wait: "which this host already uses"},
		step{keys: keys("tab"), wait: "┃ data"},
		step{keys: keys("ctrl+u"), text: "10.231.10.0/24", wait: "overlaps network.dmz.subnet"}),
	"services": append(toServices(), step{keys: keys("down", "down", "down", "space"), wait: "7.9 GiB for the containers"}),
	// The host checks run again on the review; enter waits for them.
	"review": append(toServices(), step{keys: keys("enter"), wait: "Answers file", until: checked},
		step{keys: keys("enter"), wait: "Host checks fail"}),
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
		step{keys: keys("enter"), wait: "43:6F:FA", also: []string{"Networks"}, until: checked}),
	"quit": {{keys: keys("enter"), wait: "held by nginx"}, {keys: keys("q"), wait: "Quit the wizard?"}},
}

// checked holds once the wizard's host checks have returned.
func checked(m tea.Model) bool { return !m.(wizardModel).checks.running }

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
				m := drive(t, newWizard(context.Background(), opts, false), sz[0], sz[1], script)
				golden(t, m.draw(), sz[0], sz[1])
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
			m := drive(t, newWizard(context.Background(), testWizardOptions(t, sampleChecks()), false), sz[0], sz[1], script)
			golden(t, m.draw(), sz[0], sz[1])
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
		Tenants:    []string{"default", "student1"},
		SignIn:     "mifos, with the password shown once above",
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
		s := []step{{wait: "shown ONCE", also: []string{"3 of 10 steps"}}}
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
				m := newDeploy(context.Background(), opts, false, pipe)
				m.spin = spinner.New(spinner.WithSpinner(staticSpinner))
				golden(t, drive(t, m, sz[0], sz[1], ds.script).draw(), sz[0], sz[1])
			})
		}
	}
}
