// Package audit keeps the installation's audit log: an append-only file in
// the install dir with one JSON object per line for every command that
// changed (or tried to change) the installation, each carrying the
// SHA-256 of the previous line's exact bytes. Editing, deleting,
// inserting or reordering a line breaks that chain where it happened, and
// Verify names the entry. Truncating whole entries off the end, or
// rewriting the last one, leaves a consistent chain: only a copy of the
// chain head kept outside the file shows it (Verify's kept head).
//
// What an entry holds is chosen, never filtered: the command, the values
// of the flags known to carry no secret (others are recorded by name
// alone), what the run changed as its events reported it, and the result.
// No secret reaches the log, so it can be shown and shipped as it is.
//
// # Threat model
//
// Against someone who can edit files in the install dir (root on the
// host, or whoever restores a tampered backup), the chain makes any change
// to an entry that has a successor evident, named by line and entry. It
// cannot, alone, show the last entries removed or the last one rewritten,
// nor a log rewritten from scratch with fresh hashes: the attacker can
// recompute every hash. Those are seen only against heads kept where
// that attacker cannot rewrite them:
//
//   - Vault: after every entry the head is written as a new version of
//     one KV v2 key, with a token that can add versions but not delete,
//     destroy or overwrite them (package vault, AuditHeadPolicy).
//     CheckKept compares every version with the file. Root on the host
//     can read that token and add a forged newer head, but the older
//     versions still name the entries it removed or changed. Whoever
//     holds a root token of Vault (the key holders together) can delete
//     versions: that is reported as history cut, without saying what
//     they held.
//   - Elsewhere: the evidence report states the head, and an auditor who
//     keeps it (a ticket, an offsite copy) checks the log later with
//     audit verify --expect-head.
//
// Whoever holds every kept copy of the head, and the file, can rewrite
// them all.

package audit

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/sys/unix"

	"github.com/fineract-installer/fineract-installer/steps/installation"
)

// Result is how a recorded run ended.
type Result string

// The results of a run.
const (
	ResultOK          Result = "ok"
	ResultFailed      Result = "failed"
	ResultInterrupted Result = "interrupted"
)

// Entry is one line of the audit log.
type Entry struct {
	Seq  uint64    `json:"seq"`
	Time time.Time `json:"time"`
	User User      `json:"user"`
	// Command is the command path without the program name ("certs
	// rotate"); Args its arguments as Arguments recorded them.
	Command string   `json:"command"`
	Args    []string `json:"args"`
	// Changed says whether the run changed anything; Changes lists what.
	Changed bool     `json:"changed"`
	Changes []Change `json:"changes"`
	// Steps are the steps that ran (those already done are not listed).
	Steps  []string `json:"steps"`
	Result Result   `json:"result"`
	// Cause is what made a failed or interrupted run stop: the cause its
	// failed event reported, which never holds a secret.
	Cause string `json:"cause,omitempty"`
	// Prev is the hex SHA-256 of the previous line's bytes (without its
	// newline); empty for the first entry.
	Prev string `json:"prev"`
}

// User is who ran the command on the host.
type User struct {
	UID  int    `json:"uid"`
	Name string `json:"name,omitempty"`
	// SudoUID and SudoUser are what sudo said about the user behind root
	// (SUDO_UID, SUDO_USER): a claim of the environment, not proof; root
	// can set them to anything.
	SudoUID  string `json:"sudo_uid,omitempty"`
	SudoUser string `json:"sudo_user,omitempty"`
}

// Change is one thing a run changed: a service created, recreated or
// removed, a network or volume created, an image pulled or loaded.
type Change struct {
	Resource string `json:"resource"`
	Action   string `json:"action"`
	Subject  string `json:"subject"`
	// Failed says the action was attempted and failed.
	Failed bool `json:"failed,omitempty"`
}

// Head is the end of the chain: the last entry's sequence number and the
// hash of its line.
type Head struct {
	Seq  uint64 `json:"seq"`
	Hash string `json:"hash"`
}

// Limits of what is read back: the log sits in a directory someone else
// may have written into, and a real entry is a few hundred bytes.
const (
	MaxLogSize   = 64 << 20
	MaxEntrySize = 64 << 10
	maxCauseLen  = 2000
)

// ErrTooLarge is returned for a log beyond MaxLogSize.
var ErrTooLarge = errors.New("audit log larger than the limit")

// Hash is the hex SHA-256 of one line's bytes, without its newline.
func Hash(line []byte) string {
	sum := sha256.Sum256(line)
	return hex.EncodeToString(sum[:])
}

// path splits the log's path into its directory and name, for openat.
func path(dir string) (string, string) {
	p := installation.New(dir, "").AuditLogFile()
	return filepath.Dir(p), filepath.Base(p)
}

// openFlags never follow a link in the log's place and never block on a
// FIFO left there.
const openFlags = unix.O_NOFOLLOW | unix.O_NONBLOCK | unix.O_CLOEXEC

// open opens the log in dir relative to an open descriptor of the
// install dir, never through a link (an os.Root would follow one that
// stays inside the directory), and checks it is a regular file within
// the size limit.
func open(dir string, flag int) (*os.File, error) {
	d, name := path(dir)
	df, err := os.OpenFile(d, os.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("open the install dir %s: %w", d, err)
	}
	defer df.Close()
	full := filepath.Join(d, name)
	var fd int
	for {
		fd, err = unix.Openat(int(df.Fd()), name, flag|openFlags, 0o600)
		if err != unix.EINTR {
			break
		}
	}
	if err == unix.ELOOP {
		return nil, fmt.Errorf("audit log %s: a link stands in its place; move it aside and keep it for review", full)
	}
	if err != nil {
		return nil, fmt.Errorf("open the audit log %s: %w", full, err)
	}
	f := os.NewFile(uintptr(fd), full)
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("audit log %s: %w", full, err)
	}
	if !fi.Mode().IsRegular() {
		f.Close()
		return nil, fmt.Errorf("audit log %s: not a regular file; move it aside and keep it for review", full)
	}
	if fi.Size() > MaxLogSize {
		f.Close()
		return nil, fmt.Errorf("audit log %s: %w (%d bytes, at most %d); archive it and move it aside", full, ErrTooLarge, fi.Size(), MaxLogSize)
	}
	return f, nil
}

// readAll reads f from its start, at most MaxLogSize bytes.
func readAll(f *os.File) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(io.NewSectionReader(f, 0, MaxLogSize+1), MaxLogSize+1))
	if err != nil {
		return nil, fmt.Errorf("read the audit log %s: %w", f.Name(), err)
	}
	if len(data) > MaxLogSize {
		return nil, fmt.Errorf("audit log %s: %w", f.Name(), ErrTooLarge)
	}
	return data, nil
}

// Read returns the bytes of the log in dir; a log not written yet reads
// as empty.
func Read(dir string) ([]byte, error) {
	f, err := open(dir, os.O_RDONLY)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return readAll(f)
}

// Writable checks that an entry could be appended to the log in dir
// (creating it if missing), without writing one: a command refuses to
// change anything it could not record.
func Writable(dir string) error {
	f, err := open(dir, os.O_RDWR|os.O_APPEND|os.O_CREATE)
	if err != nil {
		return err
	}
	return f.Close()
}

// Append writes e as the next entry of the log in dir: its Seq and Prev
// are set from the last line found, then the line is written with one
// append and synced. It returns the new head. The caller holds the
// installation's lock, so no other append runs at the same time.
//
// A log whose last line is not an entry (damaged) still gets the entry,
// on a line of its own, chained to that line's bytes: Verify names the
// damage and the chain goes on.
func Append(dir string, e Entry) (Head, error) {
	f, err := open(dir, os.O_RDWR|os.O_APPEND|os.O_CREATE)
	if err != nil {
		return Head{}, err
	}
	defer f.Close()
	data, err := readAll(f)
	if err != nil {
		return Head{}, err
	}
	var sep []byte
	if len(data) > 0 && data[len(data)-1] != '\n' {
		sep = []byte{'\n'}
	}
	e.Seq, e.Prev = 1, ""
	if last := lastLine(data); last != nil {
		e.Prev = Hash(last)
		e.Seq = highestSeq(data) + 1
	}
	if len(e.Cause) > maxCauseLen {
		e.Cause = e.Cause[:maxCauseLen] + "…"
	}
	line, err := json.Marshal(e)
	if err != nil {
		return Head{}, fmt.Errorf("encode the audit entry: %w", err)
	}
	if len(line) > MaxEntrySize {
		return Head{}, fmt.Errorf("audit entry of %d bytes is larger than %d", len(line), MaxEntrySize)
	}
	// One write: O_APPEND puts it at the end as a whole.
	buf := append(append(sep, line...), '\n')
	if _, err := f.Write(buf); err != nil {
		return Head{}, fmt.Errorf("append to the audit log %s: %w", f.Name(), err)
	}
	if err := f.Sync(); err != nil {
		return Head{}, fmt.Errorf("sync the audit log %s: %w", f.Name(), err)
	}
	if len(data) == 0 {
		syncDir(filepath.Dir(f.Name()))
	}
	return Head{Seq: e.Seq, Hash: Hash(line)}, nil
}

// syncDir makes a new log's directory entry durable; a failure leaves
// the entry written and is not worth failing the command for.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
}

// lines splits the log into its lines, without newlines. A last line with
// no newline is returned too, and reported as incomplete by Verify.
func lines(data []byte) [][]byte {
	if len(data) == 0 {
		return nil
	}
	ls := bytes.Split(data, []byte{'\n'})
	if len(ls[len(ls)-1]) == 0 {
		ls = ls[:len(ls)-1]
	}
	return ls
}

// lastLine is the last line of the log, or nil for an empty one.
func lastLine(data []byte) []byte {
	ls := lines(data)
	if len(ls) == 0 {
		return nil
	}
	return ls[len(ls)-1]
}

// highestSeq is the highest sequence number of the log's entries, so a
// new entry never repeats one even after a damaged line.
func highestSeq(data []byte) uint64 {
	var top uint64
	for _, l := range lines(data) {
		if e, err := ParseEntry(l); err == nil && e.Seq > top {
			top = e.Seq
		}
	}
	return top
}

// ParseEntry parses one line strictly: one JSON object of the entry's
// fields and nothing else, within MaxEntrySize, with a known result and a
// well-formed chain link.
func ParseEntry(line []byte) (Entry, error) {
	var e Entry
	if len(line) > MaxEntrySize {
		return e, fmt.Errorf("line of %d bytes is longer than an entry can be (%d)", len(line), MaxEntrySize)
	}
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&e); err != nil {
		return e, fmt.Errorf("not an audit entry: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return e, errors.New("not an audit entry: data after the object")
	}
	switch {
	case e.Seq == 0:
		return e, errors.New("not an audit entry: no sequence number")
	case e.Result != ResultOK && e.Result != ResultFailed && e.Result != ResultInterrupted:
		return e, fmt.Errorf("not an audit entry: unknown result %q", e.Result)
	case e.Prev != "" && !isHash(e.Prev):
		return e, fmt.Errorf("not an audit entry: prev %q is not a SHA-256", e.Prev)
	case e.Command == "":
		return e, errors.New("not an audit entry: no command")
	}
	return e, nil
}

func isHash(s string) bool {
	if len(s) != sha256.Size*2 {
		return false
	}
	_, err := hex.DecodeString(s)
	return err == nil && s == string(bytes.ToLower([]byte(s)))
}
