package backup

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/fineract-installer/fineract-installer/steps/backup/archive"
	"github.com/fineract-installer/fineract-installer/steps/backup/wal"
)

// WALDir is the directory of archived WAL in the repository.
func WALDir(repo string) string { return filepath.Join(repo, "wal") }

// ListBases reads the header of every base backup in the repository,
// oldest first. Headers are authenticated with the passphrase; the
// payload is not read (see VerifyBase). A file the passphrase does not
// open, or whose labels are not a base backup's, is returned in bad with
// the reason rather than failing the listing.
func ListBases(repo string, passphrase []byte) (bases []BaseBackup, bad []wal.Problem, err error) {
	dir := BaseDir(repo)
	root, err := os.OpenRoot(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("open the base backups: %w", err)
	}
	defer root.Close()
	entries, err := fs.ReadDir(root.FS(), ".")
	if err != nil {
		return nil, nil, fmt.Errorf("list the base backups: %w", err)
	}
	for _, e := range entries {
		name := e.Name()
		if strings.HasPrefix(name, ".") || !strings.HasSuffix(name, baseSuffix) {
			continue
		}
		b, err := readBaseHeader(root, name, passphrase)
		if err != nil {
			bad = append(bad, wal.Problem{Name: name, Reason: err.Error()})
			continue
		}
		b.File = filepath.Join(dir, name)
		bases = append(bases, b)
	}
	slices.SortFunc(bases, func(a, b BaseBackup) int { return a.Finished.Compare(b.Finished) })
	return bases, bad, nil
}

func readBaseHeader(root *os.Root, name string, passphrase []byte) (BaseBackup, error) {
	f, err := root.OpenFile(name, os.O_RDONLY|syscall.O_NOFOLLOW, 0)
	if err != nil {
		return BaseBackup{}, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return BaseBackup{}, err
	}
	if !fi.Mode().IsRegular() {
		return BaseBackup{}, fmt.Errorf("it is not a regular file")
	}
	r, err := archive.NewReader(f, passphrase)
	if err != nil {
		return BaseBackup{}, err
	}
	b, err := baseFromLabels(r.Info().Metadata.Labels)
	b.Size = fi.Size()
	return b, err
}

// baseFromLabels reads a base backup's facts from its archive labels.
func baseFromLabels(l map[string]string) (BaseBackup, error) {
	if l[labelKind] != kindBase {
		return BaseBackup{}, fmt.Errorf("its labels do not say it is a base backup")
	}
	b := BaseBackup{StartWAL: l[labelStartWAL], StopWAL: l[labelStopWAL], StartLSN: l[labelStartLSN], StopLSN: l[labelStopLSN]}
	var errs []error
	var err error
	if b.Started, err = time.Parse(time.RFC3339, l[labelStarted]); err != nil {
		errs = append(errs, fmt.Errorf("label %s: %w", labelStarted, err))
	}
	if b.Finished, err = time.Parse(time.RFC3339, l[labelFinished]); err != nil {
		errs = append(errs, fmt.Errorf("label %s: %w", labelFinished, err))
	}
	tl, err := strconv.ParseUint(l[labelTimeline], 10, 32)
	if err != nil || tl == 0 {
		errs = append(errs, fmt.Errorf("label %s is not a timeline", labelTimeline))
	}
	b.Timeline = uint32(tl)
	for _, seg := range []string{b.StartWAL, b.StopWAL} {
		if _, _, ok := wal.ParseSegmentName(seg); !ok {
			errs = append(errs, fmt.Errorf("%q is not a WAL segment name", seg))
		}
	}
	return b, errors.Join(errs...)
}
