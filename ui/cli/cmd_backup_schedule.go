package cli

import (
	"context"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

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

// scheduleOptions are backup schedule's flags.
type scheduleOptions struct {
	backup backup.Schedule
	// copyEvery is how often the off-host copy runs; offsiteOnly
	// schedules the copy alone.
	copyEvery            time.Duration
	copyEveryGiven       bool
	offsiteOnly          bool
	install, remove, yes bool
}

func newBackupScheduleCmd(a *app) *cobra.Command {
	var o scheduleOptions
	cmd := &cobra.Command{
		Use:   "schedule",
		Short: "Print, install or remove a daily unattended backup and the off-host copy (systemd timers, or cron without systemd)",
		Long: `Print the systemd timer (or, on hosts without systemd, the cron.d entry)
that backs the installation up every day, keeping the newest --keep backups.
When the answers name an off-host store (backup.offsite.s3), a second timer
runs ` + "`backup offsite copy`" + ` every --offsite-every (5 minutes by default), so
the store follows the archived WAL closely. With --install they are written
and enabled; --remove takes them away again.

The passphrases come from files only readable by their owner; the units
hold their paths, never their contents. Only the demo profile can back up
unattended: a backup stops Vault for a consistent copy of its storage, and
in production only the key holders can unseal it again. The off-host copy
needs neither passphrase nor key holder (it reads the store's credentials
with the installation's own token), so --offsite-only schedules it alone,
in production too.`,
		Example: `  fineract-installer backup schedule --passphrase-file /root/backup.pass --unseal-passphrase-file /root/unseal.pass
  fineract-installer backup schedule --passphrase-file /root/backup.pass --unseal-passphrase-file /root/unseal.pass --at 01:15 --keep 30 --install --yes
  fineract-installer backup schedule --offsite-only --offsite-every 5m --install --yes`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o.copyEveryGiven = cmd.Flags().Changed("offsite-every")
			return runBackupSchedule(cmd.Context(), a, o)
		},
	}
	f := cmd.Flags()
	s := &o.backup
	f.StringVar(&s.At, "at", "02:30", "local time of day to run the backup, `HH:MM`")
	f.IntVar(&s.Keep, "keep", 14, "how many backups to keep (`N`)")
	f.StringVar(&s.PassphraseFile, "passphrase-file", "", "`FILE` holding the backup passphrase (mode 0600)")
	f.StringVar(&s.UnsealPassphraseFile, "unseal-passphrase-file", "", "`FILE` holding the demo custody passphrase (mode 0600)")
	f.DurationVar(&o.copyEvery, "offsite-every", 5*time.Minute, "run the off-host copy every `DURATION` (whole minutes dividing an hour), when the answers name an off-host store")
	f.BoolVar(&o.offsiteOnly, "offsite-only", false, "schedule the off-host copy alone (it needs no passphrase or key holder, so production can run it)")
	f.BoolVar(&o.install, "install", false, "write and enable the schedule")
	f.BoolVar(&o.remove, "remove", false, "disable and delete the schedule")
	f.BoolVarP(&o.yes, "yes", "y", false, "do not ask for confirmation")
	return cmd
}

// timerSchedule is one schedule the command writes: the daily backup or
// the off-host copy.
type timerSchedule interface {
	Unit() string
	Files(systemd bool) map[string]string
	Install(root string, systemd bool) ([]string, error)
	Remove(root string) ([]string, error)
}

func runBackupSchedule(ctx context.Context, a *app, o scheduleOptions) error {
	if o.install && o.remove {
		return usageError("--install and --remove exclude each other")
	}
	dir, err := filepath.Abs(a.dir)
	if err != nil {
		return withCode(ExitUsage, err)
	}
	if err := a.adoptProject(); err != nil {
		return err
	}
	s := o.backup
	s.Dir, s.Project = dir, a.project
	cs := backup.CopySchedule{Dir: dir, Project: a.project, Every: o.copyEvery}
	systemd := systemdRunning()
	p := a.printer()

	if o.remove {
		// Both, whatever the answers say now: a store may have been
		// removed from them since the copy was scheduled.
		if err := confirm(a, o.yes, "removing the schedule changes this host", fmt.Sprintf("Remove the scheduled backup and off-host copy of %s?", s.Project)); err != nil {
			return err
		}
		var removed []string
		for _, t := range []timerSchedule{s, cs} {
			if systemd {
				// Stopping a timer that is not there is not an error worth failing on.
				_ = systemctl(ctx, "disable", "--now", t.Unit()+".timer")
			}
			r, err := t.Remove(scheduleRoot)
			removed = append(removed, r...)
			if err != nil {
				return withCode(ExitFailed, err)
			}
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
	offsite := ans.Backup.Offsite.S3 != nil
	if (o.offsiteOnly || o.copyEveryGiven) && !offsite {
		return usageError("--offsite-only and --offsite-every schedule the off-host copy, and the answers name no off-host store; add backup.offsite.s3 to them and run `fineract-installer install` with them")
	}
	if !o.offsiteOnly && ans.Vault.Custody != answers.CustodyFile {
		hint := ""
		if offsite {
			hint = "; --offsite-only schedules the off-host copy alone, which needs no key holder"
		}
		return usageError("the %s profile cannot back up unattended: a backup stops Vault for a consistent copy of its storage, and only the key holders can unseal it again; run `fineract-installer backup` with them at hand%s", ans.Profile, hint)
	}
	bin, err := executable()
	if err != nil {
		return withCode(ExitFailed, fmt.Errorf("find the installer's own path: %w", err))
	}
	if strings.HasPrefix(bin, filepath.Clean(os.TempDir())+string(filepath.Separator)) {
		return usageError("this installer runs from a temporary build (%s, as with `go run`); build it (`go build -o /usr/local/bin/fineract-installer .`) and schedule from that", bin)
	}
	s.Binary, cs.Binary = bin, bin
	var scheds []timerSchedule
	var what []string
	if !o.offsiteOnly {
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
		scheds = append(scheds, s)
		what = append(what, fmt.Sprintf("back up %s every day at %s, keeping %d", s.Project, s.At, s.Keep))
	}
	if offsite {
		if err := cs.Validate(); err != nil {
			return withCode(ExitUsage, err)
		}
		scheds = append(scheds, cs)
		what = append(what, fmt.Sprintf("copy its backup repository off this host every %s", cs.Every))
	}

	files := map[string]string{}
	for _, t := range scheds {
		maps.Copy(files, t.Files(systemd))
	}
	if !o.install {
		if p.json() {
			return p.record(typeBackupSchedule, scheduleDoc{Systemd: systemd, Files: files})
		}
		for _, path := range slices.Sorted(maps.Keys(files)) {
			fmt.Fprintf(a.io.Out, "# %s\n%s\n", path, files[path])
		}
		fmt.Fprintln(a.io.Out, "# Install and enable it with the same command and --install.")
		return nil
	}
	if err := confirm(a, o.yes, "installing the schedule changes this host", strings.ToUpper(what[0][:1])+strings.Join(what, ", and ")[1:]+"?"); err != nil {
		return err
	}
	var changed []string
	for _, t := range scheds {
		c, err := t.Install(scheduleRoot, systemd)
		changed = append(changed, c...)
		if err != nil {
			return withCode(ExitFailed, err)
		}
	}
	if systemd {
		if err := systemctl(ctx, "daemon-reload"); err != nil {
			return withCode(ExitFailed, err)
		}
		for _, t := range scheds {
			if err := systemctl(ctx, "enable", "--now", t.Unit()+".timer"); err != nil {
				return withCode(ExitFailed, err)
			}
		}
	}
	if len(changed) == 0 {
		fmt.Fprintf(a.io.Out, "The schedule of %s was already installed as shown; nothing changed.\n", s.Project)
		return nil
	}
	fmt.Fprintf(a.io.Out, "%s %s\n", p.ok.Render("Installed:"), strings.Join(changed, ", "))
	for _, t := range scheds {
		if systemd {
			fmt.Fprintf(a.io.Out, "Next run: `systemctl list-timers %s.timer`; last run: `journalctl -u %s.service`\n", t.Unit(), t.Unit())
		} else {
			fmt.Fprintf(a.io.Out, "Output of each run goes to /var/log/%s.log\n", t.Unit())
		}
	}
	return nil
}
