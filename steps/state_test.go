package steps

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/fineract-installer/fineract-installer/steps/installation"
)

// A state save on a full filesystem fails with a clear error and leaves the
// previous state file whole.
func TestStateSaveOnFullDiskKeepsPreviousState(t *testing.T) {
	dir := t.TempDir()
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size=64k"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("mount a tiny tmpfs (the test command runs as root): %v", err)
		}
		t.Skipf("mounting a tmpfs needs root: %v", err)
	}
	t.Cleanup(func() { _ = syscall.Unmount(dir, 0) })

	st := &State{Version: 1, Project: "p", Steps: map[string]*StepState{"a": {Status: StatusDone}}, Order: []string{"a"}}
	if err := st.Save(dir); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(installation.New(dir, "").StateFile())

	// Fill the filesystem.
	if out, err := exec.Command("dd", "if=/dev/zero", "of="+filepath.Join(dir, "filler"), "bs=4k").CombinedOutput(); err == nil {
		t.Fatalf("dd did not fill the tmpfs: %s", out)
	}
	st.Steps["b"] = &StepState{Status: StatusDone, Error: strings.Repeat("x", 8192)}
	st.Order = append(st.Order, "b")
	err := st.Save(dir)
	if err == nil || !strings.Contains(err.Error(), "no space left on device") {
		t.Fatalf("want a no-space error, got %v", err)
	}
	after, _ := os.ReadFile(installation.New(dir, "").StateFile())
	if !bytes.Equal(before, after) {
		t.Fatalf("state file changed by a failed save:\n%s\n---\n%s", before, after)
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.Contains(e.Name(), ".tmp-") {
			t.Errorf("temp file left behind: %s", e.Name())
		}
	}
}
