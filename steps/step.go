package steps

import (
	"context"
	"errors"
	"fmt"
)

// Step is one idempotent piece of an installation.
type Step interface {
	// ID names the step in state files and events ("certificates").
	ID() string
	// Title is what a person reads ("Issue certificates").
	Title() string
	// Check reports whether the step's result is already in place, so a
	// rerun skips it. It must not change anything.
	Check(ctx context.Context) (done bool, err error)
	// Run does the work. It must be safe to run again after a failure or an
	// interruption part-way through.
	Run(ctx context.Context, emit Emitter) error
}

// Failure is an error a person can act on: what happened and what to do.
// Steps return it (or wrap it) so the UI can show the cause and the hint
// apart, with the failing service's last log lines. Error is the cause
// alone; Explain takes the rest apart.
type Failure struct {
	Cause string
	Hint  string
	Logs  []string
	Err   error
}

func (f *Failure) Error() string {
	if f.Cause == "" && f.Err != nil {
		return f.Err.Error()
	}
	return f.Cause
}

func (f *Failure) Unwrap() error { return f.Err }

// Fail builds a Failure from an error with a hint.
func Fail(err error, hint string) error {
	return &Failure{Cause: err.Error(), Hint: hint, Err: err}
}

// StepError says which step failed.
type StepError struct {
	Step string
	Err  error
}

func (e *StepError) Error() string { return fmt.Sprintf("step %s: %v", e.Step, e.Err) }
func (e *StepError) Unwrap() error { return e.Err }

// ErrPreflight marks a failed preflight: nothing was changed (exit code 3).
var ErrPreflight = errors.New("preflight failed")
