package tui

import (
	"context"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/fineract-installer/fineract-installer/steps/answers"
	"github.com/fineract-installer/fineract-installer/steps/install"
	"github.com/fineract-installer/fineract-installer/steps/preflight"
)

// TestMain removes the binary the terminal tests built.
func TestMain(m *testing.M) {
	code := m.Run()
	if demoBuild.path != "" {
		os.RemoveAll(filepath.Dir(demoBuild.path))
	}
	os.Exit(code)
}

// fixedNow is the clock of every test.
var fixedNow = time.Date(2027, 3, 14, 9, 26, 53, 0, time.UTC)

func clock() time.Time { return fixedNow }

// sampleChecks is a preflight result list with each status.
func sampleChecks() []preflight.Result {
	return []preflight.Result{
		{ID: "engine", Title: "Docker engine", Status: preflight.Pass, Observed: "Docker 27.5.1, API 1.47"},
		{ID: "storage", Title: "Storage driver", Status: preflight.Pass, Observed: "overlay2"},
		{ID: "memory", Title: "Memory", Status: preflight.Warn, Observed: "7812 MiB total, 5210 MiB available; the selected groups need about 5120 MiB",
			Fix: "free memory by stopping other workloads; the stack may be killed for lack of memory"},
		{ID: "disk", Title: "Disk for images (/var/lib/docker)", Status: preflight.Pass, Observed: "48211 MiB free on the filesystem of /var/lib/docker"},
		{ID: "ports", Title: "Port 443", Status: preflight.Fail, Observed: "port 443 on every address is held by nginx (pid 812)",
			Fix: "stop that program, or choose another port with gateway.https_port in the answers file"},
		{ID: "ports", Title: "Port 80", Status: preflight.Pass, Observed: "port 80 on every address is free"},
		{ID: "clock", Title: "Clock", Status: preflight.Pass, Observed: "synchronised by NTP"},
	}
}

func passingChecks() []preflight.Result {
	var out []preflight.Result
	for _, r := range sampleChecks() {
		r.Status, r.Fix = preflight.Pass, ""
		out = append(out, r)
	}
	return out
}

// testWizardOptions are the options of a wizard on a known host.
func testWizardOptions(t testing.TB, checks []preflight.Result) WizardOptions {
	initial := answers.Defaults(answers.Production)
	initial.InstallDir = "/opt/fineract-stack"
	installDir := t.TempDir() + "/stack"
	return WizardOptions{
		Initial: initial,
		Host: HostFacts{Hostname: "bank-core-01", IPs: []string{"192.0.2.10"}, MemoryMiB: 15872,
			Taken: []TakenSubnet{{Prefix: netip.MustParsePrefix("10.231.99.0/24"), By: "interface eth1"}}},
		Preflight: func(context.Context, answers.Answers) []preflight.Result { return checks },
		// The install's own check, against an empty install dir of the test.
		Certificates: func(ctx context.Context, a answers.Answers, now time.Time) install.ImportCheck {
			a.InstallDir = installDir
			return install.CheckImports(ctx, a, "fineract", now)
		},
		AnswersPath: t.TempDir() + "/answers.yaml",
		Now:         clock,
	}
}

// newTestWizard returns a sized wizard whose first checks have finished.
func newTestWizard(t *testing.T, opts WizardOptions, w, h int) wizardModel {
	m := newWizard(context.Background(), opts, false)
	m = update(t, m, tea.WindowSizeMsg{Width: w, Height: h})
	m = update(t, m, checksDoneMsg{seq: 1, results: opts.Preflight(context.Background(), opts.Initial), at: fixedNow})
	return m
}

// update feeds one message and runs the commands it returns that finish
// at once (form focus, field moves), as a program would, one level deep
// and skipping the ones that wait (ticks, checks).
func update[M tea.Model](t *testing.T, m M, msg tea.Msg) M {
	t.Helper()
	next, cmd := m.Update(msg)
	m = next.(M)
	return runCmds(t, m, cmd, 0)
}

// cmdBudget is how long runCmds lets a command run before taking it for
// one that waits (a tick, a channel) and leaving it alone.
var cmdBudget = 50 * time.Millisecond

// withCmdBudget gives commands longer, for tests whose keys start file I/O
// (validating and writing the answers), which a loaded machine can make
// slower than the default budget.
func withCmdBudget(t *testing.T, d time.Duration) {
	old := cmdBudget
	cmdBudget = d
	t.Cleanup(func() { cmdBudget = old })
}

func runCmds[M tea.Model](t *testing.T, m M, cmd tea.Cmd, depth int) M {
	if cmd == nil || depth > 6 {
		return m
	}
	done := make(chan tea.Msg, 1)
	go func() { done <- cmd() }()
	var msg tea.Msg
	select {
	case msg = <-done:
	case <-time.After(cmdBudget):
		return m // a command that waits (a tick, a channel) is left alone
	}
	switch msg := msg.(type) {
	case nil:
		return m
	case tea.BatchMsg:
		for _, c := range msg {
			m = runCmds(t, m, c, depth+1)
		}
		return m
	case tea.QuitMsg:
		return m
	}
	if cmds, ok := sequence(msg); ok {
		for _, c := range cmds {
			m = runCmds(t, m, c, depth+1)
		}
		return m
	}
	next, c := m.Update(msg)
	return runCmds(t, next.(M), c, depth+1)
}

// sequence unpacks tea.Sequence's message, whose type is unexported.
func sequence(msg tea.Msg) ([]tea.Cmd, bool) {
	v := reflect.ValueOf(msg)
	if v.Kind() != reflect.Slice || v.Type().Elem() != reflect.TypeOf(tea.Cmd(nil)) {
		return nil, false
	}
	out := make([]tea.Cmd, v.Len())
	for i := range out {
		out[i], _ = v.Index(i).Interface().(tea.Cmd)
	}
	return out, true
}

// plain is a frame without escape sequences.
func plain(s string) string { return ansi.Strip(s) }

// screen is the text a view shows, without escape sequences.
func screen(v tea.View) string { return ansi.Strip(v.Content) }

// cellWidth is a line's width in terminal cells.
func cellWidth(s string) int { return ansi.StringWidth(s) }
