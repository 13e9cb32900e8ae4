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

	"github.com/fineract-installer/fineract-installer/lab/labtest"
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

func TestTmuxWizardDemoProfileToInstalled(t *testing.T) {
	bin := demoBinary(t)
	path := filepath.Join(t.TempDir(), "answers.yaml")
	term := labtest.StartTerminal(t, fmt.Sprintf("%s -answers %s -pace 100ms", bin, path), 120, 40)

	s := term.WaitFor("What will happen")
	term.Expect(s, "step 1 of 9", "Docker Engine 20.10 or newer", "enter continue")
	if lines := strings.Split(strings.TrimRight(s, "\n"), "\n"); len(lines) > 40 {
		t.Fatalf("the screen has %d lines in a 40-line terminal", len(lines))
	}
	term.Keys("Enter")
	s = term.WaitFor("7 pass, 0 warning, 0 failing")
	term.Expect(s, "✓ Docker engine", "r re-check")
	term.Keys("Enter")
	term.WaitFor("Which profile?")
	term.Keys("Down")
	term.WaitFor("demo defaults")
	term.Keys("Enter")
	s = term.WaitFor("Host name")
	term.Expect(s, "> bank-core-01", "Vault key sharing and the service groups now use the demo defaults")
	term.Keys("Enter")
	term.WaitFor("┃ IP addresses")
	term.Keys("Enter")
	s = term.WaitFor("Key shares")
	term.Expect(s, "> 1", "file   kept on this host", "One share unlocks Vault on its own")
	term.Keys("Enter")
	term.WaitFor("┃ Shares needed")
	term.Keys("Enter")
	term.WaitFor("┃ Key custody")
	term.Keys("Enter")
	term.WaitFor("Custody file passphrase")
	term.Text("classroom")
	term.WaitFor("needs at least 12 characters (it has 9)")
	term.Text("-2025")
	term.Keys("Enter")
	term.WaitFor("┃ Repeat the passphrase")
	term.Text("classroom-2025")
	term.Keys("Enter")
	term.WaitFor("Where do the certificates come from?")
	term.Keys("Enter")
	s = term.WaitFor("monitoring >")
	term.Expect(s, "✓ data        internal, no way out")
	term.Keys("Tab")
	term.WaitFor("┃ app")
	term.Keys("C-u")
	term.Text("10.231.10.0/24")
	term.WaitFor("overlaps network.dmz.subnet 10.231.10.0/24")
	term.Keys("C-u")
	term.Text("10.231.20.0/24")
	term.WaitFor("✓ app")
	term.Keys("Enter", "Enter", "Enter")
	s = term.WaitFor("Optional service groups")
	term.Expect(s, "✓ monitoring", "core (added automatically)", "this host has 15.5 GiB")
	term.Keys("Enter")
	term.WaitFor("Review")
	// The host checks run after the review appears: wait for their result.
	s = term.WaitFor("7 pass, 0 warning, 0 failing")
	term.Expect(s, "demo: for classrooms", "1 share, 1 needed; custody: file", "core, monitoring", "The answers are valid.",
		path+" (not saved yet)")
	term.Keys("Enter")
	s = term.WaitFor("Where to log in")
	term.Expect(s, "✓ Installed: 6 of 6 steps", "https://bank-core-01/", "Validation checklist: 2 pass, 1 warning",
		"! A backup exists", "fix: run fineract-installer backup")
	term.Keys("q")
	s = term.WaitFor("PROGRAM-EXITED")
	term.Expect(s, "saved: "+path, "start: true", "outcome: installed")
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
	term := labtest.StartTerminal(t, bin+" -mode deploy -ceremony -fail-once -pace 100ms", 120, 40)

	s := term.WaitFor("shown ONCE")
	shares := regexp.MustCompile(`Share (\d)\s+(\S+)`).FindAllStringSubmatch(s, -1)
	if len(shares) != 5 {
		t.Fatalf("want 5 shares on screen, found %d:\n%s", len(shares), s)
	}
	term.Expect(s, "5 shares, 3 needed", "enter I have recorded them")
	term.Keys("Enter")
	term.WaitFor("Have you recorded all 5 shares?")
	term.Keys("y")
	s = term.WaitFor("exactly as you recorded it")
	if strings.Contains(s, shares[0][2]) {
		t.Fatal("the shares are still on screen after they were confirmed")
	}
	n := regexp.MustCompile(`share #(\d)`).FindStringSubmatch(s)[1]
	term.Text("wrong")
	term.Keys("Enter")
	term.WaitFor("Attempt 2 of 3")
	for _, sh := range shares {
		if sh[1] == n {
			term.Text(sh[2])
		}
	}
	term.Keys("Enter")
	s = term.WaitFor("Cause  service fineract did not become healthy")
	term.Expect(s, "✗ Failed: Start the services", "Last lines from fineract", "connection to postgres:5432 refused",
		"r retry", "b support bundle", "q quit, resume later")
	term.Keys("l")
	s = term.WaitFor("Logs ‹ fineract ›")
	term.Expect(s, "liquibase: applying changeset 40 of 40", "! liquibase: applying changeset 36 of 40")
	term.Keys("Escape")
	term.WaitFor("Cause  service fineract")
	term.Keys("b")
	term.WaitFor("Support bundle written to /tmp/fineract-support-demo.tar.gz")
	term.Keys("r")
	s = term.WaitFor("Where to log in")
	term.Expect(s, "5 already done")
	term.Keys("q")
	s = term.WaitFor("PROGRAM-EXITED")
	term.Expect(s, "outcome: installed", "bundle: /tmp/fineract-support-demo.tar.gz")
}

func TestTmuxStopAsksAndResizes(t *testing.T) {
	bin := demoBinary(t)
	term := labtest.StartTerminal(t, bin+" -mode deploy -pace 2s", 120, 40)
	s := term.WaitFor("Make the container images available")
	term.Expect(s, "Overall", "q stop")
	term.Resize(80, 24)
	s = term.WaitFor("q stop")
	for i, l := range strings.Split(strings.TrimRight(s, "\n"), "\n") {
		if w := cellWidth(l); w > 80 {
			t.Fatalf("after resizing to 80×24, line %d is %d cells: %q", i+1, w, l)
		}
	}
	term.Keys("q")
	term.WaitFor("Stop the install?")
	term.Keys("n")
	term.WaitFor("q stop")
	term.Keys("C-c")
	term.WaitFor("Stop the install?")
	term.Keys("y")
	s = term.WaitFor("PROGRAM-EXITED")
	term.Expect(s, "outcome: interrupted")
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
