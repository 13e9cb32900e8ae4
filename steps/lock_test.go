package steps

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fineract-installer/fineract-installer/steps/installation"
)

// The lock never writes into the install dir: it can be taken before the
// directory exists or is known to be an installation's, and it keeps
// holding while the directory itself is swapped aside (as restore does).
func TestLockLivesBesideTheInstallDir(t *testing.T) {
	parent := t.TempDir()
	dir := filepath.Join(parent, "stack")
	unlock, err := Lock(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("taking the lock created or touched the install dir: %v", err)
	}
	if err := os.Mkdir(dir, 0o750); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(dir, dir+".replaced"); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(dir, 0o750); err != nil {
		t.Fatal(err)
	}
	if _, err := Lock(dir); !errors.Is(err, ErrLocked) {
		t.Fatalf("after the directory was swapped aside, a second command got the lock: %v", err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 0 {
		t.Errorf("the lock wrote into the install dir: %v", entries)
	}
}

func TestLockRefusesALinkInPlaceOfItsFile(t *testing.T) {
	parent := t.TempDir()
	dir := filepath.Join(parent, "stack")
	target := filepath.Join(t.TempDir(), "precious")
	if err := os.WriteFile(target, []byte("keep me\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	path, err := installation.New(dir, "").LockFile()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, path); err != nil {
		t.Fatal(err)
	}
	if _, err := Lock(dir); err == nil {
		t.Fatal("the lock followed a link planted in place of its file")
	}
	if body, _ := os.ReadFile(target); string(body) != "keep me\n" {
		t.Errorf("the link's target was written: %q", body)
	}
}

// Held names the holder of a taken lock, and makes no lock file when
// there is none: a command refused for its input leaves nothing behind.
func TestHeldReportsAHolderWithoutMakingTheLockFile(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "stack")
	path, err := installation.New(dir, "").LockFile()
	if err != nil {
		t.Fatal(err)
	}
	if err := Held(dir); err != nil {
		t.Fatalf("no lock: %v", err)
	}
	if _, err := os.Lstat(path); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("Held made the lock file: %v", err)
	}
	unlock, err := Lock(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := Held(dir); !errors.Is(err, ErrLocked) || !strings.Contains(err.Error(), fmt.Sprintf("pid %d", os.Getpid())) {
		t.Errorf("held lock: %v", err)
	}
	unlock()
	if err := Held(dir); err != nil {
		t.Errorf("released lock: %v", err)
	}
}
