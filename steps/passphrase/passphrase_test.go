package passphrase

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func TestCheckNew(t *testing.T) {
	good := []string{"correct horse battery staple", "Tr0ub4dor&3xyz", "ünïcödé wörds hère", "aaaaaaabcdef", " spaces count "}
	bad := map[string]string{
		"short1234":                    "at least 12 characters (it has 9)",
		"":                             "at least 12",
		"aaaaaaaaaaaaaaaa":             "different characters",
		"abababababababab":             "different characters",
		"123456789012":                 "only digits",
		"correct horse\nbattery":       "control character",
		"tab\tseparated words":         "control character",
		"escape \x1b[31m red text":     "control character",
		"\xff\xfe invalid utf8 text":   "UTF-8",
		strings.Repeat("abcdefg", 200): "limit",
	}
	for _, p := range good {
		if err := CheckNew([]byte(p)); err != nil {
			t.Errorf("%q refused: %v", p, err)
		}
	}
	for p, want := range bad {
		err := CheckNew([]byte(p))
		if !errors.Is(err, ErrWeak) || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: got %v, want ErrWeak saying %q", p, err, want)
		}
	}
}

// secretFile writes content to a new file of mode perm and returns its path.
func secretFile(t *testing.T, content string, perm os.FileMode) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, perm); err != nil {
		t.Fatal(err)
	}
	return p
}

func wantRefused(t *testing.T, err error, want, what string) {
	t.Helper()
	if !errors.Is(err, ErrFileRefused) || !strings.Contains(err.Error(), want) {
		t.Errorf("%s: got %v, want ErrFileRefused saying %q", what, err, want)
	}
}

func TestReadFileRules(t *testing.T) {
	for _, perm := range []os.FileMode{0o600, 0o400} {
		if got, err := ReadFile(secretFile(t, "share\n", perm), 100); err != nil || string(got) != "share\n" {
			t.Errorf("mode %04o: %q, %v", perm, got, err)
		}
	}
	for _, perm := range []os.FileMode{0o640, 0o604, 0o660, 0o644, 0o620} {
		_, err := ReadFile(secretFile(t, "share\n", perm), 100)
		wantRefused(t, err, "chmod 600", fmt.Sprintf("mode %04o", perm))
	}

	big := secretFile(t, strings.Repeat("x", 101), 0o600)
	_, err := ReadFile(big, 100)
	wantRefused(t, err, "at most 100", "a file over the limit")

	// Someone else's file could be changed under us.
	other := secretFile(t, "share\n", 0o600)
	if err := os.Chown(other, 65534, 65534); err != nil {
		t.Skipf("cannot give a file away (%v); ownership is covered where the tests run as root", err)
	}
	if os.Geteuid() != 65534 {
		_, err = ReadFile(other, 100)
		wantRefused(t, err, "belongs to uid 65534", "another user's file")
	}
}

func TestReadFileRefusesWhatIsNotARegularFile(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	// Nobody writes to it: opening must not hang, and it is refused.
	_, err := ReadFile(fifo, 100)
	wantRefused(t, err, "is not a regular file (it is a pipe)", "a named pipe")

	_, err = ReadFile(dir, 100)
	wantRefused(t, err, "a directory", "a directory")

	devNull := filepath.Join(dir, "devnull")
	if err := os.Symlink("/dev/null", devNull); err != nil {
		t.Fatal(err)
	}
	_, err = ReadFile(devNull, 100)
	wantRefused(t, err, "a device", "a link to a device")

	// A pipe from the shell's process substitution, --passphrase-file <(...).
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	w.WriteString("piped passphrase here\n")
	w.Close()
	_, err = ReadFile(fmt.Sprintf("/proc/self/fd/%d", r.Fd()), 100)
	wantRefused(t, err, "a pipe", "an anonymous pipe")

	// A link to a regular file that keeps the rules is fine.
	target := secretFile(t, "share\n", 0o600)
	link := filepath.Join(dir, "link")
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	if got, err := ReadFile(link, 100); err != nil || string(got) != "share\n" {
		t.Errorf("link to a good file: %q, %v", got, err)
	}

	if _, err := ReadFile(filepath.Join(dir, "missing"), 100); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
}

func TestFromFile(t *testing.T) {
	cases := map[string]string{
		"correct horse battery staple\n":       "correct horse battery staple",
		"correct horse battery staple":         "correct horse battery staple",
		"correct horse battery staple\r\n":     "correct horse battery staple",
		"correct horse battery staple\n\n":     "correct horse battery staple",
		" spaces are kept \n":                  " spaces are kept ",
		strings.Repeat("x", MaxBytes) + "\n":   strings.Repeat("x", MaxBytes),
		strings.Repeat("x", MaxBytes) + "\r\n": strings.Repeat("x", MaxBytes),
	}
	for content, want := range cases {
		got, err := FromFile(secretFile(t, content, 0o600))
		if err != nil || string(got) != want {
			t.Errorf("file %q: got %q, %v; want %q", content, got, err, want)
		}
	}
	errs := map[string]string{
		"\nsecond line\n":                        "empty",
		"":                                       "empty",
		"passphrase\nsecond line\n":              "more than one line",
		strings.Repeat("x", MaxBytes+1):          "longer than 1024 bytes",
		strings.Repeat("x", MaxBytes+5) + "\n":   "at most 1026",
		"correct horse battery staple\n# note\n": "more than one line",
	}
	for content, want := range errs {
		if _, err := FromFile(secretFile(t, content, 0o600)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("file %q: got %v, want an error saying %q", content, err, want)
		}
	}
	_, err := FromFile(secretFile(t, "correct horse battery staple\n", 0o640))
	wantRefused(t, err, "chmod 600", "a group-readable passphrase file")
}
