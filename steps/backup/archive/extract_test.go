package archive

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// hostile builds an encrypted archive whose payload has one file entry
// with an arbitrary name, as a forger with the passphrase could.
func hostile(t *testing.T, name string) []byte {
	t.Helper()
	data := []byte("owned")
	raw := newRaw().entry(recFile, name, 0o644).segments(data).
		manifest(Manifest{Format: 1, Entries: []ManifestEntry{{Name: name, Type: TypeFile, Mode: "0644", Size: 5, SHA256: sha(data)}}})
	return encryptPayload(t, raw.Bytes())
}

// listTree returns every path below dir.
func listTree(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if p != dir {
			out = append(out, strings.TrimPrefix(p, dir+"/"))
		}
		return nil
	})
	return out
}

func TestExtractRefusesPathTraversal(t *testing.T) {
	base := t.TempDir()
	dst := filepath.Join(base, "restore")
	for _, name := range []string{"../evil", "../../evil", "a/../../evil", "/tmp/evil-abs", "/evil", `..\evil`, "./evil", "a//evil", "evil/"} {
		_, err := extractArchive(hostile(t, name), dst, ExtractOptions{})
		wantKind(t, err, ErrCorrupt, "entry name "+name)
		if got := listTree(t, base); len(got) > 1 || (len(got) == 1 && got[0] != "restore") {
			t.Fatalf("entry %q: files appeared: %v", name, got)
		}
	}
	if _, err := os.Stat("/tmp/evil-abs"); err == nil {
		t.Fatal("an absolute entry name was written to /tmp")
	}
}

func TestExtractDoesNotFollowSymlinks(t *testing.T) {
	base := t.TempDir()
	outside := filepath.Join(base, "outside")
	must(t, os.Mkdir(outside, 0o700))
	victim := filepath.Join(outside, "victim")
	writeFile(t, victim, []byte("original"), 0o600)
	dst := filepath.Join(base, "restore")
	must(t, os.Mkdir(dst, 0o700))
	must(t, os.Symlink(outside, filepath.Join(dst, "dirlink")))
	must(t, os.Symlink("../outside", filepath.Join(dst, "rellink")))
	must(t, os.Symlink(victim, filepath.Join(dst, "filelink")))

	for _, name := range []string{"dirlink/victim", "rellink/victim", "dirlink/new", "rellink/sub/new"} {
		_, err := extractArchive(hostile(t, name), dst, ExtractOptions{Overwrite: true})
		if err == nil || !strings.Contains(err.Error(), "symbolic link") {
			t.Fatalf("%s: extraction through a symlink: %v", name, err)
		}
	}
	// A symlink at the file's own name: refused without Overwrite; with it
	// the link itself is replaced and its target left alone.
	_, err := extractArchive(hostile(t, "filelink"), dst, ExtractOptions{})
	wantKind(t, err, ErrExists, "file over a symlink")
	if _, err := extractArchive(hostile(t, "filelink"), dst, ExtractOptions{Overwrite: true}); err != nil {
		t.Fatal(err)
	}
	checkFile(t, filepath.Join(dst, "filelink"), []byte("owned"), 0o644)
	checkFile(t, victim, []byte("original"), 0o600)
	if got := listTree(t, outside); len(got) != 1 {
		t.Fatalf("outside directory changed: %v", got)
	}
}

func TestExtractOverwrite(t *testing.T) {
	data := createArchive(t, func(ew *EntryWriter) {
		must(t, ew.AddDir("d", 0o750))
		must(t, ew.AddBytes("d/f", 0o640, []byte("new")))
	})
	dst := t.TempDir()
	must(t, os.Mkdir(filepath.Join(dst, "d"), 0o700))
	writeFile(t, filepath.Join(dst, "d", "f"), []byte("old"), 0o600)

	_, err := extractArchive(data, dst, ExtractOptions{})
	wantKind(t, err, ErrExists, "existing directory")
	checkFile(t, filepath.Join(dst, "d", "f"), []byte("old"), 0o600)

	if _, err := extractArchive(data, dst, ExtractOptions{Overwrite: true}); err != nil {
		t.Fatal(err)
	}
	checkFile(t, filepath.Join(dst, "d", "f"), []byte("new"), 0o640)
	checkMode(t, filepath.Join(dst, "d"), fs.ModeDir|0o750)

	// A directory where the archive has a file is never replaced.
	data = createArchive(t, func(ew *EntryWriter) { must(t, ew.AddBytes("d", 0o600, nil)) })
	_, err = extractArchive(data, dst, ExtractOptions{Overwrite: true})
	wantKind(t, err, ErrExists, "file over a directory")
}

func TestExtractCleansUpAfterFailure(t *testing.T) {
	data := createArchive(t, func(ew *EntryWriter) {
		must(t, ew.AddBytes("one/a", 0o600, payload(3*cs, 30)))
		must(t, ew.AddBytes("two/b", 0o600, payload(3*cs, 31)))
	})
	hl := headerLen(t, data)
	dst := t.TempDir()
	writeFile(t, filepath.Join(dst, "keep"), []byte("mine"), 0o600)
	cases := map[string][]byte{
		"damaged in the second file":   flip(data, hl+4*(cs+tagSize)+10, 1),
		"truncated in the second file": data[:hl+5*(cs+tagSize)],
		"truncated before the end":     data[:len(data)-1],
	}
	for name, bad := range cases {
		_, err := extractArchive(bad, dst, ExtractOptions{})
		if err == nil {
			t.Fatalf("%s: extraction succeeded", name)
		}
		if got := listTree(t, dst); len(got) != 1 || got[0] != "keep" {
			t.Fatalf("%s: left behind %v", name, got)
		}
	}
}

func TestExtractModesIgnoreUmask(t *testing.T) {
	old := syscall.Umask(0o077)
	defer syscall.Umask(old)
	data := createArchive(t, func(ew *EntryWriter) {
		must(t, ew.AddDir("pub", 0o755))
		must(t, ew.AddBytes("pub/index.html", 0o644, []byte("<p>")))
		must(t, ew.AddBytes("pub/ro", 0o400, []byte("r")))
		must(t, ew.AddDir("locked", 0o500))
		must(t, ew.AddBytes("locked/inside", 0o600, []byte("i"))) // written before the dir is locked
	})
	dst := t.TempDir()
	if _, err := extractArchive(data, dst, ExtractOptions{}); err != nil {
		t.Fatal(err)
	}
	checkMode(t, filepath.Join(dst, "pub"), fs.ModeDir|0o755)
	checkFile(t, filepath.Join(dst, "pub/index.html"), []byte("<p>"), 0o644)
	checkFile(t, filepath.Join(dst, "pub/ro"), []byte("r"), 0o400)
	checkMode(t, filepath.Join(dst, "locked"), fs.ModeDir|0o500)
	checkFile(t, filepath.Join(dst, "locked/inside"), []byte("i"), 0o600)
	os.Chmod(filepath.Join(dst, "locked"), 0o700) // let TempDir clean up
}

func TestExtractIntoFileFails(t *testing.T) {
	base := t.TempDir()
	notDir := filepath.Join(base, "file")
	writeFile(t, notDir, nil, 0o600)
	data := createArchive(t, func(ew *EntryWriter) { must(t, ew.AddBytes("x", 0o600, nil)) })
	if _, err := extractArchive(data, notDir, ExtractOptions{}); err == nil {
		t.Fatal("extracting into a regular file succeeded")
	}
	if _, err := extractArchive(bytes.Clone(data), filepath.Join(base, "new", "dir"), ExtractOptions{}); err != nil {
		t.Fatalf("extracting into a missing directory: %v", err)
	}
}

func TestExtractSkipLeavesEntriesOutButAuthenticatesThem(t *testing.T) {
	data := createArchive(t, func(ew *EntryWriter) {
		must(t, ew.AddBytes("big/data", 0o600, []byte("left out")))
		must(t, ew.AddBytes("keep/file", 0o600, []byte("kept")))
	})
	dst := filepath.Join(t.TempDir(), "restore")
	skip := func(name string) bool { return name == "big/data" }
	if _, err := extractArchive(data, dst, ExtractOptions{Skip: skip}); err != nil {
		t.Fatal(err)
	}
	if got := listTree(t, dst); len(got) != 2 || got[0] != "keep" || got[1] != "keep/file" {
		t.Errorf("extracted %v; want only keep/file", got)
	}
	// A flipped byte in the skipped entry's chunk is still refused.
	bad := bytes.Clone(data)
	bad[len(bad)-40] ^= 1
	if _, err := extractArchive(bad, filepath.Join(t.TempDir(), "r"), ExtractOptions{Skip: skip}); err == nil {
		t.Error("a damaged archive extracted")
	}
}
