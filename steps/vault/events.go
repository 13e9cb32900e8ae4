package vault

// EventKind says what an Event reports.
type EventKind string

// The kinds of events the Vault steps emit.
const (
	// EventInfo is a plain progress line ("enabled audit device file/").
	EventInfo EventKind = "info"
	// EventProgress counts towards a goal: Done of Total (unseal shares,
	// root token generation shares).
	EventProgress EventKind = "progress"
	// EventWarning is something the operator should read but that did not
	// stop the step.
	EventWarning EventKind = "warning"
)

// Event is one thing a Vault step reports. It never carries a secret.
type Event struct {
	Kind    EventKind
	Message string
	Done    int // EventProgress only
	Total   int // EventProgress only
}

// Emit receives events. A nil Emit discards them.
type Emit func(Event)

func (e Emit) info(msg string) {
	if e != nil {
		e(Event{Kind: EventInfo, Message: msg})
	}
}

func (e Emit) warn(msg string) {
	if e != nil {
		e(Event{Kind: EventWarning, Message: msg})
	}
}

func (e Emit) progress(done, total int, msg string) {
	if e != nil {
		e(Event{Kind: EventProgress, Message: msg, Done: done, Total: total})
	}
}
