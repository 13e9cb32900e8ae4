package backup

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// A killed base backup leaves only hidden temporaries; the next run removes
// them and nothing else, never through a link.
func TestRemoveStaleTemporariesRemovesOnlyWhatAKilledRunLeft(t *testing.T) {
	dir := t.TempDir()
	outside := filepath.Join(t.TempDir(), "victim")
	for name, data := range map[string]string{
		".20261204T031500Z.spool.tmp":    "spool",
		".20261204T031500Z.fibackup.tmp": "partial",
		"20261203T031500Z.fibackup":      "whole",
		"notes.tmp":                      "someone's",
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(outside, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(dir, ".link.tmp")); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, ".dir.tmp"), 0o700); err != nil {
		t.Fatal(err)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	if err := removeStaleTemporaries(root, &infoRecorder{}); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(dir)
	var left []string
	for _, e := range entries {
		left = append(left, e.Name())
	}
	if want := []string{".dir.tmp", ".link.tmp", "20261203T031500Z.fibackup", "notes.tmp"}; !slices.Equal(left, want) {
		t.Errorf("left %v; want %v", left, want)
	}
	if _, err := os.Stat(outside); err != nil {
		t.Errorf("the link's target went: %v", err)
	}
}
