package archive

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// createArchive builds an archive with test KDF parameters; fill adds entries.
func createArchive(t *testing.T, fill func(*EntryWriter)) []byte {
	t.Helper()
	var buf bytes.Buffer
	aw, err := newWriter(&buf, [][]byte{testPass}, Options{ChunkSize: cs, KDF: testKDF}, testLimits, detRand(20))
	if err != nil {
		t.Fatal(err)
	}
	ew, err := NewEntryWriter(aw)
	if err != nil {
		t.Fatal(err)
	}
	fill(ew)
	if err := ew.Close(); err != nil {
		t.Fatal(err)
	}
	if err := aw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// encryptPayload encrypts a hand-made entry stream.
func encryptPayload(t *testing.T, plain []byte) []byte {
	t.Helper()
	return seal(t, plain, cs, 0)
}

func writeFile(t *testing.T, path string, data []byte, mode fs.FileMode) {
	t.Helper()
	if err := os.WriteFile(path, data, mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil { // umask-proof
		t.Fatal(err)
	}
}

func sha(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }

// slowPipe streams n bytes of pattern in uneven writes, like pg_dump.
func slowPipe(data []byte) io.Reader {
	pr, pw := io.Pipe()
	go func() {
		for p, i := data, 0; len(p) > 0; i++ {
			n := min(len(p), 1+(i*7919)%40000)
			if _, err := pw.Write(p[:n]); err != nil {
				return
			}
			p = p[n:]
		}
		pw.Close()
	}()
	return pr
}

func TestEntriesRoundTrip(t *testing.T) {
	src := t.TempDir()
	conf := filepath.Join(src, "conf")
	if err := os.MkdirAll(filepath.Join(conf, "nginx"), 0o750); err != nil {
		t.Fatal(err)
	}
	must(t, os.Chmod(filepath.Join(conf, "nginx"), 0o750))
	must(t, os.Chmod(conf, 0o710))
	writeFile(t, filepath.Join(conf, "app.env"), []byte("A=1\n"), 0o640)
	writeFile(t, filepath.Join(conf, "nginx", "nginx.conf"), []byte("server {}\n"), 0o644)
	writeFile(t, filepath.Join(conf, "run.sh"), []byte("#!/bin/sh\n"), 0o755)
	single := filepath.Join(src, "ca.crt")
	writeFile(t, single, payload(5000, 21), 0o600)
	dump := payload(3<<20+17, 22)

	data := createArchive(t, func(ew *EntryWriter) {
		must(t, ew.AddDir("meta", 0o700))
		must(t, ew.AddBytes("meta/empty", 0o600, nil))
		must(t, ew.AddFile("pki/ca.crt", single))
		n, err := ew.AddStream("postgres/fineract.dump", 0o600, slowPipe(dump))
		must(t, err)
		if n != int64(len(dump)) {
			t.Fatalf("AddStream counted %d bytes, want %d", n, len(dump))
		}
		must(t, ew.AddTree("config", conf))
	})

	info, err := verify(bytes.NewReader(data), testPass, testLimits)
	if err != nil {
		t.Fatal(err)
	}
	want := []ManifestEntry{
		{Name: "meta", Type: TypeDir, Mode: "0700"},
		{Name: "meta/empty", Type: TypeFile, Mode: "0600", Size: 0, SHA256: sha(nil)},
		{Name: "pki/ca.crt", Type: TypeFile, Mode: "0600", Size: 5000, SHA256: sha(payload(5000, 21))},
		{Name: "postgres/fineract.dump", Type: TypeFile, Mode: "0600", Size: int64(len(dump)), SHA256: sha(dump)},
		{Name: "config", Type: TypeDir, Mode: "0710"},
		{Name: "config/app.env", Type: TypeFile, Mode: "0640", Size: 4, SHA256: sha([]byte("A=1\n"))},
		{Name: "config/nginx", Type: TypeDir, Mode: "0750"},
		{Name: "config/nginx/nginx.conf", Type: TypeFile, Mode: "0644", Size: 10, SHA256: sha([]byte("server {}\n"))},
		{Name: "config/run.sh", Type: TypeFile, Mode: "0755", Size: 10, SHA256: sha([]byte("#!/bin/sh\n"))},
	}
	if info.Manifest == nil || fmt.Sprint(info.Manifest.Entries) != fmt.Sprint(want) {
		t.Fatalf("manifest\n got %v\nwant %v", info.Manifest, want)
	}
	if info.PayloadSize == 0 || info.ArchiveSize != int64(len(data)) {
		t.Fatalf("info sizes %+v", info)
	}

	dst := filepath.Join(t.TempDir(), "restore")
	if _, err := extractArchive(data, dst, ExtractOptions{}); err != nil {
		t.Fatal(err)
	}
	checkFile(t, filepath.Join(dst, "postgres/fineract.dump"), dump, 0o600)
	checkFile(t, filepath.Join(dst, "config/run.sh"), []byte("#!/bin/sh\n"), 0o755)
	checkFile(t, filepath.Join(dst, "config/app.env"), []byte("A=1\n"), 0o640)
	checkFile(t, filepath.Join(dst, "meta/empty"), nil, 0o600)
	checkMode(t, filepath.Join(dst, "config/nginx"), fs.ModeDir|0o750)
	checkMode(t, filepath.Join(dst, "config"), fs.ModeDir|0o710)
	checkMode(t, filepath.Join(dst, "postgres"), fs.ModeDir|0o700) // implicit parent
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func checkFile(t *testing.T, path string, want []byte, mode fs.FileMode) {
	t.Helper()
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("%s: %d bytes, want %d", path, len(got), len(want))
	}
	checkMode(t, path, mode)
}

func checkMode(t *testing.T, path string, mode fs.FileMode) {
	t.Helper()
	st, err := os.Lstat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode() != mode {
		t.Fatalf("%s: mode %v, want %v", path, st.Mode(), mode)
	}
}

func extractArchive(data []byte, dir string, opts ExtractOptions) (Info, error) {
	rd, err := newReader(bytes.NewReader(data), testPass, testLimits)
	if err != nil {
		return Info{}, err
	}
	return extractFrom(rd, dir, opts)
}

func TestCreateVerifyExtractPublicAPI(t *testing.T) {
	var buf bytes.Buffer
	ew, err := Create(&buf, testPass, Options{Metadata: Metadata{InstallerVersion: "0.9.0"}})
	must(t, err)
	must(t, ew.AddBytes("hello.txt", 0o644, []byte("hello\n")))
	must(t, ew.Close())
	must(t, ew.Close()) // a second Close is harmless
	info, err := Verify(bytes.NewReader(buf.Bytes()), testPass)
	must(t, err)
	if info.Metadata.InstallerVersion != "0.9.0" || len(info.Manifest.Entries) != 1 {
		t.Fatalf("info %+v", info)
	}
	dir := t.TempDir()
	if _, err := Extract(bytes.NewReader(buf.Bytes()), testPass, dir, ExtractOptions{}); err != nil {
		t.Fatal(err)
	}
	checkFile(t, filepath.Join(dir, "hello.txt"), []byte("hello\n"), 0o644)
	if _, err := Verify(bytes.NewReader(buf.Bytes()), []byte("not the passphrase")); !errors.Is(err, ErrWrongPassphrase) {
		t.Fatalf("verify with a wrong passphrase: %v", err)
	}
}

func TestValidName(t *testing.T) {
	good := []string{"a", "a/b", "postgres/fineract.dump", "with space/ü.txt", ".hidden", "a..b", "..a"}
	bad := []string{"", ".", "..", "../x", "a/../../x", "a/..", "/etc/passwd", "a//b", "a/", "./a", "a/./b",
		`a\b`, `..\..\x`, "a\x00b", "a\nb", "\xff", strings.Repeat("a", maxNameLen+1)}
	for _, n := range good {
		if err := ValidName(n); err != nil {
			t.Errorf("ValidName(%q): %v", n, err)
		}
	}
	for _, n := range bad {
		if err := ValidName(n); err == nil {
			t.Errorf("ValidName(%q) accepted", n)
		}
	}
}

func TestEntryWriterRefuses(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "target")
	writeFile(t, target, []byte("x"), 0o600)
	link := filepath.Join(dir, "link")
	must(t, os.Symlink(target, link))

	ew, err := NewEntryWriter(io.Discard)
	must(t, err)
	must(t, ew.AddBytes("a", 0o600, []byte("1")))
	refusals := map[string]error{
		"duplicate":       ew.AddBytes("a", 0o600, nil),
		"child of a file": ew.AddBytes("a/b", 0o600, nil),
		"traversal":       ew.AddBytes("../x", 0o600, nil),
		"absolute":        ew.AddDir("/etc", 0o755),
		"symlink":         ew.AddFile("l", link),
		"device":          ew.AddFile("null", "/dev/null"),
		"missing":         ew.AddFile("m", filepath.Join(dir, "missing")),
	}
	for name, err := range refusals {
		if err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if err := refusals["symlink"]; err != nil && !strings.Contains(err.Error(), "symbolic link") {
		t.Errorf("symlink message %q", err)
	}
	// Refusals before any data leave the stream usable.
	must(t, ew.AddBytes("b/c", 0o600, nil))
	must(t, ew.AddDir("b", 0o755)) // an explicit entry for an implied directory is fine
	if err := ew.AddBytes("b", 0o600, nil); err == nil {
		t.Error("file over a directory accepted")
	}
	must(t, ew.Close())

	tree := t.TempDir()
	must(t, os.Symlink(target, filepath.Join(tree, "link")))
	ew, _ = NewEntryWriter(io.Discard)
	if err := ew.AddTree("t", tree); err == nil || !strings.Contains(err.Error(), "symbolic link") {
		t.Errorf("AddTree over a symlink: %v", err)
	}
}

func TestAddStreamReadErrorBreaksTheStream(t *testing.T) {
	var buf bytes.Buffer
	ew, err := NewEntryWriter(&buf)
	must(t, err)
	bad := io.MultiReader(bytes.NewReader(payload(1000, 23)), iotestErr{})
	if _, err := ew.AddStream("dump", 0o600, bad); err == nil || !strings.Contains(err.Error(), "dump") {
		t.Fatalf("AddStream with a failing reader: %v", err)
	}
	if err := ew.AddBytes("next", 0o600, nil); err == nil {
		t.Fatal("the stream accepted an entry after a broken one")
	}
	if err := ew.Close(); err == nil {
		t.Fatal("Close after a broken entry succeeded")
	}
}

type iotestErr struct{}

func (iotestErr) Read([]byte) (int, error) { return 0, errors.New("pg_dump exited with status 1") }

// rawStream builds entry streams by hand, including ones EntryWriter refuses.
type rawStream struct{ bytes.Buffer }

func newRaw() *rawStream { r := &rawStream{}; r.WriteString(entryMagic); return r }

func (r *rawStream) entry(kind byte, name string, mode uint32) *rawStream {
	r.WriteByte(kind)
	r.Write(binary.BigEndian.AppendUint16(nil, uint16(len(name))))
	r.WriteString(name)
	r.Write(binary.BigEndian.AppendUint32(nil, mode))
	return r
}

func (r *rawStream) segments(parts ...[]byte) *rawStream {
	for _, p := range parts {
		r.Write(binary.BigEndian.AppendUint32(nil, uint32(len(p))))
		r.Write(p)
	}
	r.Write([]byte{0, 0, 0, 0})
	return r
}

func (r *rawStream) manifest(m Manifest) *rawStream {
	body := []byte(fmt.Sprintf(`{"format":%d,"entries":[`, m.Format))
	for i, e := range m.Entries {
		if i > 0 {
			body = append(body, ',')
		}
		body = fmt.Appendf(body, `{"name":%q,"type":%q,"mode":%q,"size":%d,"sha256":%q}`, e.Name, e.Type, e.Mode, e.Size, e.SHA256)
	}
	body = append(body, "]}"...)
	r.WriteByte(recManifest)
	r.Write(binary.BigEndian.AppendUint32(nil, uint32(len(body))))
	r.Write(body)
	return r
}

func fileEntry(name string, data []byte) ManifestEntry {
	return ManifestEntry{Name: name, Type: TypeFile, Mode: "0600", Size: int64(len(data)), SHA256: sha(data)}
}

func TestVerifyChecksTheManifest(t *testing.T) {
	hello := []byte("hello")
	good := newRaw().entry(recFile, "x", 0o600).segments(hello).manifest(Manifest{Format: 1, Entries: []ManifestEntry{fileEntry("x", hello)}})
	if _, err := verify(bytes.NewReader(encryptPayload(t, good.Bytes())), testPass, testLimits); err != nil {
		t.Fatalf("hand-made good stream: %v", err)
	}
	wrongHash := fileEntry("x", hello)
	wrongHash.SHA256 = sha([]byte("hellO"))
	wrongSize := fileEntry("x", hello)
	wrongSize.Size = 4
	wrongMode := fileEntry("x", hello)
	wrongMode.Mode = "0644"
	cases := map[string]*rawStream{
		"wrong hash":     newRaw().entry(recFile, "x", 0o600).segments(hello).manifest(Manifest{Format: 1, Entries: []ManifestEntry{wrongHash}}),
		"wrong size":     newRaw().entry(recFile, "x", 0o600).segments(hello).manifest(Manifest{Format: 1, Entries: []ManifestEntry{wrongSize}}),
		"wrong mode":     newRaw().entry(recFile, "x", 0o600).segments(hello).manifest(Manifest{Format: 1, Entries: []ManifestEntry{wrongMode}}),
		"missing entry":  newRaw().entry(recFile, "x", 0o600).segments(hello).manifest(Manifest{Format: 1}),
		"extra entry":    newRaw().entry(recFile, "x", 0o600).segments(hello).manifest(Manifest{Format: 1, Entries: []ManifestEntry{fileEntry("x", hello), fileEntry("y", nil)}}),
		"format 2":       newRaw().manifest(Manifest{Format: 2}),
		"no manifest":    newRaw().entry(recFile, "x", 0o600).segments(hello),
		"cut in a file":  newRaw().entry(recFile, "x", 0o600),
		"unknown record": newRaw().entry('L', "x", 0o600),
		"setuid mode":    newRaw().entry(recFile, "x", 0o4755).segments().manifest(Manifest{Format: 1}),
		"oversized segment": func() *rawStream {
			r := newRaw().entry(recFile, "x", 0o600)
			r.Write(binary.BigEndian.AppendUint32(nil, maxSegment+1))
			return r
		}(),
		"data after manifest": func() *rawStream {
			r := newRaw().manifest(Manifest{Format: 1})
			r.WriteString("more")
			return r
		}(),
		"not an entry stream": func() *rawStream { r := &rawStream{}; r.WriteString("just some bytes here"); return r }(),
	}
	for name, raw := range cases {
		_, err := verify(bytes.NewReader(encryptPayload(t, raw.Bytes())), testPass, testLimits)
		wantKind(t, err, ErrCorrupt, name)
		if !strings.Contains(err.Error(), "payload") {
			t.Errorf("%s: message %q should say the payload is malformed", name, err)
		}
	}
}

func TestEntryReaderPartialReads(t *testing.T) {
	data := createArchive(t, func(ew *EntryWriter) {
		must(t, ew.AddBytes("a", 0o600, payload(segmentSize*2+5, 24)))
		must(t, ew.AddBytes("b", 0o600, []byte("bee")))
	})
	rd, err := newReader(bytes.NewReader(data), testPass, testLimits)
	must(t, err)
	er, err := NewEntryReader(rd)
	must(t, err)
	ent, err := er.Next()
	must(t, err)
	if ent.Name != "a" {
		t.Fatalf("first entry %q", ent.Name)
	}
	if _, err := io.ReadFull(er, make([]byte, 10)); err != nil { // read a little, skip the rest
		t.Fatal(err)
	}
	ent, err = er.Next()
	must(t, err)
	got, err := io.ReadAll(er)
	if err != nil || ent.Name != "b" || string(got) != "bee" {
		t.Fatalf("second entry %q = %q, %v", ent.Name, got, err)
	}
	if _, err := er.Next(); err != io.EOF {
		t.Fatalf("end: %v", err)
	}
	if m := er.Manifest(); m == nil || m.Entries[0].Size != segmentSize*2+5 {
		t.Fatalf("manifest after skipping: %+v", m)
	}
}
