package assets

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// Write puts every file of the bundle under dir. Each file is written to a
// temporary file beside it, given its mode, synced and renamed over the old
// one, so a crash leaves either the old or the new content. Files whose
// content and mode are already right are left untouched; files that are not
// part of the bundle are never removed.
func (b Bundle) Write(ctx context.Context, dir string) error {
	if dir == "" {
		return errors.New("write stack files: no install directory given")
	}
	touched := map[string]bool{}
	for _, f := range b.Files {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("write stack files: %w", err)
		}
		rel, err := cleanRelPath(f.Path)
		if err != nil {
			return fmt.Errorf("write stack files: %w", err)
		}
		target := filepath.Join(dir, filepath.FromSlash(rel))
		changed, err := writeAtomic(target, f.Data, f.Mode)
		if err != nil {
			return fmt.Errorf("write %s: %w", target, err)
		}
		if changed {
			touched[filepath.Dir(target)] = true
		}
	}
	for d := range touched {
		if err := syncDir(d); err != nil {
			return fmt.Errorf("write stack files: sync %s: %w", d, err)
		}
	}
	return nil
}

// cleanRelPath refuses paths that would leave the install directory.
func cleanRelPath(p string) (string, error) {
	c := path.Clean(p)
	if p == "" || path.IsAbs(p) || c == "." || c == ".." || strings.HasPrefix(c, "../") {
		return "", fmt.Errorf("bundle path %q is not a relative path inside the install directory", p)
	}
	return c, nil
}

func writeAtomic(target string, data []byte, mode fs.FileMode) (changed bool, err error) {
	if mode == 0 {
		mode = 0o644
	}
	if old, err := os.ReadFile(target); err == nil && bytes.Equal(old, data) {
		if fi, err := os.Stat(target); err == nil && fi.Mode().Perm() == mode.Perm() && fi.Mode().IsRegular() {
			return false, nil
		}
	}
	if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
		return false, err
	}
	tmp, err := os.CreateTemp(filepath.Dir(target), "."+filepath.Base(target)+".tmp-*")
	if err != nil {
		return false, err
	}
	defer func() {
		if err != nil {
			_ = os.Remove(tmp.Name())
		}
	}()
	if err = tmp.Chmod(mode.Perm()); err != nil {
		_ = tmp.Close()
		return false, err
	}
	if _, err = tmp.Write(data); err != nil {
		_ = tmp.Close()
		return false, err
	}
	if err = tmp.Sync(); err != nil {
		_ = tmp.Close()
		return false, err
	}
	if err = tmp.Close(); err != nil {
		return false, err
	}
	if err = os.Rename(tmp.Name(), target); err != nil {
		return false, err
	}
	return true, nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
