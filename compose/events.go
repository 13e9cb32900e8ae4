package compose

import (
	"sync"
	"time"
)

// Resource is the kind of Docker object an Event is about.
type Resource string

// Resources the engine reports on.
const (
	ResourceNetwork   Resource = "network"
	ResourceVolume    Resource = "volume"
	ResourceImage     Resource = "image"
	ResourceContainer Resource = "container"
)

// Status says where an action stands.
type Status string

// Event statuses.
const (
	StatusWorking Status = "working"
	StatusDone    Status = "done"
	StatusWarning Status = "warning"
	StatusError   Status = "error"
)

// Event reports one thing the engine did or is doing. For image pulls and
// loads, Current and Total count bytes.
type Event struct {
	Time     time.Time `json:"time"`
	Resource Resource  `json:"resource"`
	Name     string    `json:"name"`
	Action   string    `json:"action"`
	Status   Status    `json:"status"`
	Text     string    `json:"text,omitempty"`
	Current  int64     `json:"current,omitempty"`
	Total    int64     `json:"total,omitempty"`
}

// Sink receives events. The engine serialises calls, so a Sink need not be
// safe for concurrent use.
type Sink func(Event)

// reporter serialises events from the engine's goroutines into one Sink.
type reporter struct {
	mu   sync.Mutex
	sink Sink
	now  func() time.Time
}

func newReporter(s Sink) *reporter {
	if s == nil {
		s = func(Event) {}
	}
	return &reporter{sink: s, now: time.Now}
}

func (r *reporter) emit(e Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if e.Time.IsZero() {
		e.Time = r.now()
	}
	r.sink(e)
}

func (r *reporter) working(res Resource, name, action, text string) {
	r.emit(Event{Resource: res, Name: name, Action: action, Status: StatusWorking, Text: text})
}

func (r *reporter) done(res Resource, name, action, text string) {
	r.emit(Event{Resource: res, Name: name, Action: action, Status: StatusDone, Text: text})
}

func (r *reporter) failed(res Resource, name, action string, err error) {
	r.emit(Event{Resource: res, Name: name, Action: action, Status: StatusError, Text: err.Error()})
}
