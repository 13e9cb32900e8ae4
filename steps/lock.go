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
		holder, _ := os.ReadFile(path)
		f.Close()
		if errors.Is(err, unix.EWOULDBLOCK) {
			h := strings.TrimSpace(string(holder))
			if h == "" {
				h = "another process"
			}
			return nil, fmt.Errorf("%w: %s holds %s; wait for it to finish, or stop it first", ErrLocked, h, dir)
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
