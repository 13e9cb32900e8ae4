// Package steps turns answers into an ordered plan of idempotent steps and
// runs it: events for whoever is watching, state on disk after every step,
// a lock against a second installer, and resumption after a failure or an
// interruption. Steps never print; they emit events.
package steps

import (
	"time"
)

// Kind is what an Event says about a step.
type Kind string

// Event kinds, in the order a step usually emits them.
const (
	KindStarted  Kind = "started"
	KindProgress Kind = "progress"
	KindLog      Kind = "log"
	KindWarning  Kind = "warning"
	KindDone     Kind = "done"
	KindFailed   Kind = "failed"
	KindSkipped  Kind = "skipped"
)

// Event is one thing that happened while a plan ran. The JSON form is the
// documented `--output json` event schema.
type Event struct {
	Time  time.Time `json:"time"`
	Kind  Kind      `json:"kind"`
	Step  string    `json:"step"`
	Title string    `json:"title,omitempty"`
	// Message is a short human sentence (progress detail, warning, reason to skip).
	Message string `json:"message,omitempty"`
	// Current and Total measure progress in Unit ("bytes", "services", "checks").
	Current int64  `json:"current,omitempty"`
	Total   int64  `json:"total,omitempty"`
	Unit    string `json:"unit,omitempty"`
	// Subject is what the event is about within the step: a service, an image,
	// a certificate.
	Subject string `json:"subject,omitempty"`
	// Stream is "stdout" or "stderr" for log events.
	Stream string `json:"stream,omitempty"`
	// Cause, Hint and Logs explain a failure: what went wrong, what to do,
	// and the failing service's last log lines.
	Cause string   `json:"cause,omitempty"`
	Hint  string   `json:"hint,omitempty"`
	Logs  []string `json:"logs,omitempty"`
	// Elapsed is the step's run time, on done and failed events.
	Elapsed time.Duration `json:"elapsed_ns,omitempty"`
}

// Emitter lets a step report what it does. It is safe for concurrent use.
type Emitter interface {
	// Progress reports n of total units done, with an optional detail.
	Progress(subject string, n, total int64, unit, message string)
	// Log forwards a line a service printed.
	Log(subject, stream, text string)
	// Warn reports something the person should know that does not stop the step.
	Warn(message string)
	// Info reports a step's intermediate result as a progress message.
	Info(subject, message string)
}

// stepEmitter stamps events with the step's ID and forwards them.
type stepEmitter struct {
	step string
	send func(Event)
}

func (e stepEmitter) Progress(subject string, n, total int64, unit, message string) {
	e.send(Event{Kind: KindProgress, Step: e.step, Subject: subject, Current: n, Total: total, Unit: unit, Message: message})
}

func (e stepEmitter) Log(subject, stream, text string) {
	e.send(Event{Kind: KindLog, Step: e.step, Subject: subject, Stream: stream, Message: text})
}

func (e stepEmitter) Warn(message string) {
	e.send(Event{Kind: KindWarning, Step: e.step, Message: message})
}

func (e stepEmitter) Info(subject, message string) {
	e.send(Event{Kind: KindProgress, Step: e.step, Subject: subject, Message: message})
}
