package archive

import (
	"bytes"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"os"
	"unicode"
	"unicode/utf8"

	"golang.org/x/term"
)

// Passphrase rules for new archives (CheckPassphrase).
const (
	MinPassphraseLength = 12   // characters
	maxPassphraseBytes  = 1024 // longer is surely a wrong file
	minDistinctChars    = 6
)

// CheckPassphrase tells whether passphrase is acceptable for a new archive:
// at least 12 characters of printable UTF-8, at least 6 different ones, not
// only digits, at most 1024 bytes. Errors wrap ErrWeakPassphrase and say
// what to change. Reading an archive accepts any passphrase.
func CheckPassphrase(passphrase []byte) error {
	weak := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s", ErrWeakPassphrase, fmt.Sprintf(format, args...))
	}
	if !utf8.Valid(passphrase) {
		return weak("it is not valid UTF-8 text")
	}
	if len(passphrase) > maxPassphraseBytes {
		return weak("it is %d bytes long; the limit is %d (is this the right file?)", len(passphrase), maxPassphraseBytes)
	}
	distinct := map[rune]bool{}
	digits := 0
	for _, r := range string(passphrase) {
		if unicode.IsControl(r) {
			return weak("it contains a control character (a tab, line break or similar)")
		}
		distinct[r] = true
		if r >= '0' && r <= '9' {
			digits++
		}
	}
	n := utf8.RuneCount(passphrase)
	switch {
	case n < MinPassphraseLength:
		return weak("it has %d characters; use at least %d (a few unrelated words work well)", n, MinPassphraseLength)
	case len(distinct) < minDistinctChars:
		return weak("it uses only %d different characters; use at least %d", len(distinct), minDistinctChars)
	case digits == n:
		return weak("it is only digits; add letters or words")
	}
	return nil
}

// PassphraseSource says where a command reads a passphrase from. Exactly
// one field must be set. There is deliberately no way to pass the value
// itself: a command-line argument is visible to every user in ps and
// /proc/<pid>/cmdline and lands in shell history.
type PassphraseSource struct {
	// File is a file whose first line is the passphrase.
	File string
	// Env is the name of an environment variable holding the passphrase.
	Env string
	// Terminal is a terminal to prompt on (usually os.Stdin), with the
	// prompts written to Prompt (usually os.Stderr).
	Terminal *os.File
	Prompt   io.Writer
}

// Read returns the passphrase. With creating set (a new archive, or a new
// passphrase for Rekey) the terminal asks twice and the passphrase must
// pass CheckPassphrase.
func (s PassphraseSource) Read(creating bool) ([]byte, error) {
	set := 0
	for _, ok := range []bool{s.File != "", s.Env != "", s.Terminal != nil} {
		if ok {
			set++
		}
	}
	if set != 1 {
		return nil, errors.New("give the passphrase in exactly one way: a file, an environment variable, or the terminal prompt")
	}
	var p []byte
	var err error
	switch {
	case s.File != "":
		p, err = PassphraseFromFile(s.File)
	case s.Env != "":
		p, err = PassphraseFromEnv(s.Env)
	default:
		prompt := s.Prompt
		if prompt == nil {
			prompt = io.Discard
		}
		p, err = PassphraseFromTerminal(s.Terminal, prompt, creating)
	}
	if err != nil {
		return nil, err
	}
	if creating {
		if err := CheckPassphrase(p); err != nil {
			clear(p)
			return nil, err
		}
	}
	return p, nil
}

// PassphraseFromFile returns the first line of the file at path, without
// its line ending. A regular file readable by every user is refused.
func PassphraseFromFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("opening the passphrase file: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("reading the passphrase file: %w", err)
	}
	if st.Mode().IsRegular() && st.Mode().Perm()&0o004 != 0 {
		return nil, fmt.Errorf("the passphrase file %s is readable by every user on this host (mode %04o); run chmod 600 %s", path, st.Mode().Perm(), path)
	}
	buf := make([]byte, maxPassphraseBytes+2)
	defer clear(buf)
	n, err := io.ReadFull(f, buf)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
		return nil, fmt.Errorf("reading the passphrase file: %w", err)
	}
	line := buf[:n]
	if i := bytes.IndexByte(line, '\n'); i >= 0 {
		line = line[:i]
	} else if n == len(buf) {
		return nil, fmt.Errorf("the first line of the passphrase file %s is longer than %d bytes; is this the right file?", path, maxPassphraseBytes)
	}
	line = bytes.TrimSuffix(line, []byte("\r"))
	if len(line) == 0 {
		return nil, fmt.Errorf("the first line of the passphrase file %s is empty", path)
	}
	return bytes.Clone(line), nil
}

// PassphraseFromEnv returns the value of the environment variable name and
// then removes the variable from this process's environment, so programs
// the installer starts do not inherit it.
func PassphraseFromEnv(name string) ([]byte, error) {
	v, ok := os.LookupEnv(name)
	if !ok {
		return nil, fmt.Errorf("the environment variable %s, which should hold the passphrase, is not set", name)
	}
	if v == "" {
		return nil, fmt.Errorf("the environment variable %s, which should hold the passphrase, is empty", name)
	}
	if err := os.Unsetenv(name); err != nil {
		return nil, fmt.Errorf("removing %s from the environment: %w", name, err)
	}
	return []byte(v), nil
}

// PassphraseFromTerminal prompts on prompt and reads a passphrase from the
// terminal in without echoing it. With confirm set it checks the
// passphrase with CheckPassphrase and asks for it a second time.
func PassphraseFromTerminal(in *os.File, prompt io.Writer, confirm bool) ([]byte, error) {
	fd := int(in.Fd())
	if !term.IsTerminal(fd) {
		return nil, errors.New("cannot prompt for the passphrase: input is not a terminal; give it in a file or an environment variable instead")
	}
	ask := func(text string) ([]byte, error) {
		fmt.Fprint(prompt, text)
		p, err := term.ReadPassword(fd)
		fmt.Fprintln(prompt)
		if err != nil {
			return nil, fmt.Errorf("reading the passphrase from the terminal: %w", err)
		}
		return p, nil
	}
	p, err := ask("Backup passphrase: ")
	if err != nil {
		return nil, err
	}
	if len(p) == 0 {
		return nil, errors.New("no passphrase was entered")
	}
	if !confirm {
		return p, nil
	}
	if err := CheckPassphrase(p); err != nil {
		clear(p)
		return nil, err
	}
	again, err := ask("Repeat the passphrase: ")
	if err != nil {
		clear(p)
		return nil, err
	}
	defer clear(again)
	if subtle.ConstantTimeCompare(p, again) != 1 {
		clear(p)
		return nil, errors.New("the two passphrases differ; enter the same one twice")
	}
	return p, nil
}
