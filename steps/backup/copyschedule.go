package backup

import (
	"errors"
	"fmt"
	"path/filepath"
	"time"
)

// CopySchedule runs `backup offsite copy` every few minutes: a systemd
// timer where systemd runs, a cron.d entry otherwise. The copy needs no
// passphrase and no key holder (it reads the store's credentials with the
// installation's own token, see package offsite), so production can run
// it unattended, unlike a backup that stops Vault.
type CopySchedule struct {
	// Binary is the installer's absolute path.
	Binary  string
	Dir     string
	Project string
	// Every is how often a copy runs: whole minutes dividing an hour, so
	// the systemd timer and the cron line run at the same moments.
	Every time.Duration
}

// Validate refuses an interval neither format can carry exactly and paths
// or names that a unit or cron line cannot.
func (s CopySchedule) Validate() error {
	var errs []error
	if m := s.minutes(); m < 1 || m > 60 || 60%m != 0 || s.Every%time.Minute != 0 {
		errs = append(errs, fmt.Errorf("--offsite-every %s: give whole minutes that divide an hour (1m, 2m, 5m, 10m, 15m, 30m, 60m); 5m keeps the off-host copy within a 5-minute RPO", s.Every))
	}
	if !projectName.MatchString(s.Project) {
		errs = append(errs, fmt.Errorf("project %q: only lower-case letters, digits, '-' and '_' can name a unit", s.Project))
	}
	for _, p := range []struct{ flag, path string }{{"the installer's path", s.Binary}, {"--dir", s.Dir}} {
		if err := checkPath(p.flag, p.path); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func (s CopySchedule) minutes() int { return int(s.Every / time.Minute) }

// Unit is the base name of the systemd units and the cron.d file.
func (s CopySchedule) Unit() string { return "fineract-offsite-copy-" + s.Project }

// Command is the copy command the schedule runs.
func (s CopySchedule) Command() []string {
	return []string{s.Binary, "backup", "offsite", "copy", "--dir", s.Dir, "--project", s.Project, "--no-color"}
}

// SystemdService is the oneshot service the timer starts.
func (s CopySchedule) SystemdService() string {
	return fmt.Sprintf(`# Written by fineract-installer backup schedule; remove with its --remove.
[Unit]
Description=Copy the backup repository of the Fineract stack %[1]s off this host
Wants=network-online.target
After=network-online.target

[Service]
Type=oneshot
ExecStart=%[2]s
Nice=10
IOSchedulingClass=best-effort
IOSchedulingPriority=7
UMask=0077
`, s.Project, quoted(s.Command(), systemdQuote))
}

// SystemdTimer starts the service at every multiple of Every past the
// hour. A copy still running when the next is due is not started twice
// (systemd starts a unit that is active no second time).
func (s CopySchedule) SystemdTimer() string {
	return fmt.Sprintf(`# Written by fineract-installer backup schedule; remove with its --remove.
[Unit]
Description=Copy the backup repository of the Fineract stack %[1]s off this host every %[2]d minutes

[Timer]
OnCalendar=*-*-* *:00/%[2]d:00
Persistent=true

[Install]
WantedBy=timers.target
`, s.Project, s.minutes())
}

// CronFile is the /etc/cron.d entry for hosts without systemd.
func (s CopySchedule) CronFile() string {
	minute := fmt.Sprintf("*/%d", s.minutes())
	if s.minutes() == 60 {
		minute = "0"
	}
	log := filepath.Join("/var/log", s.Unit()+".log")
	return fmt.Sprintf("# Written by fineract-installer backup schedule; remove with its --remove.\n# Off-host copy of the backup repository of the Fineract stack %s, every %d minutes.\nSHELL=/bin/sh\nPATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\n%s * * * * root %s >>%s 2>&1\n",
		s.Project, s.minutes(), minute, quoted(s.Command(), cronQuote), log)
}

// Files are the schedule's files by absolute path.
func (s CopySchedule) Files(systemd bool) map[string]string {
	if systemd {
		return map[string]string{
			filepath.Join("/etc/systemd/system", s.Unit()+".service"): s.SystemdService(),
			filepath.Join("/etc/systemd/system", s.Unit()+".timer"):   s.SystemdTimer(),
		}
	}
	return map[string]string{filepath.Join("/etc/cron.d", s.Unit()): s.CronFile()}
}
