package tui

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fineract-installer/fineract-installer/steps/answers"
)

// The tests in this file run the real program (internal/tuidemo: the
// wizard with injected preflight results, then the deploy view over a
// scripted pipeline) in a real terminal: tmux with a 120×40 window, keys
// sent with send-keys, screens read with capture-pane.

var demoBuild struct {
	once sync.Once
	path string
	err  error
}

// demoBinary builds internal/tuidemo once per test run.
func demoBinary(t testing.TB) string {
	t.Helper()
	demoBuild.once.Do(func() {
		dir, err := os.MkdirTemp("", "tuidemo-")
		if err != nil {
			demoBuild.err = err
			return
		}
		demoBuild.path = filepath.Join(dir, "tuidemo")
		out, err := exec.Command("go", "build", "-o", demoBuild.path, "./internal/tuidemo").CombinedOutput()
		if err != nil {
			demoBuild.err = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if demoBuild.err != nil {
		t.Fatal(demoBuild.err)
	}
	return demoBuild.path
}

// terminal is one tmux server (its own socket) running one program.
type terminal struct {
	t      *testing.T
	socket string
}

// startTerminal runs command in a detached 120×40 tmux session. Without
// tmux the test is skipped, except in CI, where it fails.
func startTerminal(t *testing.T, command string) *terminal {
	t.Helper()
	if _, err := exec.LookPath("tmux"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("tmux is required in CI (apt-get install tmux)")
		}
		t.Skip("tmux not installed; apt-get install tmux to run the real-terminal tests")
	}
	term := &terminal{t: t, socket: fmt.Sprintf("tui-test-%d-%d", os.Getpid(), time.Now().UnixNano())}
	term.tmux("new-session", "-d", "-s", "main", "-x", "120", "-y", "40", command+"; echo PROGRAM-EXITED; sleep 60")
	t.Cleanup(func() { killTmux(term.socket) })
	return term
}

// killTmux stops a test's tmux server and removes its socket file, which
// tmux leaves behind when its server is killed.
func killTmux(socket string) {
	_ = exec.Command("tmux", "-L", socket, "kill-server").Run()
	dir := os.Getenv("TMUX_TMPDIR")
	if dir == "" {
		dir = "/tmp"
	}
	_ = os.Remove(filepath.Join(dir, fmt.Sprintf("tmux-%d", os.Getuid()), socket))
}

func (tm *terminal) tmux(args ...string) string {
	tm.t.Helper()
	out, err := exec.Command("tmux", append([]string{"-L", tm.socket}, args...)...).CombinedOutput()
	if err != nil {
		tm.t.Fatalf("tmux %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// keys sends tmux key names (Enter, Down, BTab, C-c); text sends literally.
func (tm *terminal) keys(names ...string) {
	tm.tmux(append([]string{"send-keys", "-t", "main"}, names...)...)
}
func (tm *terminal) text(s string)  { tm.tmux("send-keys", "-t", "main", "-l", "--", s) }
func (tm *terminal) screen() string { return tm.tmux("capture-pane", "-p", "-t", "main") }

// waitFor polls the screen until it shows want, and returns that screen.
func (tm *terminal) waitFor(want string) string {
	tm.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	var s string
	for time.Now().Before(deadline) {
		if s = tm.screen(); strings.Contains(s, want) {
			return s
		}
		time.Sleep(50 * time.Millisecond)
	}
	tm.t.Fatalf("the screen never showed %q; it shows:\n%s", want, s)
	return ""
}

// expect fails unless the screen holds every text.
func (tm *terminal) expect(screen string, texts ...string) {
	tm.t.Helper()
	for _, s := range texts {
		if !strings.Contains(screen, s) {
			tm.t.Errorf("the screen lacks %q:\n%s", s, screen)
		}
	}
}

func TestTmuxWizardDemoProfileToInstalled(t *testing.T) {
	bin := demoBinary(t)
	path := filepath.Join(t.TempDir(), "answers.yaml")
	term := startTerminal(t, fmt.Sprintf("%s -answers %s -pace 100ms", bin, path))

	s := term.waitFor("What will happen")
	term.expect(s, "step 1 of 9", "Docker Engine 20.10 or newer", "enter continue")
	if lines := strings.Split(strings.TrimRight(s, "\n"), "\n"); len(lines) > 40 {
		t.Fatalf("the screen has %d lines in a 40-line terminal", len(lines))
	}
	term.keys("Enter")
	s = term.waitFor("7 pass, 0 warning, 0 failing")
	term.expect(s, "✓ Docker engine", "r re-check")
	term.keys("Enter")
	term.waitFor("Which profile?")
	term.keys("Down")
	term.waitFor("demo defaults")
	term.keys("Enter")
	s = term.waitFor("Host name")
	term.expect(s, "> bank-core-01", "Vault key sharing and the service groups now use the demo defaults")
	term.keys("Enter")
	term.waitFor("┃ IP addresses")
	term.keys("Enter")
	s = term.waitFor("Key shares")
	term.expect(s, "> 1", "file   kept on this host", "One share unlocks Vault on its own")
	term.keys("Enter")
	term.waitFor("┃ Shares needed")
	term.keys("Enter")
	term.waitFor("┃ Key custody")
	term.keys("Enter")
	term.waitFor("Custody file passphrase")
	term.text("classroom")
	term.waitFor("needs at least 12 characters (it has 9)")
	term.text("-2025")
	term.keys("Enter")
	term.waitFor("┃ Repeat the passphrase")
	term.text("classroom-2025")
	term.keys("Enter")
	term.waitFor("Where do the certificates come from?")
	term.keys("Enter")
	s = term.waitFor("monitoring >")
	term.expect(s, "✓ data        internal, no way out")
	term.keys("Tab")
	term.waitFor("┃ app")
	term.keys("C-u")
	term.text("10.231.10.0/24")
	term.waitFor("overlaps network.dmz.subnet 10.231.10.0/24")
	term.keys("C-u")
	term.text("10.231.20.0/24")
	term.waitFor("✓ app")
	term.keys("Enter", "Enter", "Enter")
	s = term.waitFor("Optional service groups")
	term.expect(s, "✓ monitoring", "core (added automatically)", "this host has 15.5 GiB")
	term.keys("Enter")
	s = term.waitFor("Review")
	term.expect(s, "demo: for classrooms", "1 share, 1 needed; custody: file", "core, monitoring", "The answers are valid.",
		"7 pass, 0 warning, 0 failing", path+" (not saved yet)")
	term.keys("Enter")
	s = term.waitFor("Where to log in")
	term.expect(s, "✓ Installed: 6 of 6 steps", "https://bank-core-01/", "Validation checklist: 2 pass, 1 warning",
		"! A backup exists", "fix: run fineract-installer backup")
	term.keys("q")
	s = term.waitFor("PROGRAM-EXITED")
	term.expect(s, "saved: "+path, "start: true", "outcome: installed")
	if strings.Contains(s, "Where to log in") {
		t.Fatal("the final screen stayed on the terminal after the program left the alternate screen")
	}
	a, err := answers.Load(path)
	if err != nil {
		t.Fatalf("the answers file the wizard saved does not load: %v", err)
	}
	if a.Profile != answers.Demo || a.Vault.Custody != answers.CustodyFile || !a.HasGroup(answers.GroupMonitoring) {
		t.Fatalf("saved answers %+v", a)
	}
	data, _ := os.ReadFile(path)
	if bytes.Contains(data, []byte("classroom-2025")) {
		t.Fatal("the custody passphrase was written to the answers file")
	}
}

func TestTmuxProductionCeremonyFailureAndRetry(t *testing.T) {
	bin := demoBinary(t)
	term := startTerminal(t, bin+" -mode deploy -ceremony -fail-once -pace 100ms")

	s := term.waitFor("shown ONCE")
	shares := regexp.MustCompile(`Share (\d)\s+(\S+)`).FindAllStringSubmatch(s, -1)
	if len(shares) != 5 {
		t.Fatalf("want 5 shares on screen, found %d:\n%s", len(shares), s)
	}
	term.expect(s, "5 shares, 3 needed", "enter I have recorded them")
	term.keys("Enter")
	term.waitFor("Have you recorded all 5 shares?")
	term.keys("y")
	s = term.waitFor("exactly as you recorded it")
	if strings.Contains(s, shares[0][2]) {
		t.Fatal("the shares are still on screen after they were confirmed")
	}
	n := regexp.MustCompile(`share #(\d)`).FindStringSubmatch(s)[1]
	term.text("wrong")
	term.keys("Enter")
	term.waitFor("Attempt 2 of 3")
	for _, sh := range shares {
		if sh[1] == n {
			term.text(sh[2])
		}
	}
	term.keys("Enter")
	s = term.waitFor("Cause  service fineract did not become healthy")
	term.expect(s, "✗ Failed: Start the services", "Last lines from fineract", "connection to postgres:5432 refused",
		"r retry", "b support bundle", "q quit, resume later")
	term.keys("l")
	s = term.waitFor("Logs ‹ fineract ›")
	term.expect(s, "liquibase: applying changeset 40 of 40", "! liquibase: applying changeset 36 of 40")
	term.keys("Escape")
	term.waitFor("Cause  service fineract")
	term.keys("b")
	term.waitFor("Support bundle written to /tmp/fineract-support-demo.tar.gz")
	term.keys("r")
	s = term.waitFor("Where to log in")
	term.expect(s, "5 already done")
	term.keys("q")
	s = term.waitFor("PROGRAM-EXITED")
	term.expect(s, "outcome: installed", "bundle: /tmp/fineract-support-demo.tar.gz")
}

func TestTmuxStopAsksAndResizes(t *testing.T) {
	bin := demoBinary(t)
	term := startTerminal(t, bin+" -mode deploy -pace 2s")
	s := term.waitFor("Make the container images available")
	term.expect(s, "Overall", "q stop")
	term.tmux("resize-window", "-t", "main", "-x", "80", "-y", "24")
	s = term.waitFor("q stop")
	for i, l := range strings.Split(strings.TrimRight(s, "\n"), "\n") {
		if w := cellWidth(l); w > 80 {
			t.Fatalf("after resizing to 80×24, line %d is %d cells: %q", i+1, w, l)
		}
	}
	term.keys("q")
	term.waitFor("Stop the install?")
	term.keys("n")
	term.waitFor("q stop")
	term.keys("C-c")
	term.waitFor("Stop the install?")
	term.keys("y")
	s = term.waitFor("PROGRAM-EXITED")
	term.expect(s, "outcome: interrupted")
}

func TestBinaryWithoutTerminalPrintsPlainLines(t *testing.T) {
	bin := demoBinary(t)
	cmd := exec.Command(bin, "-mode", "deploy", "-profile", "demo", "-pace", "10ms")
	cmd.Env = append(os.Environ(), "NO_COLOR=1")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	out := stderr.String()
	if strings.Contains(out, "\x1b") {
		t.Fatalf("without a terminal the program drew escape sequences:\n%q", out)
	}
	for _, s := range []string{"▶ Check the host", "✓ Check the host", "  apache/fineract:1.10.1: 742 MiB",
		"  fineract ! liquibase: applying changeset 36 of 40", "Web app: https://bank-core-01/"} {
		if !strings.Contains(out, s) {
			t.Errorf("plain output lacks %q:\n%s", s, out)
		}
	}
	if !strings.Contains(stdout.String(), "outcome: installed") {
		t.Fatalf("stdout: %s", stdout.String())
	}
	// Production shows the key shares, which needs a person at a terminal.
	prod := exec.Command(bin, "-mode", "deploy", "-pace", "10ms")
	prodOut, err := prod.CombinedOutput()
	if err != nil || !strings.Contains(string(prodOut), "can only be shown to a person at a terminal") ||
		!strings.Contains(string(prodOut), "outcome: failed") {
		t.Fatalf("production without a terminal: %v\n%s", err, prodOut)
	}
	wiz := exec.Command(bin, "-mode", "wizard")
	wizOut, err := wiz.CombinedOutput()
	if err == nil || !strings.Contains(string(wizOut), "the wizard needs a terminal") {
		t.Fatalf("the wizard without a terminal: %v\n%s", err, wizOut)
	}
}
