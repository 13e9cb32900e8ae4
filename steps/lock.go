package steps

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// ErrLocked means another installer holds the install dir.
var ErrLocked = errors.New("install dir is in use")

// LockFileName is the lock file inside the install dir.
const LockFileName = ".lock"

// Lock takes an exclusive lock on the install dir for the life of the
// process. The kernel drops it if the process dies, so a crash never
// leaves a stale lock. It returns a function that releases it.
func Lock(dir string) (func(), error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("lock install dir: %w", err)
	}
	path := filepath.Join(dir, LockFileName)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lock install dir: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		holder, _ := os.ReadFile(path)
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			h := strings.TrimSpace(string(holder))
			if h == "" {
				h = "another process"
			}
			return nil, fmt.Errorf("%w: %s holds %s; wait for it to finish, or stop it first", ErrLocked, h, dir)
		}
		return nil, fmt.Errorf("lock install dir: %w", err)
	}
	_ = f.Truncate(0)
	_, _ = fmt.Fprintf(f, "fineract-installer pid %d (since %s, %s)\n", os.Getpid(), time.Now().UTC().Format(time.RFC3339), strings.Join(os.Args, " "))
	_ = f.Sync()
	return func() {
		_ = f.Truncate(0)
		_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	}, nil
}
