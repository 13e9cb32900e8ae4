package validate

import (
	"strings"
	"testing"
	"time"

	"github.com/fineract-installer/fineract-installer/steps/backup/wal"
)

func TestParseArchiverStats(t *testing.T) {
	s, err := parseArchiverStats("12|00000001000000000000000C|1764820000|3|00000001000000000000000D|1764820100\n")
	if err != nil || s.archived != 12 || s.lastArchived != "00000001000000000000000C" || s.failed != 3 || s.failedAt != 1764820100 {
		t.Fatalf("%+v, %v", s, err)
	}
	if _, err := parseArchiverStats("0||0|0|"); err == nil {
		t.Fatal("five fields accepted")
	}
}

// A failure newer than the last success fails the check naming the WAL
// file, saying PostgreSQL keeps running; an old newest segment warns past
// the RPO; a fresh one passes.
func TestWALAgeFinding(t *testing.T) {
	now := time.Unix(1764820000, 0)
	fresh := &wal.Object{Name: "000000010000000000000010", ModTime: now.Add(-2 * time.Minute)}
	stale := &wal.Object{Name: "000000010000000000000010", ModTime: now.Add(-20 * time.Minute)}
	ok := archiverStats{archived: 16, lastArchived: fresh.Name, archivedAt: now.Add(-2 * time.Minute).Unix()}
	failing := ok
	failing.failed, failing.lastFailed, failing.failedAt = 4, "000000010000000000000011", now.Add(-30*time.Second).Unix()
	recovered := failing
	recovered.lastArchived, recovered.archivedAt = "000000010000000000000011", now.Add(-10*time.Second).Unix()

	for _, c := range []struct {
		name   string
		s      archiverStats
		newest *wal.Object
		status Status
		cause  string
		says   []string
	}{
		{"fresh", ok, fresh, Pass, "", []string{fresh.Name, "2m0s old", "RPO 5m0s"}},
		{"past the RPO", ok, stale, Warn, "", []string{"20m0s old", "RPO 5m0s"}},
		{"nothing archived", archiverStats{}, nil, Warn, "", []string{"no WAL segment archived"}},
		{"failing", failing, fresh, Fail, "error: wal-push 000000010000000000000011: write: no space left on device", []string{"no space left on device", "could not archive WAL 000000010000000000000011", "PostgreSQL keeps running", "4 attempts failed"}},
		{"failing before anything was archived", archiverStats{failed: 1, lastFailed: "000000010000000000000001", failedAt: now.Unix()}, nil, Fail, "", []string{"000000010000000000000001", "last archived: none yet"}},
		{"recovered after failures", recovered, fresh, Pass, "", nil},
	} {
		f := walAgeFinding(c.s, c.newest, 5*time.Minute, now, "/opt/fs/backups/repository/wal", c.cause)
		if f.Status != c.status {
			t.Errorf("%s: %s (%s), want %s", c.name, f.Status, f.Evidence, c.status)
		}
		for _, s := range c.says {
			if !strings.Contains(f.Evidence, s) {
				t.Errorf("%s: evidence %q lacks %q", c.name, f.Evidence, s)
			}
		}
		if f.Status == Fail && !strings.Contains(f.Fix, "free space") {
			t.Errorf("%s: fix %q does not point at free space", c.name, f.Fix)
		}
	}
}

// TestWALPushErrorIsTheCauseNotPostgreSQLsReport replays PostgreSQL's
// three lines of a failed archive: the cause is wal-push's own, not the
// later DETAIL quoting the command line, which names the file too.
func TestWALPushErrorIsTheCauseNotPostgreSQLsReport(t *testing.T) {
	name := "000000010000000000000007"
	lines := []string{
		"Error: wal-push " + name + ": write /var/lib/fineract-wal/." + name + ".fiwal.tmp-1: no space left on device",
		"2026-12-04 04:22:08.921 UTC [24] LOG:  archive command failed with exit code 1",
		"2026-12-04 04:22:08.921 UTC [24] DETAIL:  The failed archive command was: /usr/local/libexec/fineract-installer/fineract-installer wal-push --repo /var/lib/fineract-wal --key-file /run/secrets/wal_archive_key pg_wal/" + name + " " + name,
	}
	var last string
	for _, l := range lines {
		if isWALPushError(l, name) {
			last = l
		}
	}
	if last != lines[0] {
		t.Errorf("cause taken from %q, want wal-push's own line", last)
	}
}
