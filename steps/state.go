package steps

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sort"
	"time"

	"github.com/fineract-installer/fineract-installer/steps/atomicfile"
	"github.com/fineract-installer/fineract-installer/steps/installation"
)

// Status of one step in the state file.
type Status string

// Step statuses.
const (
	StatusPending     Status = "pending"
	StatusRunning     Status = "running"
	StatusDone        Status = "done"
	StatusFailed      Status = "failed"
	StatusInterrupted Status = "interrupted"
)

// StepState is what the state file records about one step.
type StepState struct {
	Status Status `json:"status"`
	// Started and Finished are left out until they happened (a step found
	// done at its check never started).
	Started  time.Time `json:"started,omitzero"`
	Finished time.Time `json:"finished,omitzero"`
	// Error is the failure's cause; never a secret (steps keep secrets out of errors).
	Error string `json:"error,omitempty"`
}

// State is the record of an installation's progress, kept in the install
// dir so `status` can show it and a rerun can resume.
type State struct {
	Version int    `json:"version"`
	Project string `json:"project"`
	// Command is the day-2 command a record is of; empty for install's.
	Command string                `json:"command,omitempty"`
	Updated time.Time             `json:"updated"`
	Steps   map[string]*StepState `json:"steps"`
	Order   []string              `json:"order"`
	// Uninstalled is when `uninstall` took the stack down and kept its
	// data; the next install run clears it.
	Uninstalled time.Time `json:"uninstalled,omitzero"`
}

// LoadState reads the state file; a missing file is an empty state.
func LoadState(dir string) (*State, error) {
	return loadState(installation.New(dir, "").StateFile())
}

// LoadCommandState reads the record of a day-2 command's last run; a
// missing file is an empty record.
func LoadCommandState(dir, command string) (*State, error) {
	return loadState(installation.New(dir, "").CommandStateFile(command))
}

func loadState(name string) (*State, error) {
	data, err := os.ReadFile(name)
	if errors.Is(err, os.ErrNotExist) {
		return &State{Version: 1, Steps: map[string]*StepState{}}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read state: %w", err)
	}
	var s State
	if err := json.Unmarshal(data, &s); err != nil {
		return nil, fmt.Errorf("read state %s: %w (move the file aside to start over)", name, err)
	}
	if s.Steps == nil {
		s.Steps = map[string]*StepState{}
	}
	return &s, nil
}

// Save writes the state atomically: a temp file in the same directory,
// fsync, rename, fsync of the directory. A crash or a full disk leaves the
// previous state intact, never a half-written one.
func (s *State) Save(dir string) error {
	return s.saveTo(installation.New(dir, "").StateFile())
}

func (s *State) saveTo(name string) error {
	s.Updated = time.Now().UTC()
	data, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return fmt.Errorf("save state: %w", err)
	}
	return atomicfile.WriteFile(name, append(data, '\n'), 0o600)
}

// AdoptCommandState makes the record of a day-2 command's last run the
// install's record of dir. A restore puts a whole installation in place
// (the install dir it replaced, with its record, is kept aside): its run
// is what `status` shows of the installation until the next install.
func AdoptCommandState(dir, command string) error {
	rec, err := LoadCommandState(dir, command)
	if err != nil {
		return err
	}
	rec.Command = ""
	return rec.Save(dir)
}

// MarkUninstalled records in dir's state file that the stack was taken
// down with its data and install dir kept. The steps the last run recorded
// no longer describe anything that runs, so they are dropped; the next
// install records them again.
func MarkUninstalled(dir string, at time.Time) error {
	s, err := LoadState(dir)
	if err != nil {
		return err
	}
	s.Steps, s.Order, s.Uninstalled = map[string]*StepState{}, nil, at.UTC()
	return s.Save(dir)
}

// Summary lists the steps with their status in plan order.
func (s *State) Summary() []NamedStepState {
	out := make([]NamedStepState, 0, len(s.Steps))
	for _, id := range s.Order {
		if st, ok := s.Steps[id]; ok {
			out = append(out, NamedStepState{ID: id, StepState: *st})
		}
	}
	if len(out) != len(s.Steps) { // steps no longer in the plan
		var extra []string
		for id := range s.Steps {
			if !contains(s.Order, id) {
				extra = append(extra, id)
			}
		}
		sort.Strings(extra)
		for _, id := range extra {
			out = append(out, NamedStepState{ID: id, StepState: *s.Steps[id]})
		}
	}
	return out
}

// NamedStepState is a StepState with its step ID.
type NamedStepState struct {
	ID string `json:"id"`
	StepState
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if x == y {
			return true
		}
	}
	return false
}
