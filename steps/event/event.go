// Package event is the one vocabulary in which the installer reports what
// it does. Pipeline steps, the compose engine and the Vault client all emit
// Event values through an Emitter, and every renderer (text, JSON, the
// terminal UI) reads the same type, so nothing between the work and the
// screen translates one event into another and drops fields on the way.
//
// The package imports nothing of this module, so any package can report
// through it without depending on the pipeline.
package event

import "time"

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

// Resource is the kind of engine object an event is about.
type Resource string

// Resources the compose engine reports on.
const (
	ResourceNetwork   Resource = "network"
	ResourceVolume    Resource = "volume"
	ResourceImage     Resource = "image"
	ResourceContainer Resource = "container"
	// ResourceCertificate is a certificate of the installation's PKI,
	// reported by the steps that issue them.
	ResourceCertificate Resource = "certificate"
	// ResourceKubeObject is an object of the Kubernetes target's
	// manifests; Subject is "Kind namespace/name" (or "Kind name" when the
	// object is cluster-scoped).
	ResourceKubeObject Resource = "kube-object"
	// ResourceWorkload is a Kubernetes Deployment or StatefulSet waited
	// for; Subject is "Kind namespace/name".
	ResourceWorkload Resource = "workload"
)

// Action is what is being done to a Resource.
type Action string

// Actions of the compose engine.
const (
	ActionCreate   Action = "create"
	ActionRecreate Action = "recreate"
	ActionStart    Action = "start"
	// ActionWait waits for a started container to be ready: healthy, still
	// running after the settle time (no healthcheck), or exited 0 (a job a
	// dependent waits for). Its done event means the service is ready.
	ActionWait   Action = "wait"
	ActionRemove Action = "remove"
	ActionPull   Action = "pull"
	ActionLoad   Action = "load"
	ActionSave   Action = "save"
	ActionVerify Action = "verify"
	// ActionIssue issues a certificate (new, reissued or re-certified).
	ActionIssue Action = "issue"
	// ActionApply is a server-side apply of a Kubernetes object. Its done
	// event says which it was: ActionCreate (the object is new),
	// ActionUpdate (the live object changed) or ActionApply (it was
	// already as rendered: nothing changed).
	ActionApply Action = "apply"
	// ActionUpdate is an apply that changed a live Kubernetes object.
	ActionUpdate Action = "update"
)

// Status says where an Action stands.
type Status string

// Action statuses.
const (
	StatusWorking Status = "working"
	StatusDone    Status = "done"
	StatusFailed  Status = "failed"
)

// UnitBytes is the Unit of byte counts (image pulls, loads and saves).
const UnitBytes = "bytes"

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
	// Resource, Action and Status describe engine work on the Subject: the
	// kind of Docker object, what is done to it and where that stands. A
	// failed action is a warning event; the step's own failed event
	// reports the error that ends it.
	Resource Resource `json:"resource,omitempty"`
	Action   Action   `json:"action,omitempty"`
	Status   Status   `json:"status,omitempty"`
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

// Emitter lets work report what it does. The emitter a runner gives a
// step is safe for concurrent use and stamps each event with the step.
type Emitter interface {
	// Emit reports an event as it is.
	Emit(Event)
	// Progress reports n of total units done, with an optional detail.
	Progress(subject string, n, total int64, unit, message string)
	// Log forwards a line a service printed.
	Log(subject, stream, text string)
	// Warn reports something the person should know that does not stop the step.
	Warn(message string)
	// Info reports a step's intermediate result as a progress message.
	Info(subject, message string)
}

// Func is an Emitter that hands every event to a function: the sink of a
// runner, a renderer or a test. A nil Func discards events. It is as safe
// for concurrent use as its function.
type Func func(Event)

// Discard is an Emitter that drops every event.
var Discard Emitter = Func(nil)

// Or returns e, or Discard when e is nil, for work whose caller may not
// want its events.
func Or(e Emitter) Emitter {
	if e == nil {
		return Discard
	}
	return e
}

// Emit implements Emitter.
func (f Func) Emit(e Event) {
	if f != nil {
		f(e)
	}
}

// Progress implements Emitter.
func (f Func) Progress(subject string, n, total int64, unit, message string) {
	f.Emit(Event{Kind: KindProgress, Subject: subject, Current: n, Total: total, Unit: unit, Message: message})
}

// Log implements Emitter.
func (f Func) Log(subject, stream, text string) {
	f.Emit(Event{Kind: KindLog, Subject: subject, Stream: stream, Message: text})
}

// Warn implements Emitter.
func (f Func) Warn(message string) {
	f.Emit(Event{Kind: KindWarning, Message: message})
}

// Info implements Emitter.
func (f Func) Info(subject, message string) {
	f.Emit(Event{Kind: KindProgress, Subject: subject, Message: message})
}
