package wal

import (
	"errors"
	"fmt"
)

// Classes of problems with a WAL object; every error about an object's
// content wraps one of them.
var (
	// ErrNotFound: the repository has no object for the WAL file asked for.
	ErrNotFound = errors.New("WAL file not in the repository")
	// ErrCorrupt: the object does not authenticate under the WAL key (a
	// byte was changed, chunks were moved, data was appended, or it was
	// written under another key) or is not a WAL object at all.
	ErrCorrupt = errors.New("WAL object is damaged")
	// ErrTruncated: the object ends before its final chunk.
	ErrTruncated = errors.New("WAL object is incomplete")
	// ErrMisplaced: the object authenticates but holds another WAL file
	// than its name says: it was copied or renamed over this one.
	ErrMisplaced = errors.New("WAL object holds another WAL file")
	// ErrExists: Push found an object under the name holding different content.
	ErrExists = errors.New("a different WAL file is already archived under this name")
)

// Error is a problem with one WAL object.
type Error struct {
	// Kind is one of the Err* classes above.
	Kind error
	// Name is the WAL file name (%f) the object was read as.
	Name string
	// Problem says what is wrong.
	Problem string
}

func (e *Error) Error() string {
	return fmt.Sprintf("WAL object %s: %s", e.Name, e.Problem)
}

// Unwrap returns the class, so errors.Is(err, ErrCorrupt) works.
func (e *Error) Unwrap() error { return e.Kind }
