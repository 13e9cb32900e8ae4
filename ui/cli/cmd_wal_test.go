package cli

import (
	"bytes"
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// walFixture is a repository, a key file and a WAL file as PostgreSQL
// hands them to archive_command.
func walFixture(t *testing.T) (repo, keyFile, walFile string, data []byte) {
	t.Helper()
	dir := t.TempDir()
	repo = filepath.Join(dir, "wal")
	os.Mkdir(repo, 0o700)
	keyFile = filepath.Join(dir, "wal_archive_key")
	os.WriteFile(keyFile, []byte(base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{3}, 32))+"\n"), 0o600)
	data = bytes.Repeat([]byte("wal record "), 100000)
	walFile = filepath.Join(dir, "000000010000000000000004")
	os.WriteFile(walFile, data, 0o600)
	return repo, keyFile, walFile, data
}

func TestWALPushFetchRoundTrip(t *testing.T) {
	repo, keyFile, walFile, data := walFixture(t)
	name := filepath.Base(walFile)
	for range 2 { // archive_command may run twice for one file
		if r := run(t, "", "wal-push", "--repo", repo, "--key-file", keyFile, walFile, name); r.code != 0 {
			t.Fatalf("wal-push: exit %d: %s", r.code, r.err)
		}
	}
	dst := filepath.Join(t.TempDir(), "RECOVERYXLOG")
	if r := run(t, "", "wal-fetch", "--repo", repo, "--key-file", keyFile, name, dst); r.code != 0 {
		t.Fatalf("wal-fetch: exit %d: %s", r.code, r.err)
	}
	if got, _ := os.ReadFile(dst); !bytes.Equal(got, data) {
		t.Fatal("wal-fetch restored other bytes than wal-push archived")
	}
	entries, _ := os.ReadDir(filepath.Dir(dst))
	if len(entries) != 1 {
		t.Fatalf("wal-fetch left %d files next to %%p", len(entries))
	}
}

// restore_command: exit 1 means "not archived" (PostgreSQL goes on); a
// damaged object must abort recovery (exit > 125), never end it early.
func TestWALFetchExitCodes(t *testing.T) {
	repo, keyFile, walFile, _ := walFixture(t)
	name := filepath.Base(walFile)
	dst := filepath.Join(t.TempDir(), "RECOVERYXLOG")
	r := run(t, "", "wal-fetch", "--repo", repo, "--key-file", keyFile, "000000010000000000000009", dst)
	if r.code != 1 || !strings.Contains(r.err, "no such object") {
		t.Fatalf("missing segment: exit %d %q, want 1", r.code, r.err)
	}
	run(t, "", "wal-push", "--repo", repo, "--key-file", keyFile, walFile, name)
	obj := filepath.Join(repo, name+".fiwal")
	b, _ := os.ReadFile(obj)
	b[len(b)-1] ^= 1
	os.WriteFile(obj, b, 0o600)
	r = run(t, "", "wal-fetch", "--repo", repo, "--key-file", keyFile, name, dst)
	if r.code != ExitWALAbort || !strings.Contains(r.err, name) {
		t.Fatalf("damaged segment: exit %d %q, want %d naming it", r.code, r.err, ExitWALAbort)
	}
	if _, err := os.Lstat(dst); !os.IsNotExist(err) {
		t.Fatal("a damaged segment reached the restore path")
	}
}

func TestWALKeyFileIsRefusedUnlessBase64Of32Bytes(t *testing.T) {
	repo, keyFile, walFile, _ := walFixture(t)
	for _, text := range []string{"", "c2hvcnQ=", strings.Repeat("A", 44), base64.StdEncoding.EncodeToString(make([]byte, 48)), "not base64 at all!!"} {
		os.WriteFile(keyFile, []byte(text), 0o600)
		r := run(t, "", "wal-push", "--repo", repo, "--key-file", keyFile, walFile, filepath.Base(walFile))
		if r.code != ExitUsage || !strings.Contains(r.err, "WAL key") {
			t.Errorf("key %q: exit %d %q, want %d and a message about the WAL key", text, r.code, r.err, ExitUsage)
		}
	}
	if entries, _ := os.ReadDir(repo); len(entries) != 0 {
		t.Fatalf("a refused key still archived %d objects", len(entries))
	}
}
