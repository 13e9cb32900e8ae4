package installdir

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestRemoveRefusesUnmarkedDirectories(t *testing.T) {
	dir := t.TempDir()
	keep := filepath.Join(dir, "precious.txt")
	if err := os.WriteFile(keep, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := Remove(dir); !errors.Is(err, ErrNotInstallDir) {
		t.Fatalf("want ErrNotInstallDir, got %v", err)
	}
	if _, err := os.Stat(keep); err != nil {
		t.Fatalf("unmarked directory was touched: %v", err)
	}
}

func TestRemoveDeletesMarkedDirectory(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "stack")
	if err := Mark(dir); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "state.json"), []byte("{}"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := Remove(dir); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("marked directory still there: %v", err)
	}
	if err := Remove(dir); err != nil {
		t.Fatalf("removing a directory that is already gone: %v", err)
	}
}
