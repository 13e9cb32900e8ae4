package tui

import (
	"context"
	"errors"
	"time"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/spinner"
	"charm.land/bubbles/v2/viewport"
	tea "charm.land/bubbletea/v2"

	"github.com/fineract-installer/fineract-installer/steps"
	"github.com/fineract-installer/fineract-installer/ui/logtail"
)

// deployMode is the deploy program's current screen.
type deployMode int

const (
	modeRunning  deployMode = iota // step list, progress and log tail
	modeCeremony                   // Vault key shares
	modeFailed                     // what failed and what to do
	modeLogs                       // full-screen log tail
	modeChecking                   // gathering the final checklist
	modeFinal                      // installed: checklist and where to log in
)

// String names the mode for logs and test failures.
func (d deployMode) String() string {
	return [...]string{"running", "ceremony", "failed", "logs", "checking", "final"}[d]
}

// deployModel shows an install as it runs and what to do when it ends.
type deployModel struct {
	ctx      context.Context
	opts     DeployOptions
	now      func() time.Time
	color    bool // colour on: the terminal is asked for its background
	st       Styles
	keys     KeyMap
	help     help.Model
	pipe     *pipeline
	updates  <-chan runUpdate
	width    int
	height   int
	rows     []stepRow
	index    map[string]int
	began    time.Time
	ended    time.Time
	mode     deployMode
	back     deployMode // where the full-screen logs return to
	running  bool
	stopping bool
	quitAsk  bool
	fullHelp bool
	tail     logtail.Tail
	spin     spinner.Model
	cer      ceremonyModel
	runErr   error
	body     viewport.Model
	summary  Summary
	bundle   bundleState
	outcome  Outcome
	done     bool
}

// bundleState is the support bundle action's progress.
type bundleState struct {
	writing bool
	path    string
	err     error
}

func newDeploy(ctx context.Context, opts DeployOptions, color bool, pipe *pipeline) deployModel {
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	m := deployModel{
		ctx: ctx, opts: opts, now: now, color: color, keys: NewKeyMap(), help: help.New(), pipe: pipe,
		index: map[string]int{}, began: now(), running: true,
		tail: logtail.New(opts.LogLines, logtail.Styles{}),
		spin: spinner.New(spinner.WithSpinner(spinner.MiniDot)),
		cer:  newCeremonyModel(),
		body: viewport.New(),
	}
	m.restyle(NewStyles(true))
	for _, s := range opts.Steps {
		m.addRow(s.ID, s.Title)
	}
	return m
}

// restyle draws with new styles (the terminal's background became known).
func (m *deployModel) restyle(st Styles) {
	m.st = st
	m.help.Styles = st.Help
	m.tail.SetStyles(st.Log)
}

func (m *deployModel) addRow(id, title string) int {
	m.index[id] = len(m.rows)
	m.rows = append(m.rows, stepRow{id: id, title: title})
	return len(m.rows) - 1
}

// Init starts the first run, the spinner and, with a ceremony hook, the
// wait for its requests.
func (m deployModel) Init() tea.Cmd {
	cmds := []tea.Cmd{startRun(m.pipe), m.spin.Tick, askBackground(m.color)}
	if m.opts.Ceremony != nil {
		cmds = append(cmds, waitForCeremony(m.opts.Ceremony, m.pipe.stopped()))
	}
	return tea.Batch(cmds...)
}

// Update handles one message.
func (m deployModel) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.width, m.height = msg.Width, msg.Height
		m.layout()
		return m, nil
	case tea.BackgroundColorMsg:
		m.restyle(NewStyles(msg.IsDark()))
		m.layout() // the failure and final screens hold styled text
		return m, nil
	case runStartedMsg:
		m.updates = msg.updates
		return m, waitForRun(m.updates, m.pipe.stopped())
	case runEventsMsg:
		return m.handleEvents(msg)
	case ceremonyRequestMsg:
		return m.openCeremony(msg.req)
	case summaryMsg:
		m.summary = msg.summary
		m.mode = modeFinal
		m.layout()
		return m, nil
	case bundleMsg:
		m.bundle = bundleState{path: msg.path, err: msg.err}
		if msg.err == nil {
			m.outcome.SupportBundle = msg.path
		}
		m.layout()
		return m, nil
	case spinner.TickMsg:
		if !m.running && m.mode != modeChecking {
			return m, nil
		}
		var cmd tea.Cmd
		m.spin, cmd = m.spin.Update(msg)
		return m, cmd
	case tea.KeyPressMsg:
		return m.handleKey(msg)
	}
	if m.mode == modeCeremony {
		var cmd tea.Cmd
		m.cer, _, cmd = m.cer.update(msg, m.keys)
		return m, cmd
	}
	return m, nil
}

// handleEvents applies a batch of run events and re-arms the wait.
func (m deployModel) handleEvents(msg runEventsMsg) (tea.Model, tea.Cmd) {
	now := m.now()
	for _, e := range msg.events {
		if e.Kind == steps.KindLog {
			m.tail.Append(e.Subject, logtail.ParseStream(e.Stream), e.Message)
			continue
		}
		i, ok := m.index[e.Step]
		if !ok {
			title := e.Title
			if title == "" {
				title = e.Step
			}
			i = m.addRow(e.Step, title)
		}
		m.rows[i].apply(e, now)
		if e.Kind == steps.KindFailed && m.stopping {
			m.rows[i].status = stepStopped
		}
	}
	if !msg.ended {
		m.layout()
		return m, waitForRun(m.updates, m.pipe.stopped())
	}
	return m.runEnded(msg.err)
}

// runEnded moves on when a run attempt has returned.
func (m deployModel) runEnded(err error) (tea.Model, tea.Cmd) {
	m.running = false
	m.ended = m.now()
	m.runErr = err
	m.outcome.Err = err
	if m.mode == modeCeremony {
		m.cer = m.cer.abandon()
		m.mode = modeRunning
	}
	switch {
	case m.stopping || (err != nil && errors.Is(err, context.Canceled) && m.ctx.Err() != nil):
		m.outcome.Status = Interrupted
		m.outcome.FailedStep = m.runningStep()
		m.done = true
		return m, tea.Quit
	case err != nil:
		m.outcome.Status = Failed
		m.outcome.FailedStep = m.failedStep()
		m.mode = modeFailed
		if f := m.failedRow(); f != nil && f.failure != nil && f.failure.Subject != "" {
			m.tail.Select(f.failure.Subject)
		}
		m.layout()
		return m, nil
	}
	m.outcome = Outcome{Status: Installed, SupportBundle: m.outcome.SupportBundle}
	if m.opts.Summary == nil {
		m.mode = modeFinal
		m.layout()
		return m, nil
	}
	m.mode = modeChecking
	return m, tea.Batch(gatherSummary(m.ctx, m.opts.Summary), m.spin.Tick)
}

func (m deployModel) openCeremony(req ceremonyRequest) (tea.Model, tea.Cmd) {
	var cmd tea.Cmd
	m.cer, cmd = m.cer.open(req)
	if m.mode != modeCeremony {
		m.back = m.mode
	}
	m.mode = modeCeremony
	m.quitAsk = false
	if m.opts.Ceremony != nil {
		cmd = tea.Batch(cmd, waitForCeremony(m.opts.Ceremony, m.pipe.stopped()))
	}
	return m, cmd
}

// handleKey routes a key by mode; quitting is common to all of them.
func (m deployModel) handleKey(msg tea.KeyPressMsg) (tea.Model, tea.Cmd) {
	if m.quitAsk {
		switch {
		case key.Matches(msg, m.keys.Yes):
			m.quitAsk = false
			m.layout()
			return m.stop()
		case key.Matches(msg, m.keys.No):
			m.quitAsk = false
			m.layout()
		}
		return m, nil
	}
	if m.stopping && key.Matches(msg, m.keys.Interrupt) {
		// Asked twice: leave now; RunDeploy still waits for the step to stop.
		m.outcome.Status = Interrupted
		m.done = true
		return m, tea.Quit
	}
	quit := key.Matches(msg, m.keys.Interrupt) ||
		(m.mode != modeCeremony && key.Matches(msg, m.keys.Quit))
	if quit {
		if m.running {
			m.quitAsk = true
			m.layout()
			return m, nil
		}
		if m.mode == modeLogs {
			m.mode = m.back
			m.layout()
			return m, nil
		}
		m.done = true
		if m.outcome.Status == "" {
			m.outcome.Status = Failed
		}
		return m, tea.Quit
	}
	if key.Matches(msg, m.keys.Help) && m.mode != modeCeremony {
		m.fullHelp = !m.fullHelp
		m.layout()
		return m, nil
	}
	switch m.mode {
	case modeCeremony:
		var done bool
		var cmd tea.Cmd
		m.cer, done, cmd = m.cer.update(msg, m.keys)
		if done {
			m.mode = m.back
			m.layout()
		}
		return m, cmd
	case modeRunning, modeLogs:
		return m.logKeys(msg)
	case modeFailed:
		return m.failureKeys(msg)
	case modeFinal:
		var cmd tea.Cmd
		m.body, cmd = m.body.Update(msg)
		return m, cmd
	}
	return m, nil
}

// stop cancels the running attempt; the program ends when it has returned.
func (m deployModel) stop() (tea.Model, tea.Cmd) {
	if !m.running {
		m.done = true
		return m, tea.Quit
	}
	m.stopping = true
	if m.mode == modeCeremony {
		m.cer = m.cer.abandon()
		m.mode = m.back
	}
	m.pipe.interrupt()
	return m, nil
}

// logKeys drives the log tail.
func (m deployModel) logKeys(msg tea.KeyPressMsg) (tea.Model, tea.Cmd) {
	k := m.keys
	t := &m.tail
	switch {
	case key.Matches(msg, k.NextLog):
		t.Next()
	case key.Matches(msg, k.PrevLog):
		t.Prev()
	case key.Matches(msg, k.Up):
		t.ScrollUp(1)
	case key.Matches(msg, k.Down):
		t.ScrollDown(1)
	case key.Matches(msg, k.PageUp):
		t.PageUp()
	case key.Matches(msg, k.PageDown):
		t.PageDown()
	case key.Matches(msg, k.Top):
		t.Top()
	case key.Matches(msg, k.Bottom):
		t.Bottom()
	case key.Matches(msg, k.Follow):
		t.SetFollow(!t.Following())
	case key.Matches(msg, k.FullLogs) && m.mode == modeRunning:
		m.back, m.mode = m.mode, modeLogs
		m.layout()
	case key.Matches(msg, k.Back) && m.mode == modeLogs:
		m.mode = m.back
		m.layout()
	}
	return m, nil
}

// failureKeys are the failure screen's actions.
func (m deployModel) failureKeys(msg tea.KeyPressMsg) (tea.Model, tea.Cmd) {
	k := m.keys
	switch {
	case key.Matches(msg, k.Retry):
		for i := range m.rows {
			if m.rows[i].status == stepFailed || m.rows[i].status == stepRunning {
				m.rows[i] = stepRow{id: m.rows[i].id, title: m.rows[i].title}
			}
		}
		m.mode, m.running, m.runErr, m.ended = modeRunning, true, nil, time.Time{}
		m.bundle = bundleState{}
		m.outcome = Outcome{SupportBundle: m.outcome.SupportBundle}
		m.layout()
		return m, tea.Batch(startRun(m.pipe), m.spin.Tick)
	case key.Matches(msg, k.FullLogs):
		m.back, m.mode = modeFailed, modeLogs
		m.layout()
	case key.Matches(msg, k.Bundle) && m.opts.SupportBundle != nil && !m.bundle.writing:
		m.bundle = bundleState{writing: true}
		m.layout()
		return m, writeBundle(m.ctx, m.opts.SupportBundle)
	default:
		var cmd tea.Cmd
		m.body, cmd = m.body.Update(msg)
		return m, cmd
	}
	return m, nil
}

func (m deployModel) failedRow() *stepRow {
	for i := range m.rows {
		if m.rows[i].status == stepFailed {
			return &m.rows[i]
		}
	}
	return nil
}

func (m deployModel) failedStep() string {
	if r := m.failedRow(); r != nil {
		return r.id
	}
	return ""
}

func (m deployModel) runningStep() string {
	for _, r := range m.rows {
		if r.status == stepRunning || r.status == stepStopped {
			return r.id
		}
	}
	return ""
}
