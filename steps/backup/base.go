package backup

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/fineract-installer/fineract-installer/steps"
	"github.com/fineract-installer/fineract-installer/steps/backup/archive"
	"github.com/fineract-installer/fineract-installer/steps/backup/wal"
	"github.com/fineract-installer/fineract-installer/steps/install"
)

// A base backup is an archive in REPO/base named after the UTC time it
// started. Besides the install dir and Vault's storage (as in every
// backup) it holds PostgreSQL's data directory as pg_basebackup streams
// it, the backup history file PostgreSQL wrote for it, and the WAL key, so
// a fresh host restores with the backup passphrase alone.
const (
	baseDirName   = "base"
	baseSuffix    = ".fibackup"
	tmpSuffix     = ".tmp"
	baseTarEntry  = postgresPrefix + "/base.tar.zst"
	historyEntry  = postgresPrefix + "/backup_history"
	walKeyEntry   = "repository/wal-key"
	stampLayout   = "20060102T150405Z"
	walKeyFile    = "/run/secrets/wal_archive_key"
	labelPrefix   = "fineract-installer base backup "
	maxHistoryLen = 4 << 10
)

// Labels of a base backup's archive header.
const (
	labelKind     = "kind"
	labelStartWAL = "start_wal"
	labelStopWAL  = "stop_wal"
	labelStartLSN = "start_lsn"
	labelStopLSN  = "stop_lsn"
	labelTimeline = "timeline"
	labelStarted  = "started"
	labelFinished = "finished"
	kindBase      = "base"
)

// baseBackupCommand streams the data directory as one tar to stdout.
// -X none: the WAL comes from the archive. Without NOWAIT (pg_basebackup
// asks for it only when it fetches WAL itself, src/bin/pg_basebackup/
// pg_basebackup.c, REL_17: `if (includewal != NO_WAL) ... "WAIT", 0`),
// the server's BASE_BACKUP returns only once the last WAL segment the
// backup needs is archived (protocol docs, BASE_BACKUP option WAIT:
// "the backup will wait until the last required WAL segment has been
// archived"), so a base backup that finishes is restorable from the
// repository. zstd level 1 with two workers, compressed by the server:
// measured on this lab's PostgreSQL 17 against lz4 and client-side
// compression it was the fastest to a third of the size, and the image
// carries the zstd program a restore decompresses with, and no lz4
// (docker-library/postgres, 16/trixie/Dockerfile at 6edb0a8c4d installs
// `xz-utils` and `zstd` beside libnss-wrapper; the lab's image installs
// Debian's zstd the same way).
// --checkpoint=fast: a spread checkpoint makes the backup wait minutes.
func baseBackupCommand(label string) []string {
	return []string{"pg_basebackup", "-h", "/var/run/postgresql", "-U", "postgres",
		"-D", "-", "-Ft", "-X", "none", "--no-manifest", "--checkpoint=fast",
		"--compress=server-zstd:level=1,workers=2", "--label", label}
}

// BaseDir is the directory of base backups in the repository.
func BaseDir(repo string) string { return filepath.Join(repo, baseDirName) }

// BaseStep writes a base backup into the repository: the PostgreSQL copy
// is spooled, encrypted under a key that lives only in memory, until
// pg_basebackup ends and the backup's WAL facts are known (they go into
// the archive header, written first); then the archive is written as a
// temporary file, synced and renamed, so a name ending in .fibackup is
// always a whole base backup. A killed run leaves temporary files only,
// which the next run removes.
type BaseStep struct {
	Env        *install.Env
	Repository string
	Passphrase []byte
	Version    string
	Written    func(Written)
	// Now is the clock; nil is time.Now.
	Now func() time.Time
}

// ID implements steps.Step.
func (s BaseStep) ID() string { return "backup-base" }

// Title implements steps.Step.
func (s BaseStep) Title() string { return "Write a base backup to the repository" }

// Check always says no: every run writes a new base backup.
func (s BaseStep) Check(context.Context) (bool, error) { return false, nil }

func (s BaseStep) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

// Run implements steps.Step.
func (s BaseStep) Run(ctx context.Context, emit steps.Emitter) error {
	dir := BaseDir(s.Repository)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("make the base backup directory: %w", err)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return fmt.Errorf("open the base backup directory: %w", err)
	}
	defer root.Close()
	// The caller holds the installation's lock: temporary files are what
	// an interrupted run left, and never going to be finished.
	if err := removeStaleTemporaries(root, emit); err != nil {
		return err
	}
	started := s.now()
	stamp := started.Format(stampLayout)
	final := stamp + baseSuffix
	if _, err := root.Lstat(final); err == nil {
		return steps.Fail(fmt.Errorf("a base backup named %s exists already", final), "wait a second and run the backup again")
	}
	key, err := liveWALKey(ctx, s.Env)
	if err != nil {
		return err
	}
	spoolName := "." + stamp + ".spool" + tmpSuffix
	spool, facts, err := s.spoolPostgres(ctx, root, spoolName, labelPrefix+stamp, emit)
	if spool != nil {
		defer spool.Close()
	}
	defer root.Remove(spoolName)
	if err != nil {
		return err
	}
	facts.started, facts.finished = started, s.now()
	tmp := "." + final + tmpSuffix
	f, err := root.OpenFile(tmp, os.O_CREATE|os.O_EXCL|os.O_WRONLY|syscall.O_NOFOLLOW, 0o600)
	if err != nil {
		return fmt.Errorf("create the base backup file: %w", err)
	}
	n, err := s.writeArchive(ctx, f, spool, facts, key, emit)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = root.Rename(tmp, final)
	}
	if err != nil {
		root.Remove(tmp)
		return err
	}
	syncDir(dir)
	fi, err := root.Stat(final)
	if err != nil {
		return fmt.Errorf("the base backup just written: %w", err)
	}
	emit.Info("postgres", fmt.Sprintf("base backup from WAL %s to %s on timeline %d", facts.startWAL, facts.stopWAL, facts.timeline))
	if s.Written != nil {
		s.Written(Written{File: filepath.Join(dir, final), Entries: n, Bytes: fi.Size()})
	}
	return nil
}

// spooled is what the spool holds: the compressed tar, encrypted under
// pass, and the backup's WAL facts from its history file.
type spooled struct {
	pass    []byte
	size    int64
	history []byte
	historyFacts
	started, finished time.Time
}

// spoolPostgres runs pg_basebackup into an encrypted spool file and reads
// the backup history file PostgreSQL wrote for it.
func (s BaseStep) spoolPostgres(ctx context.Context, root *os.Root, name, label string, emit steps.Emitter) (*os.File, spooled, error) {
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return nil, spooled{}, err
	}
	pass := []byte(hex.EncodeToString(raw))
	f, err := root.OpenFile(name, os.O_CREATE|os.O_EXCL|os.O_RDWR|syscall.O_NOFOLLOW, 0o600)
	if err != nil {
		return nil, spooled{}, fmt.Errorf("create the base backup spool: %w", err)
	}
	w, err := archive.NewWriter(f, pass, archive.Options{})
	if err != nil {
		return f, spooled{}, fmt.Errorf("start the base backup spool: %w", err)
	}
	emit.Info("postgres", "streaming the data directory (pg_basebackup)")
	counted := &countingWriter{w: w}
	res, err := s.Env.Engine.Exec(ctx, s.Env.Project, "postgres", postgresUser(s.Env), baseBackupCommand(label), nil, counted)
	if err == nil && res.ExitCode != 0 {
		return f, spooled{}, steps.Fail(fmt.Errorf("base backup of postgres: pg_basebackup exited %d: %s", res.ExitCode, strings.TrimSpace(res.Stderr)),
			"check that WAL archiving is on and working (`fineract-installer validate`) and that PostgreSQL allows local replication connections")
	}
	if err != nil {
		return f, spooled{}, fmt.Errorf("base backup of postgres: %w", err)
	}
	if err := w.Close(); err != nil {
		return f, spooled{}, fmt.Errorf("finish the base backup spool: %w", err)
	}
	history, err := readBackupHistory(ctx, s.Env, label)
	if err != nil {
		return f, spooled{}, err
	}
	facts, err := parseBackupHistory(history)
	if err != nil {
		return f, spooled{}, fmt.Errorf("the backup history file of %q: %w", label, err)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return f, spooled{}, err
	}
	return f, spooled{pass: pass, size: counted.n, history: history, historyFacts: facts}, nil
}

func (s BaseStep) writeArchive(ctx context.Context, f *os.File, spool *os.File, sp spooled, key []byte, emit steps.Emitter) (int, error) {
	env := s.Env
	ew, err := archive.Create(f, s.Passphrase, archive.Options{Metadata: archive.Metadata{
		Created: sp.started, InstallerVersion: s.Version,
		Labels: map[string]string{
			"project": env.Project, "hostname": env.Answers.Host.Hostname, "profile": string(env.Answers.Profile),
			labelKind: kindBase, labelStartWAL: sp.startWAL, labelStopWAL: sp.stopWAL,
			labelStartLSN: sp.startLSN, labelStopLSN: sp.stopLSN, labelTimeline: strconv.FormatUint(uint64(sp.timeline), 10),
			labelStarted: sp.started.Format(time.RFC3339), labelFinished: sp.finished.Format(time.RFC3339),
		},
	}})
	if err != nil {
		return 0, fmt.Errorf("start the base backup archive: %w", err)
	}
	// The WAL key first: a restore reads it without reading the rest.
	if err := ew.AddBytes(walKeyEntry, 0o600, []byte(base64.StdEncoding.EncodeToString(key))); err != nil {
		return 0, err
	}
	if err := ew.AddBytes(historyEntry, 0o600, sp.history); err != nil {
		return 0, err
	}
	in, err := archive.NewReader(spool, sp.pass)
	if err != nil {
		return 0, fmt.Errorf("read the base backup spool: %w", err)
	}
	n, err := ew.AddStream(baseTarEntry, 0o600, in)
	if err != nil {
		return 0, fmt.Errorf("store the PostgreSQL base backup: %w", err)
	}
	if n != sp.size {
		return 0, fmt.Errorf("the base backup spool holds %d bytes, pg_basebackup wrote %d", n, sp.size)
	}
	emit.Info("postgres", fmt.Sprintf("data directory stored (%d bytes compressed)", n))
	if err := addInstallDir(ew, env, emit); err != nil {
		return 0, err
	}
	if err := addVault(ctx, ew, env, emit); err != nil {
		return 0, err
	}
	if err := ew.Close(); err != nil {
		return 0, fmt.Errorf("finish the base backup archive: %w", err)
	}
	return len(ew.Manifest().Entries), nil
}

type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// removeStaleTemporaries removes what an interrupted base backup left:
// hidden files ending in .tmp, never anything else.
func removeStaleTemporaries(root *os.Root, emit steps.Emitter) error {
	entries, err := fs.ReadDir(root.FS(), ".")
	if err != nil {
		return fmt.Errorf("list the base backups: %w", err)
	}
	for _, e := range entries {
		n := e.Name()
		if !strings.HasPrefix(n, ".") || !strings.HasSuffix(n, tmpSuffix) || !e.Type().IsRegular() {
			continue
		}
		if err := root.Remove(n); err != nil {
			return fmt.Errorf("remove the temporary file of an interrupted base backup: %w", err)
		}
		emit.Info(n, "removed the temporary file of an interrupted base backup")
	}
	return nil
}

// liveWALKey reads the WAL key as delivered to PostgreSQL.
func liveWALKey(ctx context.Context, env *install.Env) ([]byte, error) {
	res, err := env.Engine.Exec(ctx, env.Project, "postgres", postgresUser(env), []string{"cat", walKeyFile}, nil, nil)
	if err == nil && res.ExitCode != 0 {
		err = errors.New(strings.TrimSpace(res.Stderr))
	}
	if err != nil {
		return nil, steps.Fail(fmt.Errorf("read the WAL archive key: %w", err),
			"a base backup needs WAL archiving: set backup.wal_archiving: true in the answers and run `fineract-installer install`, or take a logical backup with --logical")
	}
	return wal.ParseKey(res.Stdout)
}

// readBackupHistory returns the backup history file of the base backup
// labelled label. PostgreSQL writes it into pg_wal when the backup stops
// and archives it like a segment ("a backup history file is immediately
// stored into the WAL archive area", docs 17, 25.3.3); it stays in pg_wal
// until the next base backup stops (CleanupBackupHistory in
// do_pg_backup_stop, src/backend/access/transam/xlog.c), which the
// installation lock rules out meanwhile. pg_basebackup itself prints the
// start and end points only when it fetches WAL (see baseBackupCommand).
func readBackupHistory(ctx context.Context, env *install.Env, label string) ([]byte, error) {
	script := `for f in "$PGDATA"/pg_wal/*.backup; do if grep -qxF "LABEL: $1" "$f"; then head -c 4096 "$f"; exit 0; fi; done; exit 3`
	res, err := env.Engine.Exec(ctx, env.Project, "postgres", postgresUser(env), []string{"sh", "-c", script, "sh", label}, nil, nil)
	if err == nil && res.ExitCode != 0 {
		err = fmt.Errorf("no backup history file in pg_wal is labelled %q (exit %d) %s", label, res.ExitCode, strings.TrimSpace(res.Stderr))
	}
	if err != nil {
		return nil, fmt.Errorf("read the base backup's history file: %w", err)
	}
	return res.Stdout, nil
}

// historyFacts are the WAL facts of a backup history file.
type historyFacts struct {
	startWAL, stopWAL, startLSN, stopLSN string
	timeline                             uint32
}

// historyLocation is a "START WAL LOCATION: 0/2000028 (file
// 000000010000000000000002)" line as do_pg_backup_stop writes it
// ("%s WAL LOCATION: %X/%X (file %s)", src/backend/access/transam/xlog.c).
var historyLocation = regexp.MustCompile(`^(START|STOP) WAL LOCATION: ([0-9A-F]{1,8}/[0-9A-F]{1,8}) \(file ([0-9A-F]{24})\)$`)

// parseBackupHistory reads a backup history file. Each fact must appear
// once, and the file names must be segment names.
func parseBackupHistory(b []byte) (historyFacts, error) {
	if len(b) > maxHistoryLen {
		return historyFacts{}, fmt.Errorf("it is longer than %d bytes", maxHistoryLen)
	}
	var h historyFacts
	seen := map[string]bool{}
	sc := bufio.NewScanner(strings.NewReader(string(b)))
	for sc.Scan() {
		line := sc.Text()
		if m := historyLocation.FindStringSubmatch(line); m != nil {
			if seen[m[1]] {
				return h, fmt.Errorf("it names its %s location twice", strings.ToLower(m[1]))
			}
			seen[m[1]] = true
			if m[1] == "START" {
				h.startLSN, h.startWAL = m[2], m[3]
			} else {
				h.stopLSN, h.stopWAL = m[2], m[3]
			}
			continue
		}
		if v, ok := strings.CutPrefix(line, "START TIMELINE: "); ok {
			tl, err := strconv.ParseUint(v, 10, 32)
			if err != nil || tl == 0 || seen["TIMELINE"] {
				return h, fmt.Errorf("bad START TIMELINE line %q", line)
			}
			seen["TIMELINE"], h.timeline = true, uint32(tl)
		}
	}
	if !seen["START"] || !seen["STOP"] || !seen["TIMELINE"] {
		return h, errors.New("it lacks its START or STOP WAL LOCATION or START TIMELINE")
	}
	tl, _, ok := wal.ParseSegmentName(h.startWAL)
	if !ok || tl != h.timeline {
		return h, fmt.Errorf("its start segment %s is not on timeline %d", h.startWAL, h.timeline)
	}
	if _, _, ok := wal.ParseSegmentName(h.stopWAL); !ok || h.stopWAL < h.startWAL {
		return h, fmt.Errorf("its stop segment %s is before its start segment %s", h.stopWAL, h.startWAL)
	}
	return h, nil
}
