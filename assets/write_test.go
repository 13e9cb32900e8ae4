package assets

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fineract-installer/fineract-installer/steps/answers"
)

func TestWriteCreatesFilesWithTheirModes(t *testing.T) {
	b := mustRender(t, answersFor(combo{profile: answers.Production}))
	dir := t.TempDir()
	if err := b.Write(context.Background(), dir); err != nil {
		t.Fatal(err)
	}
	for _, f := range b.Files {
		p := filepath.Join(dir, filepath.FromSlash(f.Path))
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatalf("%s: %v", f.Path, err)
		}
		if fi.Mode().Perm() != f.Mode.Perm() {
			t.Errorf("%s: mode %v, want %v", f.Path, fi.Mode().Perm(), f.Mode.Perm())
		}
		data, _ := os.ReadFile(p)
		if string(data) != string(f.Data) {
			t.Errorf("%s: content differs", f.Path)
		}
	}
	if fi, _ := os.Stat(filepath.Join(dir, "config/postgres/initdb/10-roles.sh")); fi.Mode().Perm() != 0o755 {
		t.Errorf("the roles script is %v, want executable 0755", fi.Mode().Perm())
	}
}

func TestWriteIsIdempotentAndLeavesOtherFilesAlone(t *testing.T) {
	a := answersFor(combo{profile: answers.Demo})
	b := mustRender(t, a)
	dir := t.TempDir()
	other := filepath.Join(dir, "config", "postgres", "operator-notes.txt")
	if err := os.MkdirAll(filepath.Dir(other), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(other, []byte("keep me"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := b.Write(context.Background(), dir); err != nil {
		t.Fatal(err)
	}
	compose := filepath.Join(dir, composeFileName)
	old := time.Now().Add(-time.Hour).Truncate(time.Second)
	if err := os.Chtimes(compose, old, old); err != nil {
		t.Fatal(err)
	}
	if err := b.Write(context.Background(), dir); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(compose); !fi.ModTime().Equal(old) {
		t.Error("an unchanged file was rewritten")
	}
	// A changed answer rewrites only what changed, atomically.
	a.Host.Hostname = "other.example.test"
	b2 := mustRender(t, a)
	if err := b2.Write(context.Background(), dir); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(filepath.Join(dir, "config/gateway/nginx.conf"))
	if !strings.Contains(string(data), "other.example.test") {
		t.Error("the changed gateway configuration was not written")
	}
	if data, _ := os.ReadFile(other); string(data) != "keep me" {
		t.Error("an unrelated file was changed")
	}
	leftovers, _ := filepath.Glob(filepath.Join(dir, "*", "*", ".*.tmp-*"))
	top, _ := filepath.Glob(filepath.Join(dir, ".*.tmp-*"))
	if len(leftovers)+len(top) > 0 {
		t.Errorf("temporary files left behind: %v %v", leftovers, top)
	}
}

func TestWriteRefusesEscapingPathsAndHonoursCancel(t *testing.T) {
	dir := t.TempDir()
	for _, p := range []string{"../evil", "/etc/passwd", "config/../../evil", ""} {
		b := Bundle{Files: []File{{Path: p, Data: []byte("x"), Mode: 0o644}}}
		if err := b.Write(context.Background(), dir); err == nil {
			t.Errorf("path %q was accepted", p)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	b := mustRender(t, answersFor(combo{profile: answers.Demo}))
	if err := b.Write(ctx, dir); !errors.Is(err, context.Canceled) {
		t.Errorf("canceled write: %v, want context.Canceled", err)
	}
	if _, err := os.Stat(filepath.Join(dir, composeFileName)); !errors.Is(err, fs.ErrNotExist) {
		t.Error("a canceled write still wrote files")
	}
}

// A link someone put in the install directory leads no write outside it:
// a linked directory is refused, and a link standing where a file goes is
// replaced by the file, even when the file it points at already holds the
// same content.
func TestWriteDoesNotFollowLinks(t *testing.T) {
	dir, elsewhere := t.TempDir(), t.TempDir()
	if err := os.Symlink(elsewhere, filepath.Join(dir, "config")); err != nil {
		t.Fatal(err)
	}
	b := Bundle{Files: []File{{Path: "config/gateway/nginx.conf", Data: []byte("server {}\n"), Mode: 0o644}}}
	if err := b.Write(context.Background(), dir); err == nil {
		t.Error("a write through a linked directory succeeded")
	}
	if entries, _ := os.ReadDir(elsewhere); len(entries) != 0 {
		t.Errorf("wrote %d entries outside the install directory", len(entries))
	}

	dir = t.TempDir()
	same := filepath.Join(elsewhere, "same.yml")
	if err := os.WriteFile(same, []byte("services: {}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(same, filepath.Join(dir, composeFileName)); err != nil {
		t.Fatal(err)
	}
	b = Bundle{Files: []File{{Path: composeFileName, Data: []byte("services: {}\n"), Mode: 0o644}}}
	if err := b.Write(context.Background(), dir); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Lstat(filepath.Join(dir, composeFileName)); err != nil || !fi.Mode().IsRegular() {
		t.Errorf("%s is %v (%v), want a regular file", composeFileName, fi.Mode(), err)
	}
}
