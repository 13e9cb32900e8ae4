package upgrade

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"syscall"
	"time"

	"github.com/fineract-installer/fineract-installer/steps"
	"github.com/fineract-installer/fineract-installer/steps/atomicfile"
	"github.com/fineract-installer/fineract-installer/steps/installation"
)

// Journal records an upgrade under way (installation.UpgradeFile): which
// stack version it moves to and which verified backup it took first. It
// is written once the backup is verified, before anything changes, and
// removed when the upgrade, or its rollback, has finished. A run that
// finds one was interrupted: it rolls back when the record of that run
// (the command's state file) shows a replacement had started, and
// otherwise starts afresh.
type Journal struct {
	Version int       `json:"version"`
	Stack   string    `json:"stack"`
	Backup  string    `json:"backup"`
	Started time.Time `json:"started"`
}

const (
	journalVersion = 1
	maxJournal     = 64 << 10
)

// backupName is what a backup taken by an upgrade is called in the backups
// dir (see backup.Steps): the journal names nothing else.
var backupName = regexp.MustCompile(`^backup-[0-9]{8}T[0-9]{6}Z\.fib$`)

// LoadJournal reads the journal of dir; ok is false when there is none.
// It is read without following a link, bounded, and its backup must be a
// backup's base name: the file is input to check like any other.
func LoadJournal(dir string) (j Journal, ok bool, err error) {
	name := installation.New(dir, "").UpgradeFile()
	f, err := os.OpenFile(name, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0)
	if errors.Is(err, os.ErrNotExist) {
		return Journal{}, false, nil
	}
	if err != nil {
		return Journal{}, false, fmt.Errorf("read the upgrade journal: %w", err)
	}
	defer f.Close()
	if fi, err := f.Stat(); err != nil || !fi.Mode().IsRegular() {
		return Journal{}, false, fmt.Errorf("the upgrade journal %s is not a regular file", name)
	}
	data, err := io.ReadAll(io.LimitReader(f, maxJournal+1))
	if err != nil {
		return Journal{}, false, fmt.Errorf("read the upgrade journal: %w", err)
	}
	if len(data) > maxJournal {
		return Journal{}, false, fmt.Errorf("the upgrade journal %s is larger than %d bytes", name, maxJournal)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&j); err != nil {
		return Journal{}, false, fmt.Errorf("the upgrade journal %s: %w", name, err)
	}
	if j.Version != journalVersion || !backupName.MatchString(j.Backup) || j.Stack == "" {
		return Journal{}, false, fmt.Errorf("the upgrade journal %s does not name a stack and a backup this installer takes", name)
	}
	return j, true, nil
}

// BackupFile is the journal's backup in the installation's backups dir.
func (j Journal) BackupFile(inst *installation.Installation) string {
	return filepath.Join(inst.BackupsDir(), j.Backup)
}

// Save writes the journal into dir atomically.
func (j Journal) Save(dir string) error {
	j.Version = journalVersion
	data, err := json.MarshalIndent(j, "", "  ")
	if err != nil {
		return fmt.Errorf("encode the upgrade journal: %w", err)
	}
	return atomicfile.WriteFile(installation.New(dir, "").UpgradeFile(), append(data, '\n'), 0o600)
}

// RemoveJournal removes the journal of dir, if any.
func RemoveJournal(dir string) error {
	err := os.Remove(installation.New(dir, "").UpgradeFile())
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("remove the upgrade journal: %w", err)
	}
	return nil
}

// ReplacementStarted reports whether a run recorded in st began to change
// the stack (the configuration was rendered, or a service replaced): from
// there only the backup says what the databases held before.
func ReplacementStarted(st *steps.State) bool {
	for id, s := range st.Steps {
		if s.Status != steps.StatusPending && (id == renderStepID || replaceStepPrefix.MatchString(id)) {
			return true
		}
	}
	return false
}
