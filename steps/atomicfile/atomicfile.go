// Package atomicfile replaces files so that a reader, or the installer after
// a crash or a full disk, sees either the old content or the new one, never
// a mix, and so that a link left at the target's name is replaced rather
// than followed.
//
// Every write goes through an os.Root opened on the target's directory: the
// temporary file is created there with O_EXCL|O_NOFOLLOW, given its mode
// and owner before any data is written (a private key is never readable by
// others, not even for a moment), fsynced, renamed over the target inside
// the same directory, and the directory is fsynced so the rename survives a
// power cut. Temporary files are named ".NAME.tmp-RANDOM"; RemoveTemps
// clears the ones an interrupted run left behind.
//
// The package imports nothing of this module, so assets, ui and steps can
// all use it.
package atomicfile

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// Option adjusts how a file is written.
type Option func(*options)

type options struct {
	uid, gid int
}

// WithOwner gives the new file to uid and gid before its data is written;
// -1 leaves an id as the writing process's. Changing the owner needs root.
func WithOwner(uid, gid int) Option {
	return func(o *options) { o.uid, o.gid = uid, gid }
}

// WriteFile replaces path with data, mode perm.
func WriteFile(path string, data []byte, perm fs.FileMode, opts ...Option) error {
	root, err := os.OpenRoot(filepath.Dir(path))
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer root.Close()
	if err := WriteFileIn(root, filepath.Base(path), data, perm, opts...); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// WriteFileIn replaces name, a path relative to root, with data, mode perm.
// Nothing outside root is touched, whatever links the tree holds.
func WriteFileIn(root *os.Root, name string, data []byte, perm fs.FileMode, opts ...Option) error {
	f, err := CreateIn(root, name, perm, opts...)
	if err != nil {
		return err
	}
	defer f.Cleanup()
	if _, err := f.Write(data); err != nil {
		return fmt.Errorf("write %s: %w", f.temp, err)
	}
	return f.Commit()
}

// File is a temporary file that takes the place of its target on Commit.
// Write to it like any *os.File; defer Cleanup, which removes it unless
// Commit succeeded.
type File struct {
	*os.File
	root      *os.Root
	ownsRoot  bool
	name      string // target, relative to root
	temp      string // temporary file, relative to root
	committed bool
	cleaned   bool
}

// Create starts the replacement of path, mode perm.
func Create(path string, perm fs.FileMode, opts ...Option) (*File, error) {
	root, err := os.OpenRoot(filepath.Dir(path))
	if err != nil {
		return nil, fmt.Errorf("create %s: %w", path, err)
	}
	f, err := CreateIn(root, filepath.Base(path), perm, opts...)
	if err != nil {
		root.Close()
		return nil, fmt.Errorf("create %s: %w", path, err)
	}
	f.ownsRoot = true
	return f, nil
}

// CreateIn starts the replacement of name, a path relative to root. The
// caller keeps root open until Commit or Cleanup.
func CreateIn(root *os.Root, name string, perm fs.FileMode, opts ...Option) (*File, error) {
	o := options{uid: -1, gid: -1}
	for _, opt := range opts {
		opt(&o)
	}
	name = path.Clean(filepath.ToSlash(name))
	if name == "." || name == ".." || strings.HasPrefix(name, "../") || path.IsAbs(name) {
		return nil, fmt.Errorf("%q is not the name of a file inside %s", name, root.Name())
	}
	dir, base := path.Split(name)
	var f *os.File
	var temp string
	for try := 0; ; try++ {
		temp = dir + "." + base + ".tmp-" + strconv.FormatUint(rand.Uint64(), 36)
		var err error
		// 0600 until the mode is set: umask cannot widen it meanwhile.
		// Read-write: a writer may read back what it wrote before it
		// commits (an images bundle is checked that way).
		f, err = root.OpenFile(temp, os.O_RDWR|os.O_CREATE|os.O_EXCL|syscall.O_NOFOLLOW, 0o600)
		if err == nil {
			break
		}
		if !errors.Is(err, fs.ErrExist) || try == 100 {
			return nil, fmt.Errorf("create a temporary file beside %s: %w", name, err)
		}
	}
	af := &File{File: f, root: root, name: name, temp: temp}
	if err := f.Chmod(perm); err != nil {
		af.Cleanup()
		return nil, fmt.Errorf("set mode of %s: %w", temp, err)
	}
	if o.uid != -1 || o.gid != -1 {
		if err := f.Chown(o.uid, o.gid); err != nil {
			af.Cleanup()
			return nil, fmt.Errorf("set owner of %s to %d:%d: %w", temp, o.uid, o.gid, err)
		}
	}
	return af, nil
}

// Commit flushes the file to disk and renames it over its target. Call it
// once, after the last write.
func (f *File) Commit() error {
	if f.committed || f.cleaned {
		return fmt.Errorf("replace %s: already committed or cleaned up", f.name)
	}
	if err := f.File.Sync(); err != nil {
		return fmt.Errorf("flush %s to disk: %w", f.temp, err)
	}
	if err := f.File.Close(); err != nil {
		return fmt.Errorf("close %s: %w", f.temp, err)
	}
	if err := f.root.Rename(f.temp, f.name); err != nil {
		return fmt.Errorf("replace %s: %w", f.name, err)
	}
	f.committed = true
	if err := syncDir(f.root, path.Dir(f.name)); err != nil {
		return err
	}
	f.release()
	return nil
}

// Cleanup removes the temporary file unless Commit put it in place; it is
// safe to call more than once and after Commit.
func (f *File) Cleanup() {
	if f.cleaned {
		return
	}
	f.cleaned = true
	if !f.committed {
		_ = f.File.Close()
		_ = f.root.Remove(f.temp)
	}
	f.release()
}

func (f *File) release() {
	if f.ownsRoot {
		_ = f.root.Close()
		f.ownsRoot = false
	}
}

// syncDir makes a rename in dir durable.
func syncDir(root *os.Root, dir string) error {
	d, err := root.Open(dir)
	if err != nil {
		return fmt.Errorf("open %s to flush it: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("flush directory %s to disk: %w", dir, err)
	}
	return nil
}

// Matches reports whether name, relative to root, is already a regular
// file (not a link) with exactly data and mode perm, so that rewriting it
// would change nothing. It reads at most len(data)+1 bytes.
func Matches(root *os.Root, name string, data []byte, perm fs.FileMode) bool {
	// os.Root resolves a link in the last element when it stays inside the
	// root, so the name is looked at without following and the file opened
	// must be the one looked at.
	named, err := root.Lstat(name)
	if err != nil || !named.Mode().IsRegular() || named.Mode().Perm() != perm.Perm() || named.Size() != int64(len(data)) {
		return false
	}
	f, err := root.OpenFile(name, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0)
	if err != nil {
		return false
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil || !os.SameFile(named, fi) {
		return false
	}
	got, err := io.ReadAll(io.LimitReader(f, int64(len(data))+1))
	return err == nil && bytes.Equal(got, data)
}

// RemoveTemps deletes the temporary files that interrupted writes left in
// dir; they may hold private keys.
func RemoveTemps(dir string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("list %s: %w", dir, err)
	}
	for _, e := range entries {
		if n := e.Name(); isTemp(n) {
			if err := os.Remove(filepath.Join(dir, n)); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return fmt.Errorf("remove leftover %s: %w", n, err)
			}
		}
	}
	return nil
}

// isTemp reports whether base is the name of a temporary file of this
// package.
func isTemp(base string) bool {
	return strings.HasPrefix(base, ".") && strings.Contains(base, ".tmp-")
}
