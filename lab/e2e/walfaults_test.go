package e2e

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
)

// The tests here run the real binary on a core stack with continuous WAL
// archiving and break the backup repository the way disks and crashes do.
// They read the repository only through its documented layout
// (INSTALL_DIR/backups/repository: wal/<name>.fiwal, base/<time>.fibackup,
// objects written under a temporary name and renamed) and drive the
// installer through its commands.

// newArchivingStack is newStack with WAL archiving on and a segment closed
// every 30 seconds, the shortest the answers allow.
func newArchivingStack(t *testing.T, n int) *stack {
	t.Helper()
	s := newStack(t, n)
	s.ans.Backup.WALArchiving = true
	s.ans.Backup.ArchiveTimeout = "30s"
	s.ans.Backup.RPO = "5m"
	data, err := yamlOf(s.ans)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(s.answers, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return s
}

// repo is the stack's backup repository.
func (s *stack) repo() string { return filepath.Join(s.dir, "backups", "repository") }

// runBackup runs the installer with the backup passphrase in its
// environment.
func (s *stack) runBackup(ctx context.Context, args ...string) result {
	cmd := s.command(ctx, args...)
	cmd.Env = append(cmd.Env, "FINERACT_BACKUP_PASSPHRASE="+backupPassphrase)
	return s.runCommand(cmd, args)
}

// query runs one statement in the postgres container as its superuser over
// the local socket and returns its unaligned output.
func (s *stack) query(ctx context.Context, db, query string) (string, error) {
	pg, _ := s.bundle.Service("postgres")
	res, err := s.engine.Exec(ctx, s.project, "postgres", pg.User(), []string{"psql", "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", "-h", "/var/run/postgresql", "-U", "postgres", "-d", db, "-c", query}, nil, nil)
	if err != nil {
		return "", err
	}
	if res.ExitCode != 0 {
		return "", fmt.Errorf("%s: exit %d: %s", query, res.ExitCode, res.Stderr)
	}
	return strings.TrimSpace(string(res.Stdout)), nil
}

func (s *stack) mustSQL(ctx context.Context, db, query string) string {
	s.t.Helper()
	out, err := s.query(ctx, db, query)
	if err != nil {
		s.t.Fatal(err)
	}
	return out
}

// switchWAL closes the current WAL segment and returns its name.
func (s *stack) switchWAL(ctx context.Context) string {
	s.t.Helper()
	return s.mustSQL(ctx, "postgres", "SELECT pg_walfile_name(pg_switch_wal() - 1)")
}

// waitArchived waits until PostgreSQL reports segment (and every one
// before it) archived.
func (s *stack) waitArchived(ctx context.Context, segment string) {
	s.t.Helper()
	for {
		done, err := s.query(ctx, "postgres", fmt.Sprintf("SELECT coalesce(last_archived_wal >= '%s', false) FROM pg_stat_archiver", segment))
		if err == nil && done == "t" {
			return
		}
		select {
		case <-ctx.Done():
			state, _ := s.query(context.Background(), "postgres", "SELECT concat_ws(' ', last_archived_wal, last_failed_wal, failed_count) FROM pg_stat_archiver")
			s.t.Fatalf("segment %s not archived (archiver: %s): %v", segment, state, err)
		case <-time.After(time.Second):
		}
	}
}

// segments lists the names of the WAL segments in the repository.
func segments(t *testing.T, repo string) []string {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join(repo, "wal"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		name, ok := strings.CutSuffix(e.Name(), ".fiwal")
		if _, err := hex.DecodeString(name); ok && err == nil && len(name) == 24 && e.Type().IsRegular() {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	return names
}

// segmentGaps names the segments missing between the first and the last
// one of each timeline in names (16 MB segments: 256 a log file).
func segmentGaps(names []string) []string {
	var gaps []string
	last := map[string]uint64{}
	for _, n := range names {
		tli := n[:8]
		hi, _ := strconv.ParseUint(n[8:16], 16, 32)
		lo, _ := strconv.ParseUint(n[16:], 16, 32)
		no := hi<<8 | lo
		if prev, ok := last[tli]; ok {
			for m := prev + 1; m < no; m++ {
				gaps = append(gaps, fmt.Sprintf("%s%08X%08X", tli, m>>8, m&0xff))
			}
		}
		last[tli] = no
	}
	return gaps
}

// A segment deleted and another with a flipped byte in the repository:
// `backup verify` names both; `restore --to-time` to a moment that needs
// either refuses, names it and changes nothing; a moment before them still
// restores, with exactly the rows written up to it.
func TestWALSegmentDeletedOrCorrupted(t *testing.T) {
	s := newArchivingStack(t, 71)
	ctx := ctxFor(t, 30*time.Minute)
	if r := s.install(ctx); r.code != 0 {
		t.Fatalf("install: exit %d %s\n%s", r.code, r.stderr, tail(r.stdout, 20))
	}
	if r := s.runBackup(ctx, "backup"); r.code != 0 {
		t.Fatalf("base backup: exit %d %s %s", r.code, r.stdout, r.stderr)
	}
	s.mustSQL(ctx, "postgres", "CREATE TABLE fault_rows (phase text NOT NULL, written timestamptz NOT NULL DEFAULT clock_timestamp())")
	write := func(phase string) {
		s.mustSQL(ctx, "postgres", fmt.Sprintf("INSERT INTO fault_rows (phase) VALUES ('%s')", phase))
	}
	// moment returns a whole second strictly between the write before it
	// and the one after it.
	moment := func() string {
		time.Sleep(1100 * time.Millisecond)
		m := time.Now().UTC().Truncate(time.Second).Add(time.Second)
		time.Sleep(time.Until(m) + 1100*time.Millisecond)
		return m.Format(time.RFC3339)
	}
	// Segment x1 holds a, b; x2 holds c; x3 holds nothing of ours; x4 holds d.
	write("a")
	beforeB := moment()
	write("b")
	x1 := s.switchWAL(ctx)
	write("c")
	afterC := moment()
	x2 := s.switchWAL(ctx)
	write("filler")
	x3 := s.switchWAL(ctx)
	write("d")
	afterD := moment()
	x4 := s.switchWAL(ctx)
	write("e")
	s.waitArchived(ctx, s.switchWAL(ctx))
	t.Logf("segments: a,b in %s; c in %s; %s; d in %s", x1, x2, x3, x4)

	wal := filepath.Join(s.repo(), "wal")
	good, err := os.ReadFile(filepath.Join(wal, x2+".fiwal"))
	if err != nil {
		t.Fatal(err)
	}
	flipped := append([]byte(nil), good...)
	flipped[len(flipped)/2] ^= 0x01
	if err := os.WriteFile(filepath.Join(wal, x2+".fiwal"), flipped, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(wal, x4+".fiwal")); err != nil {
		t.Fatal(err)
	}

	r := s.runBackup(ctx, "backup", "verify")
	if out := r.stdout + r.stderr; r.code == 0 || !strings.Contains(out, x2) || !strings.Contains(out, x4) {
		t.Errorf("backup verify with %s corrupted and %s deleted: exit %d, want a failure naming both:\n%s", x2, x4, r.code, out)
	}

	before := containerIDs(t, s)
	r = s.runBackup(ctx, "restore", "--to-time", afterC, "--yes")
	if out := r.stdout + r.stderr; r.code == 0 || !strings.Contains(out, x2) {
		t.Errorf("restore --to-time %s needs the corrupted %s: exit %d, want a refusal naming it:\n%s", afterC, x2, r.code, out)
	}
	// The corrupted segment put back: the deleted one is the next to stop it.
	if err := os.WriteFile(filepath.Join(wal, x2+".fiwal"), good, 0o600); err != nil {
		t.Fatal(err)
	}
	r = s.runBackup(ctx, "restore", "--to-time", afterD, "--yes")
	if out := r.stdout + r.stderr; r.code == 0 || !strings.Contains(out, x4) {
		t.Errorf("restore --to-time %s needs the deleted %s: exit %d, want a refusal naming it:\n%s", afterD, x4, r.code, out)
	}
	if after := containerIDs(t, s); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Errorf("a refused restore touched the stack: %v -> %v", before, after)
	}
	if got := s.mustSQL(ctx, "postgres", "SELECT string_agg(phase, ',' ORDER BY written) FROM fault_rows"); got != "a,b,c,filler,d,e" {
		t.Errorf("after the refused restores the rows are %q", got)
	}

	// A moment before both still restores, to exactly the rows before it.
	if r := s.runBackup(ctx, "restore", "--to-time", beforeB, "--yes"); r.code != 0 {
		t.Fatalf("restore --to-time %s (before the damaged segments): exit %d\n%s%s", beforeB, r.code, tail(r.stdout, 60), r.stderr)
	}
	if got := s.mustSQL(ctx, "postgres", "SELECT string_agg(phase, ',' ORDER BY written) FROM fault_rows"); got != "a" {
		t.Errorf("restore --to-time %s: rows %q, want only a (written before it)", beforeB, got)
	}
}

// The repository's WAL directory full: PostgreSQL keeps taking writes,
// validate fails backup-wal-age naming the segment and the cause, and once
// space is freed archiving resumes with no segment lost.
func TestWALRepositoryDiskFull(t *testing.T) {
	s := newArchivingStack(t, 72)
	ctx := ctxFor(t, 30*time.Minute)
	if r := s.install(ctx); r.code != 0 {
		t.Fatalf("install: exit %d %s\n%s", r.code, r.stderr, tail(r.stdout, 20))
	}
	// A base backup: verify checks the chain from its start (and reads the
	// WAL key from it).
	if r := s.runBackup(ctx, "backup"); r.code != 0 {
		t.Fatalf("base backup: exit %d %s %s", r.code, r.stdout, r.stderr)
	}
	s.waitArchived(ctx, s.switchWAL(ctx))

	// Put the WAL directory on a small filesystem of its own, with what it
	// held, owner and mode: PostgreSQL's container sees it once restarted.
	wal := filepath.Join(s.repo(), "wal")
	pgName := s.project + "-postgres-1"
	timeout := 30
	if err := s.engine.API().ContainerStop(ctx, pgName, container.StopOptions{Timeout: &timeout}); err != nil {
		t.Fatal(err)
	}
	var st syscall.Stat_t
	if err := syscall.Stat(wal, &st); err != nil {
		t.Fatal(err)
	}
	held := map[string][]byte{}
	var used int64
	entries, err := os.ReadDir(wal)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(wal, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		held[e.Name()] = b
		used += int64(len(b))
	}
	size := used + 256<<20
	opts := fmt.Sprintf("size=%d,mode=%o,uid=%d,gid=%d", size, st.Mode&0o7777, st.Uid, st.Gid)
	if err := syscall.Mount("tmpfs", wal, "tmpfs", 0, opts); err != nil {
		t.Fatalf("mount a tmpfs on %s (the tests run as root): %v", wal, err)
	}
	t.Cleanup(func() { _ = syscall.Unmount(wal, syscall.MNT_DETACH) })
	for name, b := range held {
		p := filepath.Join(wal, name)
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chown(p, int(st.Uid), int(st.Gid)); err != nil {
			t.Fatal(err)
		}
	}
	filler := filepath.Join(wal, "filler")
	fillUp(t, wal, filler)
	if err := s.engine.API().ContainerStart(ctx, pgName, container.StartOptions{}); err != nil {
		t.Fatal(err)
	}
	waitPostgres(ctx, t, s)

	// Writes go on: about two segments of them, then a switch.
	s.mustSQL(ctx, "postgres", "CREATE TABLE full_rows (id serial PRIMARY KEY, payload text NOT NULL)")
	s.mustSQL(ctx, "postgres", "INSERT INTO full_rows (payload) SELECT repeat(md5(g::text), 8) FROM generate_series(1, 100000) g")
	last := s.switchWAL(ctx)
	var failed string
	for failed == "" {
		failed = s.mustSQL(ctx, "postgres", "SELECT coalesce(last_failed_wal, '') FROM pg_stat_archiver WHERE failed_count > 0")
		if failed == "" {
			select {
			case <-ctx.Done():
				t.Fatal("archiving into the full directory never failed")
			case <-time.After(time.Second):
			}
		}
	}
	s.mustSQL(ctx, "postgres", "INSERT INTO full_rows (payload) SELECT md5(g::text) FROM generate_series(1, 1000) g")
	if got := s.mustSQL(ctx, "postgres", "SELECT count(*) FROM full_rows"); got != "101000" {
		t.Errorf("PostgreSQL with the archive full holds %s rows, want 101000", got)
	}

	r := s.run(ctx, "validate", "-o", "json")
	var checks []struct{ ID, Status, Evidence string }
	if err := checklistResults(r.stdout, &checks); err != nil {
		t.Fatalf("validate: exit %d %v\n%s", r.code, err, r.stdout)
	}
	var walAge *struct{ ID, Status, Evidence string }
	for i := range checks {
		if checks[i].ID == "backup-wal-age" {
			walAge = &checks[i]
		}
	}
	switch {
	case walAge == nil:
		t.Errorf("validate has no backup-wal-age check")
	case walAge.Status != "fail" || !strings.Contains(walAge.Evidence, failed) || !strings.Contains(strings.ToLower(walAge.Evidence), "no space left"):
		t.Errorf("backup-wal-age with the archive full: %s %q, want a failure naming %s and the full disk", walAge.Status, walAge.Evidence, failed)
	}
	if r.code == 0 {
		t.Errorf("validate exit 0 with archiving failing")
	}

	// Space freed: PostgreSQL archives the backlog by itself.
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	s.waitArchived(ctx, last)
	s.waitArchived(ctx, s.switchWAL(ctx))
	names := segments(t, s.repo())
	if i := sort.SearchStrings(names, last); i == len(names) || names[i] != last {
		t.Errorf("segment %s, written while the disk was full, is not in the repository: %v", last, names)
	}
	if gaps := segmentGaps(names); len(gaps) > 0 {
		t.Errorf("segments lost while the disk was full: %v", gaps)
	}
	if r := s.runBackup(ctx, "backup", "verify"); r.code != 0 {
		t.Errorf("backup verify after the disk was freed: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}

// fillUp writes zeros into file until dir's filesystem has less than a
// WAL segment free.
func fillUp(t *testing.T, dir, file string) {
	t.Helper()
	var fs syscall.Statfs_t
	if err := syscall.Statfs(dir, &fs); err != nil {
		t.Fatal(err)
	}
	free := int64(fs.Bavail)*fs.Bsize - 1<<20
	f, err := os.OpenFile(file, os.O_CREATE|os.O_WRONLY|os.O_EXCL, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	chunk := make([]byte, 1<<20)
	for written := int64(0); written < free; written += int64(len(chunk)) {
		if _, err := f.Write(chunk); errors.Is(err, syscall.ENOSPC) {
			return
		} else if err != nil {
			t.Fatalf("fill %s: %v", dir, err)
		}
	}
}

// waitPostgres waits until PostgreSQL answers queries.
func waitPostgres(ctx context.Context, t *testing.T, s *stack) {
	t.Helper()
	for {
		_, err := s.query(ctx, "postgres", "SELECT 1")
		if err == nil {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("PostgreSQL did not come back: %v", err)
		case <-time.After(time.Second):
		}
	}
}

// walPush finds a wal-push process in the container whose main process is
// init (host pid) and returns its pid and the segment it archives.
func walPush(init int) (pid int, segment string) {
	ns, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/pid", init))
	if err != nil {
		return 0, ""
	}
	procs, _ := os.ReadDir("/proc")
	for _, p := range procs {
		n, err := strconv.Atoi(p.Name())
		if err != nil {
			continue
		}
		if other, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/pid", n)); err != nil || other != ns {
			continue
		}
		cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", n))
		if err != nil {
			continue
		}
		args := strings.Split(strings.TrimRight(string(cmdline), "\x00"), "\x00")
		if len(args) > 2 && args[1] == "wal-push" {
			return n, args[len(args)-1]
		}
	}
	return 0, ""
}

// Kill -9 of the archive command and of PostgreSQL itself while segments
// are being archived: PostgreSQL archives them again once it runs, the
// chain has no gap and every object under a final name is whole.
func TestWALArchiveSurvivesKill9(t *testing.T) {
	s := newArchivingStack(t, 73)
	ctx := ctxFor(t, 30*time.Minute)
	if r := s.install(ctx); r.code != 0 {
		t.Fatalf("install: exit %d %s\n%s", r.code, r.stderr, tail(r.stdout, 20))
	}
	if r := s.runBackup(ctx, "backup"); r.code != 0 {
		t.Fatalf("base backup: exit %d %s %s", r.code, r.stdout, r.stderr)
	}
	s.mustSQL(ctx, "postgres", "CREATE TABLE kill_rows (id serial PRIMARY KEY, payload text NOT NULL)")
	pgName := s.project + "-postgres-1"
	inspect, err := s.engine.API().ContainerInspect(ctx, pgName)
	if err != nil {
		t.Fatal(err)
	}
	postmaster := inspect.State.Pid

	// About 30 segments of WAL written in the background keep the archiver
	// busy; the second kill ends the writer's session with the server.
	writing := make(chan error, 1)
	go func() {
		_, err := s.query(ctx, "postgres", "INSERT INTO kill_rows (payload) SELECT repeat(md5(g::text), 8) FROM generate_series(1, 1000000) g")
		writing <- err
	}()
	catch := func() (int, string) {
		for {
			if pid, seg := walPush(postmaster); pid != 0 {
				return pid, seg
			}
			select {
			case <-ctx.Done():
				t.Fatal("no wal-push process seen in the postgres container")
			case <-time.After(5 * time.Millisecond):
			}
		}
	}
	pid, first := catch()
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatalf("kill -9 wal-push of %s: %v", first, err)
	}
	t.Logf("killed wal-push of %s", first)
	// The next one, by killing the postmaster: the container ends and takes
	// every process in it, the archive command too.
	second := first
	for second == first {
		pid, second = catch()
	}
	if err := syscall.Kill(postmaster, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	t.Logf("killed PostgreSQL (pid %d) while wal-push %d archived %s", postmaster, pid, second)
	<-writing
	// Gone, or already started again by its restart policy.
	for {
		c, err := s.engine.API().ContainerInspect(ctx, pgName)
		if err == nil && c.State.Pid != postmaster {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatal("the killed postgres container never ended")
		case <-time.After(100 * time.Millisecond):
		}
	}

	// With PostgreSQL down, nothing under a final name may be partial.
	if r := s.runBackup(ctx, "backup", "verify"); r.code != 0 {
		t.Errorf("backup verify right after the kills: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if err := s.engine.API().ContainerStart(ctx, pgName, container.StartOptions{}); err != nil && !strings.Contains(err.Error(), "already") {
		t.Fatal(err)
	}
	waitPostgres(ctx, t, s)
	s.waitArchived(ctx, s.switchWAL(ctx))
	names := segments(t, s.repo())
	for _, seg := range []string{first, second} {
		if i := sort.SearchStrings(names, seg); i == len(names) || names[i] != seg {
			t.Errorf("segment %s, whose archiving was killed, is not in the repository: %v", seg, names)
		}
	}
	if gaps := segmentGaps(names); len(gaps) > 0 {
		t.Errorf("segments missing after the kills: %v", gaps)
	}
	if r := s.runBackup(ctx, "backup", "verify"); r.code != 0 {
		t.Errorf("backup verify after PostgreSQL came back: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}

// Kill -9 of the installer while it writes a base backup: no base backup
// under a final name is partial, `backup list` and `backup verify` count
// only the complete ones, and the next backup succeeds.
func TestBaseBackupKilledMidway(t *testing.T) {
	s := newArchivingStack(t, 74)
	ctx := ctxFor(t, 30*time.Minute)
	if r := s.install(ctx); r.code != 0 {
		t.Fatalf("install: exit %d %s\n%s", r.code, r.stderr, tail(r.stdout, 20))
	}
	// Enough data that the copy takes a while: about 400 MB.
	s.mustSQL(ctx, "postgres", "CREATE TABLE bulk (id serial PRIMARY KEY, payload text NOT NULL)")
	s.mustSQL(ctx, "postgres", "INSERT INTO bulk (payload) SELECT string_agg(md5(g::text || i::text), '') FROM generate_series(1, 600000) g, generate_series(1, 16) i GROUP BY g")
	if r := s.runBackup(ctx, "backup"); r.code != 0 {
		t.Fatalf("first base backup: exit %d %s %s", r.code, r.stdout, r.stderr)
	}
	base := filepath.Join(s.repo(), "base")
	complete := finals(t, base)
	if len(complete) != 1 {
		t.Fatalf("after one backup the repository holds %v", complete)
	}

	cmd := s.command(ctx, "backup", "-o", "json")
	cmd.Env = append(cmd.Env, "FINERACT_BACKUP_PASSPHRASE="+backupPassphrase)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	partial := ""
	for partial == "" {
		entries, _ := os.ReadDir(base)
		for _, e := range entries {
			info, err := e.Info()
			if err == nil && !strings.HasSuffix(e.Name(), ".fibackup") && info.Size() > 8<<20 {
				partial = e.Name()
			}
		}
		if partial == "" {
			select {
			case <-ctx.Done():
				t.Fatal("the backup never wrote a temporary file of 8 MB into the repository")
			case <-time.After(10 * time.Millisecond):
			}
		}
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	t.Logf("killed the installer while it wrote %s", partial)

	if got := finals(t, base); fmt.Sprint(got) != fmt.Sprint(complete) {
		t.Errorf("after the kill the base backups under final names are %v, want only %v", got, complete)
	}
	r := s.runBackup(ctx, "backup", "list")
	if out := r.stdout + r.stderr; r.code != 0 || !strings.Contains(out, strings.TrimSuffix(complete[0], ".fibackup")) || strings.Contains(out, partial) {
		t.Errorf("backup list after the kill: exit %d, want %s and not %s:\n%s", r.code, complete[0], partial, out)
	}
	if r := s.runBackup(ctx, "backup", "verify"); r.code != 0 {
		t.Errorf("backup verify after the kill: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if r := s.runBackup(ctx, "backup"); r.code != 0 {
		t.Fatalf("the backup after the killed one: exit %d %s %s", r.code, r.stdout, r.stderr)
	}
	if got := finals(t, base); len(got) != 2 {
		t.Errorf("after the next backup the repository holds %v, want two base backups", got)
	}
	if r := s.runBackup(ctx, "backup", "verify"); r.code != 0 {
		t.Errorf("backup verify after the next backup: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if r := s.run(ctx, "status"); r.code != 0 {
		t.Errorf("the stack after a killed and a completed backup:\n%s%s", r.stdout, r.stderr)
	}
}

// finals lists the base backups under their final names in dir.
func finals(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".fibackup") && !strings.HasPrefix(e.Name(), ".") {
			names = append(names, e.Name())
		}
	}
	return names
}

// The gap finder counts across a log file boundary (256 segments of 16 MB)
// and per timeline.
func TestSegmentGaps(t *testing.T) {
	names := []string{"0000000100000000000000FE", "0000000100000000000000FF", "000000010000000100000000", "000000010000000100000002", "000000020000000100000002", "000000020000000100000003"}
	if got := fmt.Sprint(segmentGaps(names)); got != "[000000010000000100000001]" {
		t.Errorf("gaps %s", got)
	}
}

// segments lists objects by their 24-hex-digit names only.
func TestSegmentsListsWALNames(t *testing.T) {
	repo := t.TempDir()
	wal := filepath.Join(repo, "wal")
	for _, name := range []string{"000000010000000000000003.fiwal", "00000002.history.fiwal", ".000000010000000000000004.fiwal.tmp-1", "filler"} {
		if err := os.MkdirAll(wal, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(wal, name), nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if got := fmt.Sprint(segments(t, repo)); got != "[000000010000000000000003]" {
		t.Errorf("segments %s", got)
	}
}
