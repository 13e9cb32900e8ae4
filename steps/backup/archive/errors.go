package archive

import (
	"errors"
	"fmt"
)

// Classes of problems with an archive. Every error this package returns
// about an archive's content wraps one of them, so callers can branch with
// errors.Is and show the message as it is.
var (
	// ErrNotAnArchive: the input does not start with the archive magic.
	ErrNotAnArchive = errors.New("not a fineract-installer backup archive")
	// ErrUnsupportedVersion: the archive uses a format version this build cannot read.
	ErrUnsupportedVersion = errors.New("unsupported backup archive format version")
	// ErrWrongPassphrase: no key slot opens with the passphrase given.
	ErrWrongPassphrase = errors.New("wrong passphrase for this backup archive")
	// ErrCorrupt: some byte of the archive was changed, reordered, duplicated
	// or appended, or the decrypted payload is malformed.
	ErrCorrupt = errors.New("backup archive is damaged")
	// ErrTruncated: the archive ends before its final chunk.
	ErrTruncated = errors.New("backup archive is incomplete")
	// ErrWeakParameters: the header asks for key derivation parameters outside
	// passphrase.Limits: too weak to protect the passphrase, or costlier,
	// alone or summed over the key slots, than anything the installer writes.
	// It is reported before any key is derived.
	ErrWeakParameters = errors.New("backup archive key derivation parameters refused")
	// ErrExists: extraction would overwrite an existing file or directory.
	ErrExists = errors.New("extraction target already exists")
)

// Refused reports whether err says the archive itself cannot be used: it
// is not an archive, has another format version, does not open with the
// passphrase, is damaged or cut short, or asks for key derivation work
// outside the limits. Other errors are failures to read or write files.
func Refused(err error) bool {
	for _, kind := range []error{ErrNotAnArchive, ErrUnsupportedVersion, ErrWrongPassphrase, ErrCorrupt, ErrTruncated, ErrWeakParameters} {
		if errors.Is(err, kind) {
			return true
		}
	}
	return false
}

// Error describes one problem with an archive: what is wrong, where, and
// what the operator can do. It unwraps to its Kind.
type Error struct {
	// Kind is one of the Err* classes above.
	Kind error
	// Chunk is the index of the payload chunk concerned, or -1.
	Chunk int64
	// Offset is the byte offset in the archive file where the problem was
	// found, or -1 when it is not about a place in the file.
	Offset int64
	// Problem states what is wrong.
	Problem string
	// Fix says what to do about it; it may be empty.
	Fix string
}

func (e *Error) Error() string {
	msg := e.Problem
	switch {
	case e.Chunk >= 0 && e.Offset >= 0:
		msg += fmt.Sprintf(" (chunk %d, byte offset %d)", e.Chunk, e.Offset)
	case e.Offset >= 0:
		msg += fmt.Sprintf(" (byte offset %d)", e.Offset)
	}
	if e.Fix != "" {
		msg += "; " + e.Fix
	}
	return msg
}

// Unwrap returns the class, so errors.Is(err, ErrCorrupt) works.
func (e *Error) Unwrap() error { return e.Kind }

// Fixes shared by several errors.
const (
	fixDamaged   = "the file was altered or damaged after it was written: use another copy of this backup"
	fixTruncated = "the file was cut short (interrupted backup or copy, or a full disk): use another copy of this backup"
)

func headerError(kind error, offset int64, problem, fix string) *Error {
	return &Error{Kind: kind, Chunk: -1, Offset: offset, Problem: problem, Fix: fix}
}

func chunkError(kind error, chunk, offset int64, problem, fix string) *Error {
	return &Error{Kind: kind, Chunk: chunk, Offset: offset, Problem: problem, Fix: fix}
}
