package wal

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var (
	testKey   = bytes.Repeat([]byte{7}, KeySize)
	otherKey  = bytes.Repeat([]byte{8}, KeySize)
	fixedTime = time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC)
)

// payload returns n deterministic pseudo-random bytes.
func payload(n int, seed uint64) []byte {
	b := make([]byte, n)
	_, _ = io.ReadFull(rand.NewChaCha8([32]byte{byte(seed), byte(seed >> 8), 0x3a}), b)
	return b
}

func newRepo(t *testing.T) (*os.Root, string) {
	t.Helper()
	dir := t.TempDir()
	root, err := os.OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { root.Close() })
	return root, dir
}

func push(t *testing.T, repo *os.Root, name string, data []byte) {
	t.Helper()
	if err := Push(context.Background(), repo, testKey, bytes.NewReader(data), name, fixedTime); err != nil {
		t.Fatalf("push %s: %v", name, err)
	}
}

func fetch(repo *os.Root, key []byte, name string) ([]byte, time.Time, error) {
	var buf bytes.Buffer
	at, err := Fetch(repo, key, name, &buf)
	return buf.Bytes(), at, err
}

func TestSegmentNames(t *testing.T) {
	for _, c := range []struct {
		tl    uint32
		lsn   uint64
		name  string
		segno uint64
	}{
		{1, 0, "000000010000000000000000", 0},
		{1, 0x2000000, "000000010000000000000002", 2},
		{1, 0x2FFFFFF, "000000010000000000000002", 2},
		{2, 0x1_00000000, "000000020000000100000000", 256},
		{0xA, 0x3_FF000000, "0000000A00000003000000FF", 1023},
	} {
		if got := SegmentName(c.tl, c.lsn); got != c.name {
			t.Errorf("SegmentName(%d, %#x) = %s, want %s", c.tl, c.lsn, got, c.name)
		}
		tl, segno, ok := ParseSegmentName(c.name)
		if !ok || tl != c.tl || segno != c.segno {
			t.Errorf("ParseSegmentName(%s) = %d, %d, %v; want %d, %d", c.name, tl, segno, ok, c.tl, c.segno)
		}
	}
	for _, bad := range []string{"", "00000001000000000000000", "000000010000000000000100", "00000001000000000000000g",
		"000000010000000000000002.partial", "00000002.history", "../00000001000000000000000"} {
		if _, _, ok := ParseSegmentName(bad); ok {
			t.Errorf("ParseSegmentName(%q) accepted", bad)
		}
	}
	for _, good := range []string{"000000010000000000000002", "000000010000000000000002.partial", "00000002.history",
		"000000010000000000000002.00000028.backup"} {
		if !ValidName(good) {
			t.Errorf("ValidName(%q) = false", good)
		}
	}
	for _, bad := range []string{"", ".", "..", "a/b", "00000002.History", "000000010000000000000002.fiwal", "000000010000000000000002\n"} {
		if ValidName(bad) {
			t.Errorf("ValidName(%q) = true", bad)
		}
	}
}

func TestPushFetchRoundTrip(t *testing.T) {
	repo, dir := newRepo(t)
	for i, n := range []int{0, 1, chunkSize - 1, chunkSize, chunkSize + 1, 2*chunkSize + 77} {
		name := segmentName(1, uint64(i))
		data := payload(n, uint64(i))
		push(t, repo, name, data)
		got, at, err := fetch(repo, testKey, name)
		if err != nil {
			t.Fatalf("fetch %d bytes: %v", n, err)
		}
		if !bytes.Equal(got, data) {
			t.Fatalf("fetch of %d bytes returned %d different bytes", n, len(got))
		}
		if !at.Equal(fixedTime) {
			t.Fatalf("archived at %v, want %v", at, fixedTime)
		}
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), Suffix) || strings.HasPrefix(e.Name(), ".") {
			t.Errorf("push left %s behind", e.Name())
		}
		info, _ := e.Info()
		if info.Mode().Perm() != 0o600 {
			t.Errorf("%s has mode %v, want 0600", e.Name(), info.Mode().Perm())
		}
	}
	objs, err := List(repo)
	if err != nil || len(objs) != 6 || objs[0].Name != "000000010000000000000000" {
		t.Fatalf("List = %v, %v", objs, err)
	}
}

func TestPushIsIdempotent(t *testing.T) {
	repo, dir := newRepo(t)
	name := "000000010000000000000003"
	data := payload(5000, 1)
	push(t, repo, name, data)
	before, _ := os.ReadFile(filepath.Join(dir, name+Suffix))
	// PostgreSQL retries a file whose success it did not record.
	push(t, repo, name, data)
	err := Push(context.Background(), repo, testKey, bytes.NewReader(payload(5000, 2)), name, fixedTime)
	if !errors.Is(err, ErrExists) {
		t.Fatalf("pushing different content under an existing name: %v, want ErrExists", err)
	}
	after, _ := os.ReadFile(filepath.Join(dir, name+Suffix))
	if !bytes.Equal(before, after) {
		t.Fatal("a repeated push changed the archived object")
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Fatalf("repository holds %d entries after repeated pushes, want 1", len(entries))
	}
}

func TestPushRemovesStaleTemporary(t *testing.T) {
	repo, dir := newRepo(t)
	name := "000000010000000000000003"
	stale := filepath.Join(dir, "."+name+Suffix+".tmp-0011223344556677")
	if err := os.WriteFile(stale, []byte("half an object"), 0o600); err != nil {
		t.Fatal(err)
	}
	push(t, repo, name, []byte("wal"))
	if _, err := os.Lstat(stale); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the temporary object of a killed push is still there: %v", err)
	}
}

func TestPushRefusesBadInput(t *testing.T) {
	repo, _ := newRepo(t)
	if err := Push(context.Background(), repo, testKey, strings.NewReader("x"), "../000000010000000000000001", fixedTime); err == nil {
		t.Fatal("a name with a path was accepted")
	}
	if err := Push(context.Background(), repo, testKey[:16], strings.NewReader("x"), "000000010000000000000001", fixedTime); err == nil {
		t.Fatal("a 16-byte key was accepted")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := Push(ctx, repo, testKey, strings.NewReader("x"), "000000010000000000000001", fixedTime); err == nil {
		t.Fatal("a cancelled push succeeded")
	}
	if objs, _ := List(repo); len(objs) != 0 {
		t.Fatalf("a failed push left objects %v", objs)
	}
}

func TestFetchNotFound(t *testing.T) {
	repo, _ := newRepo(t)
	if _, _, err := fetch(repo, testKey, "000000010000000000000009"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("fetch of a missing object: %v, want ErrNotFound", err)
	}
}

// Every single flipped byte, anywhere in the object, is refused.
func TestFetchRefusesFlippedByte(t *testing.T) {
	repo, dir := newRepo(t)
	name := "000000010000000000000004"
	data := payload(chunkSize+100, 4)
	push(t, repo, name, data)
	path := filepath.Join(dir, name+Suffix)
	orig, _ := os.ReadFile(path)
	for _, pos := range []int{0, 9, 13, 30, 40, 45, maxHeader - 1, 100, chunkSize, len(orig) - 50, len(orig) - 1} {
		mod := bytes.Clone(orig)
		mod[pos] ^= 0x01
		os.WriteFile(path, mod, 0o600)
		got, _, err := fetch(repo, testKey, name)
		if err == nil {
			t.Fatalf("flipped byte %d accepted", pos)
		}
		if !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrTruncated) && !errors.Is(err, ErrMisplaced) {
			t.Fatalf("flipped byte %d: unclassified error %v", pos, err)
		}
		if !strings.Contains(err.Error(), name) {
			t.Fatalf("error does not name the object: %v", err)
		}
		if len(got)%chunkSize != 0 {
			t.Fatalf("flipped byte %d: %d bytes returned are not whole authenticated chunks", pos, len(got))
		}
	}
}

func TestFetchRefusesTruncated(t *testing.T) {
	repo, dir := newRepo(t)
	name := "000000010000000000000005"
	push(t, repo, name, payload(2*chunkSize+10, 5))
	path := filepath.Join(dir, name+Suffix)
	orig, _ := os.ReadFile(path)
	full := chunkSize + 16
	hdr := len(orig) - 2*full - 10 - 16
	for _, cut := range []int{0, 3, 8, hdr - 1, hdr, hdr + 5, hdr + full, hdr + 2*full, len(orig) - 1} {
		os.WriteFile(path, orig[:cut], 0o600)
		_, _, err := fetch(repo, testKey, name)
		if err == nil {
			t.Fatalf("object cut to %d bytes accepted", cut)
		}
		if !errors.Is(err, ErrTruncated) && !errors.Is(err, ErrCorrupt) {
			t.Fatalf("cut to %d: unclassified %v", cut, err)
		}
	}
	// Cut at a chunk boundary is told apart from damage.
	os.WriteFile(path, orig[:hdr+full], 0o600)
	if _, _, err := fetch(repo, testKey, name); !errors.Is(err, ErrTruncated) {
		t.Fatalf("cut after a full chunk: %v, want ErrTruncated", err)
	}
	os.WriteFile(path, append(bytes.Clone(orig), 1, 2, 3), 0o600)
	if _, _, err := fetch(repo, testKey, name); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("appended data: %v, want ErrCorrupt", err)
	}
}

// A segment copied over another authenticates but is refused under the
// wrong name, naming what it holds.
func TestFetchRefusesSwappedName(t *testing.T) {
	repo, dir := newRepo(t)
	a, b := "000000010000000000000006", "000000010000000000000007"
	push(t, repo, a, []byte("segment six"))
	push(t, repo, b, []byte("segment seven"))
	six, _ := os.ReadFile(filepath.Join(dir, a+Suffix))
	os.WriteFile(filepath.Join(dir, b+Suffix), six, 0o600)
	_, _, err := fetch(repo, testKey, b)
	if !errors.Is(err, ErrMisplaced) || !strings.Contains(err.Error(), a) {
		t.Fatalf("segment 6 under the name of 7: %v, want ErrMisplaced naming %s", err, a)
	}
}

func TestFetchRefusesOtherKey(t *testing.T) {
	repo, _ := newRepo(t)
	name := "000000010000000000000008"
	push(t, repo, name, []byte("wal"))
	if _, _, err := fetch(repo, otherKey, name); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("fetch under another key: %v, want ErrCorrupt", err)
	}
}

// The directory is writable by PostgreSQL's uid: a link planted there is
// never followed, and a FIFO never blocks a reader.
func TestFetchDoesNotFollowLinks(t *testing.T) {
	repo, dir := newRepo(t)
	secret := filepath.Join(t.TempDir(), "secret")
	os.WriteFile(secret, []byte("not yours"), 0o600)
	a := "000000010000000000000001"
	os.Symlink(secret, filepath.Join(dir, a+Suffix))
	if _, _, err := fetch(repo, testKey, a); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("symlinked object: %v, want ErrCorrupt", err)
	}
	b := "000000010000000000000002"
	if err := unixMkfifo(filepath.Join(dir, b+Suffix)); err != nil {
		t.Fatal(err)
	}
	if _, _, err := fetch(repo, testKey, b); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("FIFO object: %v, want ErrCorrupt", err)
	}
}

func TestVerifyNamesGapsAndDamage(t *testing.T) {
	repo, dir := newRepo(t)
	for _, i := range []uint64{1, 2, 3, 5, 6, 7, 8} {
		push(t, repo, segmentName(1, i), payload(100, i))
	}
	push(t, repo, "00000002.history", []byte("1\t0/7000000\tno recovery target specified\n"))
	push(t, repo, segmentName(2, 7), payload(100, 70))
	later := fixedTime.Add(time.Hour)
	if err := Push(context.Background(), repo, testKey, bytes.NewReader(payload(100, 71)), segmentName(2, 8), later); err != nil {
		t.Fatal(err)
	}
	// 6 is damaged, 7 is a copy of 5.
	p6 := filepath.Join(dir, segmentName(1, 6)+Suffix)
	b6, _ := os.ReadFile(p6)
	b6[len(b6)-3] ^= 0x80
	os.WriteFile(p6, b6, 0o600)
	b5, _ := os.ReadFile(filepath.Join(dir, segmentName(1, 5)+Suffix))
	os.WriteFile(filepath.Join(dir, segmentName(1, 7)+Suffix), b5, 0o600)
	os.WriteFile(filepath.Join(dir, "junk.fiwal"), []byte("x"), 0o600)

	rep, err := Verify(repo, testKey)
	if err != nil {
		t.Fatal(err)
	}
	if rep.OK() {
		t.Fatal("Verify reports a damaged repository as OK")
	}
	if got := strings.Join(rep.Missing, ","); got != segmentName(1, 4) || rep.MissingCount != 1 {
		t.Fatalf("Missing = %s (%d), want %s", got, rep.MissingCount, segmentName(1, 4))
	}
	reasons := map[string]string{}
	for _, p := range rep.Corrupt {
		reasons[p.Name] = p.Reason
	}
	if len(reasons) != 3 || !strings.Contains(reasons[segmentName(1, 6)], "authenticate") ||
		!strings.Contains(reasons[segmentName(1, 7)], segmentName(1, 5)) || reasons["junk.fiwal"] == "" {
		t.Fatalf("Corrupt = %v", rep.Corrupt)
	}
	want := []Run{
		{1, segmentName(1, 1), segmentName(1, 3), 3},
		{1, segmentName(1, 5), segmentName(1, 5), 1},
		{1, segmentName(1, 8), segmentName(1, 8), 1},
		{2, segmentName(2, 7), segmentName(2, 8), 2},
	}
	if len(rep.Runs) != len(want) {
		t.Fatalf("Runs = %v, want %v", rep.Runs, want)
	}
	for i := range want {
		if rep.Runs[i] != want[i] {
			t.Fatalf("Runs = %v, want %v", rep.Runs, want)
		}
	}
	if rep.Newest == nil || rep.Newest.Name != segmentName(2, 8) || !rep.Newest.ArchivedAt.Equal(later) {
		t.Fatalf("Newest = %+v", rep.Newest)
	}
	if rep.Objects != 10 {
		t.Fatalf("Objects = %d, want 10", rep.Objects)
	}
}

// A planted name far along the WAL must not make Verify list billions of
// missing segments.
func TestVerifyBoundsMissing(t *testing.T) {
	repo, _ := newRepo(t)
	push(t, repo, segmentName(1, 1), []byte("a"))
	far := "00000001FFFFFFFF000000FF"
	push(t, repo, far, []byte("b"))
	rep, err := Verify(repo, testKey)
	if err != nil {
		t.Fatal(err)
	}
	_, last, _ := ParseSegmentName(far)
	if len(rep.Missing) != maxMissing || rep.MissingCount != last-2 {
		t.Fatalf("Missing lists %d names and counts %d, want %d and %d", len(rep.Missing), rep.MissingCount, maxMissing, last-2)
	}
}
