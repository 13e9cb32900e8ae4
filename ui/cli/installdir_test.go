package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A directory holding someone else's files is refused before anything is
// written into it: no lock, no state, no marker, no answers.
func TestInstallLeavesAForeignDirectoryUntouched(t *testing.T) {
	t.Setenv(passphraseEnv, "a long enough classroom passphrase")
	dir := t.TempDir()
	precious := filepath.Join(dir, "thesis.tex")
	if err := os.WriteFile(precious, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	r := run(t, "", "install", "--demo", "--yes", "--dir", dir, "--project", "foreign-dir-test", "--no-color")
	if r.code != ExitUsage || !strings.Contains(r.err, "not an installation directory") {
		t.Fatalf("exit %d stderr %q, want exit %d naming the directory", r.code, r.err, ExitUsage)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || entries[0].Name() != "thesis.tex" {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("the refused directory now holds %v", names)
	}
}
