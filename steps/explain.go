package steps

import (
	"context"
	"errors"

	"github.com/fineract-installer/fineract-installer/compose"
)

// Explanation is what a person needs to read about a failure: what went
// wrong, what to do about it, and the failing service with its last log
// lines. A failed event carries it field by field; text output prints it
// as an error line, the log lines and a hint line.
type Explanation struct {
	Cause   string
	Hint    string
	Subject string
	Logs    []string
}

// hinter is an error that says what to do about it (compose's errors, an
// image refusal): its Error is the cause alone.
type hinter interface{ Hint() string }

// engineLostHint is the advice for any failure caused by the engine going
// away mid-command.
const engineLostHint = "the Docker engine stopped answering: start it again (for example `sudo systemctl start docker`), then run the same command; finished steps are skipped"

// Explain takes an error apart into cause, hint and log lines, from
// whichever of the errors it wraps carries them: a Failure says it all;
// a failing service gives its name and last log lines; any error with a
// Hint method gives its hint. The innermost advice is the most specific
// one, unless a Failure wrapping it gives its own.
func Explain(err error) Explanation {
	if err == nil {
		return Explanation{}
	}
	x := Explanation{Cause: err.Error()}
	if errors.Is(err, context.Canceled) {
		return Explanation{Cause: "interrupted", Hint: "run the same command again to continue from here"}
	}
	var se *compose.ServiceError
	if errors.As(err, &se) {
		x.Subject, x.Logs = se.Service, se.Logs
	}
	var h hinter
	switch {
	case errors.As(err, &h):
		x.Hint = h.Hint()
	case compose.EngineLost(err):
		x.Hint = engineLostHint
	}
	var f *Failure
	if errors.As(err, &f) {
		if f.Cause != "" {
			x.Cause = f.Cause
		}
		if f.Hint != "" {
			x.Hint = f.Hint
		}
		if len(f.Logs) > 0 {
			x.Logs = f.Logs
		}
	}
	return x
}
