package backup

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/fineract-installer/fineract-installer/steps"
)

// Schedule is an unattended daily backup of one installation: a systemd
// timer where systemd runs, a cron.d entry otherwise. It holds paths only;
// the passphrases stay in their files.
type Schedule struct {
	// Binary is the installer's absolute path.
	Binary  string
	Dir     string
	Project string
	// At is the local time of day, HH:MM.
	At string
	// Keep is how many backups the backup directory keeps.
	Keep int
	// PassphraseFile holds the backup passphrase.
	PassphraseFile string
	// UnsealPassphraseFile holds the demo custody passphrase, so Vault can
	// be unsealed again after its storage is copied.
	UnsealPassphraseFile string
}

var (
	timeOfDay   = regexp.MustCompile(`^([01][0-9]|2[0-3]):([0-5][0-9])$`)
	projectName = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]*$`)
)

// Validate refuses a schedule that could not run unattended or would leak.
func (s Schedule) Validate() error {
	var errs []error
	if !timeOfDay.MatchString(s.At) {
		errs = append(errs, fmt.Errorf("--at %q: give a time of day as HH:MM, for example 02:30", s.At))
	}
	if s.Keep < 1 {
		errs = append(errs, fmt.Errorf("--keep %d: keep at least one backup (14 keeps two weeks of daily ones)", s.Keep))
	}
	if !projectName.MatchString(s.Project) {
		errs = append(errs, fmt.Errorf("project %q: only lower-case letters, digits, '-' and '_' can name a unit", s.Project))
	}
	for _, p := range []struct{ flag, path string }{{"the installer", s.Binary}, {"--dir", s.Dir}} {
		if !filepath.IsAbs(p.path) {
			errs = append(errs, fmt.Errorf("%s must be an absolute path, got %q", p.flag, p.path))
		}
	}
	for _, p := range []struct{ flag, path string }{{"--passphrase-file", s.PassphraseFile}, {"--unseal-passphrase-file", s.UnsealPassphraseFile}} {
		if err := checkSecretFile(p.flag, p.path); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// checkSecretFile wants an absolute path to a file only its owner can read.
func checkSecretFile(flag, path string) error {
	if path == "" {
		return fmt.Errorf("%s is needed: an unattended backup cannot ask for a passphrase", flag)
	}
	if !filepath.IsAbs(path) {
		return fmt.Errorf("%s must be an absolute path, got %q", flag, path)
	}
	fi, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("%s: %w", flag, err)
	}
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("%s: %s is not a regular file", flag, path)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return fmt.Errorf("%s: %s can be read by others (mode %04o): chmod 600 %s", flag, path, fi.Mode().Perm(), path)
	}
	return nil
}

// Unit is the base name of the systemd units and the cron.d file.
func (s Schedule) Unit() string { return "fineract-backup-" + s.Project }

// Command is the backup command the schedule runs.
func (s Schedule) Command() []string {
	return []string{s.Binary, "backup", "--dir", s.Dir, "--project", s.Project,
		"--passphrase-file", s.PassphraseFile, "--unseal-passphrase-file", s.UnsealPassphraseFile,
		"--keep", fmt.Sprint(s.Keep), "--no-color"}
}

// systemdQuote quotes one ExecStart argument the way systemd parses it.
func systemdQuote(arg string) string {
	if arg != "" && !strings.ContainsAny(arg, " \t\"'\\$%;") {
		return arg
	}
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, `$`, `$$`, `%`, `%%`)
	return `"` + r.Replace(arg) + `"`
}

// shellQuote quotes one argument for /bin/sh (cron runs lines through it).
func shellQuote(arg string) string {
	if arg != "" && strings.Trim(arg, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./:=@") == "" {
		return arg
	}
	return "'" + strings.ReplaceAll(arg, "'", `'\''`) + "'"
}

func quoted(args []string, q func(string) string) string {
	out := make([]string, len(args))
	for i, a := range args {
		out[i] = q(a)
	}
	return strings.Join(out, " ")
}

// SystemdService is the oneshot service the timer starts.
func (s Schedule) SystemdService() string {
	return fmt.Sprintf(`# Written by fineract-installer backup schedule; remove with its --remove.
[Unit]
Description=Encrypted backup of the Fineract stack %[1]s
Wants=docker.service
After=docker.service network-online.target

[Service]
Type=oneshot
ExecStart=%[2]s
# A backup is background work: it yields CPU and disk to the bank.
Nice=10
IOSchedulingClass=best-effort
IOSchedulingPriority=7
UMask=0077
`, s.Project, quoted(s.Command(), systemdQuote))
}

// SystemdTimer runs the service daily at At, and after a missed run once
// the host is up again.
func (s Schedule) SystemdTimer() string {
	return fmt.Sprintf(`# Written by fineract-installer backup schedule; remove with its --remove.
[Unit]
Description=Daily encrypted backup of the Fineract stack %[1]s

[Timer]
OnCalendar=*-*-* %[2]s:00
Persistent=true

[Install]
WantedBy=timers.target
`, s.Project, s.At)
}

// CronFile is the /etc/cron.d entry for hosts without systemd.
func (s Schedule) CronFile() string {
	m := timeOfDay.FindStringSubmatch(s.At)
	hour, minute := strings.TrimPrefix(m[1], "0"), strings.TrimPrefix(m[2], "0")
	if hour == "" {
		hour = "0"
	}
	if minute == "" {
		minute = "0"
	}
	log := filepath.Join("/var/log", s.Unit()+".log")
	return fmt.Sprintf("# Written by fineract-installer backup schedule; remove with its --remove.\n# Daily encrypted backup of the Fineract stack %s.\nSHELL=/bin/sh\nPATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\n%s %s * * * root %s >>%s 2>&1\n",
		s.Project, minute, hour, quoted(s.Command(), shellQuote), log)
}

// Files are the schedule's files by absolute path.
func (s Schedule) Files(systemd bool) map[string]string {
	if systemd {
		return map[string]string{
			filepath.Join("/etc/systemd/system", s.Unit()+".service"): s.SystemdService(),
			filepath.Join("/etc/systemd/system", s.Unit()+".timer"):   s.SystemdTimer(),
		}
	}
	return map[string]string{filepath.Join("/etc/cron.d", s.Unit()): s.CronFile()}
}

// Install writes the schedule's files under root ("/" on a real host) and
// returns the paths whose content changed; a rerun changes nothing.
func (s Schedule) Install(root string, systemd bool) ([]string, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	files := s.Files(systemd)
	paths := make([]string, 0, len(files))
	for p := range files {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	var changed []string
	for _, p := range paths {
		target := filepath.Join(root, p)
		if old, err := os.ReadFile(target); err == nil && string(old) == files[p] {
			continue
		}
		if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
			return changed, fmt.Errorf("install the backup schedule: %w", err)
		}
		if err := steps.WriteFileAtomic(target, []byte(files[p]), 0o644); err != nil {
			return changed, fmt.Errorf("install the backup schedule: %w", err)
		}
		changed = append(changed, p)
	}
	return changed, nil
}

// Remove deletes the schedule's files under root, whichever kind exists.
func (s Schedule) Remove(root string) ([]string, error) {
	var removed []string
	for _, systemd := range []bool{true, false} {
		for p := range s.Files(systemd) {
			err := os.Remove(filepath.Join(root, p))
			switch {
			case err == nil:
				removed = append(removed, p)
			case !errors.Is(err, os.ErrNotExist):
				return removed, fmt.Errorf("remove the backup schedule: %w", err)
			}
		}
	}
	sort.Strings(removed)
	return removed, nil
}
