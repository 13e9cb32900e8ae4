package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/fineract-installer/fineract-installer/steps"
	"github.com/fineract-installer/fineract-installer/steps/answers"
	"github.com/fineract-installer/fineract-installer/steps/installdir"
)

// dayTwoInstallation makes an install dir with the answers given, as an
// installation leaves it, without a stack.
func dayTwoInstallation(t *testing.T, edit func(*answers.Answers)) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "stack")
	if err := installdir.Mark(dir); err != nil {
		t.Fatal(err)
	}
	a := answers.Defaults(answers.Demo)
	a.InstallDir = dir
	if edit != nil {
		edit(&a)
	}
	data, err := yaml.Marshal(a)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "answers.yaml"), data, 0o600); err != nil {
		t.Fatal(err)
	}
	return dir
}

func dirListing(t *testing.T, dir string) []string {
	t.Helper()
	var names []string
	err := filepath.WalkDir(dir, func(p string, _ os.DirEntry, err error) error {
		names = append(names, p)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return names
}

// Every day-2 command takes the installation's lock before it reads
// anything of the installation, as install does: while another command
// (a restore swapping the directory, say) holds it, each is refused with
// exit 1 naming the holder, whatever else is wrong with its input (no
// unseal passphrase, no such service, no consent, no backup file), and
// nothing is written.
func TestDay2CommandsWaitForTheLock(t *testing.T) {
	t.Setenv(passphraseEnv, "")
	t.Setenv(backupPassphraseEnv, "a backup passphrase of the test")
	dir := dayTwoInstallation(t, nil)
	unlock, err := steps.Lock(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	before := dirListing(t, dir)
	for _, args := range [][]string{
		{"backup"},
		{"restore", filepath.Join(t.TempDir(), "backup.fib"), "--yes"},
		{"unseal"},
		{"certs", "rotate", "no-such-service", "--yes"},
		{"uninstall"},
	} {
		r := run(t, "", append(args, "--dir", dir, "--project", "daytwolock")...)
		if r.code != ExitFailed || !strings.Contains(r.err, "in use") || !strings.Contains(r.err, "pid") {
			t.Errorf("%v while the installation is locked: exit %d %q, want exit 1 naming the holder", args, r.code, r.err)
		}
		if r.out != "" {
			t.Errorf("%v while the installation is locked wrote: %s", args, r.out)
		}
	}
	if after := dirListing(t, dir); !slices.Equal(after, before) {
		t.Errorf("refused commands changed the install dir:\n%v\nwas\n%v", after, before)
	}
}

// `certs rotate -o json` writes step events alone, each inside its step:
// the note that an imported certificate is kept is the rotate step's
// warning, so a rotation refused before any step runs (here for want of
// the unseal passphrase) prints no event at all.
func TestRefusedRotationPrintsNoStrayEvents(t *testing.T) {
	t.Setenv(passphraseEnv, "")
	files := writeImportFiles(t, filepath.Join(t.TempDir(), "bank"), "fineract.local")
	dir := dayTwoInstallation(t, func(a *answers.Answers) {
		a.Certificates = answers.Certificates{Source: answers.CertImport, GatewayChain: files.gwChain, GatewayKey: files.gwKey}
	})
	r := run(t, "", "certs", "rotate", "--yes", "-o", "json", "--dir", dir, "--project", "daytworotate")
	if r.code != ExitUsage || !strings.Contains(r.err, passphraseEnv) {
		t.Fatalf("rotating with no way to unseal Vault: exit %d %q, want exit 2 naming %s", r.code, r.err, passphraseEnv)
	}
	started := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSpace(r.out), "\n") {
		if line == "" {
			continue
		}
		var ev struct {
			Type string     `json:"type"`
			Kind steps.Kind `json:"kind"`
			Step string     `json:"step"`
		}
		if err := json.Unmarshal([]byte(line), &ev); err != nil || ev.Type != "event" {
			t.Errorf("not a step event: %q (%v)", line, err)
			continue
		}
		if ev.Kind == steps.KindStarted {
			started[ev.Step] = true
		} else if !started[ev.Step] {
			t.Errorf("event outside its step (%s never started): %s", ev.Step, line)
		}
	}
}
