package passphrase

import (
	"errors"
	"os"
	"strings"
	"testing"
)

// terminal answers prompts with lines, in order, and records the prompts.
type terminal struct {
	lines   []string
	prompts []string
}

func (tt *terminal) ask(prompt string) ([]byte, error) {
	tt.prompts = append(tt.prompts, prompt)
	if len(tt.lines) == 0 {
		return nil, errors.New("no more input")
	}
	l := tt.lines[0]
	tt.lines = tt.lines[1:]
	return []byte(l), nil
}

const testEnv = "FI_TEST_PASSPHRASE"

func source(file string, tt *terminal) Source {
	s := Source{What: "backup passphrase", File: file, FileFlag: "--passphrase-file", Env: testEnv}
	if tt != nil {
		s.Ask = tt.ask
	}
	return s
}

func TestSourceOrder(t *testing.T) {
	file := secretFile(t, "from the file, long enough\n", 0o600)
	tt := &terminal{lines: []string{"from the terminal, long enough"}}

	// The file comes first; the variable is still taken out of the environment.
	t.Setenv(testEnv, "from the environment, long enough")
	if p, err := source(file, tt).Existing(); err != nil || string(p) != "from the file, long enough" {
		t.Fatalf("file first: %q, %v", p, err)
	}
	if _, ok := os.LookupEnv(testEnv); ok {
		t.Fatal("the variable is still in the environment after a read")
	}

	// Then the environment, which is emptied for programs started later.
	t.Setenv(testEnv, "from the environment, long enough")
	if p, err := source("", tt).Existing(); err != nil || string(p) != "from the environment, long enough" {
		t.Fatalf("environment second: %q, %v", p, err)
	}
	if _, ok := os.LookupEnv(testEnv); ok {
		t.Fatal("the variable is still in the environment after it was read")
	}

	// An empty variable counts as not set: the terminal is asked.
	t.Setenv(testEnv, "")
	if p, err := source("", tt).Existing(); err != nil || string(p) != "from the terminal, long enough" {
		t.Fatalf("terminal last: %q, %v", p, err)
	}
	if len(tt.prompts) != 1 || tt.prompts[0] != "Backup passphrase: " {
		t.Fatalf("prompts %q", tt.prompts)
	}

	// Nothing at all.
	_, err := source("", nil).Existing()
	if !errors.Is(err, ErrNoSource) || !strings.Contains(err.Error(), "--passphrase-file FILE, $"+testEnv+" or a terminal prompt") {
		t.Fatalf("no source: %v", err)
	}
}

func TestSourceNewChecksStrength(t *testing.T) {
	weak := secretFile(t, "short\n", 0o600)
	if _, err := source(weak, nil).New(); !errors.Is(err, ErrWeak) {
		t.Fatalf("weak passphrase from a file for something new: %v", err)
	}
	if p, err := source(weak, nil).Existing(); err != nil || string(p) != "short" {
		t.Fatalf("opening something that exists takes any passphrase: %q, %v", p, err)
	}
	t.Setenv(testEnv, "123456789012345")
	if _, err := source("", nil).New(); !errors.Is(err, ErrWeak) || !strings.Contains(err.Error(), "only digits") {
		t.Fatalf("weak passphrase from the environment: %v", err)
	}
	t.Setenv(testEnv, strings.Repeat("long ", 300))
	if _, err := source("", nil).Existing(); err == nil || !strings.Contains(err.Error(), "longer than 1024 bytes") {
		t.Fatalf("an oversized variable: %v", err)
	}
	groupReadable := secretFile(t, "correct horse battery staple\n", 0o640)
	for _, read := range []func(Source) ([]byte, error){Source.New, Source.Existing} {
		if _, err := read(source(groupReadable, nil)); !errors.Is(err, ErrFileRefused) || !strings.Contains(err.Error(), "--passphrase-file: ") {
			t.Fatalf("group-readable file: %v", err)
		}
	}
}

func TestSourcePrompt(t *testing.T) {
	tt := &terminal{lines: []string{"correct horse battery staple", "correct horse battery staple"}}
	if p, err := source("", tt).New(); err != nil || string(p) != "correct horse battery staple" {
		t.Fatalf("confirmed entry: %q, %v", p, err)
	}
	if strings.Join(tt.prompts, "|") != "Backup passphrase: |Repeat the backup passphrase: " {
		t.Fatalf("prompts %q", tt.prompts)
	}

	tt = &terminal{lines: []string{"correct horse battery staple", "correct horse battery stable"}}
	if _, err := source("", tt).New(); err == nil || !strings.Contains(err.Error(), "differ") {
		t.Fatalf("mismatched confirmation: %v", err)
	}

	// A weak one is refused before it is asked for again.
	tt = &terminal{lines: []string{"tooshort", "tooshort"}}
	if _, err := source("", tt).New(); !errors.Is(err, ErrWeak) || len(tt.prompts) != 1 {
		t.Fatalf("weak entry: %v, prompts %q", err, tt.prompts)
	}

	tt = &terminal{lines: []string{"short is fine to open"}}
	if p, err := source("", tt).Existing(); err != nil || string(p) != "short is fine to open" || len(tt.prompts) != 1 {
		t.Fatalf("single prompt: %q, %v, prompts %q", p, err, tt.prompts)
	}
	tt = &terminal{lines: []string{""}}
	if _, err := source("", tt).Existing(); err == nil || !strings.Contains(err.Error(), "no backup passphrase was entered") {
		t.Fatalf("empty entry: %v", err)
	}
}
