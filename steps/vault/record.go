package vault

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"

	"github.com/fineract-installer/fineract-installer/steps/atomicfile"
)

// Record is the small, secret-free state the Vault steps keep between runs.
// Its main job is the marker that makes initialisation safe to rerun:
// InitStartedAt is saved before Vault is asked to initialise and
// SharesRecordedAt only after the caller's custody action has made the key
// shares durable. A Vault that is initialised while SharesRecordedAt is
// zero means the shares may be lost, and the steps stop there.
type Record struct {
	InitStartedAt    time.Time `json:"init_started_at,omitzero"`
	SharesRecordedAt time.Time `json:"shares_recorded_at,omitzero"`
	Shares           int       `json:"shares,omitempty"`
	Threshold        int       `json:"threshold,omitempty"`
	// Custody names how the shares were recorded ("show", "file"), for
	// messages and status output.
	Custody       string    `json:"custody,omitempty"`
	RootRevokedAt time.Time `json:"root_revoked_at,omitzero"`
}

// SharesRecorded reports whether the custody action completed.
func (r Record) SharesRecorded() bool { return !r.SharesRecordedAt.IsZero() }

// RecordStore loads and saves the Record. Save must be durable when it
// returns (the pipeline's state file, or FileRecordStore).
type RecordStore interface {
	Load(ctx context.Context) (Record, error)
	Save(ctx context.Context, r Record) error
}

// FileRecordStore keeps the Record as JSON in one file, replaced
// atomically and fsynced on every save, mode 0600.
type FileRecordStore struct {
	Path string
}

// Load returns the saved Record, or a zero Record if the file does not exist.
func (s FileRecordStore) Load(ctx context.Context) (Record, error) {
	if err := ctx.Err(); err != nil {
		return Record{}, err
	}
	data, err := os.ReadFile(s.Path)
	if errors.Is(err, fs.ErrNotExist) {
		return Record{}, nil
	}
	if err != nil {
		return Record{}, fmt.Errorf("reading the Vault record %s: %w", s.Path, err)
	}
	var r Record
	if err := json.Unmarshal(data, &r); err != nil {
		return Record{}, fmt.Errorf("the Vault record %s is damaged (%v); restore it from a backup or inspect it by hand — it holds no secret", s.Path, err)
	}
	return r, nil
}

// Save writes r durably.
func (s FileRecordStore) Save(ctx context.Context, r Record) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	data, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding the Vault record: %w", err)
	}
	if err := atomicfile.WriteFile(s.Path, append(data, '\n'), 0o600); err != nil {
		return fmt.Errorf("saving the Vault record: %w", err)
	}
	return nil
}
