package passphrase

import (
	"crypto/subtle"
	"errors"
	"fmt"
	"os"
	"unicode"
	"unicode/utf8"
)

// ErrNoSource means none of the ways to give a passphrase was used.
var ErrNoSource = errors.New("no passphrase given")

// Source says where one passphrase comes from. Read takes the first that
// is set: File, then Env, then Ask. There is deliberately no way to pass
// the value itself.
type Source struct {
	// What names the passphrase in prompts and errors, as in
	// "backup passphrase".
	What string
	// File is the path given with the flag FileFlag.
	File, FileFlag string
	// Env names the environment variable read when no file is given.
	Env string
	// Ask reads one line from the terminal without echoing it, after
	// showing prompt; nil when no terminal can answer.
	Ask func(prompt string) ([]byte, error)
}

// New reads a passphrase that will protect something new: it must pass
// CheckNew, and on a terminal it is asked twice (the strength is checked
// before asking again).
func (s Source) New() ([]byte, error) {
	p, err := s.read(true)
	if err != nil {
		return nil, err
	}
	if err := CheckNew(p); err != nil {
		clear(p)
		return nil, fmt.Errorf("the %s: %w", s.What, err)
	}
	return p, nil
}

// Existing reads the passphrase of something that exists already, which
// takes any passphrase: a rule for new ones must not lock anybody out.
func (s Source) Existing() ([]byte, error) {
	return s.read(false)
}

func (s Source) read(creating bool) ([]byte, error) {
	fromEnv, err := s.takeEnv()
	if err != nil {
		return nil, err
	}
	switch {
	case s.File != "":
		clear(fromEnv)
		p, err := FromFile(s.File)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", s.FileFlag, err)
		}
		return p, nil
	case fromEnv != nil:
		if len(fromEnv) > MaxBytes {
			clear(fromEnv)
			return nil, fmt.Errorf("$%s is longer than %d bytes; it should hold only the %s", s.Env, MaxBytes, s.What)
		}
		return fromEnv, nil
	case s.Ask != nil:
		return s.prompt(creating)
	}
	how := fmt.Sprintf("%s FILE", s.FileFlag)
	if s.Env != "" {
		how += fmt.Sprintf(", $%s", s.Env)
	}
	return nil, fmt.Errorf("%w: the %s comes from %s or a terminal prompt (never from a flag value)", ErrNoSource, s.What, how)
}

// takeEnv returns the variable's value, nil when it is unset or empty, and
// removes it from this process's environment either way, so programs the
// installer starts do not inherit it.
func (s Source) takeEnv() ([]byte, error) {
	if s.Env == "" {
		return nil, nil
	}
	v, ok := os.LookupEnv(s.Env)
	if !ok {
		return nil, nil
	}
	if err := os.Unsetenv(s.Env); err != nil {
		return nil, fmt.Errorf("remove $%s from the environment: %w", s.Env, err)
	}
	if v == "" {
		return nil, nil
	}
	return []byte(v), nil
}

func (s Source) prompt(creating bool) ([]byte, error) {
	p, err := s.Ask(capitalize(s.What) + ": ")
	if err != nil {
		return nil, err
	}
	if len(p) == 0 {
		return nil, fmt.Errorf("no %s was entered", s.What)
	}
	if !creating {
		return p, nil
	}
	if err := CheckNew(p); err != nil {
		clear(p)
		return nil, fmt.Errorf("the %s: %w", s.What, err)
	}
	again, err := s.Ask("Repeat the " + s.What + ": ")
	if err != nil {
		clear(p)
		return nil, err
	}
	defer clear(again)
	if subtle.ConstantTimeCompare(p, again) != 1 {
		clear(p)
		return nil, fmt.Errorf("the two entries of the %s differ; enter the same one twice", s.What)
	}
	return p, nil
}

func capitalize(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	return string(unicode.ToUpper(r)) + s[n:]
}
