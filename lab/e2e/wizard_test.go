package e2e

import (
	"fmt"
	"os"
	"path/filepath"
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
