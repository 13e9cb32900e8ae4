package steps

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/fineract-installer/fineract-installer/steps/event"
)

// An event a step's work emits reaches the runner's sink with every field
// it was given, whoever made it, and with the ID of the step that ran it
// in place of any other.
func TestRunnerPassesEmittedEventsWholeAndStampsTheStep(t *testing.T) {
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	sent := Event{
		Time: at, Kind: KindWarning, Step: "somewhere-else", Message: "container api: gone",
		Current: 1, Total: 2, Unit: event.UnitBytes, Subject: "api",
		Resource: event.ResourceContainer, Action: event.ActionStart, Status: event.StatusFailed,
		Stream: "stderr", Cause: "c", Hint: "h", Logs: []string{"l"},
	}
	s := newSteps(t.TempDir(), "a")[0]
	s.run = func(_ context.Context, emit Emitter) error {
		emit.Emit(sent)
		return nil
	}
	rec := &recorder{}
	if err := (&Runner{Plan: (&Plan{}).Then(s), Events: rec.add}).Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	want := sent
	want.Step = "a"
	for _, e := range rec.events {
		if e.Kind == KindWarning {
			if !reflect.DeepEqual(e, want) {
				t.Errorf("the sink got\n%+v\nwant\n%+v", e, want)
			}
			return
		}
	}
	t.Errorf("the event did not reach the sink: %+v", rec.events)
}
