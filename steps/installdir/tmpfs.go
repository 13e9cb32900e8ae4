package installdir

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// secretsRoot holds every project's secrets directory.
const secretsRoot = "/run/fineract-stack"

// SecretsDir is where a project's service secrets are materialised from
// Vault: a tmpfs under /run, so they vanish at reboot and never reach a disk.
func SecretsDir(project string) string {
	return filepath.Join(secretsRoot, project, "secrets")
}

// ProjectRunDir is the project's directory under the secrets root: what
// `uninstall --purge` removes.
func ProjectRunDir(project string) string {
	return filepath.Join(secretsRoot, project)
}

// RemoveSecrets deletes the project's delivered secret files and their
// directory (uninstall --purge), without following any link in it. A
// project that has none is not an error.
func RemoveSecrets(project string) error {
	root, err := os.OpenRoot(secretsRoot)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("remove the delivered secrets: %w", err)
	}
	defer root.Close()
	if err := root.RemoveAll(project); err != nil {
		return fmt.Errorf("remove the delivered secrets in %s: %w", ProjectRunDir(project), err)
	}
	return nil
}

// EnsureSecretsTmpfs makes sure the project's secrets directory lives on a
// tmpfs, so secret files never reach a disk and vanish at reboot. Where /run
// is already a tmpfs (systemd hosts) nothing is mounted; elsewhere a small
// tmpfs is mounted at /run/fineract-stack. Every directory from
// /run/fineract-stack down is root's with mode 0700: containers receive
// their files through bind mounts, which do not look at these directories,
// so no host account but root needs (or gets) a way in. It returns the
// secrets directory.
func EnsureSecretsTmpfs(project string) (string, error) {
	dir := SecretsDir(project)
	if err := privateDir(secretsRoot); err != nil {
		return "", err
	}
	if !onTmpfs(secretsRoot) {
		if err := syscall.Mount("tmpfs", secretsRoot, "tmpfs", syscall.MS_NOSUID|syscall.MS_NODEV|syscall.MS_NOEXEC, "size=16m,mode=0700"); err != nil {
			return "", fmt.Errorf("mount a tmpfs for secrets at %s: %w (run as root)", secretsRoot, err)
		}
	}
	for _, d := range []string{secretsRoot, ProjectRunDir(project), dir} {
		if err := privateDir(d); err != nil {
			return "", err
		}
	}
	return dir, nil
}

// privateDir creates dir if needed and makes sure it is a real directory
// (not a link) owned by this process's user with mode 0700.
func privateDir(dir string) error {
	if err := os.Mkdir(dir, 0o700); err != nil && !errors.Is(err, os.ErrExist) {
		return fmt.Errorf("create %s: %w", dir, err)
	}
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open %s: %w (it must be a directory, not a link)", dir, err)
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return fmt.Errorf("inspect %s: %w", dir, err)
	}
	if int(st.Uid) != os.Geteuid() {
		return fmt.Errorf("%s belongs to uid %d, not to the installer (uid %d): someone else made it; remove it and run again", dir, st.Uid, os.Geteuid())
	}
	if st.Mode&0o777 != 0o700 {
		if err := unix.Fchmod(fd, 0o700); err != nil {
			return fmt.Errorf("make %s private: %w", dir, err)
		}
	}
	return nil
}

// onTmpfs reports whether path is on a tmpfs, from the longest matching
// mount point in /proc/self/mountinfo.
func onTmpfs(path string) bool {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return false
	}
	defer f.Close()
	best, bestType := "", ""
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// id parent major:minor root mountpoint options ... - fstype source superopts
		pre, post, ok := strings.Cut(sc.Text(), " - ")
		fields, postFields := strings.Fields(pre), strings.Fields(post)
		if !ok || len(fields) < 5 || len(postFields) < 1 {
			continue
		}
		mp := fields[4]
		if (path == mp || strings.HasPrefix(path, strings.TrimSuffix(mp, "/")+"/")) && len(mp) >= len(best) {
			best, bestType = mp, postFields[0]
		}
	}
	return bestType == "tmpfs"
}
