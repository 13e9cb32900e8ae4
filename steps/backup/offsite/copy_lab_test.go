package offsite_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/minio/minio-go/v7"

	"github.com/fineract-installer/fineract-installer/lab/labtest"
	"github.com/fineract-installer/fineract-installer/steps"
	"github.com/fineract-installer/fineract-installer/steps/answers"
	"github.com/fineract-installer/fineract-installer/steps/backup/offsite"
)

const prefix = "bank/site-a"

// newRepo makes a repository with a base backup (20 MiB: minio-go sends
// it in parts, which the store gives an ETag of another form), WAL files,
// and what a copy must leave alone: a partial object, a symlink out of the
// repository, a file of another name.
func newRepo(t *testing.T) (string, *os.Root) {
	t.Helper()
	dir := t.TempDir()
	for _, d := range []string{"base", "wal"} {
		if err := os.Mkdir(filepath.Join(dir, d), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	writeRandom(t, filepath.Join(dir, "base", "20261201T020000Z.fibackup"), 20<<20)
	for _, n := range []string{"000000010000000000000001", "000000010000000000000002", "00000002.history", "000000010000000000000002.00000028.backup"} {
		writeRandom(t, filepath.Join(dir, "wal", n+".fiwal"), 64<<10)
	}
	writeRandom(t, filepath.Join(dir, "wal", ".000000010000000000000003.fiwal.tmp-1234"), 1000)
	writeRandom(t, filepath.Join(dir, "wal", "notes.txt"), 10)
	secret := filepath.Join(t.TempDir(), "secret")
	writeRandom(t, secret, 100)
	if err := os.Symlink(secret, filepath.Join(dir, "wal", "000000010000000000000009.fiwal")); err != nil {
		t.Fatal(err)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { root.Close() })
	return dir, root
}

func writeRandom(t *testing.T, path string, n int) {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

func open(t *testing.T, s *labtest.S3Server) *offsite.Store {
	t.Helper()
	st, err := offsite.Open(offsite.Config{
		Target:      answers.S3Target{Endpoint: s.Endpoint, Bucket: s.Bucket, Region: s.Region},
		Prefix:      prefix,
		Roots:       s.Roots,
		Credentials: offsite.Credentials{AccessKey: s.AccessKey, SecretKey: s.SecretKey},
	})
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func copyOnce(t *testing.T, repo *os.Root, st *offsite.Store) (offsite.Result, []string) {
	t.Helper()
	var sent []string
	res, err := offsite.Copy(context.Background(), repo, st, func(key string, _ int64) { sent = append(sent, key) })
	if err != nil {
		t.Fatalf("copy: %v", err)
	}
	return res, sent
}

// treeHash is a digest of every name, mode, size and content under dir
// (symlinks by their target), to show a copy changed nothing there.
func treeHash(t *testing.T, dir string) string {
	t.Helper()
	h := sha256.New()
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		io.WriteString(h, p+"\x00"+fi.Mode().String()+"\x00"+fi.ModTime().String()+"\x00")
		switch {
		case fi.Mode()&fs.ModeSymlink != 0:
			target, err := os.Readlink(p)
			if err != nil {
				return err
			}
			io.WriteString(h, target)
		case fi.Mode().IsRegular():
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			h.Write(b)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// assertMirrored checks that the store holds exactly the repository's
// finished objects, byte for byte, under the prefix.
func assertMirrored(t *testing.T, s *labtest.S3Server, dir string) {
	t.Helper()
	ctx := context.Background()
	c := s.Client()
	var want []string
	for _, d := range []string{"base", "wal"} {
		entries, err := os.ReadDir(filepath.Join(dir, d))
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			if e.Type().IsRegular() && (strings.HasSuffix(e.Name(), ".fiwal") || strings.HasSuffix(e.Name(), ".fibackup")) && !strings.HasPrefix(e.Name(), ".") {
				want = append(want, d+"/"+e.Name())
			}
		}
	}
	var got []string
	for o := range c.ListObjects(ctx, s.Bucket, minio.ListObjectsOptions{Prefix: prefix + "/", Recursive: true}) {
		if o.Err != nil {
			t.Fatal(o.Err)
		}
		got = append(got, strings.TrimPrefix(o.Key, prefix+"/"))
	}
	want = append(want, offsite.MarkerName)
	sort.Strings(want)
	sort.Strings(got)
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("the store holds\n  %v\nwant\n  %v", got, want)
	}
	for _, name := range want[:len(want)-1] {
		if name == offsite.MarkerName {
			continue
		}
		local, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if remote := getObject(t, s, prefix+"/"+name); !bytes.Equal(local, remote) {
			t.Fatalf("%s in the store differs from the local object", name)
		}
	}
}

func getObject(t *testing.T, s *labtest.S3Server, key string) []byte {
	t.Helper()
	obj, err := s.Client().GetObject(context.Background(), s.Bucket, key, minio.GetObjectOptions{})
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

func TestCopyMirrorsVerifiesAndCatchesUp(t *testing.T) {
	s := labtest.S3(t)
	dir, repo := newRepo(t)
	st := open(t, s)
	ctx := context.Background()

	if _, err := st.LastCopy(ctx); !errors.Is(err, offsite.ErrNoCopy) {
		t.Fatalf("LastCopy before any copy: %v, want ErrNoCopy", err)
	}
	before := treeHash(t, dir)
	res, sent := copyOnce(t, repo, st)
	if res.Uploaded != 5 || res.Objects != 5 || len(sent) != 5 {
		t.Fatalf("first copy: %+v, sent %v; want the 5 finished objects", res, sent)
	}
	assertMirrored(t, s, dir)
	if treeHash(t, dir) != before {
		t.Fatal("the copy changed the local repository")
	}
	m, err := st.LastCopy(ctx)
	if err != nil || m.Objects != 5 || m.Bytes != res.Bytes || !m.Time.Equal(res.Time) {
		t.Fatalf("marker %+v (%v), want the copy's %+v", m, err, res)
	}

	// Nothing changed: nothing is sent.
	if res, sent := copyOnce(t, repo, st); res.Uploaded != 0 || res.Objects != 5 {
		t.Fatalf("second copy sent %v (%+v), want nothing", sent, res)
	}

	// An object changed in the store is noticed and sent again.
	changed := prefix + "/wal/000000010000000000000002.fiwal"
	bad := bytes.Repeat([]byte{0x42}, 64<<10)
	if _, err := s.Client().PutObject(ctx, s.Bucket, changed, bytes.NewReader(bad), int64(len(bad)), minio.PutObjectOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, sent := copyOnce(t, repo, st); strings.Join(sent, " ") != changed {
		t.Fatalf("after the store's object changed, the copy sent %v, want %s alone", sent, changed)
	}
	assertMirrored(t, s, dir)

	// A new segment is sent, and only it.
	writeRandom(t, filepath.Join(dir, "wal", "000000010000000000000003.fiwal"), 64<<10)
	if res, sent := copyOnce(t, repo, st); strings.Join(sent, " ") != prefix+"/wal/000000010000000000000003.fiwal" || res.Objects != 6 {
		t.Fatalf("after a new segment, the copy sent %v (%+v)", sent, res)
	}
	assertMirrored(t, s, dir)
}

func TestCopyStoreUnreachable(t *testing.T) {
	s := labtest.S3(t)
	dir, repo := newRepo(t)
	st := open(t, s)
	copyOnce(t, repo, st)
	for _, n := range []string{"000000010000000000000003", "000000010000000000000004", "000000010000000000000005"} {
		writeRandom(t, filepath.Join(dir, "wal", n+".fiwal"), 1<<20)
	}
	before := treeHash(t, dir)

	// The store goes away in the middle of a copy: after the first new
	// segment is sent.
	var sent []string
	_, err := offsite.Copy(context.Background(), repo, st, func(key string, _ int64) {
		sent = append(sent, key)
		if len(sent) == 1 {
			s.Stop()
		}
	})
	var f *steps.Failure
	if !errors.As(err, &f) || !strings.Contains(f.Cause, "could not be reached") || !strings.Contains(f.Cause, s.Endpoint) || !strings.Contains(f.Cause, "connection refused") {
		t.Fatalf("copy with the store gone: %v, want a failure naming the store and the cause", err)
	}
	if !strings.Contains(f.Hint, "catches up") {
		t.Fatalf("hint %q does not say what to do", f.Hint)
	}
	if len(sent) != 1 {
		t.Fatalf("sent %v before the store went away, want one object", sent)
	}
	if treeHash(t, dir) != before {
		t.Fatal("a failed copy changed the local repository")
	}

	// Unreachable from the start: the same.
	if _, err := offsite.Copy(context.Background(), repo, st, nil); !errors.As(err, &f) || !strings.Contains(f.Cause, "could not be reached") {
		t.Fatalf("copy with the store down: %v", err)
	}
	if _, err := st.LastCopy(context.Background()); !errors.As(err, &f) || errors.Is(err, offsite.ErrNoCopy) {
		t.Fatalf("LastCopy with the store down: %v, want the failure", err)
	}

	s.Start()
	res, _ := copyOnce(t, repo, st)
	if res.Objects != 8 || res.Uploaded < 2 {
		t.Fatalf("catch-up copy: %+v, want 8 objects with the 2 missing ones sent", res)
	}
	assertMirrored(t, s, dir)
	if treeHash(t, dir) != before {
		t.Fatal("the copy changed the local repository")
	}
}

func TestCopyRefusesAnUntrustedCertificate(t *testing.T) {
	s := labtest.S3(t)
	_, repo := newRepo(t)
	st, err := offsite.Open(offsite.Config{
		Target:      answers.S3Target{Endpoint: s.Endpoint, Bucket: s.Bucket},
		Prefix:      prefix,
		Credentials: offsite.Credentials{AccessKey: s.AccessKey, SecretKey: s.SecretKey},
	}) // system roots only: the lab CA is not among them
	if err != nil {
		t.Fatal(err)
	}
	_, err = offsite.Copy(context.Background(), repo, st, nil)
	if err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("copy to a store with an untrusted certificate: %v, want a certificate error", err)
	}
}

func TestCopyWrongCredentials(t *testing.T) {
	s := labtest.S3(t)
	_, repo := newRepo(t)
	st, err := offsite.Open(offsite.Config{
		Target:      answers.S3Target{Endpoint: s.Endpoint, Bucket: s.Bucket},
		Prefix:      prefix,
		Roots:       s.Roots,
		Credentials: offsite.Credentials{AccessKey: s.AccessKey, SecretKey: "wrong" + s.SecretKey},
	})
	if err != nil {
		t.Fatal(err)
	}
	_, err = offsite.Copy(context.Background(), repo, st, nil)
	var f *steps.Failure
	if !errors.As(err, &f) || !strings.Contains(f.Cause, "refused") || !strings.Contains(f.Hint, "credentials") {
		t.Fatalf("copy with a wrong secret key: %v, want the store's refusal", err)
	}
}

// Retention may remove an object between the listing and its upload: the
// copy goes on without it.
func TestCopySkipsAnObjectRemovedDuringTheCopy(t *testing.T) {
	s := labtest.S3(t)
	dir, repo := newRepo(t)
	st := open(t, s)
	gone := filepath.Join(dir, "wal", "000000010000000000000002.fiwal")
	res, err := offsite.Copy(context.Background(), repo, st, func(key string, _ int64) {
		if strings.HasSuffix(key, ".fibackup") {
			if err := os.Remove(gone); err != nil {
				t.Error(err)
			}
		}
	})
	if err != nil {
		t.Fatalf("copy with an object removed meanwhile: %v", err)
	}
	if res.Objects != 4 {
		t.Fatalf("copy: %+v, want the 4 objects still there", res)
	}
	assertMirrored(t, s, dir)
}
