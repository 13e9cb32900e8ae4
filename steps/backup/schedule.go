package backup

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/fineract-installer/fineract-installer/steps/atomicfile"
	"github.com/fineract-installer/fineract-installer/steps/passphrase"
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

// Validate refuses a schedule that could not run unattended, would leak,
// or could not be written into a unit or cron line exactly as given.
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
	for _, p := range []struct{ flag, path string }{{"the installer's path", s.Binary}, {"--dir", s.Dir}} {
		if err := checkPath(p.flag, p.path); err != nil {
			errs = append(errs, err)
		}
	}
	// The backup writes a new archive with this passphrase every night:
	// hold it to the rule for new ones now, not at 02:30.
	if err := checkSecretFile("--passphrase-file", s.PassphraseFile, passphrase.CheckNew); err != nil {
		errs = append(errs, err)
	}
	if err := checkSecretFile("--unseal-passphrase-file", s.UnsealPassphraseFile, nil); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// checkPath wants an absolute path that a unit file and a cron line can
// carry: a line break would end the setting and start a new one (another
// ExecStart, another cron job run as root), so control characters are
// refused rather than escaped.
func checkPath(flag, path string) error {
	if !utf8.ValidString(path) {
		return fmt.Errorf("%s %q is not valid UTF-8 text; use a plain path", flag, path)
	}
	if i := strings.IndexFunc(path, unicode.IsControl); i >= 0 {
		r, _ := utf8.DecodeRuneInString(path[i:])
		return fmt.Errorf("%s %q contains a control character (%U): a unit file or cron line cannot carry it safely; use a path without line breaks, tabs or other control characters", flag, path, r)
	}
	if !filepath.IsAbs(path) {
		return fmt.Errorf("%s must be an absolute path, got %q", flag, path)
	}
	return nil
}

// checkSecretFile wants an absolute path to a passphrase file that keeps
// the passphrase file rules and whose passphrase passes check (if any).
func checkSecretFile(flag, path string, check func([]byte) error) error {
	if path == "" {
		return fmt.Errorf("%s is needed: an unattended backup cannot ask for a passphrase", flag)
	}
	if err := checkPath(flag, path); err != nil {
		return err
	}
	p, err := passphrase.FromFile(path)
	if err != nil {
		return fmt.Errorf("%s: %w", flag, err)
	}
	defer clear(p)
	if check != nil {
		if err := check(p); err != nil {
			return fmt.Errorf("%s %s: %w", flag, path, err)
		}
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

// plainWord matches an argument that needs no quoting in either format.
var plainWord = regexp.MustCompile(`^[A-Za-z0-9_./:=@-]+$`)

// systemdQuote quotes one ExecStart argument for systemd, which unquotes
// it, turns C escapes into characters (so \\ and \" are a backslash and a
// quote), expands %-specifiers (%% is a percent sign) and then environment
// variables ($$ is a dollar sign). Validate has refused control
// characters: a line break would end the setting.
func systemdQuote(arg string) string {
	if plainWord.MatchString(arg) {
		return arg
	}
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, `%`, `%%`, `$`, `$$`)
	return `"` + r.Replace(arg) + `"`
}

// cronQuote quotes one argument of a cron command. Cron cuts the command
// at the first % that no backslash escapes (the rest becomes its input,
// each further % a line break), then gives it to /bin/sh. The argument
// goes in single quotes, where sh takes every character as it is, with
// three replacements:
//
//	'  ->  '\''  close the quotes, an escaped quote, reopen them
//	%  ->  \%    cron turns it back into %
//	\  ->  \''   close and reopen the quotes right after the backslash
//
// so a backslash of the argument never stands before a % or another
// backslash, the only places where cron implementations read it as an
// escape.
func cronQuote(arg string) string {
	if plainWord.MatchString(arg) {
		return arg
	}
	r := strings.NewReplacer(`'`, `'\''`, `\`, `\''`, `%`, `\%`)
	return "'" + r.Replace(arg) + "'"
}

// quoted joins args, each quoted with q.
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
		s.Project, minute, hour, quoted(s.Command(), cronQuote), log)
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
	return installFiles(root, s.Files(systemd))
}

// Remove deletes the schedule's files under root, whichever kind exists.
func (s Schedule) Remove(root string) ([]string, error) {
	return removeFiles(root, s.Files)
}

// Install writes the copy schedule's files under root, as Schedule.Install.
func (s CopySchedule) Install(root string, systemd bool) ([]string, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	return installFiles(root, s.Files(systemd))
}

// Remove deletes the copy schedule's files under root, whichever kind
// exists.
func (s CopySchedule) Remove(root string) ([]string, error) {
	return removeFiles(root, s.Files)
}

// installFiles writes files (by absolute path) under root and returns the
// paths whose content changed.
func installFiles(root string, files map[string]string) ([]string, error) {
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
		if err := atomicfile.WriteFile(target, []byte(files[p]), 0o644); err != nil {
			return changed, fmt.Errorf("install the backup schedule: %w", err)
		}
		changed = append(changed, p)
	}
	return changed, nil
}

// removeFiles deletes under root the files of both kinds (systemd units
// and cron entry) and returns those that were there.
func removeFiles(root string, files func(systemd bool) map[string]string) ([]string, error) {
	var removed []string
	for _, systemd := range []bool{true, false} {
		for p := range files(systemd) {
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
