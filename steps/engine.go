package steps

import (
	"fmt"

	"github.com/fineract-installer/fineract-installer/compose"
)

// EngineEvents turns the compose engine's events into a step's: byte
// counts (image pulls, loads and saves) as progress in bytes, a failed
// action as a warning (the step's error reports the failure itself), and
// everything else as a progress message about the object concerned.
func EngineEvents(emit Emitter) compose.Sink {
	return func(e compose.Event) {
		switch {
		case e.Status == compose.StatusError:
			emit.Warn(fmt.Sprintf("%s %s: %s", e.Resource, e.Name, e.Text))
		case e.Total > 0:
			emit.Progress(e.Name, e.Current, e.Total, "bytes", e.Action)
		default:
			msg := string(e.Resource) + " " + e.Action
			if e.Status == compose.StatusDone {
				msg += " done"
			}
			if e.Text != "" {
				msg += ": " + e.Text
			}
			emit.Info(e.Name, msg)
		}
	}
}
