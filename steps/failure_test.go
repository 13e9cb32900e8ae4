package steps

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/fineract-installer/fineract-installer/compose"
)

// adviceError is an error that carries its advice apart, as compose's
// errors do (an image pull that cannot reach the registry).
type adviceError struct{ cause, hint string }

func (e adviceError) Error() string { return e.cause }
func (e adviceError) Hint() string  { return e.hint }

// failedEvent runs one step that fails with err and returns its failed
// event.
func failedEvent(t *testing.T, err error) Event {
	t.Helper()
	rec := &recorder{}
	s := &markerStep{id: "s", dir: t.TempDir(), run: func(context.Context, Emitter) error { return err }}
	if (&Runner{Plan: (&Plan{}).Then(s), Events: rec.add}).Run(context.Background()) == nil {
		t.Fatal("the step's failure was not returned")
	}
	for _, e := range rec.events {
		if e.Kind == KindFailed {
			return e
		}
	}
	t.Fatal("no failed event")
	return Event{}
}

// A failed event keeps its parts apart wherever they come from: the
// advice of an error that carries one goes into the hint (not into the
// cause), and a failing service's last log lines reach `logs` even when a
// step wraps its error with a hint of its own.
func TestFailedEventsCarryHintAndLogsApart(t *testing.T) {
	pull := fmt.Errorf("images: %w", adviceError{cause: "pull image nginx:1: registry unreachable", hint: "load the images from an offline bundle"})
	e := failedEvent(t, pull)
	if e.Cause != "images: pull image nginx:1: registry unreachable" || e.Hint != "load the images from an offline bundle" {
		t.Errorf("advice of the error: cause %q hint %q", e.Cause, e.Hint)
	}

	svc := &compose.ServiceError{Service: "vault", Reason: "exited with code 1", Logs: []string{"error loading configuration", "exiting"}}
	for name, err := range map[string]error{
		"bare":             svc,
		"wrapped":          fmt.Errorf("start vault: %w", svc),
		"with a step hint": Fail(svc, "Vault does not answer: see `fineract-installer logs vault`"),
	} {
		e := failedEvent(t, err)
		if e.Subject != "vault" || strings.Join(e.Logs, "|") != "error loading configuration|exiting" {
			t.Errorf("%s: the service's log lines did not reach the event: subject %q logs %q", name, e.Subject, e.Logs)
		}
		if strings.Contains(e.Cause, "\n") || !strings.Contains(e.Cause, "service vault exited with code 1") || e.Hint == "" {
			t.Errorf("%s: cause %q hint %q", name, e.Cause, e.Hint)
		}
	}

}
