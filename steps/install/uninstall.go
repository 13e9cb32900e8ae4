package install

import (
	"context"
	"errors"
	"time"

	"github.com/fineract-installer/fineract-installer/compose"
	"github.com/fineract-installer/fineract-installer/steps"
	"github.com/fineract-installer/fineract-installer/steps/installdir"
)

// UninstallStep takes the stack down: its containers and networks, and
// with Purge its data volumes, its install dir and the delivered secrets.
// Without Purge the install dir's state records the uninstall, so `status`
// can tell an uninstalled stack from one that is down.
type UninstallStep struct {
	Engine  *compose.Engine
	Project string
	Dir     string
	Purge   bool
}

// ID implements steps.Step.
func (s UninstallStep) ID() string { return "uninstall" }

// Title implements steps.Step.
func (s UninstallStep) Title() string {
	if s.Purge {
		return "Remove the stack and its data"
	}
	return "Remove the stack's containers and networks"
}

// ChangesInEvents says every removal is reported by the engine's events:
// a run that finds nothing to remove is no change for the audit log
// (audit.ChangesInEvents).
func (UninstallStep) ChangesInEvents() bool { return true }

// Check always says no: what is there is removed on every run.
func (s UninstallStep) Check(context.Context) (bool, error) { return false, nil }

// Run implements steps.Step.
func (s UninstallStep) Run(ctx context.Context, emit steps.Emitter) error {
	if err := s.Engine.Down(ctx, s.Project, compose.DownOptions{Volumes: s.Purge}, emit); err != nil {
		return err
	}
	if !s.Purge {
		// Recorded only in an installation's own directory.
		switch ok, err := installdir.Exists(s.Dir); {
		case errors.Is(err, installdir.ErrNotInstallDir):
			return nil
		case err != nil || !ok:
			return err
		}
		return steps.MarkUninstalled(s.Dir, time.Now())
	}
	switch err := installdir.Remove(s.Dir); {
	case errors.Is(err, installdir.ErrNotInstallDir):
		emit.Warn(s.Dir + " left in place: " + err.Error())
	case err != nil:
		return err
	default:
		emit.Info(s.Dir, "directory removed")
	}
	// The delivered secrets (database passwords among them) would
	// otherwise stay in memory until the next reboot.
	if err := installdir.RemoveSecrets(s.Project); err != nil {
		return err
	}
	emit.Info(installdir.ProjectRunDir(s.Project), "delivered secrets removed")
	return nil
}
