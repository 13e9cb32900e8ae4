package installdir

import (
	"os"
	"syscall"
	"testing"
)

func TestOnTmpfs(t *testing.T) {
	dir := t.TempDir()
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size=1m"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("mount tmpfs (the test command runs as root): %v", err)
		}
		t.Skipf("needs root: %v", err)
	}
	defer syscall.Unmount(dir, 0)
	if !onTmpfs(dir) || !onTmpfs(dir+"/a/b") {
		t.Error("a path under a tmpfs mount is not seen as tmpfs")
	}
	if onTmpfs("/proc/self") {
		t.Error("/proc seen as tmpfs")
	}
}
