package tui

import (
	"context"
	"errors"
	"io"
	"os"

	"github.com/muesli/cancelreader"
	"golang.org/x/sys/unix"
)

// promptInput is what the line prompts (huh's accessible mode) read: the
// terminal's lines, until ctx ends. huh reads each answer with a
// bufio.Scanner and takes no context, and Ctrl-C only cancels the
// program's context (main turns SIGINT into a cancellation instead of
// dying, so steps can stop cleanly). Without this the read would go on
// waiting for Enter after a ^C, and the next answer would carry the
// wizard on. With it, a pending read returns as soon as ctx ends; the
// prompt takes its default and the caller, seeing ctx done, leaves.
type promptInput struct {
	ctx  context.Context
	r    cancelreader.CancelReader
	stop func() bool
	// tty is the terminal's descriptor, for turning echo off; -1 when the
	// input is not a terminal.
	tty int
}

func newPromptInput(ctx context.Context, in io.Reader) *promptInput {
	r, err := cancelreader.NewReader(in)
	if err != nil {
		// Not pollable (a regular file): no read waits for a person.
		r, _ = cancelreader.NewReader(struct{ io.Reader }{in})
	}
	l := &promptInput{ctx: ctx, r: r, tty: -1}
	if f, ok := in.(*os.File); ok && isTerminal(f) {
		l.tty = int(f.Fd())
	}
	l.stop = context.AfterFunc(ctx, func() { r.Cancel() })
	return l
}

// Read implements io.Reader; it fails with the context's error once the
// context has ended.
func (l *promptInput) Read(p []byte) (int, error) {
	n, err := l.r.Read(p)
	if errors.Is(err, cancelreader.ErrCanceled) {
		return n, l.ctx.Err()
	}
	return n, err
}

// interrupted reports whether the person pressed Ctrl-C (or the program
// was told to stop) while being asked.
func (l *promptInput) interrupted() bool { return l.ctx.Err() != nil }

// close stops watching the context and releases the reader.
func (l *promptInput) close() {
	l.stop()
	_ = l.r.Close()
}

// hidden runs ask with the terminal's echo off, for a passphrase: the
// prompt reads a plain line through promptInput, so Ctrl-C ends it too.
func (l *promptInput) hidden(ask func() error) error {
	if l.tty < 0 {
		return ask()
	}
	saved, err := unix.IoctlGetTermios(l.tty, unix.TCGETS)
	if err != nil {
		return ask()
	}
	quiet := *saved
	quiet.Lflag &^= unix.ECHO
	quiet.Lflag |= unix.ICANON | unix.ISIG
	if err := unix.IoctlSetTermios(l.tty, unix.TCSETS, &quiet); err != nil {
		return ask()
	}
	defer func() { _ = unix.IoctlSetTermios(l.tty, unix.TCSETS, saved) }()
	return ask()
}
