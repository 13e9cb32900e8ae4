package labtest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Terminal is a program running in a real terminal: its own tmux server
// with a 120x40 window; keys go in with send-keys, screens come out with
// capture-pane.
type Terminal struct {
	t      testing.TB
	socket string
}

// StartTerminal runs command in a detached tmux session of the given size.
// Without tmux the test is skipped, except in CI, where it fails.
func StartTerminal(t testing.TB, command string, width, height int) *Terminal {
	t.Helper()
	if _, err := exec.LookPath("tmux"); err != nil {
		if Required() {
			t.Fatal("tmux is required for the real-terminal tests (apt-get install tmux)")
		}
		t.Skip("tmux not installed; apt-get install tmux to run the real-terminal tests")
	}
	term := &Terminal{t: t, socket: fmt.Sprintf("fi-test-%d-%d", os.Getpid(), time.Now().UnixNano())}
	term.tmux("new-session", "-d", "-s", "main", "-x", fmt.Sprint(width), "-y", fmt.Sprint(height), command+"; echo PROGRAM-EXITED; sleep 60")
	t.Cleanup(func() { KillTmux(term.socket) })
	return term
}

// KillTmux stops a test's tmux server and removes its socket file, which
// tmux leaves behind when its server is killed.
func KillTmux(socket string) {
	_ = exec.Command("tmux", "-L", socket, "kill-server").Run()
	dir := os.Getenv("TMUX_TMPDIR")
	if dir == "" {
		dir = "/tmp"
	}
	_ = os.Remove(filepath.Join(dir, fmt.Sprintf("tmux-%d", os.Getuid()), socket))
}

func (tm *Terminal) tmux(args ...string) string {
	tm.t.Helper()
	out, err := exec.Command("tmux", append([]string{"-L", tm.socket}, args...)...).CombinedOutput()
	if err != nil {
		tm.t.Fatalf("tmux %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// Keys sends tmux key names (Enter, Down, BTab, C-c).
func (tm *Terminal) Keys(names ...string) {
	tm.tmux(append([]string{"send-keys", "-t", "main"}, names...)...)
}

// Text types s literally.
func (tm *Terminal) Text(s string) { tm.tmux("send-keys", "-t", "main", "-l", "--", s) }

// Screen is what the terminal shows now.
func (tm *Terminal) Screen() string { return tm.tmux("capture-pane", "-p", "-t", "main") }

// Resize changes the window size, as a person dragging the window does.
func (tm *Terminal) Resize(width, height int) {
	tm.tmux("resize-window", "-t", "main", "-x", fmt.Sprint(width), "-y", fmt.Sprint(height))
}

// WaitFor polls the screen until it shows want, and returns that screen.
func (tm *Terminal) WaitFor(want string) string {
	tm.t.Helper()
	return tm.WaitForWithin(want, 15*time.Second)
}

// WaitForWithin is WaitFor for screens that take longer than a keystroke's
// answer to appear (an install step).
func (tm *Terminal) WaitForWithin(want string, d time.Duration) string {
	tm.t.Helper()
	deadline := time.Now().Add(d)
	var s string
	for time.Now().Before(deadline) {
		if s = tm.Screen(); strings.Contains(s, want) {
			return s
		}
		time.Sleep(50 * time.Millisecond)
	}
	tm.t.Fatalf("the screen never showed %q; it shows:\n%s", want, s)
	return ""
}

// WaitForWords is WaitFor for text the screen may wrap anywhere, as it
// wraps messages that hold paths: it compares Words, and returns the
// screen as shown.
func (tm *Terminal) WaitForWords(want string) string {
	tm.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	var s string
	for time.Now().Before(deadline) {
		if s = tm.Screen(); strings.Contains(Words(s), Words(want)) {
			return s
		}
		time.Sleep(50 * time.Millisecond)
	}
	tm.t.Fatalf("the screen never showed %q; it shows:\n%s", want, s)
	return ""
}

// Words is a screen's text with every run of spaces, indents and line
// breaks made one space, so wrapped text compares as written.
func Words(s string) string { return strings.Join(strings.Fields(s), " ") }

// Expect fails unless the screen holds every text.
func (tm *Terminal) Expect(screen string, texts ...string) {
	tm.t.Helper()
	for _, s := range texts {
		if !strings.Contains(screen, s) {
			tm.t.Errorf("the screen lacks %q:\n%s", s, screen)
		}
	}
}
