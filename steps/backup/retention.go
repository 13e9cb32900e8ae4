package backup

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/fineract-installer/fineract-installer/steps"
	"github.com/fineract-installer/fineract-installer/steps/backup/wal"
)

// RetentionStep deletes the base backups Retention drops and the WAL no
// kept base backup needs. Base backups the passphrase does not open are
// left alone: they are not this installation's to judge.
type RetentionStep struct {
	Repository string
	Passphrase []byte
	Retention  Retention
	// Now is the clock; nil is time.Now.
	Now func() time.Time
}

// ID implements steps.Step.
func (s RetentionStep) ID() string { return "backup-retention" }

// Title implements steps.Step.
func (s RetentionStep) Title() string {
	return fmt.Sprintf("Keep %d base backups and %d days of WAL", s.Retention.KeepBase, s.Retention.KeepDays)
}

// Check always says no: deciding is as cheap as checking.
func (s RetentionStep) Check(context.Context) (bool, error) { return false, nil }

// Run implements steps.Step.
func (s RetentionStep) Run(_ context.Context, emit steps.Emitter) error {
	now := time.Now()
	if s.Now != nil {
		now = s.Now()
	}
	bases, _, err := ListBases(s.Repository, s.Passphrase)
	if err != nil {
		return err
	}
	keep, drop := s.Retention.Apply(bases, now)
	for _, b := range drop {
		if err := os.Remove(b.File); err != nil {
			return fmt.Errorf("remove old base backup: %w", err)
		}
		emit.Info(filepath.Base(b.File), "removed old base backup")
	}
	syncDir(BaseDir(s.Repository))
	root, err := os.OpenRoot(WALDir(s.Repository))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("open the archived WAL: %w", err)
	}
	defer root.Close()
	objs, err := wal.List(root)
	if err != nil {
		return fmt.Errorf("list the archived WAL: %w", err)
	}
	names := make([]string, len(objs))
	for i, o := range objs {
		names[i] = o.Name
	}
	old := WALNotNeeded(names, keep)
	for _, n := range old {
		// Through the directory's descriptor: PostgreSQL's uid writes here.
		if err := root.Remove(n + wal.Suffix); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("remove old WAL: %w", err)
		}
	}
	if len(old) > 0 {
		emit.Info("wal", fmt.Sprintf("removed %d WAL files older than the oldest kept base backup (%s to %s)", len(old), old[0], old[len(old)-1]))
	}
	return nil
}
