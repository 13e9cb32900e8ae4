package wal

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"slices"
	"strings"
	"syscall"
	"time"
)

// Object is one WAL object in the repository as the directory shows it;
// nothing about it is authenticated.
type Object struct {
	// Name is the WAL file name (%f), without Suffix.
	Name    string
	Size    int64
	ModTime time.Time
}

// Push encrypts the WAL file read from src into the object for name.
//
// It follows PostgreSQL's archive_command contract
// (https://www.postgresql.org/docs/16/continuous-archiving.html, 25.3.1):
// succeed only once the file is durably archived, never overwrite an
// existing archive file, and, because the archiver retries a file whose
// success it did not record (for example after a crash), succeed when the
// object already holds identical content. So the object is written under a
// temporary name, synced, and published with link(2), which fails rather
// than replaces; a partial object is never under its final name. An
// existing object is decrypted and compared: identical plaintext is
// success, anything else wraps ErrExists (or the object's own error) and
// PostgreSQL keeps the segment in pg_wal and retries.
func Push(ctx context.Context, repo *os.Root, key []byte, src io.Reader, name string, archivedAt time.Time) error {
	if !ValidName(name) {
		return fmt.Errorf("%q is not a WAL file name PostgreSQL archives", name)
	}
	if len(key) != KeySize {
		return fmt.Errorf("the WAL key is %d bytes, not %d", len(key), KeySize)
	}
	removeStale(repo, name)
	var fileID [fileIDSize]byte
	var suffix [8]byte
	rand.Read(fileID[:])
	rand.Read(suffix[:])
	final := name + Suffix
	tmp := "." + final + ".tmp-" + hex.EncodeToString(suffix[:])
	f, err := repo.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL|syscall.O_NOFOLLOW, 0o600)
	if err != nil {
		return fmt.Errorf("creating %s in the WAL repository: %w", tmp, err)
	}
	defer repo.Remove(tmp) // after a successful link the object stays under its final name
	sum, err := writeObject(ctx, f, key, fileID, src, name, archivedAt)
	if cerr := f.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("closing %s: %w", tmp, cerr)
	}
	if err != nil {
		return err
	}
	if err := repo.Link(tmp, final); err != nil {
		if !errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("publishing %s in the WAL repository: %w", final, err)
		}
		return sameContent(repo, key, name, sum)
	}
	return syncDir(repo)
}

func writeObject(ctx context.Context, f *os.File, key []byte, fileID [fileIDSize]byte, src io.Reader, name string, archivedAt time.Time) ([sha256.Size]byte, error) {
	var sum [sha256.Size]byte
	bw := bufio.NewWriterSize(f, 1<<20)
	w, err := newWriter(bw, key, fileID, name, archivedAt)
	if err != nil {
		return sum, err
	}
	h := sha256.New()
	if _, err := io.Copy(w, io.TeeReader(ctxReader{ctx, src}, h)); err != nil {
		return sum, fmt.Errorf("archiving WAL file %s: %w", name, err)
	}
	if err := w.Close(); err != nil {
		return sum, err
	}
	if err := bw.Flush(); err != nil {
		return sum, fmt.Errorf("writing WAL object %s: %w", name, err)
	}
	if err := f.Sync(); err != nil {
		return sum, fmt.Errorf("syncing WAL object %s: %w", name, err)
	}
	copy(sum[:], h.Sum(nil))
	return sum, nil
}

// sameContent is Push's answer when an object for name already exists.
func sameContent(repo *os.Root, key []byte, name string, want [sha256.Size]byte) error {
	h := sha256.New()
	if _, err := Fetch(repo, key, name, h); err != nil {
		return fmt.Errorf("WAL file %s is already in the repository but cannot be compared: %w", name, err)
	}
	if [sha256.Size]byte(h.Sum(nil)) != want {
		return &Error{Kind: ErrExists, Name: name,
			Problem: "the repository already holds different content under this name (a repository shared by two clusters, or a restored cluster archiving into the old repository)"}
	}
	return nil
}

// removeStale removes temporary objects a killed earlier attempt at name
// left behind. PostgreSQL runs one archiver, so none is in use.
func removeStale(repo *os.Root, name string) {
	d, err := repo.Open(".")
	if err != nil {
		return
	}
	defer d.Close()
	entries, _ := d.ReadDir(-1)
	prefix := "." + name + Suffix + ".tmp-"
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), prefix) {
			repo.Remove(e.Name())
		}
	}
}

func syncDir(repo *os.Root) error {
	d, err := repo.Open(".")
	if err != nil {
		return fmt.Errorf("opening the WAL repository to sync it: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("syncing the WAL repository directory: %w", err)
	}
	return nil
}

// Fetch decrypts the object for name into dst and returns when it was
// archived. Bytes reach dst only from authenticated chunks, but the WAL file
// is complete only when Fetch returns nil: on an error the caller must
// discard what was written. A missing object wraps ErrNotFound.
func Fetch(repo *os.Root, key []byte, name string, dst io.Writer) (time.Time, error) {
	if !ValidName(name) {
		return time.Time{}, fmt.Errorf("%q is not a WAL file name PostgreSQL archives", name)
	}
	f, err := openObject(repo, name)
	if err != nil {
		return time.Time{}, err
	}
	defer f.Close()
	r, err := newReader(f, key, name)
	if err != nil {
		return time.Time{}, err
	}
	if _, err := io.Copy(dst, r); err != nil {
		return time.Time{}, err
	}
	return r.header.archivedAt, nil
}

// openObject opens an object without following a symbolic link and
// without blocking on a FIFO: the directory is writable by PostgreSQL's uid.
func openObject(repo *os.Root, name string) (*os.File, error) {
	f, err := repo.OpenFile(name+Suffix, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, &Error{Kind: ErrNotFound, Name: name, Problem: "the repository has no such object"}
	}
	if err != nil {
		if st, lerr := repo.Lstat(name + Suffix); lerr == nil && st.Mode()&fs.ModeSymlink != 0 {
			return nil, &Error{Kind: ErrCorrupt, Name: name, Problem: "it is a symbolic link, which the installer never writes"}
		}
		return nil, fmt.Errorf("opening WAL object %s: %w", name, err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("reading WAL object %s: %w", name, err)
	}
	if !st.Mode().IsRegular() {
		f.Close()
		return nil, &Error{Kind: ErrCorrupt, Name: name, Problem: fmt.Sprintf("it is a %s, not a regular file", st.Mode().Type())}
	}
	return f, nil
}

// List returns the objects with a valid WAL name, sorted by name. It reads
// the directory only; Verify authenticates.
func List(repo *os.Root) ([]Object, error) {
	objs, _, err := scan(repo)
	return objs, err
}

// scan lists the repository: objects with valid names, and the names of
// entries ending in Suffix that are not (reported by Verify).
func scan(repo *os.Root) ([]Object, []Problem, error) {
	d, err := repo.Open(".")
	if err != nil {
		return nil, nil, fmt.Errorf("opening the WAL repository: %w", err)
	}
	defer d.Close()
	entries, err := d.ReadDir(-1)
	if err != nil {
		return nil, nil, fmt.Errorf("listing the WAL repository: %w", err)
	}
	var objs []Object
	var odd []Problem
	for _, e := range entries {
		n := e.Name()
		base, ok := strings.CutSuffix(n, Suffix)
		if !ok || strings.HasPrefix(n, ".") {
			continue
		}
		if !ValidName(base) {
			odd = append(odd, Problem{Name: n, Reason: "not a WAL file name: the installer never writes it"})
			continue
		}
		if !e.Type().IsRegular() {
			odd = append(odd, Problem{Name: base, Reason: fmt.Sprintf("it is a %s, not a regular file", e.Type())})
			continue
		}
		info, err := e.Info()
		if err != nil {
			continue // removed since ReadDir
		}
		objs = append(objs, Object{Name: base, Size: info.Size(), ModTime: info.ModTime()})
	}
	slices.SortFunc(objs, func(a, b Object) int { return strings.Compare(a.Name, b.Name) })
	return objs, odd, nil
}

// ctxReader stops a copy once ctx is done.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
