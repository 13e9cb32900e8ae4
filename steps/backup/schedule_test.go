package backup

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func testSchedule(t *testing.T) Schedule {
	t.Helper()
	dir := t.TempDir()
	pass := filepath.Join(dir, "backup pass")
	unseal := filepath.Join(dir, "unseal.pass")
	for _, f := range []string{pass, unseal} {
		if err := os.WriteFile(f, []byte("a long passphrase\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return Schedule{Binary: "/usr/local/bin/fineract-installer", Dir: "/opt/fineract-stack", Project: "bank",
		At: "02:05", Keep: 14, PassphraseFile: pass, UnsealPassphraseFile: unseal}
}

func TestScheduleRefusesWhatCannotRunUnattended(t *testing.T) {
	good := testSchedule(t)
	if err := good.Validate(); err != nil {
		t.Fatalf("a sound schedule: %v", err)
	}
	open := filepath.Join(t.TempDir(), "open.pass")
	os.WriteFile(open, []byte("x"), 0o644)
	cases := []struct {
		change func(*Schedule)
		want   string
	}{
		{func(s *Schedule) { s.At = "2:30" }, "HH:MM"},
		{func(s *Schedule) { s.At = "24:00" }, "HH:MM"},
		{func(s *Schedule) { s.Keep = 0 }, "keep at least one"},
		{func(s *Schedule) { s.Project = "Bank One" }, "can name a unit"},
		{func(s *Schedule) { s.Dir = "stack" }, "--dir must be an absolute path"},
		{func(s *Schedule) { s.PassphraseFile = "" }, "cannot ask for a passphrase"},
		{func(s *Schedule) { s.UnsealPassphraseFile = "/nonexistent/unseal.pass" }, "no such file"},
		{func(s *Schedule) { s.PassphraseFile = open }, "chmod 600"},
	}
	for _, c := range cases {
		s := good
		c.change(&s)
		if err := s.Validate(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("want an error with %q, got %v", c.want, err)
		}
	}
}

func TestScheduleFiles(t *testing.T) {
	s := testSchedule(t)
	svc := s.SystemdService()
	// The path with a space is quoted for systemd; nothing else is.
	if !strings.Contains(svc, `ExecStart=/usr/local/bin/fineract-installer backup --dir /opt/fineract-stack --project bank --passphrase-file "`+s.PassphraseFile+`" --unseal-passphrase-file `+s.UnsealPassphraseFile+` --keep 14 --no-color`) {
		t.Errorf("service:\n%s", svc)
	}
	if timer := s.SystemdTimer(); !strings.Contains(timer, "OnCalendar=*-*-* 02:05:00") || !strings.Contains(timer, "Persistent=true") {
		t.Errorf("timer:\n%s", timer)
	}
	cron := s.CronFile()
	if !strings.Contains(cron, "\n5 2 * * * root /usr/local/bin/fineract-installer backup --dir /opt/fineract-stack --project bank --passphrase-file '"+s.PassphraseFile+"' ") ||
		!strings.HasSuffix(cron, ">>/var/log/fineract-backup-bank.log 2>&1\n") {
		t.Errorf("cron:\n%s", cron)
	}
	if got := shellQuote("it's"); got != `'it'\''s'` {
		t.Errorf("shell quoting: %s", got)
	}
	if got := systemdQuote(`50%$"`); got != `"50%%$$\""` {
		t.Errorf("systemd quoting: %s", got)
	}
	for _, body := range []string{svc, cron} {
		if strings.Contains(body, "a long passphrase") {
			t.Error("a passphrase is written into the schedule")
		}
	}
}

func TestScheduleInstallIsIdempotentAndRemovable(t *testing.T) {
	s := testSchedule(t)
	root := t.TempDir()
	changed, err := s.Install(root, true)
	if err != nil || len(changed) != 2 {
		t.Fatalf("first install: %v %v", changed, err)
	}
	fi, err := os.Stat(filepath.Join(root, "etc/systemd/system/fineract-backup-bank.timer"))
	if err != nil || fi.Mode().Perm() != 0o644 {
		t.Fatalf("timer unit: %v %v", fi, err)
	}
	if changed, err := s.Install(root, true); err != nil || len(changed) != 0 {
		t.Errorf("rerun changed %v (%v)", changed, err)
	}
	s.At = "03:00"
	if changed, err := s.Install(root, true); err != nil || len(changed) != 1 || !strings.HasSuffix(changed[0], ".timer") {
		t.Errorf("a new time changes only the timer: %v %v", changed, err)
	}
	if _, err := s.Install(root, false); err != nil {
		t.Fatal(err)
	}
	removed, err := s.Remove(root)
	if err != nil || len(removed) != 3 {
		t.Errorf("remove: %v %v", removed, err)
	}
	if removed, _ := s.Remove(root); len(removed) != 0 {
		t.Errorf("a second remove found %v", removed)
	}
}
