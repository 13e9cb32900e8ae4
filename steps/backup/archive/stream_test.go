package archive

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/fineract-installer/fineract-installer/steps/passphrase"
)

const cs = MinChunkSize // small chunks keep the corruption tests fast

func TestRoundTripSizes(t *testing.T) {
	sizes := []int{0, 1, cs - 1, cs, cs + 1, 2 * cs, 3*cs + 7, 8<<20 + 13}
	for _, n := range sizes {
		for _, ws := range []int{0, 1 << 10, cs + 3} {
			if n > 4*cs && ws != 0 && ws < cs {
				continue // byte-sized writes of many MB add time, not coverage
			}
			t.Run(fmt.Sprintf("size=%d/write=%d", n, ws), func(t *testing.T) {
				plain := payload(n, 1)
				data := seal(t, plain, cs, ws)
				chunks := max(1, (n+cs-1)/cs)
				if want := headerLen(t, data) + n + chunks*tagSize; len(data) != want {
					t.Fatalf("archive is %d bytes, want header + payload + %d tags = %d", len(data), chunks, want)
				}
				got, info, err := open(data)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(got, plain) {
					t.Fatalf("round trip changed the payload (%d bytes in, %d out)", n, len(got))
				}
				if info.Chunks != int64(chunks) || info.PayloadSize != int64(n) || info.ArchiveSize != int64(len(data)) {
					t.Fatalf("info %+v; want %d chunks, %d payload bytes, %d archive bytes", info, chunks, n, len(data))
				}
			})
		}
	}
}

func TestDefaultsRoundTrip(t *testing.T) {
	var buf bytes.Buffer
	created := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	meta := Metadata{Created: created, InstallerVersion: "1.2.3", Labels: map[string]string{"host": "bank1"}}
	w, err := NewWriter(&buf, testPass, Options{Metadata: meta})
	if err != nil {
		t.Fatal(err)
	}
	plain := payload(DefaultChunkSize+5, 2)
	if _, err := w.Write(plain); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	r, err := NewReader(bytes.NewReader(buf.Bytes()), testPass)
	if err != nil {
		t.Fatal(err)
	}
	info := r.Info()
	if info.ChunkSize != DefaultChunkSize || len(info.KeySlots) != 1 || info.KeySlots[0] != passphrase.DefaultKDF {
		t.Fatalf("info %+v; want default chunk size and KDF", info)
	}
	if !info.Metadata.Created.Equal(created) || info.Metadata.InstallerVersion != "1.2.3" || info.Metadata.Labels["host"] != "bank1" {
		t.Fatalf("metadata %+v, want %+v", info.Metadata, meta)
	}
	got, err := io.ReadAll(r)
	if err != nil || !bytes.Equal(got, plain) {
		t.Fatalf("round trip: err %v, equal %v", err, bytes.Equal(got, plain))
	}
	if _, err := NewReader(bytes.NewReader(buf.Bytes()), []byte("correct horse battery stapler")); !errors.Is(err, ErrWrongPassphrase) {
		t.Fatalf("wrong passphrase: got %v", err)
	}
}

func TestCreatedDefaultsToNow(t *testing.T) {
	before := time.Now()
	var buf bytes.Buffer
	w, err := newWriter(&buf, [][]byte{testPass}, Options{ChunkSize: cs, KDF: testKDF}, testLimits, detRand(1))
	must(t, err)
	must(t, w.Close())
	_, info, err := open(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if c := info.Metadata.Created; c.Before(before.Add(-time.Second)) || c.After(time.Now().Add(time.Second)) {
		t.Fatalf("created %v, want about now", c)
	}
}

func TestWrongPassphrase(t *testing.T) {
	data := seal(t, payload(100, 3), cs, 0)
	for _, p := range []string{"", "correct horse battery stapl", "Correct horse battery staple"} {
		_, err := newReader(bytes.NewReader(data), []byte(p), testLimits)
		wantKind(t, err, ErrWrongPassphrase, fmt.Sprintf("passphrase %q", p))
		if errors.Is(err, ErrCorrupt) {
			t.Fatalf("a wrong passphrase must not read as damage: %v", err)
		}
		if !strings.Contains(err.Error(), "check the passphrase") {
			t.Fatalf("message %q does not say what to do", err)
		}
	}
}

// TestFlipEveryHeaderByte: every header byte matters and is classified.
func TestFlipEveryHeaderByte(t *testing.T) {
	data := seal(t, payload(3*cs, 4), cs, 0)
	hl := headerLen(t, data)
	for i := range hl {
		for _, mask := range []byte{0x01, 0x80, 0xff} {
			_, _, err := open(flip(data, i, mask))
			switch {
			case i < len(magic):
				wantKind(t, err, ErrNotAnArchive, fmt.Sprintf("magic byte %d ^ %#x", i, mask))
			case i == len(magic):
				wantKind(t, err, ErrUnsupportedVersion, fmt.Sprintf("version byte ^ %#x", mask))
			default:
				wantKind(t, err, ErrCorrupt, fmt.Sprintf("header byte %d of %d ^ %#x", i, hl, mask))
			}
		}
	}
}

// TestFlipPayloadBytes corrupts bytes in every chunk: start, middle, last
// ciphertext byte and every tag byte. Read must fail at that chunk and
// return exactly the chunks before it, nothing from the bad one.
func TestFlipPayloadBytes(t *testing.T) {
	plain := payload(3*cs+500, 5)
	data := seal(t, plain, cs, 0)
	hl := headerLen(t, data)
	chunks := 4
	for c := range chunks {
		start := hl + c*(cs+tagSize)
		end := min(start+cs+tagSize, len(data))
		positions := []int{start, start + 1, (start + end) / 2, end - tagSize - 1}
		for i := end - tagSize; i < end; i++ {
			positions = append(positions, i)
		}
		for _, pos := range positions {
			got, _, err := open(flip(data, pos, 0x04))
			what := fmt.Sprintf("chunk %d, byte %d", c, pos)
			wantKind(t, err, ErrCorrupt, what)
			if ae := archiveError(t, err); ae.Chunk != int64(c) || ae.Offset != int64(start) {
				t.Fatalf("%s: error names chunk %d at offset %d, want chunk %d at %d", what, ae.Chunk, ae.Offset, c, start)
			}
			if !bytes.Equal(got, plain[:c*cs]) {
				t.Fatalf("%s: read returned %d bytes, want exactly the %d bytes of the chunks before the bad one", what, len(got), c*cs)
			}
		}
	}
}

func TestReaderNeverReturnsUnauthenticatedBytes(t *testing.T) {
	plain := payload(4*cs, 6)
	data := seal(t, plain, cs, 0)
	hl := headerLen(t, data)
	bad := flip(data, hl+2*(cs+tagSize)+cs/2, 0x10) // middle of chunk 2
	r, err := newReader(bytes.NewReader(bad), testPass, testLimits)
	if err != nil {
		t.Fatal(err)
	}
	var got []byte
	one := iotest.OneByteReader(r)
	b := make([]byte, 1)
	for {
		n, err := one.Read(b)
		got = append(got, b[:n]...)
		if err != nil {
			wantKind(t, err, ErrCorrupt, "one-byte reads")
			break
		}
	}
	if !bytes.Equal(got, plain[:2*cs]) {
		t.Fatalf("got %d bytes before the error, want the %d bytes of chunks 0 and 1", len(got), 2*cs)
	}
	// The error is sticky.
	if _, err := r.Read(b); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("second read after the error: %v", err)
	}
}

func TestTruncation(t *testing.T) {
	plain := payload(3*cs+100, 7)
	data := seal(t, plain, cs, 0)
	hl := headerLen(t, data)
	var cuts []int
	for i := 0; i <= hl; i++ { // every length inside the header, and the bare header
		cuts = append(cuts, i)
	}
	for c := range 4 {
		start := hl + c*(cs+tagSize)
		cuts = append(cuts, start+1, start+tagSize-1, start+tagSize, start+cs/2, start+cs, start+cs+tagSize-1)
	}
	cuts = append(cuts, len(data)-1)
	boundaries := map[int]bool{}
	for c := range 4 {
		boundaries[hl+c*(cs+tagSize)] = true
	}
	for _, n := range cuts {
		if n >= len(data) {
			continue
		}
		got, _, err := open(data[:n])
		if err == nil {
			t.Fatalf("archive cut to %d of %d bytes read without error", n, len(data))
		}
		if !errors.Is(err, ErrTruncated) && !errors.Is(err, ErrCorrupt) {
			t.Fatalf("cut to %d bytes: unexpected error class: %v", n, err)
		}
		if (n <= hl || boundaries[n]) && !errors.Is(err, ErrTruncated) {
			t.Fatalf("cut to %d bytes (header %d, or a chunk boundary): got %v, want ErrTruncated", n, hl, err)
		}
		if len(got)%cs != 0 || !bytes.Equal(got, plain[:len(got)]) {
			t.Fatalf("cut to %d bytes: read returned %d bytes that are not whole authentic chunks", n, len(got))
		}
	}
}

func TestChunkReorderingAndAppending(t *testing.T) {
	plain := payload(4*cs+10, 8)
	data := seal(t, plain, cs, 0)
	hl := headerLen(t, data)
	full := cs + tagSize
	chunk := func(i int) []byte { return data[hl+i*full : min(hl+(i+1)*full, len(data))] }
	join := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
	hdr := data[:hl]
	other := seal(t, payload(4*cs+11, 9), cs, 0) // another archive, same passphrase

	cases := []struct {
		name string
		data []byte
		kind error
	}{
		{"swap chunks 1 and 2", join(hdr, chunk(0), chunk(2), chunk(1), chunk(3), chunk(4)), ErrCorrupt},
		{"duplicate chunk 1", join(hdr, chunk(0), chunk(1), chunk(1), chunk(2), chunk(3), chunk(4)), ErrCorrupt},
		{"drop chunk 2", join(hdr, chunk(0), chunk(1), chunk(3), chunk(4)), ErrCorrupt},
		{"drop the final chunk", join(hdr, chunk(0), chunk(1), chunk(2), chunk(3)), ErrTruncated},
		{"final chunk moved first", join(hdr, chunk(4), chunk(0), chunk(1), chunk(2), chunk(3)), ErrCorrupt},
		{"append one byte", join(data, []byte{0}), ErrCorrupt},
		{"append a tag's worth", join(data, make([]byte, tagSize)), ErrCorrupt},
		{"append the final chunk again", join(data, chunk(4)), ErrCorrupt},
		{"append a whole archive", join(data, other), ErrCorrupt},
		{"chunk from another archive", join(hdr, chunk(0), other[hl+full:hl+2*full], chunk(2), chunk(3), chunk(4)), ErrCorrupt},
		{"header of another archive", join(other[:hl], data[hl:]), ErrCorrupt},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, _, err := open(c.data)
			wantKind(t, err, c.kind, c.name)
		})
	}
}

func TestAppendedDataMessage(t *testing.T) {
	// After a full final chunk the reader can tell appended data exactly.
	data := seal(t, payload(cs, 10), cs, 0)
	_, _, err := open(append(bytes.Clone(data), "junk"...))
	if err == nil || !strings.Contains(err.Error(), "final chunk") || !strings.Contains(err.Error(), "appended") {
		t.Fatalf("appended data: message %q should say data follows the final chunk", err)
	}
	// After a short final chunk the chunk length is unknown: still refused.
	data = seal(t, payload(10, 10), cs, 0)
	_, _, err = open(append(bytes.Clone(data), "junk"...))
	wantKind(t, err, ErrCorrupt, "junk after a short final chunk")
	if !strings.Contains(err.Error(), "appended") {
		t.Fatalf("message %q should mention appended data as a cause", err)
	}
}

func TestNotAnArchive(t *testing.T) {
	cases := map[string][]byte{
		"tar":              append([]byte("etc/passwd"), make([]byte, 500)...),
		"gzip":             {0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3},
		"openssl salted":   []byte("Salted__12345678abcdefgh"),
		"text":             []byte("hello world, this is not a backup\n"),
		"wrong first byte": []byte("XIBACKUP\x01"),
	}
	for name, data := range cases {
		_, _, err := open(data)
		wantKind(t, err, ErrNotAnArchive, name)
	}
	for _, data := range [][]byte{nil, []byte("F"), []byte("FIBACKU")} {
		_, _, err := open(data)
		wantKind(t, err, ErrTruncated, fmt.Sprintf("%d bytes of magic", len(data)))
	}
}

func TestUnsupportedVersion(t *testing.T) {
	data := seal(t, nil, cs, 0)
	data[len(magic)] = 2
	_, _, err := open(data)
	wantKind(t, err, ErrUnsupportedVersion, "version 2")
	if !strings.Contains(err.Error(), "newer") {
		t.Fatalf("message %q should point to a newer installer", err)
	}
}

// TestKDFDowngradeRefused edits a key slot's argon2id parameters and
// recomputes the header checksum, as an attacker would.
func TestKDFDowngradeRefused(t *testing.T) {
	var buf bytes.Buffer
	floor := passphrase.KDF{Time: 2, Memory: 19 * 1024, Threads: 1} // the cheapest accepted
	w, err := newWriter(&buf, [][]byte{testPass}, Options{ChunkSize: cs, KDF: floor}, passphrase.Limits, detRand(11))
	if err != nil {
		t.Fatal(err)
	}
	w.Close()
	data := buf.Bytes()
	r, err := NewReader(bytes.NewReader(data), testPass)
	if err != nil {
		t.Fatalf("an archive at the floor must open: %v", err)
	}
	hl := int(r.Info().HeaderSize)
	so := slotOffset(data)
	edit := func(time, memory uint32, threads byte, fix bool) error {
		c := bytes.Clone(data)
		put32(c[so+1:], time)
		put32(c[so+5:], memory)
		c[so+9] = threads
		if fix {
			fixChecksum(c, hl)
		}
		_, err := NewReader(bytes.NewReader(c), testPass)
		return err
	}
	kdf := func(time, memory uint32, threads uint8) passphrase.KDF {
		return passphrase.KDF{Time: time, Memory: memory, Threads: threads}
	}
	for _, p := range []passphrase.KDF{kdf(1, 19*1024, 1), kdf(2, 8, 1), kdf(2, 19*1024-1, 1), kdf(2, 19*1024, 0), kdf(1, 64, 1)} {
		err := edit(p.Time, p.Memory, p.Threads, true)
		wantKind(t, err, ErrWeakParameters, fmt.Sprintf("downgrade to %+v", p))
	}
	for _, p := range []passphrase.KDF{kdf(4, 64*1024, 1), kdf(2, 64*1024+1, 1), kdf(2, 64*1024, 5), kdf(17, 64*1024, 1), kdf(2, 4<<20, 1), kdf(2, 64*1024, 65)} {
		err := edit(p.Time, p.Memory, p.Threads, true)
		wantKind(t, err, ErrWeakParameters, fmt.Sprintf("oversized %+v", p))
	}
	// Without the recomputed checksum it is plain damage.
	wantKind(t, edit(1, 8, 1, false), ErrCorrupt, "downgrade without checksum")
	// Within the bounds the derived key differs and the slot does not open.
	wantKind(t, edit(2, 20*1024, 1, true), ErrWrongPassphrase, "edit within bounds")
}

func put32(b []byte, v uint32) {
	b[0], b[1], b[2], b[3] = byte(v>>24), byte(v>>16), byte(v>>8), byte(v)
}

// TestHeaderEditWithFixedChecksum: edits outside the key slots are caught
// by the header MAC and reported as a modification.
func TestHeaderEditWithFixedChecksum(t *testing.T) {
	var buf bytes.Buffer
	w, err := newWriter(&buf, [][]byte{testPass}, Options{ChunkSize: cs, KDF: testKDF,
		Metadata: Metadata{InstallerVersion: "1.0.0"}}, testLimits, detRand(12))
	if err != nil {
		t.Fatal(err)
	}
	w.Write(payload(100, 12))
	w.Close()
	data := buf.Bytes()
	hl := headerLen(t, data)
	edits := map[string]func([]byte){
		"metadata":   func(c []byte) { i := bytes.Index(c, []byte("1.0.0")); c[i] = '9' },
		"file ID":    func(c []byte) { c[len(magic)+5] ^= 1 },
		"chunk size": func(c []byte) { put32(c[len(magic)+1:], 2*cs) },
		"MAC":        func(c []byte) { c[hl-checksumSize-1] ^= 1 },
	}
	for name, edit := range edits {
		c := bytes.Clone(data)
		edit(c)
		fixChecksum(c, hl)
		_, _, err := open(c)
		wantKind(t, err, ErrCorrupt, name)
		if !strings.Contains(err.Error(), "modified") {
			t.Fatalf("%s: message %q should say the header was modified", name, err)
		}
	}
}

func TestWriterOptionsAndErrors(t *testing.T) {
	var buf bytes.Buffer
	if _, err := NewWriter(&buf, []byte("short"), Options{}); !errors.Is(err, passphrase.ErrWeak) {
		t.Fatalf("weak passphrase: %v", err)
	}
	for _, size := range []int{MinChunkSize - 1, MaxChunkSize + 1, -1} {
		if _, err := NewWriter(&buf, testPass, Options{ChunkSize: size}); err == nil {
			t.Fatalf("chunk size %d accepted", size)
		}
	}
	if _, err := NewWriter(&buf, testPass, Options{KDF: passphrase.KDF{Time: 1, Memory: 1024, Threads: 1}}); !errors.Is(err, ErrWeakParameters) {
		t.Fatalf("weak KDF option: %v", err)
	}
	// The writer refuses what no reader would open.
	if _, err := NewWriter(&buf, testPass, Options{KDF: passphrase.KDF{Time: 4, Memory: 64 * 1024, Threads: 4}}); !errors.Is(err, ErrWeakParameters) {
		t.Fatalf("KDF option above the ceiling: %v", err)
	}
	if _, err := NewWriter(&buf, testPass, Options{Metadata: Metadata{Labels: map[string]string{"x": strings.Repeat("a", maxMetadata)}}}); err == nil {
		t.Fatal("oversized metadata accepted")
	}
	if buf.Len() != 0 {
		t.Fatalf("refused writers wrote %d bytes", buf.Len())
	}

	// Write errors are sticky; Close after Close is a no-op; Write after Close fails.
	fw := &failWriter{limit: 2000}
	w, err := newWriter(fw, [][]byte{testPass}, Options{ChunkSize: cs, KDF: testKDF}, testLimits, detRand(13))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(make([]byte, 3*cs)); err == nil {
		t.Fatal("write to a failing writer succeeded")
	}
	if err := w.Close(); err == nil {
		t.Fatal("close after a failed write succeeded")
	}
	w, _ = newWriter(io.Discard, [][]byte{testPass}, Options{ChunkSize: cs, KDF: testKDF}, testLimits, detRand(14))
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatalf("second close: %v", err)
	}
	if _, err := w.Write([]byte("x")); err == nil {
		t.Fatal("write after close succeeded")
	}
}

type failWriter struct{ n, limit int }

func (f *failWriter) Write(p []byte) (int, error) {
	if f.n+len(p) > f.limit {
		return 0, errors.New("disk full")
	}
	f.n += len(p)
	return len(p), nil
}

func TestErrorMessagesNameThePlace(t *testing.T) {
	data := seal(t, payload(2*cs+1, 15), cs, 0)
	hl := headerLen(t, data)
	_, _, err := open(flip(data, hl+cs+tagSize+3, 1))
	msg := err.Error()
	for _, want := range []string{"chunk 1", fmt.Sprintf("byte offset %d", hl+cs+tagSize), "another copy"} {
		if !strings.Contains(msg, want) {
			t.Fatalf("message %q lacks %q", msg, want)
		}
	}
	_, _, err = open(data[:hl+cs+tagSize])
	if !strings.Contains(err.Error(), "not the final one") || !strings.Contains(err.Error(), "cut short") {
		t.Fatalf("truncation message %q", err)
	}
}
