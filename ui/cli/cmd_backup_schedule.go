package cli

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/fineract-installer/fineract-installer/steps/answers"
	"github.com/fineract-installer/fineract-installer/steps/backup"
	"github.com/fineract-installer/fineract-installer/steps/installation"
	"github.com/fineract-installer/fineract-installer/steps/installdir"
)

// scheduleRoot is where schedule files are written ("/" on a host; tests
// point it at a temporary directory).
var scheduleRoot = "/"

// systemdRunning reports whether systemd manages this host (sd_booted).
var systemdRunning = func() bool {
	fi, err := os.Stat("/run/systemd/system")
	return err == nil && fi.IsDir()
}

// executable is the installer's own path; tests replace it (a test binary
// lives in a temporary directory, which the schedule refuses).
var executable = func() (string, error) {
	p, err := os.Executable()
	if err != nil {
		return "", err
	}
	return filepath.EvalSymlinks(p)
}

// systemctl runs systemctl; tests replace it.
var systemctl = func(ctx context.Context, args ...string) error {
	out, err := exec.CommandContext(ctx, "systemctl", args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("systemctl %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}

// scheduleDoc is `backup schedule -o json`: whether the schedule is a
// systemd timer (a cron.d entry otherwise) and each file with its content.
type scheduleDoc struct {
	Systemd bool              `json:"systemd"`
	Files   map[string]string `json:"files"`
}

func newBackupScheduleCmd(a *app) *cobra.Command {
	var s backup.Schedule
	var install, remove, yes bool
	cmd := &cobra.Command{
		Use:   "schedule",
		Short: "Print, install or remove a daily unattended backup (systemd timer, or cron without systemd)",
		Long: `Print the systemd timer (or, on hosts without systemd, the cron.d entry)
that backs the installation up every day, keeping the newest --keep backups.
With --install it is written and enabled; --remove takes it away again.

The passphrases come from files only readable by their owner; the units
hold their paths, never their contents. Only the demo profile can back up
unattended: a backup stops Vault for a consistent copy of its storage, and
in production only the key holders can unseal it again.`,
		Example: `  fineract-installer backup schedule --passphrase-file /root/backup.pass --unseal-passphrase-file /root/unseal.pass
  fineract-installer backup schedule --passphrase-file /root/backup.pass --unseal-passphrase-file /root/unseal.pass --at 01:15 --keep 30 --install --yes`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runBackupSchedule(cmd.Context(), a, s, install, remove, yes)
		},
	}
	f := cmd.Flags()
	f.StringVar(&s.At, "at", "02:30", "local time of day to run the backup, `HH:MM`")
	f.IntVar(&s.Keep, "keep", 14, "how many backups to keep (`N`)")
	f.StringVar(&s.PassphraseFile, "passphrase-file", "", "`FILE` holding the backup passphrase (mode 0600)")
	f.StringVar(&s.UnsealPassphraseFile, "unseal-passphrase-file", "", "`FILE` holding the demo custody passphrase (mode 0600)")
	f.BoolVar(&install, "install", false, "write and enable the schedule")
	f.BoolVar(&remove, "remove", false, "disable and delete the schedule")
	f.BoolVarP(&yes, "yes", "y", false, "do not ask for confirmation")
	return cmd
}

func runBackupSchedule(ctx context.Context, a *app, s backup.Schedule, install, remove, yes bool) error {
	if install && remove {
		return usageError("--install and --remove exclude each other")
	}
	dir, err := filepath.Abs(a.dir)
	if err != nil {
		return withCode(ExitUsage, err)
	}
	if err := a.adoptProject(); err != nil {
		return err
	}
	s.Dir, s.Project = dir, a.project
	systemd := systemdRunning()
	p := a.printer()

	if remove {
		if err := confirm(a, yes, "removing the schedule changes this host", fmt.Sprintf("Remove the daily backup of %s?", s.Project)); err != nil {
			return err
		}
		if systemd {
			// Stopping a timer that is not there is not an error worth failing on.
			_ = systemctl(ctx, "disable", "--now", s.Unit()+".timer")
		}
		removed, err := s.Remove(scheduleRoot)
		if err != nil {
			return withCode(ExitFailed, err)
		}
		if systemd && len(removed) > 0 {
			if err := systemctl(ctx, "daemon-reload"); err != nil {
				return withCode(ExitFailed, err)
			}
		}
		if len(removed) == 0 {
			fmt.Fprintf(a.io.Out, "No backup schedule for %s was installed.\n", s.Project)
			return nil
		}
		fmt.Fprintf(a.io.Out, "%s %s\n", p.ok.Render("Removed:"), strings.Join(removed, ", "))
		return nil
	}

	ok, err := installdir.Exists(dir)
	if err != nil || !ok {
		return withCode(ExitUsage, fmt.Errorf("no installation in %s to back up; pass --dir with the install directory", dir))
	}
	ans, err := answers.Load(installation.New(dir, s.Project).AnswersFile())
	if err != nil {
		return withCode(ExitUsage, err)
	}
	if ans.Vault.Custody != answers.CustodyFile {
		return usageError("the %s profile cannot back up unattended: a backup stops Vault for a consistent copy of its storage, and only the key holders can unseal it again; run `fineract-installer backup` with them at hand", ans.Profile)
	}
	bin, err := executable()
	if err != nil {
		return withCode(ExitFailed, fmt.Errorf("find the installer's own path: %w", err))
	}
	if strings.HasPrefix(bin, filepath.Clean(os.TempDir())+string(filepath.Separator)) {
		return usageError("this installer runs from a temporary build (%s, as with `go run`); build it (`go build -o /usr/local/bin/fineract-installer .`) and schedule from that", bin)
	}
	s.Binary = bin
	for _, f := range []*string{&s.PassphraseFile, &s.UnsealPassphraseFile} {
		if *f != "" {
			if *f, err = filepath.Abs(*f); err != nil {
				return withCode(ExitUsage, err)
			}
		}
	}
	if err := s.Validate(); err != nil {
		return withCode(ExitUsage, err)
	}

	files := s.Files(systemd)
	if !install {
		if p.json() {
			return p.record(typeBackupSchedule, scheduleDoc{Systemd: systemd, Files: files})
		}
		paths := make([]string, 0, len(files))
		for path := range files {
			paths = append(paths, path)
		}
		sort.Strings(paths)
		for _, path := range paths {
			fmt.Fprintf(a.io.Out, "# %s\n%s\n", path, files[path])
		}
		fmt.Fprintln(a.io.Out, "# Install and enable it with the same command and --install.")
		return nil
	}
	if err := confirm(a, yes, "installing the schedule changes this host", fmt.Sprintf("Back up %s every day at %s, keeping %d?", s.Project, s.At, s.Keep)); err != nil {
		return err
	}
	changed, err := s.Install(scheduleRoot, systemd)
	if err != nil {
		return withCode(ExitFailed, err)
	}
	if systemd {
		if err := systemctl(ctx, "daemon-reload"); err != nil {
			return withCode(ExitFailed, err)
		}
		if err := systemctl(ctx, "enable", "--now", s.Unit()+".timer"); err != nil {
			return withCode(ExitFailed, err)
		}
	}
	if len(changed) == 0 {
		fmt.Fprintf(a.io.Out, "The daily backup of %s was already installed as shown; nothing changed.\n", s.Project)
		return nil
	}
	fmt.Fprintf(a.io.Out, "%s %s\n", p.ok.Render("Installed:"), strings.Join(changed, ", "))
	if systemd {
		fmt.Fprintf(a.io.Out, "Next run: `systemctl list-timers %s.timer`; last run: `journalctl -u %s.service`\n", s.Unit(), s.Unit())
	} else {
		fmt.Fprintf(a.io.Out, "Output of each run goes to /var/log/%s.log\n", s.Unit())
	}
	return nil
}
