package archive

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/fineract-installer/fineract-installer/steps/passphrase"
)

// The benchmarks stream 1 GiB of generated data; nothing holds it in
// memory. Results are recorded in bench/backup-crypto.txt:
//
//	go test -run '^$' -bench . -benchtime 3x ./steps/backup/archive/
const benchSize = 1 << 30

// genReader yields n bytes by repeating one 1 MiB pseudo-random block
// (AES-GCM speed does not depend on the data).
type genReader struct {
	block []byte
	left  int64
	off   int
}

func newGen(n int64) *genReader { return &genReader{block: payload(1<<20, 99), left: n} }

func (g *genReader) Read(p []byte) (int, error) {
	if g.left == 0 {
		return 0, io.EOF
	}
	n := copy(p[:min(int64(len(p)), g.left)], g.block[g.off:])
	g.off = (g.off + n) % len(g.block)
	g.left -= int64(n)
	return n, nil
}

var benchPass = []byte("correct horse battery staple")

// BenchmarkEncrypt1GiB: generated data through the archive Writer (default
// KDF, so one argon2id run per op, and the given chunk size) to io.Discard.
func BenchmarkEncrypt1GiB(b *testing.B) {
	for _, size := range []int{MinChunkSize, 256 << 10, MaxChunkSize} {
		b.Run(fmt.Sprintf("chunk=%dKiB", size>>10), func(b *testing.B) {
			b.SetBytes(benchSize)
			for b.Loop() {
				w, err := NewWriter(io.Discard, benchPass, Options{ChunkSize: size})
				if err != nil {
					b.Fatal(err)
				}
				if _, err := io.Copy(w, newGen(benchSize)); err != nil {
					b.Fatal(err)
				}
				if err := w.Close(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkDecrypt1GiB: an archive file (in the page cache) through the
// Reader to io.Discard.
func BenchmarkDecrypt1GiB(b *testing.B) {
	for _, size := range []int{MinChunkSize, 256 << 10, MaxChunkSize} {
		b.Run(fmt.Sprintf("chunk=%dKiB", size>>10), func(b *testing.B) {
			path := filepath.Join(b.TempDir(), "archive")
			writeArchiveFile(b, path, newGen(benchSize), Options{ChunkSize: size})
			b.SetBytes(benchSize)
			for b.Loop() {
				f, err := os.Open(path)
				if err != nil {
					b.Fatal(err)
				}
				r, err := NewReader(f, benchPass)
				if err != nil {
					b.Fatal(err)
				}
				if n, err := io.Copy(io.Discard, r); err != nil || n != benchSize {
					b.Fatalf("decrypted %d bytes: %v", n, err)
				}
				f.Close()
			}
		})
	}
}

func writeArchiveFile(b *testing.B, path string, src io.Reader, opts Options) {
	b.Helper()
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	w, err := NewWriter(f, benchPass, opts)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := io.Copy(w, src); err != nil {
		b.Fatal(err)
	}
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
}

// plainFile writes a 1 GiB plaintext file for the file-to-file benchmarks.
func plainFile(b *testing.B, dir string) string {
	b.Helper()
	path := filepath.Join(dir, "plain")
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := io.Copy(f, newGen(benchSize)); err != nil {
		b.Fatal(err)
	}
	if err := f.Close(); err != nil {
		b.Fatal(err)
	}
	return path
}

// BenchmarkEncryptFile1GiB and BenchmarkDecryptFile1GiB do what the openssl
// benchmarks do, file to file, with the default options.
func BenchmarkEncryptFile1GiB(b *testing.B) {
	dir := b.TempDir()
	plain := plainFile(b, dir)
	b.SetBytes(benchSize)
	for b.Loop() {
		in, err := os.Open(plain)
		if err != nil {
			b.Fatal(err)
		}
		writeArchiveFile(b, filepath.Join(dir, "archive"), in, Options{})
		in.Close()
	}
}

func BenchmarkDecryptFile1GiB(b *testing.B) {
	dir := b.TempDir()
	path := filepath.Join(dir, "archive")
	writeArchiveFile(b, path, newGen(benchSize), Options{})
	b.SetBytes(benchSize)
	for b.Loop() {
		in, err := os.Open(path)
		if err != nil {
			b.Fatal(err)
		}
		out, err := os.Create(filepath.Join(dir, "plain.out"))
		if err != nil {
			b.Fatal(err)
		}
		r, err := NewReader(in, benchPass)
		if err != nil {
			b.Fatal(err)
		}
		if n, err := io.Copy(out, r); err != nil || n != benchSize {
			b.Fatalf("decrypted %d bytes: %v", n, err)
		}
		in.Close()
		out.Close()
	}
}

// BenchmarkCreateStream1GiB and BenchmarkVerify1GiB measure the full
// backup path: entry stream with SHA-256 per entry and the manifest check.
func BenchmarkCreateStream1GiB(b *testing.B) {
	b.SetBytes(benchSize)
	for b.Loop() {
		ew, err := Create(io.Discard, benchPass, Options{})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := ew.AddStream("postgres/fineract.dump", 0o600, newGen(benchSize)); err != nil {
			b.Fatal(err)
		}
		if err := ew.Close(); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerify1GiB(b *testing.B) {
	path := filepath.Join(b.TempDir(), "archive")
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	ew, err := Create(f, benchPass, Options{})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := ew.AddStream("postgres/fineract.dump", 0o600, newGen(benchSize)); err != nil {
		b.Fatal(err)
	}
	if err := ew.Close(); err != nil {
		b.Fatal(err)
	}
	f.Close()
	b.SetBytes(benchSize)
	for b.Loop() {
		in, err := os.Open(path)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := Verify(in, benchPass); err != nil {
			b.Fatal(err)
		}
		in.Close()
	}
}

// The shell approach being replaced: openssl enc -aes-256-cbc -pbkdf2
// (no authentication, no truncation detection), file to file.
func BenchmarkOpenSSLEncryptFile1GiB(b *testing.B) {
	dir := opensslDir(b)
	plain := plainFile(b, dir)
	b.SetBytes(benchSize)
	for b.Loop() {
		openssl(b, dir, "enc", "-aes-256-cbc", "-pbkdf2", "-salt", "-in", plain, "-out", filepath.Join(dir, "enc"))
	}
}

func BenchmarkOpenSSLDecryptFile1GiB(b *testing.B) {
	dir := opensslDir(b)
	plain := plainFile(b, dir)
	openssl(b, dir, "enc", "-aes-256-cbc", "-pbkdf2", "-salt", "-in", plain, "-out", filepath.Join(dir, "enc"))
	b.SetBytes(benchSize)
	for b.Loop() {
		openssl(b, dir, "enc", "-d", "-aes-256-cbc", "-pbkdf2", "-in", filepath.Join(dir, "enc"), "-out", filepath.Join(dir, "plain.out"))
	}
}

func opensslDir(b *testing.B) string {
	b.Helper()
	if _, err := exec.LookPath("openssl"); err != nil {
		b.Skip("openssl is not installed; the shell comparison needs it (apt-get install openssl)")
	}
	dir := b.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "pass"), append(bytes.Clone(benchPass), '\n'), 0o600); err != nil {
		b.Fatal(err)
	}
	return dir
}

func openssl(b *testing.B, dir string, args ...string) {
	b.Helper()
	args = append(args, "-pass", "file:"+filepath.Join(dir, "pass"))
	if out, err := exec.Command("openssl", args...).CombinedOutput(); err != nil {
		b.Fatalf("openssl %v: %v\n%s", args, err, out)
	}
}

// BenchmarkKDFDefault is the fixed cost per archive: one argon2id run with
// passphrase.DefaultKDF (once per key slot when reading with a wrong
// passphrase; passphrase.Limits allows at most four such runs per archive).
func BenchmarkKDFDefault(b *testing.B) {
	salt := make([]byte, saltSize)
	for b.Loop() {
		passphrase.DefaultKDF.Key(benchPass, salt)
	}
}
