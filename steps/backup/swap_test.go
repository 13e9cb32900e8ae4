package backup

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/fineract-installer/fineract-installer/steps/audit"
	"github.com/fineract-installer/fineract-installer/steps/installation"
)

// Restoring over an installation keeps its audit log, not the archive's
// older copy: the entries written since the backup stay in the live log,
// and so do the backups.
func TestSwapInstallDirKeepsTheAuditLogAndBackups(t *testing.T) {
	base := t.TempDir()
	dir, staged := filepath.Join(base, "stack"), filepath.Join(base, "staged")
	current, restored := installation.New(dir, ""), installation.New(staged, "")
	for _, d := range []string{current.BackupsDir(), staged} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	write := func(p, s string) {
		if err := os.WriteFile(p, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(current.AuditLogFile(), "entry 1\nentry 2 (after the backup)\n")
	write(restored.AuditLogFile(), "entry 1\n")
	write(filepath.Join(current.BackupsDir(), "b.fib"), "archive")
	write(restored.AnswersFile(), "restored answers")
	if err := swapInstallDir(dir, staged); err != nil {
		t.Fatal(err)
	}
	for p, want := range map[string]string{
		current.AuditLogFile():                       "entry 1\nentry 2 (after the backup)\n",
		current.AnswersFile():                        "restored answers",
		filepath.Join(current.BackupsDir(), "b.fib"): "archive",
	} {
		if got, err := os.ReadFile(p); err != nil || string(got) != want {
			t.Errorf("%s: %q %v, want %q", p, got, err, want)
		}
	}
}

// A restore onto a fresh host takes the archived audit log: Vault's
// storage comes back with the heads of its entries, and without the log
// they would name every one of them missing. It may be as large as the
// audit log may grow, not just as large as a certificate.
func TestRestoreTakesTheArchivedAuditLog(t *testing.T) {
	mode, limit, ok := restoredMode(".", filepath.Base(inInstallDir.AuditLogFile()))
	if !ok || mode != 0o600 || limit != audit.MaxLogSize {
		t.Errorf("audit log: taken %t, mode %v, limit %d; want taken, 0600, %d", ok, mode, limit, audit.MaxLogSize)
	}
	if _, limit, ok := restoredMode(".", filepath.Base(inInstallDir.ImageRecordFile())); !ok || limit != maxRestoredFile {
		t.Errorf("image record: taken %t, limit %d", ok, limit)
	}
	if _, _, ok := restoredMode(".", "audit.jsonl.tmp"); ok {
		t.Error("a file beside the audit log is taken")
	}
}
