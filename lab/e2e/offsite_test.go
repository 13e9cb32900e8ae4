package e2e

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"

	"github.com/fineract-installer/fineract-installer/lab/labtest"
	"github.com/fineract-installer/fineract-installer/steps/answers"
	"github.com/fineract-installer/fineract-installer/steps/backup/offsite"
)

// TestOffsiteCopyUnreachableStoreCatchesUp is the issue's fault "the
// off-host store unreachable during a copy", on a real S3 server: the
// backup's copy mirrors the repository byte for byte; with the store
// killed, a copy (and the copy at the end of a backup) fails with the
// cause and exit 1 while every local object stays as it was, validate
// fails backup-offsite-age with the cause; started again, the next copy
// catches up.
func TestOffsiteCopyUnreachableStoreCatchesUp(t *testing.T) {
	store := labtest.S3(t)
	s := pitrStack(t, 61)
	s.ans.Backup.Offsite.S3 = &answers.S3Target{Endpoint: store.Endpoint, Bucket: store.Bucket, Region: store.Region, CACert: store.CACert}
	data, err := yamlOf(s.ans)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(s.answers, data, 0o600); err != nil {
		t.Fatal(err)
	}
	ctx := ctxFor(t, 40*time.Minute)
	if r := s.install(ctx); r.code != 0 {
		t.Fatalf("install: exit %d %s\n%s", r.code, r.stderr, tail(r.stdout, 20))
	}
	keys := t.TempDir()
	accessFile, secretFile := filepath.Join(keys, "access"), filepath.Join(keys, "secret")
	for file, key := range map[string]string{accessFile: store.AccessKey, secretFile: store.SecretKey} {
		if err := os.WriteFile(file, []byte(key+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if r := s.run(ctx, "backup", "offsite", "set-credentials", "--access-key-file", accessFile, "--secret-key-file", secretFile); r.code != 0 {
		t.Fatalf("backup offsite set-credentials: exit %d %s\n%s", r.code, r.stderr, tail(r.stdout, 20))
	}
	pass := func(args ...string) result {
		cmd := s.command(ctx, args...)
		cmd.Env = append(cmd.Env, "FINERACT_BACKUP_PASSPHRASE="+backupPassphrase)
		return s.runCommand(cmd, args)
	}
	repo := s.ans.Backup.RepositoryDir(s.dir)
	s.sql(t, ctx, "CREATE TABLE pitr_probe (id int PRIMARY KEY, note text NOT NULL)")
	s.sql(t, ctx, "INSERT INTO pitr_probe SELECT g, 'before the base backup ' || g FROM generate_series(1, 1000) g")

	// The backup ends with a copy: the store then holds the base backup
	// and every WAL file, identical to the local ones.
	held := finishedObjects(t, repo)
	r := pass("backup")
	if r.code != 0 {
		t.Fatalf("backup: exit %d %s\n%s", r.code, r.stderr, tail(r.stdout, 20))
	}
	if !strings.Contains(r.stdout, "Copied:") {
		t.Errorf("backup did not report its off-host copy:\n%s", r.stdout)
	}
	assertOffsiteMirror(t, store, repo, s.project, held)
	if got := offsiteFinding(t, s, ctx); !strings.HasPrefix(got, "pass") {
		t.Errorf("backup-offsite-age after a copy: %s", got)
	}

	// The store killed: writes go on and are archived locally.
	store.Stop()
	s.sql(t, ctx, "INSERT INTO pitr_probe SELECT g, 'while the store is down ' || g FROM generate_series(1001, 1100) g")
	s.archiveNow(t, ctx)
	before := repositoryDigests(t, repo)
	r = s.run(ctx, "backup", "offsite", "copy")
	if r.code != 1 || !strings.Contains(r.stderr, "connection refused") || !strings.Contains(r.stderr, strings.TrimPrefix(store.Endpoint, "https://")) {
		t.Errorf("backup offsite copy with the store down: exit %d, want 1 with the cause and the endpoint\nstderr: %s", r.code, r.stderr)
	}
	assertUnchanged(t, before, repositoryDigests(t, repo))
	if got := offsiteFinding(t, s, ctx); !strings.HasPrefix(got, "fail") || !strings.Contains(got, "connection refused") {
		t.Errorf("backup-offsite-age with the store down: %s, want a failure with the cause", got)
	}

	// A backup whose copy fails keeps and names its base backup, and says
	// the copy failed and why (exit 1).
	before = repositoryDigests(t, repo)
	r = pass("backup")
	bases, _ := filepath.Glob(filepath.Join(repo, "base", "*.fibackup"))
	if r.code != 1 || !strings.Contains(r.stderr, "was written and is kept, but the off-host copy failed") || !strings.Contains(r.stderr, "connection refused") {
		t.Errorf("backup with the store down: exit %d, want 1 naming the backup and the copy's cause\nstderr: %s", r.code, r.stderr)
	}
	if len(bases) != 2 {
		t.Errorf("base backups after a backup whose copy failed: %v, want 2 (the new one kept)", bases)
	} else if newest := bases[1]; !strings.Contains(r.stderr, newest) {
		t.Errorf("the failed copy's report does not name the backup written, %s:\n%s", newest, r.stderr)
	}
	assertUnchanged(t, before, repositoryDigests(t, repo))

	// The store back: the next copy sends what it lacks.
	store.Start()
	held = finishedObjects(t, repo)
	if r := s.run(ctx, "backup", "offsite", "copy"); r.code != 0 {
		t.Fatalf("backup offsite copy with the store back: exit %d %s\n%s", r.code, r.stderr, r.stdout)
	}
	assertOffsiteMirror(t, store, repo, s.project, held)
	if got := offsiteFinding(t, s, ctx); !strings.HasPrefix(got, "pass") {
		t.Errorf("backup-offsite-age after the catch-up copy: %s", got)
	}

	// backup.rpo (1m here) is what the copy's age is held to: the same
	// marker dated two minutes back warns, naming the RPO.
	var m offsite.Marker
	key := s.project + "/" + offsite.MarkerName
	if err := json.Unmarshal(storeObject(t, ctx, store, key), &m); err != nil {
		t.Fatalf("%s: %v", key, err)
	}
	m.Time = time.Now().Add(-2 * time.Minute)
	aged, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.Client().PutObject(ctx, store.Bucket, key, bytes.NewReader(aged), int64(len(aged)), minio.PutObjectOptions{}); err != nil {
		t.Fatalf("date the marker back: %v", err)
	}
	if got := offsiteFinding(t, s, ctx); !strings.HasPrefix(got, "warn") || !strings.Contains(got, "older than the RPO of 1m0s") {
		t.Errorf("backup-offsite-age with a copy older than backup.rpo: %s, want a warning naming the RPO", got)
	}
}

// offsiteFinding is validate's backup-offsite-age: "status: evidence".
func offsiteFinding(t *testing.T, s *stack, ctx context.Context) string {
	t.Helper()
	r := s.run(ctx, "validate", "-o", "json")
	var checks []struct{ ID, Status, Evidence string }
	if err := checklistResults(r.stdout, &checks); err != nil {
		t.Fatalf("validate json: %v\n%s", err, r.stdout)
	}
	for _, c := range checks {
		if c.ID == "backup-offsite-age" {
			return c.Status + ": " + c.Evidence
		}
	}
	t.Fatalf("validate has no backup-offsite-age check:\n%s", r.stdout)
	return ""
}

// assertOffsiteMirror checks the store against the local repository after
// a copy: the store's last-copy.json lists every base backup and every
// object held before the command that copied (PostgreSQL may archive more
// while it runs; retention may remove older WAL), and each object it lists
// is in the store, byte for byte the local one.
func assertOffsiteMirror(t *testing.T, store *labtest.S3Server, repo, prefix string, held map[string]fs.FileInfo) {
	t.Helper()
	ctx := context.Background()
	var m offsite.Marker
	if err := json.Unmarshal(storeObject(t, ctx, store, prefix+"/"+offsite.MarkerName), &m); err != nil {
		t.Fatalf("%s: %v", offsite.MarkerName, err)
	}
	listed := map[string]bool{}
	for _, f := range m.Files {
		name := strings.TrimPrefix(f.Key, prefix+"/")
		listed[name] = true
		local, err := os.ReadFile(filepath.Join(repo, name))
		if err != nil {
			t.Fatalf("%s, listed in the store, locally: %v", name, err)
		}
		if remote := storeObject(t, ctx, store, f.Key); !bytes.Equal(local, remote) {
			t.Errorf("%s in the store differs from the local object", f.Key)
		}
	}
	bases := 0
	for name := range finishedObjects(t, repo) {
		_, before := held[name]
		if strings.HasPrefix(name, "base/") {
			bases++
		} else if !before {
			continue
		}
		if !listed[name] {
			t.Errorf("%s, in the repository before the copy, is not in the store", name)
		}
	}
	if bases == 0 || m.Objects != len(m.Files) {
		t.Errorf("the mirror holds %d base backups, and %d objects in a list of %d", bases, m.Objects, len(m.Files))
	}
}

func storeObject(t *testing.T, ctx context.Context, store *labtest.S3Server, key string) []byte {
	t.Helper()
	obj, err := store.Client().GetObject(ctx, store.Bucket, key, minio.GetObjectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer obj.Close()
	b, err := io.ReadAll(obj)
	if err != nil {
		t.Fatalf("get %s: %v", key, err)
	}
	return b
}

// finishedObjects are the repository's base backups and WAL files under
// their final names.
func finishedObjects(t *testing.T, repo string) map[string]fs.FileInfo {
	t.Helper()
	out := map[string]fs.FileInfo{}
	for _, d := range []string{"base", "wal"} {
		entries, err := os.ReadDir(filepath.Join(repo, d))
		if err != nil && !errors.Is(err, fs.ErrNotExist) { // base/ comes with the first base backup
			t.Fatal(err)
		}
		for _, e := range entries {
			if strings.HasPrefix(e.Name(), ".") || !e.Type().IsRegular() {
				continue
			}
			fi, err := e.Info()
			if err != nil {
				t.Fatal(err)
			}
			out[d+"/"+e.Name()] = fi
		}
	}
	return out
}

// repositoryDigests is every regular file of the repository: mode, size,
// modification time and SHA-256.
func repositoryDigests(t *testing.T, repo string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(repo, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		out[p] = fi.Mode().String() + " " + fi.ModTime().String() + " " + hex.EncodeToString(sum[:])
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// assertUnchanged checks that every file there before is there after,
// unchanged; PostgreSQL may have archived more meanwhile.
func assertUnchanged(t *testing.T, before, after map[string]string) {
	t.Helper()
	for p, d := range before {
		if after[p] != d {
			t.Errorf("%s changed in the local repository: %q -> %q", p, d, after[p])
		}
	}
}
