package passphrase

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"syscall"
)

// MaxKeySharesFileBytes bounds a file of unseal key shares: Vault makes at
// most 255 shares, each well under 200 characters even as hex with a
// comment beside it.
const MaxKeySharesFileBytes = 64 << 10

// ErrFileRefused means a secret file breaks the file rules: it is not a
// regular file, someone other than its owner can read it, someone other
// than the user running the installer or root owns it, or it is too large.
var ErrFileRefused = errors.New("secret file refused")

// ReadFile returns the content of the secret file at path, at most limit
// bytes, once the open file has passed the file rules (see the package
// documentation). Errors about the file itself wrap ErrFileRefused.
func ReadFile(path string, limit int64) ([]byte, error) {
	// O_NONBLOCK: opening a FIFO nobody writes to returns at once (and is
	// then refused) instead of hanging. O_NOCTTY: a terminal device named
	// by mistake does not become the controlling terminal.
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK|syscall.O_NOCTTY, 0)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("inspect %s: %w", path, err)
	}
	if err := checkFile(path, fi, limit); err != nil {
		return nil, err
	}
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		clear(data)
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if int64(len(data)) > limit {
		clear(data)
		return nil, refused("%s grew past %d bytes while it was read: is something writing to it?", path, limit)
	}
	return data, nil
}

// checkFile applies the file rules to the open file's own metadata.
func checkFile(path string, fi os.FileInfo, limit int64) error {
	if !fi.Mode().IsRegular() {
		return refused("%s is not a regular file (it is %s); put the secret in a file only its owner can read", path, kind(fi.Mode()))
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return refused("%s: cannot tell who owns it", path)
	}
	if me := uint32(os.Geteuid()); st.Uid != me && st.Uid != 0 {
		return refused("%s belongs to uid %d, not to you (uid %d) or root, so someone else can change it; chown it to yourself", path, st.Uid, me)
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		return refused("%s can be read or changed by its group or others (mode %04o); run chmod 600 %s", path, perm, path)
	}
	if fi.Size() > limit {
		return refused("%s is %d bytes; such a file holds at most %d: is this the right file?", path, fi.Size(), limit)
	}
	return nil
}

func refused(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrFileRefused, fmt.Sprintf(format, args...))
}

func kind(m os.FileMode) string {
	switch {
	case m.IsDir():
		return "a directory"
	case m&os.ModeNamedPipe != 0:
		return "a pipe"
	case m&os.ModeSocket != 0:
		return "a socket"
	case m&os.ModeDevice != 0:
		return "a device"
	}
	return "not a plain file"
}

// FromFile reads a passphrase file: the file rules, then one line, the
// passphrase, with or without a line ending. Empty lines may follow it;
// anything else is refused as the wrong file.
func FromFile(path string) ([]byte, error) {
	data, err := ReadFile(path, MaxBytes+2) // the passphrase and "\r\n"
	if err != nil {
		return nil, err
	}
	defer clear(data)
	line, rest, _ := bytes.Cut(data, []byte("\n"))
	line = bytes.TrimSuffix(line, []byte("\r"))
	switch {
	case len(line) == 0:
		return nil, fmt.Errorf("the first line of %s is empty; it should hold the passphrase", path)
	case len(line) > MaxBytes:
		return nil, fmt.Errorf("the first line of %s is longer than %d bytes: is this the right file?", path, MaxBytes)
	case len(bytes.Trim(rest, "\r\n")) > 0:
		return nil, fmt.Errorf("%s holds more than one line; a passphrase file holds only the passphrase", path)
	}
	return bytes.Clone(line), nil
}
