package validate

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/fineract-installer/fineract-installer/compose"
	"github.com/fineract-installer/fineract-installer/steps/backup/wal"
)

// BackupChecks look at continuous archiving.
func BackupChecks() []Check {
	return []Check{
		{ID: "backup-wal-age", Area: AreaBackups, Title: "WAL archiving keeps the recovery point objective", Controls: []Control{ControlBackup}, Run: checkWALAge},
	}
}

// archiverStats is PostgreSQL's pg_stat_archiver, times in Unix seconds
// (0 when never).
type archiverStats struct {
	archived, failed         int64
	lastArchived, lastFailed string
	archivedAt, failedAt     int64
}

const archiverSQL = `SELECT archived_count, coalesce(last_archived_wal, ''), coalesce(extract(epoch FROM last_archived_time)::bigint, 0),
 failed_count, coalesce(last_failed_wal, ''), coalesce(extract(epoch FROM last_failed_time)::bigint, 0) FROM pg_stat_archiver`

func parseArchiverStats(out string) (archiverStats, error) {
	f := strings.Split(strings.TrimSpace(out), "|")
	if len(f) != 6 {
		return archiverStats{}, fmt.Errorf("pg_stat_archiver returned %q", out)
	}
	var s archiverStats
	var errs [4]error
	s.archived, errs[0] = strconv.ParseInt(f[0], 10, 64)
	s.archivedAt, errs[1] = strconv.ParseInt(f[2], 10, 64)
	s.failed, errs[2] = strconv.ParseInt(f[3], 10, 64)
	s.failedAt, errs[3] = strconv.ParseInt(f[5], 10, 64)
	for _, err := range errs {
		if err != nil {
			return archiverStats{}, fmt.Errorf("pg_stat_archiver returned %q", out)
		}
	}
	s.lastArchived, s.lastFailed = f[1], f[4]
	return s, nil
}

// checkWALAge compares the newest segment in the repository with the RPO
// and asks PostgreSQL whether archiving is failing.
func checkWALAge(ctx context.Context, t *Target) Finding {
	b := t.Answers.Backup
	if !b.WALArchiving {
		return pass("continuous WAL archiving is off (backup.wal_archiving: false): the recovery point is the newest backup")
	}
	out, err := t.psql(ctx, archiverSQL)
	if err != nil {
		return fail("cannot read pg_stat_archiver: "+err.Error(), "check that PostgreSQL runs: `fineract-installer status`")
	}
	stats, err := parseArchiverStats(out)
	if err != nil {
		return fail(err.Error(), "")
	}
	dir := filepath.Join(b.RepositoryDir(t.Dir), "wal")
	newest, err := newestSegment(dir)
	if err != nil {
		return fail(fmt.Sprintf("cannot list the WAL repository %s: %v", dir, err), "the install creates it; run `fineract-installer install` again")
	}
	var cause string
	if stats.failing() {
		cause = t.archiveError(ctx, stats.lastFailed)
	}
	return walAgeFinding(stats, newest, b.RPODuration(), time.Now(), dir, cause)
}

// failing reports whether the last attempt to archive failed.
func (s archiverStats) failing() bool { return s.lastFailed != "" && s.failedAt >= s.archivedAt }

// archiveLogTail bounds the log lines read for the cause of a failure.
const archiveLogTail = 400

// archiveError is the last line PostgreSQL's log holds from wal-push about
// name (its stderr goes to the container's log), or "" when none is found.
// PostgreSQL's own lines after it quote the command line, which names both
// too but says nothing of the cause: they are passed over.
func (t *Target) archiveError(ctx context.Context, name string) string {
	var last string
	_ = t.Engine.Logs(ctx, t.Project, compose.LogOptions{Services: []string{"postgres"}, Tail: archiveLogTail}, func(l compose.LogLine) {
		if isWALPushError(l.Text, name) {
			last = strings.TrimSpace(l.Text)
		}
	})
	if len(last) > 300 {
		last = last[:300] + "..."
	}
	return last
}

// newestSegment is the newest complete segment in the repository by
// modification time, or nil. Listing decrypts nothing: `backup verify`
// authenticates the objects.
func newestSegment(dir string) (*wal.Object, error) {
	repo, err := os.OpenRoot(dir)
	if err != nil {
		return nil, err
	}
	defer repo.Close()
	objs, err := wal.List(repo)
	if err != nil {
		return nil, err
	}
	var newest *wal.Object
	for i, o := range objs {
		if _, _, ok := wal.ParseSegmentName(o.Name); ok && (newest == nil || o.ModTime.After(newest.ModTime)) {
			newest = &objs[i]
		}
	}
	return newest, nil
}

// walAgeFinding judges the archiver's statistics and the newest segment;
// cause is wal-push's error from PostgreSQL's log, when archiving fails.
func walAgeFinding(s archiverStats, newest *wal.Object, rpo time.Duration, now time.Time, dir, cause string) Finding {
	counts := fmt.Sprintf("PostgreSQL archived %d WAL files since its statistics were reset, %d attempts failed", s.archived, s.failed)
	if s.failing() {
		if cause != "" {
			cause = "; the error: " + cause
		}
		since := now.Sub(time.Unix(s.failedAt, 0)).Round(time.Second)
		last := "none yet"
		if s.lastArchived != "" {
			last = fmt.Sprintf("%s, %s ago", s.lastArchived, now.Sub(time.Unix(s.archivedAt, 0)).Round(time.Second))
		}
		return Finding{Status: Fail, Subject: s.lastFailed,
			Evidence: fmt.Sprintf("archiving is failing: PostgreSQL could not archive WAL %s (last attempt %s ago; last archived: %s; %s)%s. PostgreSQL keeps running and keeps the WAL in pg_wal until it can be archived: archiving is backing up, not the database",
				s.lastFailed, since, last, counts, cause),
			Fix: fmt.Sprintf("check free space in the repository (df -h %s) and the wal-push error in `fineract-installer logs postgres`; archiving resumes by itself, without losing a segment, once the cause is fixed — before pg_wal fills the database volume", dir)}
	}
	if newest == nil {
		return Finding{Status: Warn, Evidence: fmt.Sprintf("no WAL segment archived in %s yet; %s", dir, counts),
			Fix: "PostgreSQL archives a segment within backup.archive_timeout of a change; if none appears, see `fineract-installer logs postgres`"}
	}
	age := now.Sub(newest.ModTime).Round(time.Second)
	evidence := fmt.Sprintf("newest archived segment %s, %s old (RPO %s); %s", newest.Name, age, rpo, counts)
	if age > rpo {
		return Finding{Status: Warn, Subject: newest.Name, Evidence: evidence,
			Fix: "a database with writes closes a segment every backup.archive_timeout; an idle one archives nothing new, which is no loss. Otherwise see `fineract-installer logs postgres` for archive_command errors"}
	}
	return pass(evidence)
}

// isWALPushError reports whether a log line is wal-push's own error about
// the WAL file name, not PostgreSQL's report of the failed command
// ("archive command failed with exit code 1", "The failed archive command
// was: ...").
func isWALPushError(line, name string) bool {
	return strings.Contains(line, "wal-push") && strings.Contains(line, name) && !strings.Contains(line, "archive command")
}
