package steps

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/fineract-installer/fineract-installer/steps/installation"
)

// ErrLocked means another installer holds the install dir.
var ErrLocked = errors.New("install dir is in use")

// Lock takes an exclusive lock on the install dir (its
// installation.LockFile, beside it) for the life of the
// process. The kernel drops it if the process dies, so a crash never
// leaves a stale lock. It returns a function that releases it.
func Lock(dir string) (func(), error) {
	path, err := installation.New(dir, "").LockFile()
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("lock install dir: %w", err)
	}
	// Never through a link, and only a plain file of our own: the lock is
	// written to, and its parent directory may be shared.
	fd, err := unix.Open(path, unix.O_RDWR|unix.O_CREAT|unix.O_NOFOLLOW|unix.O_CLOEXEC|unix.O_NONBLOCK, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lock install dir: open %s: %w", path, err)
	}
	f := os.NewFile(uintptr(fd), path)
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		f.Close()
		return nil, fmt.Errorf("lock install dir: %w", err)
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG || int(st.Uid) != os.Geteuid() {
		f.Close()
		return nil, fmt.Errorf("lock install dir: %s is not a plain file of uid %d; remove it and run again", path, os.Geteuid())
	}
	if err := unix.Flock(fd, unix.LOCK_EX|unix.LOCK_NB); err != nil {
		defer f.Close()
		if errors.Is(err, unix.EWOULDBLOCK) {
			return nil, lockedError(f, dir)
		}
		return nil, fmt.Errorf("lock install dir: %w", err)
	}
	_ = f.Truncate(0)
	_, _ = f.WriteAt([]byte(fmt.Sprintf("fineract-installer pid %d (since %s, %s)\n", os.Getpid(), time.Now().UTC().Format(time.RFC3339), strings.Join(os.Args, " "))), 0)
	_ = f.Sync()
	return func() {
		_ = f.Truncate(0)
		_ = unix.Flock(fd, unix.LOCK_UN)
		f.Close()
	}, nil
}

// Held reports, without making the lock file, whether another process
// holds the install dir's lock: a command that still has input to check
// refuses at once while another works on the installation, and leaves
// nothing behind when its own input is refused. It takes the lock with
// Lock before its first change, which refuses in the same way should
// another command have started in between.
func Held(dir string) error {
	path, err := installation.New(dir, "").LockFile()
	if err != nil {
		return err
	}
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_CLOEXEC|unix.O_NONBLOCK, 0)
	if err != nil {
		return nil // none there, or one Lock will refuse with its reason
	}
	f := os.NewFile(uintptr(fd), path)
	defer f.Close()
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil || st.Mode&unix.S_IFMT != unix.S_IFREG {
		return nil
	}
	if err := unix.Flock(fd, unix.LOCK_SH|unix.LOCK_NB); err != nil {
		if errors.Is(err, unix.EWOULDBLOCK) {
			return lockedError(f, dir)
		}
		return nil
	}
	_ = unix.Flock(fd, unix.LOCK_UN)
	return nil
}

// lockedError names the holder of the lock f, from what it wrote into it.
func lockedError(f *os.File, dir string) error {
	holder := make([]byte, 4096)
	n, _ := f.ReadAt(holder, 0)
	h := strings.TrimSpace(string(holder[:n]))
	if h == "" {
		h = "another process"
	}
	return fmt.Errorf("%w: %s holds %s; wait for it to finish, or stop it first", ErrLocked, h, dir)
}
