package compose

import (
	"sync"
	"time"

	"github.com/fineract-installer/fineract-installer/steps/event"
)

// reporter serialises the events of the engine's goroutines into one
// emitter, so a caller's emitter need not be safe for concurrent use. Every
// event names the resource it is about, the action and where that stands,
// in typed fields for programs and in Message for people.
type reporter struct {
	mu   sync.Mutex
	emit event.Emitter
	now  func() time.Time
}

func newReporter(emit event.Emitter) *reporter {
	return &reporter{emit: event.Or(emit), now: time.Now}
}

func (r *reporter) send(e event.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if e.Time.IsZero() {
		e.Time = r.now()
	}
	r.emit.Emit(e)
}

// action reports progress of an action on a resource; text is a detail
// for people ("configuration changed", "waiting for the healthcheck").
func (r *reporter) action(res event.Resource, name string, a event.Action, st event.Status, text string) {
	msg := string(res) + " " + string(a)
	if st == event.StatusDone {
		msg += " done"
	}
	if text != "" {
		msg += ": " + text
	}
	r.send(event.Event{Kind: event.KindProgress, Resource: res, Subject: name, Action: a, Status: st, Message: msg})
}

func (r *reporter) working(res event.Resource, name string, a event.Action, text string) {
	r.action(res, name, a, event.StatusWorking, text)
}

func (r *reporter) done(res event.Resource, name string, a event.Action, text string) {
	r.action(res, name, a, event.StatusDone, text)
}

// failed reports an action that failed as a warning; the error the engine
// returns ends the step and is reported there.
func (r *reporter) failed(res event.Resource, name string, a event.Action, err error) {
	r.send(event.Event{Kind: event.KindWarning, Resource: res, Subject: name, Action: a, Status: event.StatusFailed,
		Message: string(res) + " " + name + ": " + err.Error()})
}

// bytes reports n of total bytes of an image action (pull, load, save);
// while the total is unknown, it reports the action with text instead.
func (r *reporter) bytes(name string, a event.Action, st event.Status, n, total int64, text string) {
	if total <= 0 {
		r.action(event.ResourceImage, name, a, st, text)
		return
	}
	r.send(event.Event{Kind: event.KindProgress, Resource: event.ResourceImage, Subject: name, Action: a, Status: st,
		Current: n, Total: total, Unit: event.UnitBytes, Message: string(a)})
}
