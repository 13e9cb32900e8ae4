package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fineract-installer/fineract-installer/steps/answers"
)

// Bad input to backup offsite is refused before anything is reached, with
// exit 2 and what to do.
func TestBackupOffsiteRefusesBadInput(t *testing.T) {
	dir, _, _, _, _ := scheduleHost(t, answers.Demo, false)
	keys := t.TempDir()
	access, secret, open := filepath.Join(keys, "access"), filepath.Join(keys, "secret"), filepath.Join(keys, "open")
	for path, body := range map[string]string{access: "AKIAEXAMPLE\n", secret: "two words\n", open: "AKIAEXAMPLE\n"} {
		if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chmod(open, 0o644); err != nil {
		t.Fatal(err)
	}
	base := []string{"backup", "offsite", "set-credentials", "--dir", dir, "--project", "bank"}
	cases := []struct {
		args []string
		msg  string
	}{
		{base, "--access-key-file is required"},
		{append(base, "--access-key-file", access), "--secret-key-file is required"},
		{append(base, "--access-key-file", open, "--secret-key-file", access), "chmod 600"},
		{append(base, "--access-key-file", access, "--secret-key-file", secret), "must hold the key alone, on one line"},
		{[]string{"backup", "offsite", "copy", "--dir", dir, "--project", "bank"}, "no off-host copy is configured"},
	}
	for _, c := range cases {
		r := run(t, "", c.args...)
		if r.code != ExitUsage || !strings.Contains(r.err, c.msg) {
			t.Errorf("%v: exit %d, stderr %q; want %d saying %q", c.args[2:], r.code, r.err, ExitUsage, c.msg)
		}
	}
}
