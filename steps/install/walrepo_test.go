package install

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func ownerOf(t *testing.T, path string) (int, int, os.FileMode) {
	t.Helper()
	st, err := os.Lstat(path)
	if err != nil {
		t.Fatal(err)
	}
	s := st.Sys().(*syscall.Stat_t)
	return int(s.Uid), int(s.Gid), st.Mode()
}

// The repository is root's, its wal directory PostgreSQL's, both 0700,
// and a second run changes nothing.
func TestPrepareWALRepo(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("giving the wal directory to another uid needs root")
	}
	repo := filepath.Join(t.TempDir(), "backups", "repository")
	for range 2 {
		if err := prepareWALRepo(repo, 70002, 70002); err != nil {
			t.Fatal(err)
		}
	}
	if uid, gid, mode := ownerOf(t, repo); uid != 0 || gid != 0 || mode != os.ModeDir|0o700 {
		t.Errorf("repository is %d:%d %v", uid, gid, mode)
	}
	if uid, gid, mode := ownerOf(t, filepath.Join(repo, "wal")); uid != 70002 || gid != 70002 || mode != os.ModeDir|0o700 {
		t.Errorf("wal directory is %d:%d %v", uid, gid, mode)
	}
	if ok, why := walRepoReady(repo, 70002, 70002); !ok {
		t.Fatalf("not ready after preparing: %s", why)
	}
	os.Chmod(filepath.Join(repo, "wal"), 0o755)
	if ok, _ := walRepoReady(repo, 70002, 70002); ok {
		t.Fatal("a wal directory others can read counts as ready")
	}
}

// A symbolic link in place of the repository or its wal directory is
// refused, and what it points at keeps its owner.
func TestPrepareWALRepoRefusesLinks(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	dir := t.TempDir()
	victim := filepath.Join(dir, "etc")
	os.Mkdir(victim, 0o755)
	os.Symlink(victim, filepath.Join(dir, "repository"))
	err := prepareWALRepo(filepath.Join(dir, "repository"), 70002, 70002)
	if err == nil || !strings.Contains(err.Error(), "symbolic link") {
		t.Fatalf("repository as a link: %v", err)
	}
	repo := filepath.Join(dir, "repo2")
	os.Mkdir(repo, 0o700)
	os.Symlink(victim, filepath.Join(repo, "wal"))
	if err := prepareWALRepo(repo, 70002, 70002); err == nil {
		t.Fatal("wal as a link was followed")
	}
	if uid, _, mode := ownerOf(t, victim); uid != 0 || mode.Perm() != 0o755 {
		t.Fatalf("the link's target was changed: uid %d mode %v", uid, mode)
	}
}

// The binary is copied once, executable, and only again when it differs.
func TestInstallBinary(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "libexec")
	changed, err := installBinary(dir)
	if err != nil || !changed {
		t.Fatalf("first copy: %v, %v", changed, err)
	}
	exe, _ := os.Executable()
	want, _ := os.ReadFile(exe)
	got, _ := os.ReadFile(filepath.Join(dir, "fineract-installer"))
	if string(got) != string(want) {
		t.Fatal("the copy differs from the running binary")
	}
	if _, _, mode := ownerOf(t, filepath.Join(dir, "fineract-installer")); mode.Perm() != 0o755 {
		t.Fatalf("copy has mode %v", mode)
	}
	if changed, err := installBinary(dir); err != nil || changed {
		t.Fatalf("second copy of the same binary: %v, %v", changed, err)
	}
	os.WriteFile(filepath.Join(dir, "fineract-installer"), []byte("old build"), 0o755)
	if changed, err := installBinary(dir); err != nil || !changed {
		t.Fatalf("copy over another build: %v, %v", changed, err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Fatalf("libexec holds %d entries, want the binary only", len(entries))
	}
}
