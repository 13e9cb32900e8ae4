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

// Mark records that dir is an installation directory.
func Mark(dir string) error {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return fmt.Errorf("create install dir: %w", err)
	}
	f := filepath.Join(dir, MarkerFile)
	if _, err := os.Stat(f); err == nil {
		return nil
	}
	data := []byte("This directory holds a fineract-installer installation: certificates, rendered configuration and state.\n")
	if err := os.WriteFile(f, data, 0o644); err != nil {
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

// SecretsDir is where a project's service secrets are materialised from
// Vault: a tmpfs under /run, so they vanish at reboot and never reach a disk.
func SecretsDir(project string) string {
	return filepath.Join("/run/fineract-stack", project, "secrets")
}
