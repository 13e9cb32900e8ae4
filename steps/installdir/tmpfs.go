package installdir

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// EnsureSecretsTmpfs makes sure the project's secrets directory lives on a
// tmpfs, so secret files never reach a disk and vanish at reboot. Where /run
// is already a tmpfs (systemd hosts) nothing is mounted; elsewhere a small
// tmpfs is mounted at /run/fineract-stack. It returns the secrets directory.
func EnsureSecretsTmpfs(project string) (string, error) {
	dir := SecretsDir(project)
	root := filepath.Dir(filepath.Dir(dir)) // /run/fineract-stack
	if onTmpfs(root) {
		if err := os.MkdirAll(dir, 0o711); err != nil {
			return "", fmt.Errorf("create secrets dir: %w", err)
		}
		return dir, nil
	}
	if err := os.MkdirAll(root, 0o711); err != nil {
		return "", fmt.Errorf("create %s: %w", root, err)
	}
	// mode 0711: services reach their own subdirectory by name, nobody lists.
	if err := syscall.Mount("tmpfs", root, "tmpfs", syscall.MS_NOSUID|syscall.MS_NODEV|syscall.MS_NOEXEC, "size=16m,mode=0711"); err != nil {
		return "", fmt.Errorf("mount a tmpfs for secrets at %s: %w (run as root)", root, err)
	}
	if err := os.MkdirAll(dir, 0o711); err != nil {
		return "", fmt.Errorf("create secrets dir: %w", err)
	}
	return dir, nil
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
