package wal

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"io"
	"testing"
	"time"
)

// sealed returns an object for name holding plain, byte-identical across
// processes (fixed file ID and time), so every fuzzing process knows the
// same valid objects.
func sealed(t testing.TB, name string, plain []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := newWriter(&buf, testKey, [fileIDSize]byte{1, 2, 3}, name, time.Unix(1700000000, 0))
	if err != nil {
		t.Fatal(err)
	}
	w.Write(plain)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// FuzzReader: for any input the reader must not panic, must classify every
// error, must return only whole authenticated chunks before an error, and
// must accept nothing but the objects it was seeded with, byte for byte.
func FuzzReader(f *testing.F) {
	const name = "000000010000000000000001"
	valid := map[[sha256.Size]byte][]byte{}
	for i, n := range []int{0, 1, 100, chunkSize + 1} {
		plain := payload(n, uint64(90+i))
		data := sealed(f, name, plain)
		valid[sha256.Sum256(data)] = plain
		if n <= 100 {
			f.Add(data)
			f.Add(data[:len(data)-1])
			mod := bytes.Clone(data)
			mod[len(mod)/2] ^= 4
			f.Add(mod)
		}
	}
	f.Add(sealed(f, "00000002.history", []byte("x")))
	f.Fuzz(func(t *testing.T, data []byte) {
		want, isValid := valid[sha256.Sum256(data)]
		r, err := newReader(bytes.NewReader(data), testKey, name)
		if err != nil {
			if isValid {
				t.Fatalf("a valid object was refused: %v", err)
			}
			classified(t, err)
			return
		}
		got, err := io.ReadAll(r)
		if err == nil {
			if !isValid {
				t.Fatalf("a modified object (%d bytes) was accepted", len(data))
			}
			if !bytes.Equal(got, want) {
				t.Fatal("a valid object decrypted to the wrong payload")
			}
			return
		}
		if isValid {
			t.Fatalf("a valid object failed to read: %v", err)
		}
		classified(t, err)
		if len(got)%chunkSize != 0 {
			t.Fatalf("%d bytes returned before the error are not whole chunks", len(got))
		}
	})
}

func classified(t *testing.T, err error) {
	t.Helper()
	for _, kind := range []error{ErrCorrupt, ErrTruncated, ErrMisplaced} {
		if errors.Is(err, kind) {
			return
		}
	}
	t.Fatalf("error %v is not classified", err)
}
