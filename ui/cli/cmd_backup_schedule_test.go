package cli

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/fineract-installer/fineract-installer/steps/answers"
	"github.com/fineract-installer/fineract-installer/steps/installdir"
)

// scheduleHost fakes the host's root and systemd, and gives an install dir
// of the profile with passphrase files.
func scheduleHost(t *testing.T, profile answers.Profile, systemd bool) (dir, pass, unseal, root string, calls *[]string) {
	t.Helper()
	root = t.TempDir()
	var got []string
	oldRoot, oldSystemd, oldCtl, oldExe := scheduleRoot, systemdRunning, systemctl, executable
	scheduleRoot = root
	systemdRunning = func() bool { return systemd }
	systemctl = func(_ context.Context, args ...string) error { got = append(got, strings.Join(args, " ")); return nil }
	executable = func() (string, error) { return "/usr/local/bin/fineract-installer", nil }
	t.Cleanup(func() { scheduleRoot, systemdRunning, systemctl, executable = oldRoot, oldSystemd, oldCtl, oldExe })

	dir = filepath.Join(t.TempDir(), "stack")
	if err := installdir.Mark(dir); err != nil {
		t.Fatal(err)
	}
	data, err := yaml.Marshal(answers.Defaults(profile))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "answers.yaml"), data, 0o600); err != nil {
		t.Fatal(err)
	}
	secrets := t.TempDir()
	pass, unseal = filepath.Join(secrets, "backup.pass"), filepath.Join(secrets, "unseal.pass")
	for _, f := range []string{pass, unseal} {
		if err := os.WriteFile(f, []byte("a long passphrase\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir, pass, unseal, root, &got
}

func TestBackupScheduleWithSystemd(t *testing.T) {
	dir, pass, unseal, root, calls := scheduleHost(t, answers.Demo, true)
	args := []string{"backup", "schedule", "--dir", dir, "--project", "bank", "--passphrase-file", pass, "--unseal-passphrase-file", unseal, "--at", "01:15", "--keep", "30"}

	// Printing changes nothing.
	r := run(t, "", args...)
	if r.code != 0 || !strings.Contains(r.out, "# /etc/systemd/system/fineract-backup-bank.timer") || !strings.Contains(r.out, "OnCalendar=*-*-* 01:15:00") ||
		!strings.Contains(r.out, "ExecStart=/usr/local/bin/fineract-installer backup --dir "+dir) {
		t.Fatalf("print: exit %d\n%s%s", r.code, r.out, r.err)
	}
	if entries, _ := os.ReadDir(root); len(entries) != 0 || len(*calls) != 0 {
		t.Fatalf("printing wrote %v or ran systemctl %v", entries, *calls)
	}
	r = run(t, "", append(args, "-o", "json")...)
	var doc struct {
		Systemd bool
		Files   map[string]string
	}
	if err := json.Unmarshal([]byte(r.out), &doc); err != nil || !doc.Systemd || len(doc.Files) != 2 {
		t.Errorf("json: %v %s", err, r.out)
	}

	// Installing needs consent, then writes and enables the timer.
	if r = run(t, "", append(args, "--install")...); r.code != ExitUsage || !strings.Contains(r.err, "--yes") {
		t.Errorf("install without consent: exit %d %s", r.code, r.err)
	}
	if r = run(t, "", append(args, "--install", "--yes")...); r.code != 0 || !strings.Contains(r.out, "Installed:") {
		t.Fatalf("install: exit %d %s%s", r.code, r.out, r.err)
	}
	unit, err := os.ReadFile(filepath.Join(root, "etc/systemd/system/fineract-backup-bank.service"))
	if err != nil || !strings.Contains(string(unit), "--keep 30") {
		t.Fatalf("service unit: %v\n%s", err, unit)
	}
	if strings.Join(*calls, "; ") != "daemon-reload; enable --now fineract-backup-bank.timer" {
		t.Errorf("systemctl calls: %v", *calls)
	}
	if r = run(t, "", append(args, "--install", "--yes")...); r.code != 0 || !strings.Contains(r.out, "nothing changed") {
		t.Errorf("second install: exit %d %s", r.code, r.out)
	}

	*calls = nil
	if r = run(t, "", "backup", "schedule", "--dir", dir, "--project", "bank", "--remove", "--yes"); r.code != 0 || !strings.Contains(r.out, "Removed:") {
		t.Fatalf("remove: exit %d %s%s", r.code, r.out, r.err)
	}
	if _, err := os.Stat(filepath.Join(root, "etc/systemd/system/fineract-backup-bank.timer")); !os.IsNotExist(err) {
		t.Errorf("timer left after remove: %v", err)
	}
	if strings.Join(*calls, "; ") != "disable --now fineract-backup-bank.timer; disable --now fineract-offsite-copy-bank.timer; daemon-reload" {
		t.Errorf("systemctl calls on remove: %v", *calls)
	}
}

func TestBackupScheduleWithCronAndRefusals(t *testing.T) {
	dir, pass, unseal, root, calls := scheduleHost(t, answers.Demo, false)
	r := run(t, "", "backup", "schedule", "--dir", dir, "--project", "bank", "--passphrase-file", pass, "--unseal-passphrase-file", unseal, "--install", "--yes")
	if r.code != 0 {
		t.Fatalf("cron install: exit %d %s", r.code, r.err)
	}
	cron, err := os.ReadFile(filepath.Join(root, "etc/cron.d/fineract-backup-bank"))
	if err != nil || !strings.Contains(string(cron), "30 2 * * * root /usr/local/bin/fineract-installer backup") || len(*calls) != 0 {
		t.Errorf("cron entry: %v %v\n%s", err, *calls, cron)
	}

	// Without the unseal passphrase file it could not run unattended.
	r = run(t, "", "backup", "schedule", "--dir", dir, "--project", "bank", "--passphrase-file", pass)
	if r.code != ExitUsage || !strings.Contains(r.err, "--unseal-passphrase-file is needed") {
		t.Errorf("no unseal passphrase: exit %d %s", r.code, r.err)
	}
	// Not an installation.
	r = run(t, "", "backup", "schedule", "--dir", t.TempDir(), "--passphrase-file", pass, "--unseal-passphrase-file", unseal)
	if r.code != ExitUsage || !strings.Contains(r.err, "no installation in") {
		t.Errorf("no installation: exit %d %s", r.code, r.err)
	}
}

func TestBackupScheduleRefusesProduction(t *testing.T) {
	dir, pass, unseal, root, _ := scheduleHost(t, answers.Production, true)
	r := run(t, "", "backup", "schedule", "--dir", dir, "--passphrase-file", pass, "--unseal-passphrase-file", unseal, "--install", "--yes")
	if r.code != ExitUsage || !strings.Contains(r.err, "only the key holders can unseal it again") {
		t.Errorf("production: exit %d %s", r.code, r.err)
	}
	if entries, _ := os.ReadDir(root); len(entries) != 0 {
		t.Errorf("a refused schedule wrote %v", entries)
	}
}

// TestBackupScheduleRefusesInjectedLines replays the injection: a
// passphrase file whose name holds a line break wrote a second job, run
// as root every minute, into the cron file (or a second setting into the
// unit). It is bad input: exit 2, nothing written, systemctl not run.
func TestBackupScheduleRefusesInjectedLines(t *testing.T) {
	for _, systemd := range []bool{false, true} {
		dir, pass, unseal, root, calls := scheduleHost(t, answers.Demo, systemd)
		for _, name := range []string{"pass\n* * * * * root id >owned #", "pass\nExecStartPre=id", "pass\rx"} {
			evil := filepath.Join(filepath.Dir(pass), name)
			if err := os.WriteFile(evil, []byte("a long passphrase\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			for _, files := range [][2]string{{evil, unseal}, {pass, evil}} {
				r := run(t, "", "backup", "schedule", "--dir", dir, "--project", "bank", "--passphrase-file", files[0], "--unseal-passphrase-file", files[1], "--install", "--yes")
				if r.code != ExitUsage || !strings.Contains(r.err, "control character") {
					t.Errorf("systemd %v, %q: exit %d %s", systemd, name, r.code, r.err)
				}
			}
		}
		if entries, _ := os.ReadDir(root); len(entries) != 0 || len(*calls) != 0 {
			t.Errorf("systemd %v: a refused schedule wrote %v or ran systemctl %v", systemd, entries, *calls)
		}
	}
}

// withOffsiteStore names an off-host store in the install dir's answers.
func withOffsiteStore(t *testing.T, dir string, profile answers.Profile) {
	t.Helper()
	a := answers.Defaults(profile)
	a.Backup.Offsite.S3 = &answers.S3Target{Endpoint: "https://s3.example.org:9000", Bucket: "backups"}
	data, err := yaml.Marshal(a)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "answers.yaml"), data, 0o600); err != nil {
		t.Fatal(err)
	}
}

// With an off-host store, the schedule adds a timer that runs the copy
// every --offsite-every, and --remove takes both away.
func TestBackupScheduleAddsTheOffsiteCopy(t *testing.T) {
	dir, pass, unseal, root, calls := scheduleHost(t, answers.Demo, true)
	withOffsiteStore(t, dir, answers.Demo)
	args := []string{"backup", "schedule", "--dir", dir, "--project", "bank", "--passphrase-file", pass, "--unseal-passphrase-file", unseal}
	r := run(t, "", args...)
	if r.code != 0 || !strings.Contains(r.out, "# /etc/systemd/system/fineract-offsite-copy-bank.timer") || !strings.Contains(r.out, "OnCalendar=*-*-* *:00/5:00") ||
		!strings.Contains(r.out, "ExecStart=/usr/local/bin/fineract-installer backup offsite copy --dir "+dir) || !strings.Contains(r.out, "fineract-backup-bank.timer") {
		t.Fatalf("print: exit %d\n%s%s", r.code, r.out, r.err)
	}
	if r = run(t, "", append(args, "--offsite-every", "7m")...); r.code != ExitUsage || !strings.Contains(r.err, "divide an hour") {
		t.Errorf("--offsite-every 7m: exit %d %s", r.code, r.err)
	}
	if r = run(t, "", append(args, "--offsite-every", "15m", "--install", "--yes")...); r.code != 0 {
		t.Fatalf("install: exit %d %s%s", r.code, r.out, r.err)
	}
	timer, err := os.ReadFile(filepath.Join(root, "etc/systemd/system/fineract-offsite-copy-bank.timer"))
	if err != nil || !strings.Contains(string(timer), "OnCalendar=*-*-* *:00/15:00") {
		t.Fatalf("copy timer: %v\n%s", err, timer)
	}
	if strings.Join(*calls, "; ") != "daemon-reload; enable --now fineract-backup-bank.timer; enable --now fineract-offsite-copy-bank.timer" {
		t.Errorf("systemctl calls: %v", *calls)
	}
	if r = run(t, "", "backup", "schedule", "--dir", dir, "--project", "bank", "--remove", "--yes"); r.code != 0 {
		t.Fatalf("remove: exit %d %s", r.code, r.err)
	}
	if entries, _ := os.ReadDir(filepath.Join(root, "etc/systemd/system")); len(entries) != 0 {
		t.Errorf("left after remove: %v", entries)
	}
}

// Production cannot schedule the backup (it needs the key holders), and
// can schedule the off-host copy alone, which needs no secret; a copy
// with no store to copy to is bad input.
func TestBackupScheduleOffsiteOnly(t *testing.T) {
	for _, systemd := range []bool{true, false} {
		dir, pass, unseal, root, _ := scheduleHost(t, answers.Production, systemd)
		r := run(t, "", "backup", "schedule", "--dir", dir, "--project", "bank", "--offsite-only", "--install", "--yes")
		if r.code != ExitUsage || !strings.Contains(r.err, "name no off-host store") {
			t.Errorf("no store: exit %d %s", r.code, r.err)
		}
		withOffsiteStore(t, dir, answers.Production)
		r = run(t, "", "backup", "schedule", "--dir", dir, "--project", "bank", "--passphrase-file", pass, "--unseal-passphrase-file", unseal, "--install", "--yes")
		if r.code != ExitUsage || !strings.Contains(r.err, "only the key holders can unseal it again") || !strings.Contains(r.err, "--offsite-only") {
			t.Errorf("production backup: exit %d %s", r.code, r.err)
		}
		if entries, _ := os.ReadDir(root); len(entries) != 0 {
			t.Fatalf("a refused schedule wrote %v", entries)
		}
		r = run(t, "", "backup", "schedule", "--dir", dir, "--project", "bank", "--offsite-only", "--install", "--yes")
		if r.code != 0 {
			t.Fatalf("systemd %v, --offsite-only: exit %d %s", systemd, r.code, r.err)
		}
		want := map[bool][]string{true: {"fineract-offsite-copy-bank.service", "fineract-offsite-copy-bank.timer"}, false: {"fineract-offsite-copy-bank"}}[systemd]
		sub := map[bool]string{true: "etc/systemd/system", false: "etc/cron.d"}[systemd]
		entries, _ := os.ReadDir(filepath.Join(root, sub))
		var got []string
		for _, e := range entries {
			got = append(got, e.Name())
		}
		if strings.Join(got, " ") != strings.Join(want, " ") {
			t.Errorf("systemd %v, --offsite-only wrote %v, want %v", systemd, got, want)
		}
		if !systemd {
			cron, _ := os.ReadFile(filepath.Join(root, sub, "fineract-offsite-copy-bank"))
			if !strings.Contains(string(cron), "\n*/5 * * * * root /usr/local/bin/fineract-installer backup offsite copy --dir "+dir) {
				t.Errorf("cron entry:\n%s", cron)
			}
		}
	}
}
