package cli

import (
	"strings"
	"testing"

	"github.com/fineract-installer/fineract-installer/steps"
	"github.com/fineract-installer/fineract-installer/steps/answers"
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
