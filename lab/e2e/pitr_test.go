package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fineract-installer/fineract-installer/steps/backup/archive"
	"github.com/fineract-installer/fineract-installer/steps/backup/wal"
)

// pitrStack is a demo stack with WAL archiving on and a short
// archive_timeout, so quiet periods still close segments.
func pitrStack(t *testing.T, n int) *stack {
	t.Helper()
	s := newStack(t, n)
	s.ans.Backup.WALArchiving = true
	s.ans.Backup.ArchiveTimeout = "30s"
	s.ans.Backup.RPO = "1m"
	// Retention keeps the newest base backup and a day of restorable points.
	s.ans.Backup.KeepBase = 1
	s.ans.Backup.KeepDays = 1
	data, err := yamlOf(s.ans)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(s.answers, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return s
}

// sql runs one statement in the stack's PostgreSQL and returns its
// unaligned output.
func (s *stack) sql(t *testing.T, ctx context.Context, q string) string {
	t.Helper()
	pg, _ := s.bundle.Service("postgres")
	res, err := s.engine.Exec(ctx, s.project, "postgres", pg.User(), []string{"psql", "-X", "-At", "-v", "ON_ERROR_STOP=1", "-h", "/var/run/postgresql", "-U", "postgres", "-d", "postgres", "-c", q}, nil, nil)
	if err != nil || res.ExitCode != 0 {
		t.Fatalf("%s: %v %s", q, err, res.Stderr)
	}
	return strings.TrimSpace(string(res.Stdout))
}

// archiveNow closes the current segment and waits until PostgreSQL has
// archived it, so everything committed so far is in the repository.
func (s *stack) archiveNow(t *testing.T, ctx context.Context) {
	t.Helper()
	seg := s.sql(t, ctx, "SELECT pg_walfile_name(pg_switch_wal())")
	for {
		if done := s.sql(t, ctx, "SELECT coalesce(last_archived_wal >= '"+seg+"', false) FROM pg_stat_archiver"); done == "t" {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("segment %s was never archived: %s", seg, s.sql(t, ctx, "SELECT last_failed_wal FROM pg_stat_archiver"))
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// probe is the rows of the test's table: count and checksum.
func (s *stack) probe(t *testing.T, ctx context.Context) string {
	t.Helper()
	return s.sql(t, ctx, "SELECT count(*) || ' ' || coalesce(md5(string_agg(id || ':' || note, ',' ORDER BY id)), '-') FROM pitr_probe")
}

func TestPointInTimeRestore(t *testing.T) {
	s := pitrStack(t, 62)
	ctx := ctxFor(t, 40*time.Minute)
	if r := s.install(ctx); r.code != 0 {
		t.Fatalf("install: exit %d %s\n%s", r.code, r.stderr, tail(r.stdout, 20))
	}
	pass := func(args ...string) result {
		cmd := s.command(ctx, args...)
		cmd.Env = append(cmd.Env, "FINERACT_BACKUP_PASSPHRASE="+backupPassphrase)
		return s.runCommand(cmd, args)
	}
	s.sql(t, ctx, "CREATE TABLE pitr_probe (id int PRIMARY KEY, note text NOT NULL)")
	s.sql(t, ctx, "INSERT INTO pitr_probe SELECT g, 'before the base backup ' || g FROM generate_series(1, 1000) g")

	start := time.Now()
	r := pass("backup", "-o", "json")
	if r.code != 0 {
		t.Fatalf("base backup: exit %d %s\n%s", r.code, r.stderr, tail(r.stdout, 20))
	}
	t.Logf("base backup: %s", time.Since(start).Round(time.Millisecond))
	repo := s.ans.Backup.RepositoryDir(s.dir)

	// t1 < t2 < t3, each archived. A time target is reached at the first
	// commit after it, so each target has a commit after it in the same
	// segment (the marker row after t1, the t3 rows after t2).
	stamp := func() string {
		time.Sleep(time.Second) // commit timestamps are the server's: leave a gap either side
		at := s.sql(t, ctx, "SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')")
		time.Sleep(time.Second)
		return at
	}
	s.sql(t, ctx, "INSERT INTO pitr_probe SELECT g, 't1 ' || g FROM generate_series(1001, 1100) g")
	atT1 := s.probe(t, ctx)
	targetT1 := stamp()
	s.sql(t, ctx, "INSERT INTO pitr_probe VALUES (1101, 'after t1')")
	s.archiveNow(t, ctx)
	s.sql(t, ctx, "INSERT INTO pitr_probe SELECT g, 't2 ' || g FROM generate_series(1102, 1200) g")
	atT2 := s.probe(t, ctx)
	targetT2 := stamp()
	s.archiveNow(t, ctx)
	t2Segment := s.sql(t, ctx, "SELECT last_archived_wal FROM pg_stat_archiver")
	s.sql(t, ctx, "INSERT INTO pitr_probe SELECT g, 't3 ' || g FROM generate_series(1201, 1300) g")
	s.archiveNow(t, ctx)
	s.sql(t, ctx, "INSERT INTO pitr_probe VALUES (5000, 'after t3')")
	s.archiveNow(t, ctx)
	atEnd := s.probe(t, ctx)

	// The listing names the window; the repository verifies.
	r = pass("backup", "list", "-o", "json")
	var list struct {
		Window struct{ From, To time.Time } `json:"window"`
	}
	if r.code != 0 || json.Unmarshal([]byte(lastLine(r.stdout)), &list) != nil || list.Window.From.IsZero() {
		t.Fatalf("backup list: exit %d %s %s", r.code, r.stdout, r.stderr)
	}
	if r := pass("backup", "verify"); r.code != 0 {
		t.Fatalf("backup verify of a sound repository: exit %d %s %s", r.code, r.stdout, r.stderr)
	}

	// Before the window: refused, the window named, nothing changed.
	before := containerIDs(t, s)
	early := list.Window.From.Add(-time.Hour).Format(time.RFC3339)
	r = pass("restore", "--to-time", early, "--yes")
	if r.code != 2 || !strings.Contains(r.stderr, "restorable window: "+list.Window.From.UTC().Format(time.RFC3339)) {
		t.Errorf("restore before the window: exit %d, stderr %s", r.code, r.stderr)
	}
	if after := containerIDs(t, s); len(after) != len(before) || after["postgres"] != before["postgres"] {
		t.Errorf("a refused restore touched the stack: %v -> %v", before, after)
	}
	if got := s.probe(t, ctx); got != atEnd {
		t.Errorf("a refused restore changed the data: %s, want %s", got, atEnd)
	}

	// Latest: every row.
	start = time.Now()
	r = pass("restore", "--to-latest", "--yes")
	if r.code != 0 {
		t.Fatalf("restore --to-latest: exit %d %s\n%s", r.code, r.stderr, tail(r.stdout, 80))
	}
	t.Logf("restore to the latest point: %s", time.Since(start).Round(time.Millisecond))
	if got := s.probe(t, ctx); got != atEnd {
		t.Errorf("after restore --to-latest: rows %s, want %s (all)", got, atEnd)
	}
	if got := s.sql(t, ctx, "SELECT pg_is_in_recovery()"); got != "f" {
		t.Errorf("PostgreSQL is still in recovery")
	}
	if got := s.sql(t, ctx, "SELECT count(*) FROM pg_file_settings WHERE name IN ('restore_command', 'recovery_target_time')"); got != "0" {
		t.Errorf("the recovery settings were left in place: %s", got)
	}

	// Between t2 and t3: exactly the rows up to t2.
	start = time.Now()
	r = pass("restore", "--to-time", targetT2, "--yes")
	if r.code != 0 {
		t.Fatalf("restore --to-time %s: exit %d %s\n%s", targetT2, r.code, r.stderr, tail(r.stdout, 80))
	}
	t.Logf("restore to a point in time: %s", time.Since(start).Round(time.Millisecond))
	if got := s.probe(t, ctx); got != atT2 {
		t.Errorf("after restore --to-time %s: rows %s, want %s (t2)", targetT2, got, atT2)
	}

	// The t2 segment deleted: verify names it, a restore past it is
	// refused naming it and changes nothing, an earlier point restores.
	if err := os.Remove(filepath.Join(repo, "wal", t2Segment+wal.Suffix)); err != nil {
		t.Fatal(err)
	}
	if r := pass("backup", "verify"); r.code == 0 || !strings.Contains(r.stdout, t2Segment) {
		t.Errorf("backup verify with %s deleted: exit %d\n%s", t2Segment, r.code, r.stdout)
	}
	before = containerIDs(t, s)
	for _, args := range [][]string{{"--to-latest"}, {"--to-time", targetT2}} {
		r = pass(append([]string{"restore", "--yes"}, args...)...)
		if r.code != 2 || !strings.Contains(r.stderr, t2Segment) {
			t.Errorf("restore %v past the deleted segment: exit %d, stderr %s", args, r.code, r.stderr)
		}
	}
	if after := containerIDs(t, s); after["postgres"] != before["postgres"] {
		t.Errorf("a refused restore touched the stack")
	}
	r = pass("restore", "--to-time", targetT1, "--yes")
	if r.code != 0 {
		t.Fatalf("restore --to-time %s, before the gap: exit %d %s\n%s", targetT1, r.code, r.stderr, tail(r.stdout, 80))
	}
	if got := s.probe(t, ctx); got != atT1 {
		t.Errorf("after restore --to-time %s: rows %s, want %s (t1)", targetT1, got, atT1)
	}
	if r := s.run(ctx, "validate"); r.code != 0 {
		t.Errorf("validate after the restore: exit %d\n%s", r.code, tail(r.stdout, 20))
	}

	// Retention (the answers' keep_base 1, keep_days 1): with base backups
	// 30 and 20 days old, a new one removes the 30-day-old one and the WAL
	// before the 20-day-old one's start, which the start of the last day
	// is replayed from.
	if r := pass("backup"); r.code != 0 {
		t.Fatalf("second base backup: exit %d %s", r.code, r.stderr)
	}
	bases, _ := filepath.Glob(filepath.Join(repo, "base", "*.fibackup"))
	if len(bases) != 2 {
		t.Fatalf("base backups: %v", bases)
	}
	oldest := ageBaseBackup(t, bases[0], 30)
	anchor := ageBaseBackup(t, bases[1], 20)
	if r := pass("backup"); r.code != 0 {
		t.Fatalf("third base backup: exit %d %s", r.code, r.stderr)
	}
	if _, err := os.Stat(oldest); err == nil {
		t.Errorf("the 30-day-old base backup was kept")
	}
	if _, err := os.Stat(anchor); err != nil {
		t.Errorf("the base backup the last day is replayed from was removed: %v", err)
	}
	rd := openArchive(t, anchor)
	startWAL := rd.Info().Metadata.Labels["start_wal"]
	segs, _ := filepath.Glob(filepath.Join(repo, "wal", "*"+wal.Suffix))
	for _, seg := range segs {
		name := strings.TrimSuffix(filepath.Base(seg), wal.Suffix)
		if _, _, ok := wal.ParseSegmentName(name); ok && name[8:] < startWAL[8:] {
			t.Errorf("WAL %s, before the oldest kept base backup's start %s, was kept", name, startWAL)
		}
	}
	if r := pass("backup", "verify"); r.code != 0 {
		t.Errorf("backup verify after retention: exit %d\n%s", r.code, r.stdout)
	}
}

// openArchive opens a backup archive with the lab passphrase.
func openArchive(t *testing.T, file string) *archive.Reader {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	rd, err := archive.NewReader(f, []byte(backupPassphrase))
	if err != nil {
		t.Fatal(err)
	}
	return rd
}

// ageBaseBackup rewrites a base backup as if it had been made days ago
// (its holder can: the test has the passphrase) and returns its new path.
func ageBaseBackup(t *testing.T, file string, days int) string {
	t.Helper()
	meta := openArchive(t, file).Info().Metadata
	shift := func(label string) time.Time {
		at, err := time.Parse(time.RFC3339, meta.Labels[label])
		if err != nil {
			t.Fatal(err)
		}
		return at.AddDate(0, 0, -days)
	}
	started, finished := shift("started"), shift("finished")
	labels := map[string]string{}
	for k, v := range meta.Labels {
		labels[k] = v
	}
	labels["started"], labels["finished"] = started.Format(time.RFC3339), finished.Format(time.RFC3339)
	meta.Labels, meta.Created = labels, started
	out := filepath.Join(filepath.Dir(file), started.Format("20060102T150405Z")+".fibackup")
	rewriteArchiveWith(t, file, out, []byte(backupPassphrase), meta)
	if err := os.Remove(file); err != nil {
		t.Fatal(err)
	}
	return out
}

// rewriteArchiveWith copies an archive's entries, in order, under new
// metadata.
func rewriteArchiveWith(t *testing.T, in, out string, pass []byte, meta archive.Metadata) {
	t.Helper()
	er, err := archive.NewEntryReader(openArchive(t, in))
	if err != nil {
		t.Fatal(err)
	}
	dst, err := os.OpenFile(out, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer dst.Close()
	ew, err := archive.Create(dst, pass, archive.Options{Metadata: meta})
	if err != nil {
		t.Fatal(err)
	}
	for {
		ent, err := er.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if ent.Type == archive.TypeDir {
			if err := ew.AddDir(ent.Name, ent.Mode); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if _, err := ew.AddStream(ent.Name, ent.Mode, er); err != nil {
			t.Fatal(err)
		}
	}
	if err := ew.Close(); err != nil {
		t.Fatal(err)
	}
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}
