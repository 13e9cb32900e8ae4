package pki

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// Modes of the files in the certificate directory.
const (
	dirMode      fs.FileMode = 0o700
	certMode     fs.FileMode = 0o644
	keyMode      fs.FileMode = 0o600
	groupKeyMode fs.FileMode = 0o640
)

// fileSpec is how one file must look on disk.
type fileSpec struct {
	name     string // base name inside the directory
	mode     fs.FileMode
	uid, gid int // -1 leaves the id as it is
}

func keySpec(r Request) fileSpec {
	mode := keyMode
	if r.GroupReadable {
		mode = groupKeyMode
	}
	return fileSpec{name: r.Name + ".key", mode: mode, uid: r.UID, gid: r.GID}
}

func certSpec(r Request) fileSpec {
	return fileSpec{name: r.Name + ".crt", mode: certMode, uid: r.UID, gid: r.GID}
}

// readOptional reads a file that may not exist yet.
func readOptional(path string) ([]byte, bool, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("read %s: %w", path, err)
	}
	return data, true, nil
}

// writeFileAtomic replaces a file so that readers see the old or the new
// content, never a mix: a temporary file in the same directory gets its
// mode and owner first (a key is never readable by others), then the data,
// an fsync, and a rename over the old name. The caller fsyncs the directory.
func writeFileAtomic(dir string, spec fileSpec, data []byte) (err error) {
	f, err := os.CreateTemp(dir, "."+spec.name+".tmp-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", spec.name, err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if err := f.Chmod(spec.mode); err != nil {
		return fmt.Errorf("set mode of %s: %w", spec.name, err)
	}
	if spec.uid != -1 || spec.gid != -1 {
		if err := f.Chown(spec.uid, spec.gid); err != nil {
			return fmt.Errorf("set owner of %s to %d:%d: %w (run as root, or leave the owner unset with -1)", spec.name, spec.uid, spec.gid, err)
		}
	}
	if _, err := f.Write(data); err != nil {
		return fmt.Errorf("write %s: %w", spec.name, err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("flush %s to disk: %w", spec.name, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", spec.name, err)
	}
	if err := os.Rename(f.Name(), filepath.Join(dir, spec.name)); err != nil {
		return fmt.Errorf("replace %s: %w", spec.name, err)
	}
	return nil
}

// syncDir makes renames in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("open %s: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("flush directory %s to disk: %w", dir, err)
	}
	return nil
}

// removeStaleTemps deletes temporary files an interrupted run left behind;
// they may hold private keys.
func removeStaleTemps(dir string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("list %s: %w", dir, err)
	}
	for _, e := range entries {
		if n := e.Name(); strings.HasPrefix(n, ".") && strings.Contains(n, ".tmp-") {
			if err := os.Remove(filepath.Join(dir, n)); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return fmt.Errorf("remove leftover %s: %w", n, err)
			}
		}
	}
	return nil
}

// fileFix corrects the mode or owner of a file whose content is fine.
type fileFix struct {
	path        string
	spec        fileSpec
	chmod       bool
	chown       bool
	description string
}

// checkFile compares an existing file's mode and owner with its spec and
// returns the fix it needs, or nil.
func checkFile(path string, spec fileSpec) (*fileFix, error) {
	fi, err := os.Lstat(path)
	if err != nil {
		return nil, fmt.Errorf("inspect %s: %w", path, err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file (%s); remove it and run again", path, fi.Mode().Type())
	}
	fix := &fileFix{path: path, spec: spec}
	var notes []string
	if fi.Mode().Perm() != spec.mode {
		fix.chmod = true
		notes = append(notes, fmt.Sprintf("mode %04o → %04o", fi.Mode().Perm(), spec.mode))
	}
	uid, gid := ownerOf(fi)
	if (spec.uid != -1 && uid != spec.uid) || (spec.gid != -1 && gid != spec.gid) {
		fix.chown = true
		notes = append(notes, fmt.Sprintf("owner %d:%d → %s:%s", uid, gid, idString(spec.uid, uid), idString(spec.gid, gid)))
	}
	if len(notes) == 0 {
		return nil, nil
	}
	fix.description = spec.name + " " + strings.Join(notes, ", ")
	return fix, nil
}

func (f *fileFix) apply() error {
	if f.chmod {
		if err := os.Chmod(f.path, f.spec.mode); err != nil {
			return fmt.Errorf("set mode of %s: %w", f.path, err)
		}
	}
	if f.chown {
		if err := os.Lchown(f.path, f.spec.uid, f.spec.gid); err != nil {
			return fmt.Errorf("set owner of %s to %d:%d: %w (run as root, or leave the owner unset with -1)", f.path, f.spec.uid, f.spec.gid, err)
		}
	}
	return nil
}

func idString(want, have int) string {
	if want == -1 {
		return fmt.Sprint(have)
	}
	return fmt.Sprint(want)
}

// ownerOf reads a file's uid and gid; -1 where the platform does not say.
func ownerOf(fi fs.FileInfo) (uid, gid int) {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return int(st.Uid), int(st.Gid)
	}
	return -1, -1
}
