package labtest

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"
	"golang.org/x/sys/unix"
)

// RawTerminal is a program running on a pseudo-terminal of its own: its
// standard streams are the terminal, and every byte it writes there is
// kept as written, escape sequences included, so a test can see what the
// program asks the terminal. Nothing answers those questions.
type RawTerminal struct {
	t      testing.TB
	pty    *os.File
	cmd    *exec.Cmd
	mu     sync.Mutex
	out    bytes.Buffer
	closed chan struct{} // the program's side of the terminal has closed
	exited chan error
}

// StartRawTerminal starts cmd on a new 120x40 pseudo-terminal, as the
// leader of a session whose controlling terminal it is, so Ctrl-C typed
// there interrupts it as in a real terminal.
func StartRawTerminal(t testing.TB, cmd *exec.Cmd) *RawTerminal {
	t.Helper()
	pty, tty, err := openPTY(120, 40)
	if err != nil {
		t.Fatalf("open a pseudo-terminal: %v", err)
	}
	cmd.Stdin, cmd.Stdout, cmd.Stderr = tty, tty, tty
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	if err := cmd.Start(); err != nil {
		pty.Close()
		tty.Close()
		t.Fatalf("start %s: %v", cmd.Path, err)
	}
	tty.Close() // the program holds its own copies
	r := &RawTerminal{t: t, pty: pty, cmd: cmd, closed: make(chan struct{}), exited: make(chan error, 1)}
	go r.read()
	go func() { r.exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-r.closed
		pty.Close()
	})
	return r
}

// openPTY opens a pseudo-terminal pair of the given size.
func openPTY(cols, rows uint16) (pty, tty *os.File, err error) {
	pty, err = os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, nil, fmt.Errorf("open /dev/ptmx: %w", err)
	}
	fd := int(pty.Fd())
	if err := unix.IoctlSetPointerInt(fd, unix.TIOCSPTLCK, 0); err != nil {
		pty.Close()
		return nil, nil, fmt.Errorf("unlock the pseudo-terminal: %w", err)
	}
	n, err := unix.IoctlGetUint32(fd, unix.TIOCGPTN)
	if err != nil {
		pty.Close()
		return nil, nil, fmt.Errorf("number the pseudo-terminal: %w", err)
	}
	tty, err = os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		pty.Close()
		return nil, nil, fmt.Errorf("open the terminal side: %w", err)
	}
	if err := unix.IoctlSetWinsize(int(tty.Fd()), unix.TIOCSWINSZ, &unix.Winsize{Col: cols, Row: rows}); err != nil {
		pty.Close()
		tty.Close()
		return nil, nil, fmt.Errorf("size the pseudo-terminal: %w", err)
	}
	return pty, tty, nil
}

// read keeps what the program writes until its side of the terminal
// closes (the read then fails with EIO).
func (r *RawTerminal) read() {
	defer close(r.closed)
	buf := make([]byte, 4096)
	for {
		n, err := r.pty.Read(buf)
		r.mu.Lock()
		r.out.Write(buf[:n])
		r.mu.Unlock()
		if err != nil {
			return
		}
	}
}

// Output is everything the program has written so far, as written.
func (r *RawTerminal) Output() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.out.String()
}

// WaitFor waits until the program has written want (escape sequences
// removed), and returns the output so far, as written.
func (r *RawTerminal) WaitFor(want string) string {
	r.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		out := r.Output()
		if strings.Contains(ansi.Strip(out), want) {
			return out
		}
		if time.Now().After(deadline) {
			r.t.Fatalf("the program never wrote %q; it wrote:\n%q", want, out)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Type writes s to the terminal as if typed: "\x03" is Ctrl-C.
func (r *RawTerminal) Type(s string) {
	r.t.Helper()
	if _, err := r.pty.Write([]byte(s)); err != nil {
		r.t.Fatalf("type %q: %v", s, err)
	}
}

// Wait waits for the program to exit and returns everything it wrote, as
// written, and its exit code.
func (r *RawTerminal) Wait() (string, int) {
	r.t.Helper()
	var err error
	select {
	case err = <-r.exited:
	case <-time.After(30 * time.Second):
		r.t.Fatalf("the program did not exit within 30 s; it wrote:\n%q", r.Output())
	}
	<-r.closed
	var exit *exec.ExitError
	switch {
	case err == nil:
		return r.Output(), 0
	case errors.As(err, &exit):
		return r.Output(), exit.ExitCode()
	}
	r.t.Fatalf("wait for the program: %v", err)
	return "", -1
}
