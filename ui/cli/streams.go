// Package cli is the command tree: it parses flags, builds the pieces a
// command needs and prints results. The work itself lives in steps/ and
// compose/; the interactive screens live in the other ui/ packages.
package cli

import (
	"bufio"
	"io"
	"os"

	"github.com/mattn/go-isatty"
)

// Streams are the program's standard streams and what they are connected to.
type Streams struct {
	In     io.Reader
	Out    io.Writer
	Err    io.Writer
	InTTY  bool
	OutTTY bool
	ErrTTY bool

	lines *bufio.Reader
}

// System returns the process's own streams.
func System() *Streams {
	return &Streams{
		In: os.Stdin, Out: os.Stdout, Err: os.Stderr,
		InTTY:  isatty.IsTerminal(os.Stdin.Fd()),
		OutTTY: isatty.IsTerminal(os.Stdout.Fd()),
		ErrTTY: isatty.IsTerminal(os.Stderr.Fd()),
	}
}

// CanPrompt reports whether a person can answer questions.
func (s *Streams) CanPrompt() bool { return s.InTTY && s.OutTTY }

// ReadLine reads one line of input, without its newline.
func (s *Streams) ReadLine() (string, error) {
	if s.lines == nil {
		s.lines = bufio.NewReader(s.In)
	}
	line, err := s.lines.ReadString('\n')
	if err != nil && line == "" {
		return "", err
	}
	for len(line) > 0 && (line[len(line)-1] == '\n' || line[len(line)-1] == '\r') {
		line = line[:len(line)-1]
	}
	return line, nil
}
