package archive

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func TestCheckPassphrase(t *testing.T) {
	good := []string{"correct horse battery staple", "Tr0ub4dor&3xyz", "ünïcödé wörds hère", "aaaaaaabcdef"}
	bad := map[string]string{
		"short1234":                    "at least 12",
		"":                             "at least 12",
		"aaaaaaaaaaaaaaaa":             "different characters",
		"abababababababab":             "different characters",
		"123456789012":                 "only digits",
		"correct horse\nbattery":       "control character",
		"tab\tseparated words":         "control character",
		"\xff\xfe invalid utf8 text":   "UTF-8",
		strings.Repeat("abcdefg", 200): "limit",
	}
	for _, p := range good {
		if err := CheckPassphrase([]byte(p)); err != nil {
			t.Errorf("%q refused: %v", p, err)
		}
	}
	for p, want := range bad {
		err := CheckPassphrase([]byte(p))
		if !errors.Is(err, ErrWeakPassphrase) || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: got %v, want ErrWeakPassphrase saying %q", p, err, want)
		}
	}
}

func TestPassphraseFromFile(t *testing.T) {
	dir := t.TempDir()
	file := func(content string, mode os.FileMode) string {
		p := filepath.Join(dir, fmt.Sprint(time.Now().UnixNano()))
		writeFile(t, p, []byte(content), mode)
		return p
	}
	cases := map[string]string{
		"correct horse battery staple\n":               "correct horse battery staple",
		"correct horse battery staple":                 "correct horse battery staple",
		"correct horse battery staple\r\nsecond\n":     "correct horse battery staple",
		" spaces are kept \n":                          " spaces are kept ",
		strings.Repeat("x", maxPassphraseBytes) + "\n": strings.Repeat("x", maxPassphraseBytes),
	}
	for content, want := range cases {
		got, err := PassphraseFromFile(file(content, 0o600))
		if err != nil || string(got) != want {
			t.Errorf("file %q: got %q, %v; want %q", content, got, err, want)
		}
	}
	errs := map[string]string{
		file("\nsecond line\n", 0o600): "empty",
		file("", 0o600):                "empty",
		file(strings.Repeat("x", maxPassphraseBytes+5), 0o600): "longer than",
		file("correct horse battery staple\n", 0o644):          "chmod 600",
		filepath.Join(dir, "missing"):                          "no such file",
	}
	for path, want := range errs {
		if _, err := PassphraseFromFile(path); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: got %v, want an error saying %q", path, err, want)
		}
	}
	// A pipe (as from process substitution) is not a regular file: no mode check.
	r, w, err := os.Pipe()
	must(t, err)
	go func() { w.WriteString("piped passphrase here\n"); w.Close() }()
	got, err := PassphraseFromFile(fmt.Sprintf("/proc/self/fd/%d", r.Fd()))
	r.Close()
	if err != nil || string(got) != "piped passphrase here" {
		t.Errorf("pipe: %q, %v", got, err)
	}
}

func TestPassphraseFromEnv(t *testing.T) {
	t.Setenv("FI_TEST_PASSPHRASE", "correct horse battery staple")
	got, err := PassphraseFromEnv("FI_TEST_PASSPHRASE")
	if err != nil || string(got) != "correct horse battery staple" {
		t.Fatalf("got %q, %v", got, err)
	}
	if _, ok := os.LookupEnv("FI_TEST_PASSPHRASE"); ok {
		t.Fatal("the variable is still in the environment after reading it")
	}
	if _, err := PassphraseFromEnv("FI_TEST_PASSPHRASE"); err == nil || !strings.Contains(err.Error(), "not set") {
		t.Fatalf("unset variable: %v", err)
	}
	t.Setenv("FI_TEST_EMPTY", "")
	if _, err := PassphraseFromEnv("FI_TEST_EMPTY"); err == nil || !strings.Contains(err.Error(), "empty") {
		t.Fatalf("empty variable: %v", err)
	}
}

// openPTY returns the two ends of a new pseudo-terminal.
func openPTY(t *testing.T) (controller, terminal *os.File) {
	t.Helper()
	c, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals on this host (%v); the prompt is covered by the non-terminal test only", err)
	}
	t.Cleanup(func() { c.Close() })
	fd := int(c.Fd())
	if err := unix.IoctlSetPointerInt(fd, unix.TIOCSPTLCK, 0); err != nil {
		t.Fatalf("unlocking the pty: %v", err)
	}
	n, err := unix.IoctlGetUint32(fd, unix.TIOCGPTN)
	if err != nil {
		t.Fatalf("pty number: %v", err)
	}
	term, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("cannot open the pty's terminal end (%v)", err)
	}
	t.Cleanup(func() { term.Close() })
	return c, term
}

func TestPassphraseFromTerminal(t *testing.T) {
	type result struct {
		p   []byte
		err error
	}
	run := func(input string, confirm bool) (result, string) {
		ctl, tty := openPTY(t)
		var prompt bytes.Buffer
		done := make(chan result, 1)
		go func() {
			p, err := PassphraseFromTerminal(tty, &prompt, confirm)
			done <- result{p, err}
		}()
		ctl.WriteString(input)
		select {
		case r := <-done:
			return r, prompt.String()
		case <-time.After(10 * time.Second):
			t.Fatal("the prompt did not return")
			return result{}, ""
		}
	}
	r, prompt := run("correct horse battery staple\ncorrect horse battery staple\n", true)
	if r.err != nil || string(r.p) != "correct horse battery staple" {
		t.Fatalf("confirmed entry: %q, %v", r.p, r.err)
	}
	if !strings.Contains(prompt, "Backup passphrase:") || !strings.Contains(prompt, "Repeat") {
		t.Fatalf("prompts %q", prompt)
	}
	if strings.Contains(prompt, "staple") {
		t.Fatal("the passphrase was echoed to the prompt output")
	}
	r, _ = run("correct horse battery staple\ncorrect horse battery stable\n", true)
	if r.err == nil || !strings.Contains(r.err.Error(), "differ") {
		t.Fatalf("mismatched confirmation: %v", r.err)
	}
	r, prompt = run("tooshort\n", true)
	if !errors.Is(r.err, ErrWeakPassphrase) || strings.Contains(prompt, "Repeat") {
		t.Fatalf("weak passphrase must be refused before asking again: %v, prompts %q", r.err, prompt)
	}
	r, _ = run("short is fine for reading\n", false)
	if r.err != nil || string(r.p) != "short is fine for reading" {
		t.Fatalf("single prompt: %q, %v", r.p, r.err)
	}
	r, _ = run("\n", false)
	if r.err == nil {
		t.Fatal("an empty entry was accepted")
	}
}

func TestPassphraseFromNonTerminal(t *testing.T) {
	f, err := os.Open(os.DevNull)
	must(t, err)
	defer f.Close()
	if _, err := PassphraseFromTerminal(f, &bytes.Buffer{}, false); err == nil || !strings.Contains(err.Error(), "not a terminal") {
		t.Fatalf("non-terminal input: %v", err)
	}
}

func TestPassphraseSource(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good")
	writeFile(t, good, []byte("correct horse battery staple\n"), 0o600)
	weak := filepath.Join(dir, "weak")
	writeFile(t, weak, []byte("short\n"), 0o600)

	if _, err := (PassphraseSource{}).Read(false); err == nil {
		t.Fatal("no source accepted")
	}
	if _, err := (PassphraseSource{File: good, Env: "X"}).Read(false); err == nil {
		t.Fatal("two sources accepted")
	}
	if p, err := (PassphraseSource{File: good}).Read(true); err != nil || string(p) != "correct horse battery staple" {
		t.Fatalf("file source: %q, %v", p, err)
	}
	if _, err := (PassphraseSource{File: weak}).Read(true); !errors.Is(err, ErrWeakPassphrase) {
		t.Fatalf("weak passphrase for a new archive: %v", err)
	}
	if p, err := (PassphraseSource{File: weak}).Read(false); err != nil || string(p) != "short" {
		t.Fatalf("reading an existing archive takes any passphrase: %q, %v", p, err)
	}
	t.Setenv("FI_TEST_SOURCE", "correct horse battery staple")
	if p, err := (PassphraseSource{Env: "FI_TEST_SOURCE"}).Read(true); err != nil || string(p) != "correct horse battery staple" {
		t.Fatalf("env source: %q, %v", p, err)
	}
	ctl, tty := openPTY(t)
	ctl.WriteString("correct horse battery staple\ncorrect horse battery staple\n")
	if p, err := (PassphraseSource{Terminal: tty}).Read(true); err != nil || string(p) != "correct horse battery staple" {
		t.Fatalf("terminal source: %q, %v", p, err)
	}
}
