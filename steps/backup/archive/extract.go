package archive

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"syscall"
)

// ExtractOptions control Extract.
type ExtractOptions struct {
	// Overwrite lets a file entry replace an existing file and a directory
	// entry reuse an existing directory. Without it any existing target is
	// an ErrExists error. A replaced file is gone even if extraction fails.
	Overwrite bool
	// Skip, when set, leaves out the file entries it returns true for:
	// their bytes are still read and authenticated, never written.
	Skip func(name string) bool
}

// Extract decrypts the archive from r and extracts its entries below dir,
// which is created (mode 0700) if missing. It authenticates every chunk,
// checks the manifest, and on any error removes what it created, so a
// failed extraction leaves dir as it was (except files Overwrite replaced).
//
// Entries stay inside dir: names are checked by ValidName, every file
// operation goes through os.Root, and symbolic links already in dir are
// never followed. Files get their stored permission bits, owned by the
// caller; new directories without an entry of their own get 0700.
func Extract(r io.Reader, passphrase []byte, dir string, opts ExtractOptions) (Info, error) {
	rd, err := NewReader(r, passphrase)
	if err != nil {
		return Info{}, err
	}
	return extractFrom(rd, dir, opts)
}

func extractFrom(rd *Reader, dir string, opts ExtractOptions) (Info, error) {
	er, err := NewEntryReader(rd)
	if err != nil {
		return rd.Info(), err
	}
	m, err := ExtractEntries(er, dir, opts)
	info := rd.Info()
	info.Manifest = m
	return info, err
}

// ExtractEntries extracts an entry stream below dir, as Extract does.
func ExtractEntries(er *EntryReader, dir string, opts ExtractOptions) (*Manifest, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("creating the restore directory: %w", err)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("opening the restore directory: %w", err)
	}
	defer root.Close()
	x := &extractor{root: root, dir: dir, opts: opts, ours: map[string]bool{}}
	if err := x.run(er); err != nil {
		x.cleanup()
		return nil, err
	}
	return er.Manifest(), nil
}

type extractor struct {
	root    *os.Root
	dir     string
	opts    ExtractOptions
	created []string        // in creation order, for cleanup
	ours    map[string]bool // directories created here
	modes   []Entry         // directory entries, chmod'ed at the end
}

func (x *extractor) run(er *EntryReader) error {
	for {
		ent, err := er.Next()
		if errors.Is(err, io.EOF) {
			return x.finish()
		}
		if err != nil {
			return err
		}
		if ent.Type != TypeDir && x.opts.Skip != nil && x.opts.Skip(ent.Name) {
			if _, err := io.Copy(io.Discard, er); err != nil {
				return err
			}
			continue
		}
		if err := x.parents(ent.Name); err != nil {
			return err
		}
		if ent.Type == TypeDir {
			err = x.mkdir(ent)
		} else {
			err = x.writeFile(ent, er)
		}
		if err != nil {
			return err
		}
	}
}

// parents creates the missing parent directories of name, refusing to go
// through a symbolic link or a non-directory.
func (x *extractor) parents(name string) error {
	parts := strings.Split(name, "/")
	for i := 1; i < len(parts); i++ {
		p := path.Join(parts[:i]...)
		st, err := x.root.Lstat(p)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			if err := x.root.Mkdir(p, 0o700); err != nil {
				return fmt.Errorf("creating %s: %w", x.show(p), err)
			}
			x.created = append(x.created, p)
			x.ours[p] = true
		case err != nil:
			return fmt.Errorf("checking %s: %w", x.show(p), err)
		case st.Mode()&fs.ModeSymlink != 0:
			return fmt.Errorf("%s is a symbolic link; refusing to extract %q through it", x.show(p), name)
		case !st.IsDir():
			return fmt.Errorf("%s is not a directory, so %q cannot be extracted below it", x.show(p), name)
		}
	}
	return nil
}

func (x *extractor) mkdir(ent Entry) error {
	st, err := x.root.Lstat(ent.Name)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if err := x.root.Mkdir(ent.Name, 0o700); err != nil {
			return fmt.Errorf("creating %s: %w", x.show(ent.Name), err)
		}
		x.created = append(x.created, ent.Name)
		x.ours[ent.Name] = true
	case err != nil:
		return fmt.Errorf("checking %s: %w", x.show(ent.Name), err)
	case !st.IsDir():
		return fmt.Errorf("%w: %s exists and is not a directory", ErrExists, x.show(ent.Name))
	case !x.ours[ent.Name] && !x.opts.Overwrite:
		return fmt.Errorf("%w: directory %s; extract into an empty directory, or allow overwriting", ErrExists, x.show(ent.Name))
	}
	x.modes = append(x.modes, ent)
	return nil
}

func (x *extractor) writeFile(ent Entry, data io.Reader) error {
	st, err := x.root.Lstat(ent.Name)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return fmt.Errorf("checking %s: %w", x.show(ent.Name), err)
	case st.IsDir():
		return fmt.Errorf("%w: %s is a directory, the archive has a file there", ErrExists, x.show(ent.Name))
	case !x.opts.Overwrite:
		return fmt.Errorf("%w: file %s; extract into an empty directory, or allow overwriting", ErrExists, x.show(ent.Name))
	default:
		// Remove rather than truncate, so a symbolic link is replaced, not followed.
		if err := x.root.Remove(ent.Name); err != nil {
			return fmt.Errorf("replacing %s: %w", x.show(ent.Name), err)
		}
	}
	// Written as 0600 and set to its mode only when complete, so a partly
	// restored secret is never readable by others.
	f, err := x.root.OpenFile(ent.Name, os.O_WRONLY|os.O_CREATE|os.O_EXCL|syscall.O_NOFOLLOW, 0o600)
	if err != nil {
		return fmt.Errorf("creating %s: %w", x.show(ent.Name), err)
	}
	x.created = append(x.created, ent.Name)
	if _, err := io.Copy(f, data); err != nil {
		f.Close()
		var ae *Error
		if errors.As(err, &ae) {
			return err
		}
		return fmt.Errorf("writing %s: %w", x.show(ent.Name), err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("writing %s: %w", x.show(ent.Name), err)
	}
	if err := f.Chmod(ent.Mode); err != nil {
		f.Close()
		return fmt.Errorf("setting the mode of %s: %w", x.show(ent.Name), err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("writing %s: %w", x.show(ent.Name), err)
	}
	return nil
}

// finish sets directory modes, deepest last-listed first, and makes the
// new directory entries durable.
func (x *extractor) finish() error {
	for i := len(x.modes) - 1; i >= 0; i-- {
		ent := x.modes[i]
		if err := x.syncDir(ent.Name, func(d *os.File) error { return d.Chmod(ent.Mode) }); err != nil {
			return fmt.Errorf("setting the mode of %s: %w", x.show(ent.Name), err)
		}
	}
	for dir := range x.ours {
		if err := x.syncDir(dir, nil); err != nil {
			return fmt.Errorf("syncing %s: %w", x.show(dir), err)
		}
	}
	if err := x.syncDir(".", nil); err != nil {
		return fmt.Errorf("syncing %s: %w", x.dir, err)
	}
	return nil
}

// syncDir opens a directory without following a link, applies fn to it and fsyncs it.
func (x *extractor) syncDir(name string, fn func(*os.File) error) error {
	d, err := x.root.OpenFile(name, os.O_RDONLY|syscall.O_DIRECTORY|syscall.O_NOFOLLOW, 0)
	if err != nil {
		return err
	}
	defer d.Close()
	if fn != nil {
		if err := fn(d); err != nil {
			return err
		}
	}
	return d.Sync()
}

// cleanup removes what this extraction created, newest first.
func (x *extractor) cleanup() {
	for i := len(x.created) - 1; i >= 0; i-- {
		_ = x.root.Remove(x.created[i])
	}
}

func (x *extractor) show(name string) string { return filepath.Join(x.dir, filepath.FromSlash(name)) }
