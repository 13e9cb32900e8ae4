package assets

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/fineract-installer/fineract-installer/steps/atomicfile"
)

// Write puts every file of the bundle under dir through an os.Root, so a
// link inside dir cannot lead a write outside it. Each file is replaced
// atomically (see package atomicfile), so a crash leaves either the old or
// the new content. Files whose content and mode are already right are left
// untouched; files that are not part of the bundle are never removed.
func (b Bundle) Write(ctx context.Context, dir string) error {
	if dir == "" {
		return errors.New("write stack files: no install directory given")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("write stack files: %w", err)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return fmt.Errorf("write stack files: %w", err)
	}
	defer root.Close()
	for _, f := range b.Files {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("write stack files: %w", err)
		}
		rel, err := cleanRelPath(f.Path)
		if err != nil {
			return fmt.Errorf("write stack files: %w", err)
		}
		mode := f.Mode
		if mode == 0 {
			mode = 0o644
		}
		if atomicfile.Matches(root, rel, f.Data, mode) {
			continue
		}
		if err := root.MkdirAll(path.Dir(rel), 0o755); err != nil {
			return fmt.Errorf("write %s: %w", filepath.Join(dir, rel), err)
		}
		if err := atomicfile.WriteFileIn(root, rel, f.Data, mode.Perm()); err != nil {
			return fmt.Errorf("write %s: %w", filepath.Join(dir, rel), err)
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
