package kubeapply

import (
	"time"

	"github.com/fineract-installer/fineract-installer/steps/event"
)

// reporter words the events of cluster work as the compose engine words
// its own: the resource, the action and where it stands in typed fields,
// the same in Message for people.
type reporter struct {
	emit event.Emitter
}

func newReporter(emit event.Emitter) reporter { return reporter{emit: event.Or(emit)} }

func (r reporter) progress(res event.Resource, name string, a event.Action, st event.Status, n, total int64, text string) {
	msg := string(res) + " " + string(a)
	if st == event.StatusDone {
		msg += " done"
	}
	if text != "" {
		msg += ": " + text
	}
	e := event.Event{Time: time.Now(), Kind: event.KindProgress, Resource: res, Subject: name, Action: a, Status: st, Message: msg}
	if total > 0 {
		e.Current, e.Total, e.Unit = n, total, "objects"
	}
	r.emit.Emit(e)
}

// failed reports an action that failed as a warning; the error returned
// ends the step and is reported there.
func (r reporter) failed(res event.Resource, name string, a event.Action, err error) {
	r.emit.Emit(event.Event{Time: time.Now(), Kind: event.KindWarning, Resource: res, Subject: name, Action: a, Status: event.StatusFailed,
		Message: string(res) + " " + name + ": " + err.Error()})
}
