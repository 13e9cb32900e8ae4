package backup

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

func testCopySchedule() CopySchedule {
	return CopySchedule{Binary: "/usr/local/bin/fineract-installer", Dir: "/opt/fineract-stack", Project: "bank", Every: 5 * time.Minute}
}

// An interval the timer and the cron line cannot both run exactly is
// refused, as are paths and names a unit or a cron line cannot carry.
func TestCopyScheduleRefusals(t *testing.T) {
	if err := testCopySchedule().Validate(); err != nil {
		t.Fatalf("a sound schedule: %v", err)
	}
	for _, every := range []time.Duration{0, -time.Minute, 30 * time.Second, 90 * time.Second, 7 * time.Minute, 45 * time.Minute, 2 * time.Hour} {
		s := testCopySchedule()
		s.Every = every
		if err := s.Validate(); err == nil || !strings.Contains(err.Error(), "whole minutes that divide an hour") {
			t.Errorf("every %s: %v", every, err)
		}
	}
	cases := []struct {
		change func(*CopySchedule)
		want   string
	}{
		{func(s *CopySchedule) { s.Project = "Bank One" }, "can name a unit"},
		{func(s *CopySchedule) { s.Dir = "stack" }, "--dir must be an absolute path"},
		{func(s *CopySchedule) { s.Dir = "/srv/x\n* * * * * root id" }, "control character"},
		{func(s *CopySchedule) { s.Binary = "/opt/x\nExecStartPre=id" }, "control character"},
	}
	for _, c := range cases {
		s := testCopySchedule()
		c.change(&s)
		if err := s.Validate(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v, want %q", s, err, c.want)
		}
		if _, err := s.Install(t.TempDir(), false); err == nil {
			t.Errorf("%+v: installed", s)
		}
	}
}

func TestCopyScheduleFiles(t *testing.T) {
	s := testCopySchedule()
	if svc := s.SystemdService(); !strings.Contains(svc, "ExecStart=/usr/local/bin/fineract-installer backup offsite copy --dir /opt/fineract-stack --project bank --no-color") {
		t.Errorf("service:\n%s", svc)
	}
	if timer := s.SystemdTimer(); !strings.Contains(timer, "OnCalendar=*-*-* *:00/5:00") {
		t.Errorf("timer:\n%s", timer)
	}
	if cron := s.CronFile(); !strings.Contains(cron, "\n*/5 * * * * root /usr/local/bin/fineract-installer backup offsite copy --dir /opt/fineract-stack --project bank --no-color >>/var/log/fineract-offsite-copy-bank.log 2>&1\n") {
		t.Errorf("cron:\n%s", cron)
	}
	s.Every = time.Hour
	if cron := s.CronFile(); !strings.Contains(cron, "\n0 * * * * root ") {
		t.Errorf("hourly cron:\n%s", cron)
	}
	if timer := s.SystemdTimer(); !strings.Contains(timer, "OnCalendar=*-*-* *:00/60:00") {
		t.Errorf("hourly timer:\n%s", timer)
	}
}

// The copy's schedule carries awkward paths exactly, as the backup's does,
// and installs and removes beside it without touching its files.
func TestCopyScheduleCarriesAwkwardPathsAndInstallsBesideTheBackup(t *testing.T) {
	for i, name := range awkwardNames {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			s := CopySchedule{Binary: "/opt/" + name + "/fineract-installer", Dir: "/srv/" + name, Project: "bank", Every: 10 * time.Minute}
			root := t.TempDir()
			if _, err := s.Install(root, true); err != nil {
				t.Fatal(err)
			}
			if _, err := s.Install(root, false); err != nil {
				t.Fatal(err)
			}
			unit, err := os.ReadFile(filepath.Join(root, "etc/systemd/system", s.Unit()+".service"))
			if err != nil {
				t.Fatal(err)
			}
			if got, err := execStart(string(unit)); err != nil || !equal(got, s.Command()) {
				t.Errorf("%q: ExecStart gives %q (%v)", name, got, err)
			}
			cron, err := os.ReadFile(filepath.Join(root, "etc/cron.d", s.Unit()))
			if err != nil {
				t.Fatal(err)
			}
			if got, err := cronCommand(t, string(cron), "/var/log/"+s.Unit()+".log"); err != nil || !equal(got, s.Command()) {
				t.Errorf("%q: the cron line gives %q (%v)\n%s", name, got, err, cron)
			}
		})
	}

	backup := testSchedule(t)
	cs := testCopySchedule()
	root := t.TempDir()
	if _, err := backup.Install(root, true); err != nil {
		t.Fatal(err)
	}
	if changed, err := cs.Install(root, true); err != nil || len(changed) != 2 {
		t.Fatalf("copy schedule: %v %v", changed, err)
	}
	if changed, err := cs.Install(root, true); err != nil || len(changed) != 0 {
		t.Errorf("rerun changed %v (%v)", changed, err)
	}
	if removed, err := cs.Remove(root); err != nil || len(removed) != 2 {
		t.Errorf("remove: %v %v", removed, err)
	}
	if _, err := os.Stat(filepath.Join(root, "etc/systemd/system/fineract-backup-bank.timer")); err != nil {
		t.Errorf("removing the copy's schedule removed the backup's: %v", err)
	}
}
