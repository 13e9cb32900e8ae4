package cli

import (
	"context"
	"errors"
	"fmt"

	"github.com/fineract-installer/fineract-installer/compose"
	"github.com/fineract-installer/fineract-installer/steps"
)

// Exit codes, documented in README.md.
const (
	ExitOK            = 0
	ExitFailed        = 1 // a step or command failed
	ExitUsage         = 2 // bad input: flags, arguments, answers file
	ExitHostNotOK     = 3 // the host is not ready: Docker engine unreachable, preflight failed
	ExitImageRejected = 4 // an image is not the recorded one, or a bundle does not match its manifest
	// ExitChangesPending is plan's answer when an install would change
	// something; 0 then means nothing would change. It is no error: a
	// script tells "changes" from "no changes" (0) and from a failure
	// (1 to 4) without parsing the output.
	ExitChangesPending = 5
	ExitInterrupted    = 130 // interrupted by Ctrl-C or SIGTERM
)

// exitError carries an exit code with the error to print.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// usageError marks bad input (exit 2).
func usageError(format string, args ...any) error {
	return &exitError{code: ExitUsage, err: fmt.Errorf(format, args...)}
}

// usageHint marks bad input (exit 2) with advice kept apart from the
// cause, so the cause stays one line in every output and the advice is
// printed (and carried in JSON) as the hint.
func usageHint(err error, hint string) error {
	return &exitError{code: ExitUsage, err: steps.Fail(err, hint)}
}

// withCode attaches an exit code to an error.
func withCode(code int, err error) error {
	if err == nil {
		return nil
	}
	return &exitError{code: code, err: err}
}

// silentError has already been reported; it only sets the exit code.
type silentError struct{ code int }

func (e *silentError) Error() string { return fmt.Sprintf("exit %d", e.code) }

// exitCode maps an error to the documented exit codes.
func exitCode(err error) int {
	var ee *exitError
	var se *silentError
	switch {
	case err == nil:
		return ExitOK
	case errors.Is(err, context.Canceled):
		return ExitInterrupted
	case errors.As(err, &se):
		return se.code
	case errors.As(err, &ee):
		return ee.code
	case errors.Is(err, compose.ErrUntrustedImage):
		return ExitImageRejected
	case errors.Is(err, compose.ErrEngineUnreachable):
		return ExitHostNotOK
	case errors.Is(err, compose.ErrNoSuchService):
		return ExitUsage
	}
	return ExitFailed
}

// stepsFailed is the error of a pipeline run whose failure its events have
// already reported: it only sets the exit code. An interrupted run says so
// once more on stderr, with how to go on.
func stepsFailed(err error) error {
	switch {
	case errors.Is(err, context.Canceled):
		return err
	case errors.Is(err, compose.ErrUntrustedImage):
		return &silentError{code: ExitImageRejected}
	}
	return &silentError{code: ExitFailed}
}
