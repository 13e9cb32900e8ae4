package pki

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/fineract-installer/fineract-installer/steps/atomicfile"
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

// writeFile replaces the file spec names in dir; its mode and owner are
// set before the data is written, so a key is never readable by others.
func writeFile(dir string, spec fileSpec, data []byte) error {
	err := atomicfile.WriteFile(filepath.Join(dir, spec.name), data, spec.mode, atomicfile.WithOwner(spec.uid, spec.gid))
	if err != nil && (spec.uid != -1 || spec.gid != -1) && errors.Is(err, fs.ErrPermission) {
		return fmt.Errorf("%w (run as root, or leave the owner unset with -1)", err)
	}
	return err
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
