package install

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/fineract-installer/fineract-installer/assets"
	"github.com/fineract-installer/fineract-installer/steps"
)

// WALRepositoryStep prepares continuous archiving before PostgreSQL starts:
// the backup repository (root, 0700) with its wal directory owned by
// PostgreSQL's uid and gid (0700), which the postgres service mounts
// read-write, and a copy of this installer binary in INSTALL_DIR/libexec,
// which it mounts read-only and runs as archive_command.
//
// The binary is the one running (os.Executable). Built with CGO_ENABLED=0
// it is static and runs in any image; built with cgo it needs a glibc at
// least as new as the build host's, which the Debian-based postgres image
// (postgres:*-trixie, glibc 2.41) has for builds on Debian 12 or 13.
type WALRepositoryStep struct{ Env *Env }

// ID implements steps.Step.
func (s WALRepositoryStep) ID() string { return "wal-repository" }

// Title implements steps.Step.
func (s WALRepositoryStep) Title() string { return "Prepare the WAL archive repository" }

// walRepoMode is the mode of the repository and of its wal directory.
const walRepoMode = 0o700

// walTarget is what the step sets up, or ok false when archiving is off.
func (env *Env) walTarget() (repo string, uid, gid int, ok bool, err error) {
	if !env.Answers.Backup.WALArchiving {
		return "", 0, 0, false, nil
	}
	for _, svc := range env.Bundle.Services {
		if svc.Name == "postgres" {
			return env.Answers.Backup.RepositoryDir(env.Dir), svc.UID, svc.GID, true, nil
		}
	}
	return "", 0, 0, false, errors.New("the rendered stack has no postgres service")
}

// Check implements steps.Step.
func (s WALRepositoryStep) Check(ctx context.Context) (bool, error) {
	repo, uid, gid, on, err := s.Env.walTarget()
	if err != nil || !on {
		return !on && err == nil, err
	}
	if ok, _ := walRepoReady(repo, uid, gid); !ok {
		return false, nil
	}
	same, err := sameBinary(s.Env.libexecDir())
	return same, err
}

// Run implements steps.Step.
func (s WALRepositoryStep) Run(ctx context.Context, emit steps.Emitter) error {
	repo, uid, gid, on, err := s.Env.walTarget()
	if err != nil || !on {
		return err
	}
	if err := prepareWALRepo(repo, uid, gid); err != nil {
		return &steps.Failure{Cause: fmt.Sprintf("preparing the backup repository %s: %v", repo, err),
			Hint: "backup.repository must be a directory only root can change (not a symbolic link); fix it or choose another in the answers"}
	}
	emit.Info("repository", fmt.Sprintf("%s/wal belongs to PostgreSQL's uid %d", repo, uid))
	changed, err := installBinary(s.Env.libexecDir())
	if err != nil {
		return fmt.Errorf("copying the installer into %s: %w", s.Env.libexecDir(), err)
	}
	if changed {
		emit.Info("libexec", "PostgreSQL's archive_command now runs this installer build")
	}
	return nil
}

func (env *Env) libexecDir() string { return filepath.Join(env.Dir, assets.LibexecDir) }

// prepareWALRepo creates repo (root, 0700) and repo/wal (uid:gid, 0700).
// The parent of repo is root's; repo itself is root's 0700, so no other uid
// can replace its wal entry, and both are changed through their own file
// descriptors, opened without following a symbolic link.
func prepareWALRepo(repo string, uid, gid int) error {
	if err := os.MkdirAll(filepath.Dir(repo), 0o700); err != nil {
		return err
	}
	parent, err := unix.Open(filepath.Dir(repo), unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("opening %s: %w", filepath.Dir(repo), err)
	}
	defer unix.Close(parent)
	rfd, err := ensureDirAt(parent, filepath.Base(repo), 0, 0)
	if err != nil {
		return err
	}
	defer unix.Close(rfd)
	wfd, err := ensureDirAt(rfd, "wal", uid, gid)
	if err != nil {
		return err
	}
	return unix.Close(wfd)
}

// ensureDirAt makes name in the directory at a directory owned by uid:gid
// with walRepoMode and returns it open.
func ensureDirAt(at int, name string, uid, gid int) (int, error) {
	if err := unix.Mkdirat(at, name, walRepoMode); err != nil && !errors.Is(err, unix.EEXIST) {
		return -1, fmt.Errorf("creating %s: %w", name, err)
	}
	fd, err := unix.Openat(at, name, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		if errors.Is(err, unix.ELOOP) || errors.Is(err, unix.ENOTDIR) {
			return -1, fmt.Errorf("%s is a symbolic link or not a directory", name)
		}
		return -1, fmt.Errorf("opening %s: %w", name, err)
	}
	if err := unix.Fchown(fd, uid, gid); err != nil {
		unix.Close(fd)
		return -1, fmt.Errorf("giving %s to %d:%d: %w", name, uid, gid, err)
	}
	if err := unix.Fchmod(fd, walRepoMode); err != nil {
		unix.Close(fd)
		return -1, fmt.Errorf("setting the mode of %s: %w", name, err)
	}
	return fd, nil
}

// walRepoReady reports whether repo and repo/wal are as prepareWALRepo
// leaves them.
func walRepoReady(repo string, uid, gid int) (bool, string) {
	parent, err := unix.Open(filepath.Dir(repo), unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return false, err.Error()
	}
	defer unix.Close(parent)
	check := func(at int, name string, uid, gid int) (int, string) {
		fd, err := unix.Openat(at, name, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		if err != nil {
			return -1, fmt.Sprintf("%s: %v", name, err)
		}
		var st unix.Stat_t
		if err := unix.Fstat(fd, &st); err != nil || int(st.Uid) != uid || int(st.Gid) != gid || st.Mode&0o7777 != walRepoMode {
			unix.Close(fd)
			return -1, fmt.Sprintf("%s is not %d:%d %o", name, uid, gid, walRepoMode)
		}
		return fd, ""
	}
	rfd, why := check(parent, filepath.Base(repo), 0, 0)
	if rfd < 0 {
		return false, why
	}
	defer unix.Close(rfd)
	wfd, why := check(rfd, "wal", uid, gid)
	if wfd < 0 {
		return false, why
	}
	unix.Close(wfd)
	return true, ""
}

// sameBinary reports whether dir holds a copy of the running installer.
func sameBinary(dir string) (bool, error) {
	exe, err := os.Executable()
	if err != nil {
		return false, fmt.Errorf("finding the installer binary: %w", err)
	}
	want, err := fileSum(os.Open(exe))
	if err != nil {
		return false, err
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return false, nil
	}
	defer root.Close()
	got, err := fileSum(root.OpenFile(assets.InstallerBinary, os.O_RDONLY|syscall.O_NOFOLLOW, 0))
	if err != nil {
		return false, nil
	}
	st, err := root.Lstat(assets.InstallerBinary)
	return err == nil && bytes.Equal(got, want) && st.Mode().Perm() == 0o755, nil
}

func fileSum(f *os.File, err error) ([]byte, error) {
	if err != nil {
		return nil, err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return nil, fmt.Errorf("reading %s: %w", f.Name(), err)
	}
	return h.Sum(nil), nil
}

// installBinary copies the running installer into dir (root, 0755) as
// fineract-installer, 0755, when the copy there differs: written under a
// temporary name, synced and renamed, so PostgreSQL never runs half a
// binary. It reports whether it wrote one.
func installBinary(dir string) (bool, error) {
	if same, err := sameBinary(dir); err != nil || same {
		return false, err
	}
	exe, err := os.Executable()
	if err != nil {
		return false, fmt.Errorf("finding the installer binary: %w", err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return false, err
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		return false, err
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return false, err
	}
	defer root.Close()
	src, err := os.Open(exe)
	if err != nil {
		return false, err
	}
	defer src.Close()
	var suffix [8]byte
	rand.Read(suffix[:])
	tmp := "." + assets.InstallerBinary + ".tmp-" + hex.EncodeToString(suffix[:])
	dst, err := root.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL|syscall.O_NOFOLLOW, 0o755)
	if err != nil {
		return false, err
	}
	defer root.Remove(tmp)
	_, err = io.Copy(dst, src)
	if err == nil {
		err = dst.Chmod(0o755) // not narrowed by the umask
	}
	if err == nil {
		err = dst.Sync()
	}
	if cerr := dst.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return false, err
	}
	if err := root.Rename(tmp, assets.InstallerBinary); err != nil {
		return false, err
	}
	d, err := root.Open(".")
	if err != nil {
		return false, err
	}
	defer d.Close()
	return true, d.Sync()
}
