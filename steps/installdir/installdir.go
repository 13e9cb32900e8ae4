// Package installdir knows what an installation directory is, so that
// commands that delete things never delete a directory that is not one.
package installdir

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// MarkerFile is written at the root of every installation directory.
const MarkerFile = ".fineract-stack"

// ErrNotInstallDir means the directory exists but was not made by the installer.
var ErrNotInstallDir = errors.New("not an installation directory")

// Claimable reports, without writing anything, whether dir may become (or
// already is) an installation directory: it is new, empty, or marked. A
// directory holding someone else's files gives ErrNotInstallDir.
func Claimable(dir string) error {
	_, err := claim(dir)
	return err
}

// claim says whether dir must be created and marked (true) or is already
// an installation directory (false).
func claim(dir string) (bool, error) {
	entries, err := os.ReadDir(dir)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return true, nil
	case err != nil:
		return false, fmt.Errorf("install dir %s: %w", dir, err)
	case len(entries) == 0:
		return true, nil
	}
	if _, err := Exists(dir); err != nil {
		return false, fmt.Errorf("%w; choose an empty or new directory with install_dir or --dir", err)
	}
	return false, nil
}

// Mark makes dir an installation directory: a new or empty directory
// gets the marker, an installation directory is left as it is, and any
// other directory is refused with ErrNotInstallDir before anything is
// written into it (it holds someone else's files).
func Mark(dir string) error {
	fresh, err := claim(dir)
	if err != nil || !fresh {
		return err
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return fmt.Errorf("create install dir: %w", err)
	}
	data := []byte("This directory holds a fineract-installer installation: certificates, rendered configuration and state.\n")
	if err := os.WriteFile(filepath.Join(dir, MarkerFile), data, 0o644); err != nil {
		return fmt.Errorf("mark install dir: %w", err)
	}
	return nil
}

// Exists reports whether dir is an installation directory. A missing
// directory is not an error; a directory without the marker is.
func Exists(dir string) (bool, error) {
	if _, err := os.Stat(dir); errors.Is(err, os.ErrNotExist) {
		return false, nil
	} else if err != nil {
		return false, fmt.Errorf("install dir %s: %w", dir, err)
	}
	if _, err := os.Stat(filepath.Join(dir, MarkerFile)); err != nil {
		return false, fmt.Errorf("%s: %w (it has no %s file); refusing to touch it", dir, ErrNotInstallDir, MarkerFile)
	}
	return true, nil
}

// Remove deletes an installation directory and everything in it. It refuses
// directories without the marker, the filesystem root and the home directory.
func Remove(dir string) error {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return fmt.Errorf("remove install dir: %w", err)
	}
	home, _ := os.UserHomeDir()
	if abs == "/" || abs == home {
		return fmt.Errorf("remove install dir: refusing to remove %s", abs)
	}
	ok, err := Exists(abs)
	if err != nil || !ok {
		return err
	}
	if err := os.RemoveAll(abs); err != nil {
		return fmt.Errorf("remove install dir: %w", err)
	}
	return nil
}
