package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fineract-installer/fineract-installer/steps"
	"github.com/fineract-installer/fineract-installer/steps/answers"
	"github.com/fineract-installer/fineract-installer/steps/installation"
	"github.com/fineract-installer/fineract-installer/steps/installdir"
)

// A day-2 command finds the project the installation was made with, not
// the --project default: `backup schedule` without --project on an
// installation of project bank schedules bank's backup, and a --project
// naming another project is refused before anything is written.
func TestDay2CommandsUseTheRecordedProject(t *testing.T) {
	dir, pass, unseal, root, calls := scheduleHost(t, answers.Demo, true)
	if err := (&steps.State{Version: 1, Project: "bank"}).Save(dir); err != nil {
		t.Fatal(err)
	}
	args := []string{"backup", "schedule", "--dir", dir, "--passphrase-file", pass, "--unseal-passphrase-file", unseal, "--at", "01:15"}

	r := run(t, "", args...)
	if r.code != 0 || !strings.Contains(r.out, "fineract-backup-bank.timer") || strings.Contains(r.out, "fineract-backup-fineract") {
		t.Fatalf("without --project: exit %d\n%s%s", r.code, r.out, r.err)
	}

	r = run(t, "", append(args, "--project", "other", "--install", "--yes")...)
	if r.code != ExitUsage || !strings.Contains(r.err, "is project bank") {
		t.Fatalf("--project naming another project: exit %d\n%s%s", r.code, r.out, r.err)
	}
	if r = run(t, "", append(args, "--project", "bank")...); r.code != 0 {
		t.Fatalf("--project naming the recorded project: exit %d\n%s%s", r.code, r.out, r.err)
	}
	if len(*calls) != 0 {
		t.Fatalf("systemctl ran: %v (files under %s)", *calls, root)
	}
}

// `uninstall --purge --project X` with --dir left at an installation of
// another project removed X's containers and volumes and then deleted
// that other installation's directory. It is refused before anything is
// removed.
func TestPurgeRefusesAnotherProjectsInstallDir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "stack")
	if err := installdir.Mark(dir); err != nil {
		t.Fatal(err)
	}
	if err := (&steps.State{Version: 1, Project: "fit-handle-bank"}).Save(dir); err != nil {
		t.Fatal(err)
	}
	r := run(t, "", "uninstall", "--purge", "--yes", "--dir", dir, "--project", "fit-handle-other")
	if r.code != ExitUsage || !strings.Contains(r.err, "is project fit-handle-bank") {
		t.Errorf("exit %d\n%s%s", r.code, r.out, r.err)
	}
	if _, err := os.Stat(installation.New(dir, "").StateFile()); err != nil {
		t.Fatalf("the other project's install dir was touched: %v", err)
	}
}
