package answers

import (
	"strings"
	"testing"
	"time"
)

// An answers file written before the backup section existed loads with
// the profile's backup defaults: production archives WAL, demo does not.
func TestBackupDefaultsForFilesWithoutTheSection(t *testing.T) {
	for p, archiving := range map[Profile]bool{Production: true, Demo: false} {
		a, err := Parse("old.yaml", []byte("version: 1\nprofile: "+string(p)+"\nhost: {hostname: bank.example.org}\n"))
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		b := a.Backup
		if b.WALArchiving != archiving || b.ArchiveTimeoutDuration() != 5*time.Minute || b.RPODuration() != 5*time.Minute ||
			b.KeepBaseOrDefault() != 7 || b.KeepDaysOrDefault() != 14 {
			t.Errorf("%s: backup = %+v", p, b)
		}
		if got := b.RepositoryDir("/opt/fs"); got != "/opt/fs/backups/repository" {
			t.Errorf("%s: repository %s", p, got)
		}
	}
	a, err := Parse("a.yaml", []byte("version: 1\nprofile: demo\nbackup: {wal_archiving: true, archive_timeout: 30s, rpo: 2m, repository: /srv/repo, keep_base: 3}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if b := a.Backup; !b.WALArchiving || b.ArchiveTimeoutDuration() != 30*time.Second || b.RPODuration() != 2*time.Minute ||
		b.RepositoryDir("/opt/fs") != "/srv/repo" || b.KeepBase != 3 || b.KeepDays != 14 {
		t.Errorf("backup = %+v", b)
	}
}

func TestBackupValidation(t *testing.T) {
	for _, c := range []struct{ section, key, says string }{
		{"archive_timeout: 10s", "backup.archive_timeout", "between 30s and 1h0m0s"},
		{"archive_timeout: 2h", "backup.archive_timeout", "between"},
		{"archive_timeout: 90500ms", "backup.archive_timeout", "whole seconds"},
		{"archive_timeout: soon", "backup.archive_timeout", "not a duration"},
		{"archive_timeout: 10m, rpo: 5m", "backup.rpo", "shorter than backup.archive_timeout"},
		{"rpo: 1m", "backup.rpo", "shorter than"},
		{"rpo: often", "backup.rpo", "not a duration"},
		{"repository: backups/repo", "backup.repository", "absolute"},
		{"repository: /srv/../etc", "backup.repository", "without ., .."},
		{"repository: /srv/a:b", "backup.repository", "bind mount"},
		{"keep_base: 0", "backup.keep_base", "at least 1"},
		{"keep_days: -2", "backup.keep_days", "at least 1"},
	} {
		_, err := Parse("answers.yaml", []byte("version: 1\nprofile: demo\nbackup: {"+c.section+"}\n"))
		if err == nil || !strings.Contains(err.Error(), c.key) || !strings.Contains(err.Error(), c.says) {
			t.Errorf("backup {%s}: got %v, want a refusal naming %s saying %q", c.section, err, c.key, c.says)
		}
	}
}
