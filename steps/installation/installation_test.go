package installation

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/fineract-installer/fineract-installer/steps/installdir"
)

func TestNames(t *testing.T) {
	in := New("/srv/stack", "bank")
	for got, want := range map[string]string{
		in.AnswersFile():                                "/srv/stack/answers.yaml",
		in.StateFile():                                  "/srv/stack/state.json",
		in.AuditLogFile():                               "/srv/stack/audit.jsonl",
		in.ComposeFile():                                "/srv/stack/compose.yaml",
		in.ImageRecordFile():                            "/srv/stack/images.json",
		in.FrontDoorFile():                              "/srv/stack/frontdoor.json",
		in.PKIDir():                                     "/srv/stack/pki",
		in.BackupsDir():                                 "/srv/stack/backups",
		in.VaultDir():                                   "/srv/stack/vault",
		in.VaultRecordFile():                            "/srv/stack/vault/record.json",
		in.CustodyFile():                                "/srv/stack/vault/unseal-keys.enc",
		in.EncryptedSharesFile():                        "/srv/stack/vault/encrypted-shares.txt",
		in.LegacyLockFile():                             "/srv/stack/.lock",
		in.HandoutFile(InitialCredentials, false):       "/srv/stack/initial-credentials.txt",
		in.HandoutFile(InitialCredentials, true):        "/srv/stack/initial-credentials.asc",
		in.HandoutFile(TenantCredentials, false):        "/srv/stack/tenant-credentials.txt",
		in.HandoutFile(TenantCredentials, true):         "/srv/stack/tenant-credentials.asc",
		in.SecretsDir():                                 "/run/fineract-stack/bank/secrets",
		in.Container("vault"):                           "bank-vault-1",
		in.Volume("postgres-data"):                      "bank_postgres-data",
		Relative().CustodyFile():                        "vault/unseal-keys.enc",
		strings.Join(NetworkRoles(), " "):               "dmz app data monitoring",
		mustLock(t, New("/srv/stack", "")):              "/srv/.stack.lock",
		mustLock(t, New("/srv/stack/", "")):             "/srv/.stack.lock",
		mustLock(t, New("/srv/stack/../stack", "bank")): "/srv/.stack.lock",
	} {
		if got != want {
			t.Errorf("got %q, want %q", got, want)
		}
	}
	if _, err := New("/", "").LockFile(); err == nil {
		t.Error("the filesystem root got a lock file")
	}
}

func mustLock(t *testing.T, in *Installation) string {
	t.Helper()
	p, err := in.LockFile()
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// installed makes a marked install dir whose state file holds state.
func installed(t *testing.T, state string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "stack")
	if err := installdir.Mark(dir); err != nil {
		t.Fatal(err)
	}
	if state != "" {
		if err := os.WriteFile(New(dir, "").StateFile(), []byte(state), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestOpenFindsTheRecordedProject(t *testing.T) {
	for _, c := range []struct {
		name, state, project string
	}{
		{"nothing recorded yet", "", ""},
		{"recorded", `{"version":1,"project":"bank","steps":{}}`, "bank"},
		{"a state without a project", `{"version":1,"steps":{}}`, ""},
	} {
		dir := installed(t, c.state)
		in, err := Open(dir)
		if err != nil || in.Dir != dir || in.Project != c.project {
			t.Errorf("%s: %+v, %v; want project %q", c.name, in, err, c.project)
		}
	}
	missing := filepath.Join(t.TempDir(), "none")
	if in, err := Open(missing); err != nil || in.Project != "" {
		t.Errorf("a dir not made yet: %+v, %v", in, err)
	}
}

// A state file is read from a directory that may have been tampered with:
// what it records is checked like --project, and its size is bounded.
func TestOpenRefusesWhatIsNotAnInstallation(t *testing.T) {
	other := t.TempDir()
	if err := os.WriteFile(filepath.Join(other, "notes.txt"), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(other); !errors.Is(err, installdir.ErrNotInstallDir) {
		t.Errorf("someone else's directory: %v", err)
	}
	for name, state := range map[string]string{
		"a project that is not a name": `{"project":"../../etc"}`,
		"upper case":                   `{"project":"Bank"}`,
		"not JSON":                     `{"project":`,
		"too large":                    `{"project":"bank","pad":"` + strings.Repeat("x", maxStateSize) + `"}`,
	} {
		if in, err := Open(installed(t, state)); err == nil {
			t.Errorf("%s: opened as %+v", name, in)
		}
	}
	// A link or a FIFO in the state file's place is not read: the first
	// could point anywhere, the second would block the command forever.
	elsewhere := filepath.Join(t.TempDir(), "state.json")
	if err := os.WriteFile(elsewhere, []byte(`{"project":"elsewhere"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	linked := installed(t, "")
	if err := os.Symlink(elsewhere, New(linked, "").StateFile()); err != nil {
		t.Fatal(err)
	}
	if in, err := Open(linked); err == nil {
		t.Errorf("a link in place of the state file: opened as %+v", in)
	}
	fifo := installed(t, "")
	if err := syscall.Mkfifo(New(fifo, "").StateFile(), 0o600); err != nil {
		t.Fatal(err)
	}
	if in, err := Open(fifo); err == nil {
		t.Errorf("a FIFO in place of the state file: opened as %+v", in)
	}
}
