// Package steps turns answers into an ordered plan of idempotent steps and
// runs it: events for whoever is watching, state on disk after every step,
// a lock against a second installer, and resumption after a failure or an
// interruption. Steps never print; they emit events.
package steps

import "github.com/fineract-installer/fineract-installer/steps/event"

// Event is one thing that happened while a plan ran (see package event).
type Event = event.Event

// Kind is what an Event says about a step.
type Kind = event.Kind

// Emitter lets a step report what it does. The runner's emitter is safe
// for concurrent use and stamps every event with the step's ID.
type Emitter = event.Emitter

// Event kinds, in the order a step usually emits them.
const (
	KindStarted  = event.KindStarted
	KindProgress = event.KindProgress
	KindLog      = event.KindLog
	KindWarning  = event.KindWarning
	KindDone     = event.KindDone
	KindFailed   = event.KindFailed
	KindSkipped  = event.KindSkipped
)

// stepEmitter is the emitter a step runs with: it stamps each event with
// the step's ID, whoever made the event (the step, the compose engine, the
// Vault client), and hands it to send.
func stepEmitter(step string, send func(Event)) Emitter {
	return event.Func(func(e Event) {
		e.Step = step
		send(e)
	})
}
