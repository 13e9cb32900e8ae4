package archive

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"io"
	"testing"
)

// FuzzReader: for any input the reader must not panic, must classify every
// error, must return only whole authenticated chunks before an error, and
// must accept nothing but the archives it was seeded with, byte for byte.
// Seeds are deterministic (seal uses a seeded randomness source), so every
// fuzzing process knows the same valid archives.
func FuzzReader(f *testing.F) {
	valid := map[[sha256.Size]byte][]byte{}
	for i, n := range []int{0, 1, 100, cs, cs + 1} {
		plain := payload(n, uint64(50+i))
		data := seal(f, plain, cs, 0)
		valid[sha256.Sum256(data)] = plain
		f.Add(data)
		f.Add(data[:len(data)-1])
		f.Add(flip(data, len(data)/2, 1))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		want, isValid := valid[sha256.Sum256(data)]
		r, err := newReader(bytes.NewReader(data), testPass, testLimits)
		if err != nil {
			if isValid {
				t.Fatalf("a valid archive was refused: %v", err)
			}
			classified(t, err)
			return
		}
		got, err := io.ReadAll(r)
		if err == nil {
			if !isValid {
				t.Fatalf("a modified archive (%d bytes) was accepted", len(data))
			}
			if !bytes.Equal(got, want) {
				t.Fatal("a valid archive decrypted to the wrong payload")
			}
			return
		}
		if isValid {
			t.Fatalf("a valid archive failed to read: %v", err)
		}
		classified(t, err)
		if len(got)%r.Info().ChunkSize != 0 {
			t.Fatalf("%d bytes returned before the error are not whole chunks", len(got))
		}
	})
}

func classified(t *testing.T, err error) {
	t.Helper()
	var ae *Error
	if !errors.As(err, &ae) {
		t.Fatalf("error %v is not an *archive.Error", err)
	}
	for _, k := range []error{ErrNotAnArchive, ErrUnsupportedVersion, ErrWrongPassphrase, ErrCorrupt, ErrTruncated, ErrWeakParameters} {
		if errors.Is(err, k) {
			return
		}
	}
	t.Fatalf("error %v has no known class", err)
}

// FuzzEntryReader: a hostile payload must not panic the entry parser, every
// name it yields must pass ValidName, and it may only succeed with a
// manifest that matches what it read.
func FuzzEntryReader(f *testing.F) {
	hello := []byte("hello")
	f.Add(newRaw().entry(recFile, "x", 0o600).segments(hello).manifest(Manifest{Format: 1, Entries: []ManifestEntry{fileEntry("x", hello)}}).Bytes())
	f.Add(newRaw().entry(recDir, "d", 0o755).entry(recFile, "d/f", 0o644).segments(hello, hello).manifest(Manifest{Format: 1}).Bytes())
	f.Add(newRaw().entry(recFile, "../x", 0o600).segments().Bytes())
	var buf bytes.Buffer
	ew, _ := NewEntryWriter(&buf)
	_ = ew.AddDir("a", 0o700)
	_ = ew.AddBytes("a/b", 0o640, []byte("data"))
	_ = ew.Close()
	f.Add(buf.Bytes())
	f.Fuzz(func(t *testing.T, data []byte) {
		er, err := NewEntryReader(bytes.NewReader(data))
		if err != nil {
			classified(t, err)
			return
		}
		var names []string
		for range 10000 {
			ent, err := er.Next()
			if err == io.EOF {
				m := er.Manifest()
				if m == nil || len(m.Entries) != len(names) {
					t.Fatalf("success with manifest %+v for entries %v", m, names)
				}
				for i, e := range m.Entries {
					if e.Name != names[i] {
						t.Fatalf("manifest entry %d is %q, read %q", i, e.Name, names[i])
					}
				}
				return
			}
			if err != nil {
				classified(t, err)
				return
			}
			if err := ValidName(ent.Name); err != nil {
				t.Fatalf("the reader yielded an invalid name: %v", err)
			}
			names = append(names, ent.Name)
			if _, err := io.Copy(io.Discard, er); err != nil {
				classified(t, err)
				return
			}
		}
	})
}
