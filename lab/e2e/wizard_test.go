package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fineract-installer/fineract-installer/lab/labtest"
)

// The real binary in a real terminal: the bare command starts the wizard,
// which checks this host against the real engine, and is walked with the
// demo profile up to the review screen. Nothing is installed or written.
func TestRealBinaryWizardToReview(t *testing.T) {
	labtest.Engine(t)
	bin := binary(t)
	dir := filepath.Join(t.TempDir(), "stack")
	work := t.TempDir()
	term := labtest.StartTerminal(t, fmt.Sprintf("cd %s && %s --dir %s --project fit-wizard", work, bin, dir), 120, 40)

	s := term.WaitFor("What will happen")
	term.Expect(s, "step 1 of 9", "Docker Engine 20.10 or newer")
	term.Keys("Enter")
	term.WaitFor("Preflight")
	s = term.WaitFor("✓ Docker engine")
	term.Expect(s, "Docker 20.10", "r re-check")
	term.Keys("Enter")
	term.WaitFor("Which profile?")
	term.Keys("Down")
	term.WaitFor("demo defaults")
	term.Keys("Enter")
	term.WaitFor("Host name")
	term.Keys("Enter")
	term.WaitFor("┃ IP addresses")
	term.Keys("Enter")
	term.WaitFor("Key shares")
	term.Keys("Enter")
	term.WaitFor("┃ Shares needed")
	term.Keys("Enter")
	term.WaitFor("┃ Key custody")
	term.Keys("Enter")
	term.WaitFor("Custody file passphrase")
	term.Text("classroom-passphrase")
	term.Keys("Enter")
	term.WaitFor("┃ Repeat the passphrase")
	term.Text("classroom-passphrase")
	term.Keys("Enter")
	term.WaitFor("Where do the certificates come from?")
	term.Keys("Enter")
	s = term.WaitFor("monitoring")
	term.Expect(s, "internal, no way out")
	term.Keys("Enter", "Enter", "Enter", "Enter")
	s = term.WaitFor("Optional service groups")
	term.Expect(s, "core (added automatically)")
	term.Keys("Enter")
	s = term.WaitFor("Review")
	term.Expect(s, "demo: for classrooms", "1 share, 1 needed; custody: file", "The answers are valid.")
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("the wizard wrote the install dir before the install was started: %v", err)
	}
}

// Ctrl-C at a line prompt of the accessible wizard leaves it: exit 130,
// saying that nothing has been changed, and nothing is. huh's line prompts
// read lines and take no context, so before, a ^C was echoed and the
// prompt went on waiting; Enter then carried the wizard on. It is tried at
// a numbered prompt and at the passphrase prompt, which reads with the
// terminal's echo off: the typed characters never show, and echo is back
// on once the program has left.
func TestAccessibleWizardLeavesOnCtrlC(t *testing.T) {
	labtest.Engine(t)
	bin := binary(t)
	for _, at := range []string{"numbered prompt", "passphrase prompt"} {
		t.Run(at, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "stack")
			work := t.TempDir()
			term := labtest.StartTerminal(t, fmt.Sprintf("cd %s && %s --accessible --dir %s --project fit-accessible; echo EXIT=$?; stty -a | tr ' ;' '\\n\\n' | grep -x -e echo -e -echo", work, bin, dir), 120, 40)
			term.WaitFor("Run the checks again?")
			term.Text("n")
			term.Keys("Enter")
			term.WaitFor("Which profile?")
			term.WaitFor("Enter a number between 1 and 2")
			if at == "passphrase prompt" {
				term.Text("2")
				term.Keys("Enter")
				term.WaitFor("Host name")
				term.Keys("Enter")
				term.WaitFor("IP addresses")
				term.Keys("Enter")
				term.WaitFor("Key shares")
				term.Keys("Enter")
				term.WaitFor("Shares needed")
				term.Keys("Enter")
				term.WaitFor("Key custody")
				term.Keys("Enter")
				term.WaitFor("Custody file passphrase")
				term.Text("typed-but-never-shown")
			}
			term.Keys("C-c")
			s := term.WaitFor("EXIT=")
			term.Expect(s, "Quit the wizard. Nothing has been changed on this host.", "EXIT=130")
			if strings.Contains(s, "typed-but-never-shown") {
				t.Errorf("the passphrase was echoed:\n%s", s)
			}
			if !strings.Contains(term.WaitFor("echo"), "\necho") {
				t.Errorf("the terminal's echo is still off after the wizard left:\n%s", term.Screen())
			}
			if entries, _ := os.ReadDir(work); len(entries) > 0 {
				t.Errorf("the wizard wrote %d files in its working directory", len(entries))
			}
			if _, err := os.Stat(dir); !os.IsNotExist(err) {
				t.Errorf("the wizard made the install dir: %v", err)
			}
		})
	}
}
