package tui

import (
	"context"
	"time"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/spinner"
	"charm.land/bubbles/v2/viewport"
	tea "charm.land/bubbletea/v2"
	"charm.land/huh/v2"

	"github.com/fineract-installer/fineract-installer/steps/answers"
	"github.com/fineract-installer/fineract-installer/steps/install"
	"github.com/fineract-installer/fineract-installer/steps/preflight"
)

// screenID is one page of the wizard, in order.
type screenID int

const (
	screenWelcome screenID = iota
	screenPreflight
	screenProfile
	screenHost
	screenVault
	screenCerts
	screenNetwork
	screenServices
	screenReview
	screenCount
)

var screenTitles = [screenCount][2]string{
	{"Welcome", "what will happen"},
	{"Preflight", "is this host ready?"},
	{"Profile", "production or demo"},
	{"Host identity", "how people reach the stack"},
	{"Vault keys", "who can unlock the secrets"},
	{"Certificates", "generate or import"},
	{"Networks", "four separate Docker networks"},
	{"Services", "what to install, against this host's memory"},
	{"Review", "everything on one screen"},
}

// String names the screen for logs and test failures.
func (s screenID) String() string {
	if s < 0 || s >= screenCount {
		return "unknown"
	}
	return screenTitles[s][0]
}

// hasForm reports whether the screen is a huh form (keys go to the form,
// so letters such as q are typed, not commands).
func (s screenID) hasForm() bool { return s >= screenProfile && s <= screenServices }

type (
	// checksDoneMsg carries preflight results; seq drops stale runs.
	checksDoneMsg struct {
		seq     int
		results []preflight.Result
		at      time.Time
	}
	// planDoneMsg is the plan of an install with the answers of the
	// review screen; seq matches it to the latest request.
	planDoneMsg struct {
		seq     int
		changes *install.Changes
		err     error
	}
	// savedMsg reports writing the answers file; start says whether the
	// person asked to install right after.
	savedMsg struct {
		path  string
		err   error
		start bool
	}
)

// checkState is the latest preflight run.
type checkState struct {
	running bool
	seq     int
	results []preflight.Result
	at      time.Time
}

// planState is the latest plan of the review screen's answers.
type planState struct {
	running bool
	seq     int
	changes *install.Changes // nil: no installation there yet
	err     error
}

// wizardModel is the wizard: one screen at a time, a huh form for the
// screens that ask questions, and the answers so far in a draft.
type wizardModel struct {
	ctx      context.Context
	opts     WizardOptions
	now      func() time.Time
	color    bool // colour on: the terminal is asked for its background
	st       Styles
	keys     KeyMap
	help     help.Model
	formKeys *huh.KeyMap
	width    int
	height   int
	screen   screenID
	d        *draft
	profile  answers.Profile // the profile the Vault and service defaults follow
	form     *huh.Form
	live     string // the live check panel under the form
	notice   string
	body     viewport.Model
	spin     spinner.Model
	checks   checkState
	plan     planState
	certs    *certState // shared like the draft: the forms' validators read it
	saving   bool
	saved    string
	quitAsk  bool
	result   WizardResult
	finished bool
}

func newWizard(ctx context.Context, opts WizardOptions, color bool) wizardModel {
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	initial := opts.Initial
	if initial.Version == 0 {
		initial = answers.Defaults(answers.Production)
	}
	def := answers.Defaults(initial.Profile)
	if initial.Host.Hostname == def.Host.Hostname && opts.Host.Hostname != "" {
		initial.Host.Hostname = opts.Host.Hostname
	}
	if len(initial.Host.IPs) == 0 {
		initial.Host.IPs = opts.Host.IPs
	}
	fk := huh.NewDefaultKeyMap()
	fk.Quit = key.NewBinding(key.WithDisabled()) // the wizard asks before quitting
	// No filtering: the lists are short, and esc must mean "previous screen".
	fk.Select.Filter = key.NewBinding(key.WithDisabled())
	fk.MultiSelect.Filter = key.NewBinding(key.WithDisabled())
	m := wizardModel{
		ctx: ctx, opts: opts, now: now, color: color, keys: NewKeyMap(), help: help.New(), formKeys: fk,
		d: newDraft(initial), profile: initial.Profile, certs: &certState{},
		body:   viewport.New(),
		spin:   spinner.New(spinner.WithSpinner(spinner.Line)),
		checks: checkState{running: true, seq: 1},
	}
	m.restyle(NewStyles(true))
	return m
}

// restyle draws with new styles (the terminal's background became known).
// Forms take the theme when they are built; the background is known long
// before the first one, which comes after the welcome screen.
func (m *wizardModel) restyle(st Styles) {
	m.st = st
	m.help.Styles = st.Help
	m.setBody()
}

// Init starts the host checks at once (newWizard marked them running), so
// their results are usually ready by the time the welcome has been read.
func (m wizardModel) Init() tea.Cmd {
	return tea.Batch(runChecks(m.ctx, m.opts.Preflight, m.d.answers(), m.checks.seq, m.now), m.spin.Tick,
		askBackground(m.color))
}

// recheck runs the host checks again, unless they are running already.
func (m wizardModel) recheck() (tea.Model, tea.Cmd) {
	if m.checks.running {
		return m, nil
	}
	cmd := m.startChecksCmd()
	m.setBody()
	return m, cmd
}

func (m *wizardModel) startChecksCmd() tea.Cmd {
	m.checks.running = true
	m.checks.seq++
	return tea.Batch(runChecks(m.ctx, m.opts.Preflight, m.d.answers(), m.checks.seq, m.now), m.spin.Tick)
}

// startPlanCmd plans an install with the answers as they are now, when
// the caller can plan; a plan of earlier answers is dropped on arrival.
func (m *wizardModel) startPlanCmd() tea.Cmd {
	if m.opts.Plan == nil {
		return nil
	}
	m.plan.seq++
	m.plan.running = true
	return runPlan(m.ctx, m.opts.Plan, m.d.answers(), m.plan.seq)
}

// Update handles one message.
func (m wizardModel) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.width, m.height = msg.Width, msg.Height
		m.layout()
		return m, nil
	case tea.BackgroundColorMsg:
		m.restyle(NewStyles(msg.IsDark()))
		return m, nil
	case tea.KeyPressMsg:
		return m.handleKey(msg)
	case checksDoneMsg:
		if msg.seq == m.checks.seq {
			m.checks = checkState{seq: msg.seq, results: msg.results, at: msg.at}
			m.setBody()
		}
		return m, nil
	case planDoneMsg:
		if msg.seq == m.plan.seq {
			m.plan = planState{seq: msg.seq, changes: msg.changes, err: msg.err}
			m.setBody()
		}
		return m, nil
	case certCheckedMsg:
		m.certs.apply(msg)
		m.refresh()
		return m, nil
	case savedMsg:
		return m.handleSaved(msg)
	case spinner.TickMsg:
		if !m.checks.running && m.checks.results != nil && !m.plan.running {
			return m, nil
		}
		var cmd tea.Cmd
		m.spin, cmd = m.spin.Update(msg)
		m.setBody()
		return m, cmd
	}
	return m.updateForm(msg)
}

func (m wizardModel) handleKey(msg tea.KeyPressMsg) (tea.Model, tea.Cmd) {
	if m.quitAsk {
		switch {
		case key.Matches(msg, m.keys.Yes):
			m.finished = true
			m.result = WizardResult{Answers: m.d.answers(), Saved: m.saved}
			return m, tea.Quit
		case key.Matches(msg, m.keys.No):
			m.quitAsk = false
		}
		return m, nil
	}
	if key.Matches(msg, m.keys.Interrupt) || (!m.screen.hasForm() && key.Matches(msg, m.keys.Quit)) {
		m.quitAsk = true
		return m, nil
	}
	if key.Matches(msg, m.keys.Back) && m.screen > screenWelcome {
		return m.enter(m.screen - 1)
	}
	switch m.screen {
	case screenWelcome:
		if key.Matches(msg, m.keys.Continue) {
			return m.enter(screenPreflight)
		}
	case screenPreflight:
		switch {
		case key.Matches(msg, m.keys.Recheck):
			return m.recheck()
		case key.Matches(msg, m.keys.Continue):
			return m.enter(screenProfile)
		}
	case screenReview:
		switch {
		case key.Matches(msg, m.keys.Save):
			return m.save(false)
		case key.Matches(msg, m.keys.Start):
			return m.save(true)
		case key.Matches(msg, m.keys.Recheck):
			return m.recheck()
		}
	}
	if !m.screen.hasForm() {
		var cmd tea.Cmd
		m.body, cmd = m.body.Update(msg)
		return m, cmd
	}
	return m.updateForm(msg)
}

// enter shows a screen, building its form from the draft so values survive
// going back and forth.
func (m wizardModel) enter(s screenID) (tea.Model, tea.Cmd) {
	var cmds []tea.Cmd
	if m.screen == screenProfile && m.d.profile != m.profile {
		m.d.applyProfile(m.d.profile)
		m.profile = m.d.profile
		m.notice = "Vault key sharing and the service groups now use the " + string(m.profile) + " defaults."
	} else {
		m.notice = ""
	}
	m.screen = s
	m.form = nil
	if s.hasForm() {
		m.form = m.buildForm()
		cmds = append(cmds, m.form.Init())
	}
	if s == screenReview {
		cmds = append(cmds, m.startChecksCmd(), m.startPlanCmd())
	}
	if s == screenCerts || s == screenReview {
		// On the review the CA is checked against the final services.
		cmds = append(cmds, m.certs.request(m.ctx, m.opts.Certificates, m.d, m.now)...)
	}
	m.layout()
	m.body.GotoTop()
	return m, tea.Batch(cmds...)
}

// updateForm forwards a message to the screen's form and moves on when the
// form is complete and nothing on the screen is wrong.
func (m wizardModel) updateForm(msg tea.Msg) (tea.Model, tea.Cmd) {
	if m.form == nil {
		return m, nil
	}
	f, cmd := m.form.Update(msg)
	m.form = f.(*huh.Form)
	cmds := []tea.Cmd{cmd}
	if m.screen == screenCerts {
		cmds = append(cmds, m.certs.request(m.ctx, m.opts.Certificates, m.d, m.now)...)
	}
	if m.form.State == huh.StateCompleted {
		if len(m.screenProblems()) == 0 {
			return m.enter(m.screen + 1)
		}
		m.notice = "Fix the problems listed under the form to continue."
		m.form = m.buildForm()
		cmds = append(cmds, m.form.Init())
		m.layout()
	}
	m.refresh()
	return m, tea.Batch(cmds...)
}

// layout sizes the form and the scrolling body to the terminal.
func (m *wizardModel) layout() {
	m.refresh()
	m.body.SetWidth(max(m.width-2, 0))
	m.body.SetHeight(m.bodyHeight())
	m.setBody()
}

// refresh recomputes the live panel and fits the form above it.
func (m *wizardModel) refresh() {
	if m.form == nil {
		m.live = ""
		return
	}
	m.live = m.livePanel()
	h := max(m.bodyHeight()-len(lines(m.live))-1, 3)
	m.form.Update(tea.WindowSizeMsg{Width: max(m.width-2, 20), Height: h})
}

// headerLines and footerLines are the chrome around a screen's body.
const (
	headerLines = 3
	footerLines = 2
)

func (m wizardModel) bodyHeight() int { return max(m.height-headerLines-footerLines, 1) }

// View draws the current screen on the alternate screen.
func (m wizardModel) View() tea.View {
	v := tea.NewView(m.draw())
	v.AltScreen = true
	return v
}

// draw is the current screen's text.
func (m wizardModel) draw() string {
	if m.finished {
		return ""
	}
	if m.width < minWidth || m.height < minHeight {
		return tooSmall(m.width, m.height)
	}
	return frame(m.width, m.height, m.header(), m.bodyView(), m.footer())
}
