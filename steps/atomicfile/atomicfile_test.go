package atomicfile

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// entries lists dir's names, failing the test on error.
func entries(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range es {
		names = append(names, e.Name())
	}
	return names
}

func noTemps(t *testing.T, dir string) {
	t.Helper()
	for _, n := range entries(t, dir) {
		if isTemp(n) {
			t.Errorf("temporary file left behind: %s", n)
		}
	}
}

func TestWriteFileReplacesContentAndSetsMode(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "k.key")
	if err := os.WriteFile(path, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	// A umask that would strip the group bit must not change the mode asked for.
	old := syscall.Umask(0o077)
	defer syscall.Umask(old)
	if err := WriteFile(path, []byte("new"), 0o640); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(path)
	fi, _ := os.Stat(path)
	if string(data) != "new" || fi.Mode().Perm() != 0o640 {
		t.Errorf("content %q mode %v, want new content with 0640", data, fi.Mode().Perm())
	}
	noTemps(t, dir)
}

// A replacement that fails at the rename leaves the old target and no
// temporary file.
func TestFailedRenameLeavesNothing(t *testing.T) {
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "x.crt"), 0o700); err != nil { // rename over a directory fails
		t.Fatal(err)
	}
	err := WriteFile(filepath.Join(dir, "x.crt"), []byte("data"), 0o644)
	if err == nil || !strings.Contains(err.Error(), "replace x.crt") {
		t.Fatalf("got %v, want a replace error", err)
	}
	if got := entries(t, dir); len(got) != 1 {
		t.Errorf("left %v, want only the directory that blocked the rename", got)
	}
}

// A write that runs out of space fails with the cause and leaves the old
// file whole.
func TestFullDiskKeepsOldContent(t *testing.T) {
	dir := t.TempDir()
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size=64k"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("mount a tiny tmpfs (the test command runs as root): %v", err)
		}
		t.Skipf("mounting a tmpfs needs root: %v", err)
	}
	t.Cleanup(func() { _ = syscall.Unmount(dir, 0) })
	path := filepath.Join(dir, "state.json")
	if err := WriteFile(path, []byte("old state"), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("dd", "if=/dev/zero", "of="+filepath.Join(dir, "filler"), "bs=4k").CombinedOutput(); err == nil {
		t.Fatalf("dd did not fill the tmpfs: %s", out)
	}
	err := WriteFile(path, bytes.Repeat([]byte("x"), 16<<10), 0o600)
	if !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("want a no-space error, got %v", err)
	}
	if data, _ := os.ReadFile(path); string(data) != "old state" {
		t.Errorf("old content changed to %q", data)
	}
	noTemps(t, dir)
}

// A File that is never committed leaves the target as it was.
func TestCleanupWithoutCommitKeepsOldContent(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "backup.fib")
	if err := os.WriteFile(path, []byte("old"), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := Create(path, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write([]byte("half of a new")); err != nil {
		t.Fatal(err)
	}
	f.Cleanup()
	f.Cleanup() // twice is harmless
	if data, _ := os.ReadFile(path); string(data) != "old" {
		t.Errorf("content %q, want the old one", data)
	}
	if got := entries(t, dir); len(got) != 1 {
		t.Errorf("left %v, want only the target", got)
	}
	if err := f.Commit(); err == nil {
		t.Error("Commit after Cleanup succeeded")
	}
}

// What a writer streamed can be read back before it is committed: an
// images bundle checks the tarball it saved before putting it in place.
func TestStreamIsReadableBeforeCommit(t *testing.T) {
	path := filepath.Join(t.TempDir(), "stack-images.tar")
	f, err := Create(path, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Cleanup()
	if _, err := f.Write([]byte("saved images")); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	back, err := io.ReadAll(f)
	if err != nil || string(back) != "saved images" {
		t.Fatalf("read back %q, %v", back, err)
	}
	if err := f.Commit(); err != nil {
		t.Fatal(err)
	}
	if data, _ := os.ReadFile(path); string(data) != "saved images" {
		t.Errorf("committed %q", data)
	}
}

// A link someone left at the target's name is replaced by a regular file;
// the file it pointed at is not written.
func TestLinkAtTargetIsReplacedNotFollowed(t *testing.T) {
	dir, elsewhere := t.TempDir(), t.TempDir()
	victim := filepath.Join(elsewhere, "shadow")
	if err := os.WriteFile(victim, []byte("untouched"), 0o600); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "answers.yaml")
	if err := os.Symlink(victim, path); err != nil {
		t.Fatal(err)
	}
	if err := WriteFile(path, []byte("new"), 0o644); err != nil {
		t.Fatal(err)
	}
	if data, _ := os.ReadFile(victim); string(data) != "untouched" {
		t.Errorf("the link's target was written: %q", data)
	}
	fi, err := os.Lstat(path)
	if err != nil || !fi.Mode().IsRegular() {
		t.Fatalf("target is %v (%v), want a regular file", fi, err)
	}
}

// Through a root, a name that leads outside it by a linked directory or by
// ".." is refused and nothing is written there.
func TestWriteFileInStaysInsideRoot(t *testing.T) {
	dir, elsewhere := t.TempDir(), t.TempDir()
	if err := os.Symlink(elsewhere, filepath.Join(dir, "config")); err != nil {
		t.Fatal(err)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	for _, name := range []string{"config/nginx.conf", "../nginx.conf", "/etc/nginx.conf"} {
		if err := WriteFileIn(root, name, []byte("x"), 0o644); err == nil {
			t.Errorf("%s: written outside the root", name)
		}
	}
	if got := entries(t, elsewhere); len(got) != 0 {
		t.Errorf("wrote %v outside the root", got)
	}
	if err := root.MkdirAll("sub/dir", 0o755); err != nil {
		t.Fatal(err)
	}
	if err := WriteFileIn(root, "sub/dir/f", []byte("inside"), 0o600); err != nil {
		t.Fatal(err)
	}
	if data, _ := os.ReadFile(filepath.Join(dir, "sub/dir/f")); string(data) != "inside" {
		t.Errorf("content %q", data)
	}
	noTemps(t, filepath.Join(dir, "sub/dir"))
}

func TestWithOwnerSetsOwner(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("changing a file's owner needs root")
	}
	path := filepath.Join(t.TempDir(), "tls.key")
	if err := WriteFile(path, []byte("key"), 0o640, WithOwner(70, 1234)); err != nil {
		t.Fatal(err)
	}
	fi, _ := os.Stat(path)
	st := fi.Sys().(*syscall.Stat_t)
	if st.Uid != 70 || st.Gid != 1234 || fi.Mode().Perm() != 0o640 {
		t.Errorf("owner %d:%d mode %v, want 70:1234 0640", st.Uid, st.Gid, fi.Mode().Perm())
	}
}

func TestMatches(t *testing.T) {
	dir := t.TempDir()
	root, err := os.OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	if err := os.WriteFile(filepath.Join(dir, "f"), []byte("same"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("f", filepath.Join(dir, "link")); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(filepath.Join(dir, "fifo"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		data string
		perm fs.FileMode
		want bool
	}{
		{"f", "same", 0o644, true},
		{"f", "same", 0o600, false},
		{"f", "other", 0o644, false},
		{"f", "samesame", 0o644, false},
		{"link", "same", 0o644, false}, // a link is not the file, even with the same content
		{"fifo", "", 0o644, false},     // and reading a FIFO does not block
		{"missing", "", 0o644, false},
	} {
		if got := Matches(root, c.name, []byte(c.data), c.perm); got != c.want {
			t.Errorf("Matches(%s, %q, %v) = %v, want %v", c.name, c.data, c.perm, got, c.want)
		}
	}
}

func TestRemoveTemps(t *testing.T) {
	dir := t.TempDir()
	for _, n := range []string{".ca.key.tmp-1x2y", "ca.key", ".hidden"} {
		if err := os.WriteFile(filepath.Join(dir, n), nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	f, err := Create(filepath.Join(dir, "tls.key"), 0o600)
	if err != nil {
		t.Fatal(err)
	}
	f.File.Close() // as a crash would leave it: never committed, never cleaned up
	if err := RemoveTemps(dir); err != nil {
		t.Fatal(err)
	}
	got := strings.Join(entries(t, dir), " ")
	if got != ".hidden ca.key" {
		t.Errorf("left %q, want the two files that are not temporary", got)
	}
}
