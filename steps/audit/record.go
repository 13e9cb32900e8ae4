package audit

import (
	"sort"
	"strings"
	"sync"

	"github.com/fineract-installer/fineract-installer/steps/diagnose/redact"
	"github.com/fineract-installer/fineract-installer/steps/event"
)

// Recorder derives what a run changed from the events its runner emits:
// the compose engine's resource events (services created, recreated,
// started or removed; networks and volumes created; images pulled or
// loaded), Kubernetes objects created, changed or deleted, and
// certificates issued, the steps that ran (a step runs only
// when its Check finds work to do), and the cause of the first failure.
// It is safe for concurrent use.
type Recorder struct {
	mu sync.Mutex
	// pending holds a container action under way until the engine says
	// the service is started (or removed).
	pending map[string]event.Action
	changes []Change
	steps   []string
	cause   string
	// inEvents are the steps whose every change shows in their events.
	inEvents map[string]bool
}

// ChangesInEvents is implemented by a step whose every change shows in
// its resource events: one that only observes (the checklist, the host
// checks), or one that runs every time and reports what it does (the
// engine's down). That such a step ran is no change by itself.
type ChangesInEvents interface{ ChangesInEvents() bool }

// StepsReportingChanges names the steps of the run whose every change
// shows in their events (ChangesInEvents); call it before the run starts.
func (r *Recorder) StepsReportingChanges(ids ...string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.inEvents == nil {
		r.inEvents = map[string]bool{}
	}
	for _, id := range ids {
		r.inEvents[id] = true
	}
}

// Observe takes one event of the run.
func (r *Recorder) Observe(e event.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	switch e.Kind {
	case event.KindDone:
		r.steps = append(r.steps, e.Step)
	case event.KindFailed:
		// A step that failed part-way may have changed something.
		r.steps = append(r.steps, e.Step)
		if r.cause == "" {
			r.cause = e.Cause
		}
	}
	if e.Resource == "" || e.Subject == "" {
		return
	}
	if r.pending == nil {
		r.pending = map[string]event.Action{}
	}
	key := string(e.Resource) + "\x00" + e.Subject
	switch {
	case e.Status == event.StatusFailed:
		a := e.Action
		if p, ok := r.pending[key]; ok {
			a = p
		}
		delete(r.pending, key)
		r.add(e.Resource, a, e.Subject, true)
	case e.Resource == event.ResourceContainer && e.Status == event.StatusWorking:
		switch e.Action {
		case event.ActionCreate, event.ActionStart:
			if _, ok := r.pending[key]; !ok {
				r.pending[key] = e.Action
			}
		case event.ActionRecreate:
			r.pending[key] = e.Action
		}
	case e.Resource == event.ResourceContainer && e.Status == event.StatusDone && e.Action == event.ActionStart:
		// A start done with nothing pending is a service found running
		// unchanged.
		if a, ok := r.pending[key]; ok {
			delete(r.pending, key)
			r.add(e.Resource, a, e.Subject, false)
		}
	case e.Status == event.StatusDone:
		switch e.Action {
		case event.ActionCreate, event.ActionRemove, event.ActionPull, event.ActionLoad, event.ActionIssue, event.ActionUpdate:
			delete(r.pending, key)
			r.add(e.Resource, e.Action, e.Subject, false)
		}
	}
}

// causeRedactor removes secrets by their shape (tokens, keys, "name:
// value" assignments) from a failure's cause, as the support bundle does:
// the cause is the text the failed event showed and the state file keeps,
// and the installer's own errors never quote a secret; this catches one
// quoted by a library's error.
var causeRedactor = sync.OnceValues(func() (*redact.Redactor, error) { return redact.New(nil, redact.Options{}) })

func redactCause(cause string) string {
	if cause == "" {
		return ""
	}
	r, err := causeRedactor()
	if err != nil {
		return "(the cause could not be checked for secrets, so it is not recorded)"
	}
	out, _ := r.Redact([]byte(cause))
	return string(out)
}

func (r *Recorder) add(res event.Resource, a event.Action, subject string, failed bool) {
	r.changes = append(r.changes, Change{Resource: string(res), Action: string(a), Subject: subject, Failed: failed})
}

// Entry completes base (who ran which command) with what the run changed
// and how it ended; runErr is the run's error, interrupted whether it was
// cut short. Append sets the chain fields.
func (r *Recorder) Entry(base Entry, runErr error, interrupted bool) Entry {
	r.mu.Lock()
	defer r.mu.Unlock()
	e := base
	e.Changes = append([]Change{}, r.changes...)
	// A container whose action never finished was touched all the same.
	keys := make([]string, 0, len(r.pending))
	for key := range r.pending {
		keys = append(keys, key)
	}
	sort.Strings(keys)
	for _, key := range keys {
		res, subject, _ := strings.Cut(key, "\x00")
		e.Changes = append(e.Changes, Change{Resource: res, Action: string(r.pending[key]), Subject: subject, Failed: true})
	}
	e.Steps = append([]string{}, r.steps...)
	// A step that ran (its Check found work to do) changed something,
	// even where no engine resource tells what: Vault unsealed, a backup
	// written, a tenant added; unless its changes are all in its events.
	e.Changed = len(e.Changes) > 0
	for _, s := range e.Steps {
		if !r.inEvents[s] {
			e.Changed = true
		}
	}
	e.Result = ResultOK
	switch {
	case interrupted:
		e.Result, e.Cause = ResultInterrupted, r.cause
		if e.Cause == "" {
			e.Cause = "interrupted"
		}
	case runErr != nil:
		e.Result, e.Cause = ResultFailed, r.cause
		if e.Cause == "" {
			e.Cause = "the command failed before any step reported why"
		}
	}
	e.Cause = redactCause(e.Cause)
	return e
}
