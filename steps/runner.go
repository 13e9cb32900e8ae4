package steps

import (
	"github.com/fineract-installer/fineract-installer/steps/installation"

	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"
)

// Runner executes a plan, recording progress in the install dir.
type Runner struct {
	Plan *Plan
	// Dir is the install dir holding the state file. The caller holds its
	// lock. Empty runs the plan without recording state (preflight, which
	// must not write anything).
	Dir     string
	Project string
	// Command names a day-2 command (backup, restore, ...) whose run is
	// recorded in its own file (installation.CommandStateFile), so that it
	// never disturbs the install's record, which `status` shows and a rerun
	// of install resumes from. Empty records the install's run in the
	// installation's StateFile.
	Command string
	// Events receives every event; calls are serialised.
	Events func(Event)

	mu    sync.Mutex
	state *State
}

// Run executes the plan. Steps whose Check says they are done are skipped,
// so a rerun after a failure or an interruption resumes where it stopped.
// When a step fails, the other steps of its stage finish, and no later
// stage starts. An interrupted run returns an error wrapping
// context.Canceled.
func (r *Runner) Run(ctx context.Context) error {
	if err := r.Plan.validate(); err != nil {
		return err
	}
	// A day-2 record describes the last run alone: whether a step is
	// done is for its Check to say, not for an earlier run's record.
	st := &State{Version: 1, Command: r.Command, Steps: map[string]*StepState{}}
	if r.Dir != "" && r.Command == "" {
		var err error
		if st, err = LoadState(r.Dir); err != nil {
			return err
		}
		st.Uninstalled = time.Time{} // installing again
	}
	st.Project = r.Project
	st.Order = nil
	for _, s := range r.Plan.Steps() {
		st.Order = append(st.Order, s.ID())
		if _, ok := st.Steps[s.ID()]; !ok {
			st.Steps[s.ID()] = &StepState{Status: StatusPending}
		}
	}
	r.state = st
	if err := r.save(); err != nil {
		return err
	}
	for _, stage := range r.Plan.Stages {
		errs := make([]error, len(stage))
		var wg sync.WaitGroup
		for i, s := range stage {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs[i] = r.runStep(ctx, s)
			}()
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			if ctx.Err() != nil {
				return fmt.Errorf("%w: %w", context.Canceled, err)
			}
			return firstError(errs)
		}
		if ctx.Err() != nil {
			return fmt.Errorf("%s: %w", r.name(), context.Canceled)
		}
	}
	return nil
}

func firstError(errs []error) error {
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}

func (r *Runner) runStep(ctx context.Context, s Step) error {
	if ctx.Err() != nil {
		return &StepError{Step: s.ID(), Err: ctx.Err()}
	}
	done, err := s.Check(ctx)
	if err != nil {
		return r.finish(s, time.Now(), fmt.Errorf("check: %w", err))
	}
	if done {
		r.update(s.ID(), func(st *StepState) {
			st.Status, st.Error = StatusDone, ""
			if st.Finished.IsZero() {
				st.Finished = time.Now().UTC()
			}
		})
		r.emit(Event{Kind: KindSkipped, Step: s.ID(), Title: s.Title(), Message: "already done"})
		return r.save()
	}
	start := time.Now()
	r.update(s.ID(), func(st *StepState) {
		st.Status, st.Started, st.Finished, st.Error = StatusRunning, start.UTC(), time.Time{}, ""
	})
	if err := r.save(); err != nil {
		return &StepError{Step: s.ID(), Err: err}
	}
	r.emit(Event{Kind: KindStarted, Step: s.ID(), Title: s.Title()})
	err = s.Run(ctx, stepEmitter(s.ID(), r.emit))
	return r.finish(s, start, err)
}

// finish records the outcome of a step and emits done or failed.
func (r *Runner) finish(s Step, start time.Time, err error) error {
	elapsed := time.Since(start)
	if err == nil {
		r.update(s.ID(), func(st *StepState) { st.Status, st.Finished = StatusDone, time.Now().UTC() })
		r.emit(Event{Kind: KindDone, Step: s.ID(), Title: s.Title(), Elapsed: elapsed})
		if serr := r.save(); serr != nil {
			return &StepError{Step: s.ID(), Err: serr}
		}
		return nil
	}
	x := Explain(err)
	ev := Event{Kind: KindFailed, Step: s.ID(), Title: s.Title(), Elapsed: elapsed, Cause: x.Cause, Hint: x.Hint, Subject: x.Subject, Logs: x.Logs}
	status := StatusFailed
	if errors.Is(err, context.Canceled) {
		status = StatusInterrupted
	}
	r.update(s.ID(), func(st *StepState) {
		st.Status, st.Finished, st.Error = status, time.Now().UTC(), ev.Cause
	})
	r.emit(ev)
	if serr := r.save(); serr != nil {
		err = errors.Join(err, serr)
	}
	return &StepError{Step: s.ID(), Err: err}
}

func (r *Runner) update(id string, fn func(*StepState)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	fn(r.state.Steps[id])
}

// name is what the run is called in errors.
func (r *Runner) name() string {
	if r.Command != "" {
		return r.Command
	}
	return "install"
}

func (r *Runner) save() error {
	if r.Dir == "" {
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.Command == "" {
		return r.state.Save(r.Dir)
	}
	// A day-2 command may run while its install dir is not there: restore
	// onto a fresh host puts it in place part-way through, and uninstall
	// --purge removes it. Its run is recorded while the directory exists.
	if _, err := os.Lstat(r.Dir); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	return r.state.saveTo(installation.New(r.Dir, "").CommandStateFile(r.Command))
}

func (r *Runner) emit(e Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if e.Time.IsZero() {
		e.Time = time.Now().UTC()
	}
	if r.Events != nil {
		r.Events(e)
	}
}
