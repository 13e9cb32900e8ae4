package tui

import (
	"context"
	"sync"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/fineract-installer/fineract-installer/steps"
)

// Batching of run events: a service can print thousands of lines a second,
// and Bubble Tea calls View after every message, so the wait command hands
// over everything that arrives within one frame as one message.
const (
	batchWindow = 16 * time.Millisecond
	maxBatch    = 4096
	queueSize   = 4096
)

type (
	// runStartedMsg carries the channel of a new run attempt.
	runStartedMsg struct{ updates <-chan runUpdate }
	// runEventsMsg is a batch of events; ended says the run returned err.
	runEventsMsg struct {
		events []steps.Event
		ended  bool
		err    error
	}
	// summaryMsg carries the final screen's contents.
	summaryMsg struct{ summary Summary }
	// bundleMsg reports a support bundle written (or not).
	bundleMsg struct {
		path string
		err  error
	}
)

// runUpdate is one event of a run, or its end.
type runUpdate struct {
	event steps.Event
	end   bool
	err   error
}

// pipeline owns the goroutines that run the install: one per attempt,
// each with its own cancellable context and event channel. RunDeploy closes
// it when the program ends, which cancels a running attempt and waits for
// it to return, so the state file is left consistent.
type pipeline struct {
	run    RunFunc
	parent context.Context
	gone   chan struct{} // closed once nobody reads the events any more
	once   sync.Once
	mu     sync.Mutex
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

func newPipeline(ctx context.Context, run RunFunc) *pipeline {
	return &pipeline{run: run, parent: ctx, gone: make(chan struct{})}
}

// start begins an attempt and returns its event channel.
func (p *pipeline) start() <-chan runUpdate {
	ctx, cancel := context.WithCancel(p.parent)
	p.mu.Lock()
	p.cancel = cancel
	p.mu.Unlock()
	ch := make(chan runUpdate, queueSize)
	send := func(u runUpdate) {
		select {
		case ch <- u:
		case <-p.gone:
		}
	}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		defer cancel()
		err := p.run(ctx, func(e steps.Event) { send(runUpdate{event: e}) })
		send(runUpdate{end: true, err: err})
	}()
	return ch
}

// interrupt cancels the running attempt, if any.
func (p *pipeline) interrupt() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cancel != nil {
		p.cancel()
	}
}

// close stops reading, cancels the attempt and waits for it to return.
func (p *pipeline) close() {
	p.once.Do(func() { close(p.gone) })
	p.interrupt()
	p.wg.Wait()
}

// stopped is closed when the program no longer reads events; commands
// waiting on channels give up then instead of leaking.
func (p *pipeline) stopped() <-chan struct{} { return p.gone }

// startRun begins an attempt off the UI loop.
func startRun(p *pipeline) tea.Cmd {
	return func() tea.Msg { return runStartedMsg{updates: p.start()} }
}

// waitForRun returns the next batch of events: it blocks for the first one,
// then takes whatever else arrives within batchWindow.
func waitForRun(ch <-chan runUpdate, stop <-chan struct{}) tea.Cmd {
	return func() tea.Msg {
		var msg runEventsMsg
		select {
		case u := <-ch:
			if u.end {
				return runEventsMsg{ended: true, err: u.err}
			}
			msg.events = append(msg.events, u.event)
		case <-stop:
			return nil
		}
		timer := time.NewTimer(batchWindow)
		defer timer.Stop()
		for len(msg.events) < maxBatch {
			select {
			case u := <-ch:
				if u.end {
					msg.ended, msg.err = true, u.err
					return msg
				}
				msg.events = append(msg.events, u.event)
			case <-timer.C:
				return msg
			case <-stop:
				return msg
			}
		}
		return msg
	}
}

// gatherSummary runs the final checks off the UI loop.
func gatherSummary(ctx context.Context, fn func(context.Context) Summary) tea.Cmd {
	return func() tea.Msg { return summaryMsg{summary: fn(ctx)} }
}

// writeBundle writes a support bundle off the UI loop.
func writeBundle(ctx context.Context, fn func(context.Context) (string, error)) tea.Cmd {
	return func() tea.Msg {
		path, err := fn(ctx)
		return bundleMsg{path: path, err: err}
	}
}
