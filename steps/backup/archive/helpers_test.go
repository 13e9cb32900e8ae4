package archive

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"io"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/fineract-installer/fineract-installer/steps/passphrase"
)

var (
	testPass = []byte("correct horse battery staple")
	// testKDF and testLimits keep argon2id cheap in tests that open
	// hundreds of archives; tests of the real limits use passphrase.Limits.
	// Like the real limits, they allow four derivations at the ceiling.
	testKDF    = passphrase.KDF{Time: 1, Memory: 64, Threads: 1}
	testLimits = passphrase.KDFLimits{MinTime: 1, MaxTime: 4, MinMemory: 8, MaxMemory: 1024, MaxThreads: 4, MaxWork: 4 * 4 * 1024}
)

// detRand is a deterministic randomness source, so archives are
// reproducible across processes.
func detRand(seed uint64) io.Reader {
	return rand.NewChaCha8([32]byte{byte(seed), byte(seed >> 8), 0x5e})
}

// payload returns n deterministic pseudo-random bytes.
func payload(n int, seed uint64) []byte {
	b := make([]byte, n)
	_, _ = io.ReadFull(detRand(seed+1000), b)
	return b
}

// fixedTime makes archives from seal byte-identical across processes.
var fixedTime = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// seal encrypts plain with test parameters, writing it in pieces of
// writeSize bytes (0: one Write).
func seal(t testing.TB, plain []byte, chunkSize, writeSize int) []byte {
	t.Helper()
	var buf bytes.Buffer
	opts := Options{ChunkSize: chunkSize, KDF: testKDF, Metadata: Metadata{Created: fixedTime}}
	w, err := newWriter(&buf, [][]byte{testPass}, opts, testLimits, detRand(uint64(len(plain))))
	if err != nil {
		t.Fatal(err)
	}
	if writeSize == 0 {
		writeSize = max(len(plain), 1)
	}
	for p := plain; len(p) > 0; {
		n := min(writeSize, len(p))
		if _, err := w.Write(p[:n]); err != nil {
			t.Fatal(err)
		}
		p = p[n:]
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// open decrypts data with test limits and returns what Read returned
// before the first error, and that error.
func open(data []byte) ([]byte, Info, error) {
	r, err := newReader(bytes.NewReader(data), testPass, testLimits)
	if err != nil {
		return nil, Info{}, err
	}
	got, err := io.ReadAll(r)
	return got, r.Info(), err
}

// headerLen parses data's header and returns its size.
func headerLen(t testing.TB, data []byte) int {
	t.Helper()
	r, err := newReader(bytes.NewReader(data), testPass, testLimits)
	if err != nil {
		t.Fatal(err)
	}
	return int(r.Info().HeaderSize)
}

// fixChecksum recomputes the header checksum after a deliberate edit.
func fixChecksum(data []byte, hdrLen int) {
	sum := sha256.Sum256(data[:hdrLen-checksumSize])
	copy(data[hdrLen-checksumSize:hdrLen], sum[:])
}

// slotOffset is where the first key slot starts.
func slotOffset(data []byte) int {
	return fixedSize + int(binary.BigEndian.Uint16(data[fixedSize-2:fixedSize])) + 1
}

func flip(data []byte, i int, mask byte) []byte {
	c := bytes.Clone(data)
	c[i] ^= mask
	return c
}

func wantKind(t *testing.T, err, kind error, what string) {
	t.Helper()
	if !errors.Is(err, kind) {
		t.Fatalf("%s: got error %v, want %v", what, err, kind)
	}
}

func archiveError(t *testing.T, err error) *Error {
	t.Helper()
	var ae *Error
	if !errors.As(err, &ae) {
		t.Fatalf("error %v (%T) is not an *archive.Error", err, err)
	}
	return ae
}
