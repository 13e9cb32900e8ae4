package wal_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fineract-installer/fineract-installer/assets"
	"github.com/fineract-installer/fineract-installer/compose"
	"github.com/fineract-installer/fineract-installer/lab/labtest"
	"github.com/fineract-installer/fineract-installer/steps/answers"
	"github.com/fineract-installer/fineract-installer/steps/backup/wal"
)

// pgUID is the postgres user of the Debian-based image, which this test
// runs PostgreSQL as (the installed stack uses its own uid; the repository
// is owned by whichever uid PostgreSQL runs as).
const pgUID = 999

// archiveSettings are the archiving lines of the postgresql.conf the
// installer renders for answers a.
func archiveSettings(t *testing.T, a answers.Answers) string {
	t.Helper()
	b, err := assets.Render(a, assets.Options{Project: "fineract", SecretsDir: "/run/fineract-secrets"})
	if err != nil {
		t.Fatal(err)
	}
	f, ok := b.File("config/postgres/postgresql.conf")
	if !ok {
		t.Fatal("no postgresql.conf rendered")
	}
	var lines []string
	for _, l := range strings.Split(string(f.Data), "\n") {
		for _, k := range []string{"wal_level", "archive_mode", "archive_command", "archive_timeout", "checkpoint_timeout"} {
			if strings.HasPrefix(l, k+" = ") {
				lines = append(lines, l)
			}
		}
	}
	if len(lines) != 5 {
		t.Fatalf("rendered postgresql.conf has archiving lines %q", lines)
	}
	return strings.Join(lines, "\n") + "\n"
}

func postgresImage(t *testing.T) string {
	for _, p := range assets.ImagePins() {
		if p.Service == "postgres" {
			return p.Image
		}
	}
	t.Fatal("no pinned postgres image")
	return ""
}

// A real PostgreSQL configured as the installer configures it archives
// through the real installer binary: pg_switch_wal() produces an object
// that decrypts to exactly PostgreSQL's own segment, and a committed
// change on an otherwise quiet database is archived without any switch,
// by archive_timeout.
func TestPostgreSQLArchivesThroughTheInstaller(t *testing.T) {
	e := labtest.Engine(t)
	bin, err := labtest.GoBinary("fineract-installer", "", "github.com/fineract-installer/fineract-installer")
	if err != nil {
		t.Fatal(err)
	}
	project := labtest.Project(t, e)
	dir := t.TempDir()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	// INSTALL_DIR/libexec, the repository and the key, as the install lays them out.
	must(os.MkdirAll(filepath.Join(dir, "libexec"), 0o755))
	exe, err := os.ReadFile(bin)
	must(err)
	must(os.WriteFile(filepath.Join(dir, "libexec", "fineract-installer"), exe, 0o755))
	repoDir := filepath.Join(dir, "repository", "wal")
	must(os.MkdirAll(repoDir, 0o700))
	must(os.Chown(repoDir, pgUID, pgUID))
	key := make([]byte, 32)
	rand.Read(key)
	keyFile := filepath.Join(dir, "secrets", "wal_archive_key")
	must(os.MkdirAll(filepath.Dir(keyFile), 0o755))
	must(os.WriteFile(keyFile, []byte(base64.StdEncoding.EncodeToString(key)), 0o400))
	must(os.Chown(keyFile, pgUID, pgUID))

	a := answers.Defaults(answers.Production)
	a.Backup.ArchiveTimeout, a.Backup.RPO = "30s", "1m"
	conf := "listen_addresses = ''\nunix_socket_directories = '/var/run/postgresql'\n" + archiveSettings(t, a)
	must(os.WriteFile(filepath.Join(dir, "postgresql.conf"), []byte(conf), 0o644))

	yaml := fmt.Sprintf(`services:
  postgres:
    image: %s
    user: "%d:%d"
    cap_drop: [ALL]
    security_opt: ["no-new-privileges:true"]
    command: ["postgres", "-c", "config_file=/etc/postgresql/postgresql.conf"]
    environment:
      POSTGRES_PASSWORD: only-for-this-test
      PGDATA: /var/lib/postgresql/data/pg
    tmpfs:
      - /var/lib/postgresql/data:size=512m,mode=1777
    volumes:
      - {type: bind, source: %s, target: /etc/postgresql/postgresql.conf, read_only: true}
      - {type: bind, source: %s, target: /var/lib/fineract-wal}
      - {type: bind, source: %s, target: /usr/local/libexec/fineract-installer, read_only: true}
      - {type: bind, source: %s, target: /run/secrets/wal_archive_key, read_only: true}
    healthcheck:
      test: ["CMD", "pg_isready", "-q", "-h", "/var/run/postgresql", "-U", "postgres"]
      interval: 2s
      retries: 60
`, postgresImage(t), pgUID, pgUID, filepath.Join(dir, "postgresql.conf"), repoDir, filepath.Join(dir, "libexec"), keyFile)
	_, load := labtest.WriteProject(t, project, yaml, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	pol := compose.Policy{BindRoots: []string{dir}, WritableHostPaths: map[string][]string{"postgres": {repoDir}}}
	must(e.Up(ctx, load(), compose.UpOptions{Policy: pol, WaitTimeout: 3 * time.Minute}, nil))

	sql := func(q string) string {
		t.Helper()
		res, err := e.Exec(ctx, project, "postgres", "", []string{"psql", "-h", "/var/run/postgresql", "-U", "postgres", "-Atqc", q}, nil, nil)
		if err != nil || res.ExitCode != 0 {
			t.Fatalf("psql %q: %v exit %d: %s", q, err, res.ExitCode, res.Stderr)
		}
		return strings.TrimSpace(string(res.Stdout))
	}
	repo, err := os.OpenRoot(repoDir)
	must(err)
	defer repo.Close()
	waitFor := func(name string, within time.Duration) time.Time {
		t.Helper()
		deadline := time.Now().Add(within)
		for {
			if _, err := repo.Lstat(name + wal.Suffix); err == nil {
				return time.Now()
			}
			if time.Now().After(deadline) {
				objs, _ := wal.List(repo)
				t.Fatalf("%s was not archived within %s; pg_stat_archiver: %s; repository: %v", name, within,
					sql("select failed_count, last_failed_wal, last_archived_wal, last_archived_time, pg_walfile_name(pg_current_wal_lsn()), pg_current_wal_lsn(), now() from pg_stat_archiver"), objs)
			}
			time.Sleep(time.Second)
		}
	}

	// pg_switch_wal closes the current segment; it is archived and decrypts
	// to PostgreSQL's own bytes.
	sql("create table ledger (id serial primary key, amount numeric); insert into ledger (amount) select g from generate_series(1, 1000) g")
	switched := sql("select pg_walfile_name(pg_switch_wal())")
	waitFor(switched, 2*time.Minute)
	var own bytes.Buffer
	res, err := e.Exec(ctx, project, "postgres", "", []string{"cat", "/var/lib/postgresql/data/pg/pg_wal/" + switched}, nil, &own)
	if err != nil || res.ExitCode != 0 {
		t.Fatalf("reading PostgreSQL's own %s: %v exit %d %s", switched, err, res.ExitCode, res.Stderr)
	}
	var fetched bytes.Buffer
	archivedAt, err := wal.Fetch(repo, key, switched, &fetched)
	must(err)
	if own.Len() != wal.SegmentSize || sha256.Sum256(own.Bytes()) != sha256.Sum256(fetched.Bytes()) {
		t.Fatalf("archived %s (%d bytes) differs from PostgreSQL's segment (%d bytes)", switched, fetched.Len(), own.Len())
	}
	if time.Since(archivedAt) > 5*time.Minute || archivedAt.After(time.Now().Add(time.Minute)) {
		t.Fatalf("%s archived at %v", switched, archivedAt)
	}

	// A quiet database: one committed change and nothing else. The segment
	// holding it is closed by archive_timeout (30s) and archived.
	sql("insert into ledger (amount) values (42)")
	written := time.Now()
	current := sql("select pg_walfile_name(pg_current_wal_lsn())")
	got := waitFor(current, 3*time.Minute)
	t.Logf("a quiet database's segment %s was archived %s after its last change (archive_timeout 30s)", current, got.Sub(written).Round(time.Second))

	rep, err := wal.Verify(repo, key)
	must(err)
	if len(rep.Corrupt) > 0 || rep.Newest == nil {
		t.Fatalf("Verify of PostgreSQL's archive: %+v", rep)
	}
	if failed := sql("select failed_count from pg_stat_archiver"); failed != "0" {
		t.Fatalf("pg_stat_archiver counts %s failures", failed)
	}
}
