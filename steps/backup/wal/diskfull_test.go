package wal

import (
	"bytes"
	"context"
	"errors"
	"os"
	"testing"

	"golang.org/x/sys/unix"
)

// A full repository fails the push with the cause and leaves nothing under
// the segment's name; once space is freed the same push succeeds, so
// PostgreSQL, which keeps the segment and retries, loses nothing.
func TestPushToAFullRepository(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("mounting a small tmpfs needs root")
	}
	dir := t.TempDir()
	if err := unix.Mount("tmpfs", dir, "tmpfs", 0, "size=1m,mode=0700"); err != nil {
		t.Fatalf("mount a 1 MiB tmpfs: %v", err)
	}
	t.Cleanup(func() { _ = unix.Unmount(dir, 0) })
	repo, err := os.OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer repo.Close()
	filler := dir + "/filler"
	if err := os.WriteFile(filler, make([]byte, 900<<10), 0o600); err != nil {
		t.Fatal(err)
	}
	name := "000000010000000000000007"
	data := payload(600<<10, 7)
	err = Push(context.Background(), repo, testKey, bytes.NewReader(data), name, fixedTime)
	if !errors.Is(err, unix.ENOSPC) {
		t.Fatalf("push into a full repository: %v, want no space left", err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Fatalf("a failed push left %d entries besides the filler", len(entries)-1)
	}
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	push(t, repo, name, data)
	got, _, err := fetch(repo, testKey, name)
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("after freeing space: %v", err)
	}
}
