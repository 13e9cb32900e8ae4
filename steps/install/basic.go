package install

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/fineract-installer/fineract-installer/assets"
	"github.com/fineract-installer/fineract-installer/steps"
	"github.com/fineract-installer/fineract-installer/steps/answers"
	"github.com/fineract-installer/fineract-installer/steps/installdir"
	"github.com/fineract-installer/fineract-installer/steps/preflight"
)

// PreflightInput is what the preflight checks look at for this
// installation.
func (env *Env) PreflightInput() preflight.Input {
	return preflight.Input{
		Answers: env.Answers, Project: env.Project, Engine: env.Engine, EngineErr: env.EngineErr,
		MemoryBudgetMiB: assets.MemoryEstimateMiB(env.Answers.Groups, env.Answers.Profile),
		Services:        env.Bundle.Services,
	}
}

// PreflightStep checks the host; a failing check stops the install before
// anything changes.
type PreflightStep struct{ Env *Env }

// ID implements steps.Step.
func (s PreflightStep) ID() string { return "preflight" }

// ChangesInEvents says the host checks only observe: that they ran is
// no change for the audit log (audit.ChangesInEvents).
func (PreflightStep) ChangesInEvents() bool { return true }

// Title implements steps.Step.
func (s PreflightStep) Title() string { return "Check the host" }

// Check always says no: the host is checked on every run.
func (s PreflightStep) Check(context.Context) (bool, error) { return false, nil }

// Run implements steps.Step.
func (s PreflightStep) Run(ctx context.Context, emit steps.Emitter) error {
	rs := preflight.Run(ctx, s.Env.PreflightInput())
	var failed []preflight.Result
	for i, r := range rs {
		switch r.Status {
		case preflight.Pass:
			emit.Progress(r.Title, int64(i+1), int64(len(rs)), "checks", r.Observed)
		case preflight.Warn:
			emit.Warn(fmt.Sprintf("%s: %s; %s", r.Title, r.Observed, r.Fix))
		case preflight.Fail:
			emit.Warn(fmt.Sprintf("%s: %s", r.Title, r.Observed))
			failed = append(failed, r)
		}
	}
	if len(failed) > 0 {
		first := failed[0]
		cause := fmt.Sprintf("%s: %s", first.Title, first.Observed)
		if len(failed) > 1 {
			cause += fmt.Sprintf(" (and %d more failing checks)", len(failed)-1)
		}
		return &steps.Failure{Cause: cause, Hint: first.Fix + "; nothing has been changed on this host", Err: steps.ErrPreflight}
	}
	return nil
}

// InstallDirStep creates the install dir and keeps the answers in it.
type InstallDirStep struct{ Env *Env }

// ID implements steps.Step.
func (s InstallDirStep) ID() string { return "install-dir" }

// Title implements steps.Step.
func (s InstallDirStep) Title() string { return "Prepare the install directory" }

// SaveAnswers keeps env.Answers as the installation's answers, which every
// later command reads.
func (env *Env) SaveAnswers() error {
	return answers.Save(env.AnswersFile(), env.Answers)
}

// Check implements steps.Step.
func (s InstallDirStep) Check(context.Context) (bool, error) {
	if ok, err := installdir.Exists(s.Env.Dir); err != nil || !ok {
		return false, nil
	}
	want, err := answers.Marshal(s.Env.Answers)
	if err != nil {
		return false, err
	}
	got, err := os.ReadFile(s.Env.AnswersFile())
	return err == nil && bytes.Equal(got, want), nil
}

// Run implements steps.Step.
func (s InstallDirStep) Run(ctx context.Context, emit steps.Emitter) error {
	if err := installdir.Mark(s.Env.Dir); err != nil {
		if errors.Is(err, installdir.ErrNotInstallDir) {
			return steps.Fail(err, "choose an empty or new directory with install_dir / --dir")
		}
		return steps.Fail(err, "check that the parent directory exists and is writable, and that the disk is not full")
	}
	if err := s.Env.SaveAnswers(); err != nil {
		return steps.Fail(err, "free some space or choose another install dir")
	}
	emit.Info(s.Env.Dir, "answers saved to "+s.Env.AnswersFile())
	return nil
}

// RenderStep writes the compose file and configuration into the install dir.
type RenderStep struct{ Env *Env }

// ID implements steps.Step.
func (s RenderStep) ID() string { return "render" }

// Title implements steps.Step.
func (s RenderStep) Title() string { return "Write the stack's configuration" }

// Check implements steps.Step.
func (s RenderStep) Check(context.Context) (bool, error) {
	for _, f := range s.Env.Bundle.Files {
		path := filepath.Join(s.Env.Dir, filepath.FromSlash(f.Path))
		got, err := os.ReadFile(path)
		if err != nil || !bytes.Equal(got, f.Data) {
			return false, nil
		}
		if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != f.Mode.Perm() {
			return false, nil
		}
	}
	return s.Env.walReady()
}

// Run implements steps.Step. With WAL archiving it also prepares the
// repository and the binary the configuration names (walrepo.go).
func (s RenderStep) Run(ctx context.Context, emit steps.Emitter) error {
	if err := s.Env.Bundle.Write(ctx, s.Env.Dir); err != nil {
		return steps.Fail(err, "check free space and permissions in the install dir")
	}
	emit.Info(s.Env.ComposeFile(), fmt.Sprintf("%d files for %d services", len(s.Env.Bundle.Files), len(s.Env.Bundle.Services)))
	return s.Env.prepareWAL(emit)
}
