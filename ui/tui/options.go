package tui

import (
	"context"
	"io"
	"time"

	"github.com/fineract-installer/fineract-installer/steps"
	"github.com/fineract-installer/fineract-installer/steps/answers"
	"github.com/fineract-installer/fineract-installer/steps/hostfacts"
	"github.com/fineract-installer/fineract-installer/steps/install"
	"github.com/fineract-installer/fineract-installer/steps/preflight"
	"github.com/fineract-installer/fineract-installer/steps/validate"
)

// Terminal says where the program draws and how.
type Terminal struct {
	// In is read for keys; nil means os.Stdin.
	In io.Reader
	// Out is where the screens are drawn; nil means os.Stderr, so stdout
	// stays free for results (the answers file path, JSON) as in gum and
	// docker compose.
	Out io.Writer
	// NoColor draws without colour (--no-color). NO_COLOR in the
	// environment has the same effect.
	NoColor bool
	// Accessible asks questions as plain line prompts and prints progress
	// as lines, for screen readers (--accessible). TERM=dumb implies it.
	Accessible bool
	// Plain forces line output without any screen, as when stdout is not a
	// terminal (see Interactive).
	Plain bool
}

// TakenSubnet is an address range the host already uses (a Docker network
// or a route), so the network screen can flag a clash as it is typed.
type TakenSubnet = hostfacts.Subnet

// HostFacts are what the wizard proposes as defaults and measures against.
// The caller reads them with package hostfacts; the wizard reads nothing of
// the host itself.
type HostFacts struct {
	Hostname  string
	IPs       []string
	MemoryMiB int // total RAM; 0 when unknown
	Taken     []TakenSubnet
}

// WizardOptions configures RunWizard.
type WizardOptions struct {
	Terminal
	// Initial are the answers the wizard starts from, usually
	// answers.Defaults(answers.Production) with InstallDir from --dir.
	Initial answers.Answers
	// Host supplies detected defaults (hostname and IPs replace Initial's
	// when Initial still has the profile default) and the host's memory.
	Host HostFacts
	// Preflight runs the host checks for the answers so far; the wizard
	// calls it off the UI loop on the preflight screen, on every re-check
	// and again on the review screen with the final answers. Required.
	Preflight func(ctx context.Context, a answers.Answers) []preflight.Result
	// Certificates checks the certificate files the answers import, as the
	// install will (install.CheckImports); the wizard calls it off the UI
	// loop as files are typed on the certificates screen, and again on the
	// review screen with the final answers. Required.
	Certificates CertificateCheck
	// Plan says what an install with the answers would change, changing
	// nothing (install.PlanChanges); the review screen shows it before
	// "install". It returns nil for answers whose install dir holds no
	// installation yet: a first install changes everything. Optional.
	Plan PlanFunc
	// AnswersPath is where the review screen saves the answers file.
	AnswersPath string
	// Now is the clock (certificate validity); nil means time.Now.
	Now func() time.Time
}

// PlanFunc plans an install with the answers, writing nothing.
type PlanFunc func(ctx context.Context, a answers.Answers) (*install.Changes, error)

// CertificateCheck checks the certificate files answers import, at now,
// writing nothing.
type CertificateCheck func(ctx context.Context, a answers.Answers, now time.Time) install.ImportCheck

// WizardResult is what the wizard collected.
type WizardResult struct {
	Answers answers.Answers
	// Saved is the path of the answers file written, "" if none was.
	Saved string
	// Start is true when the person chose to install now; false when they
	// saved and left, or quit.
	Start bool
	// CustodyPassphrase protects the demo custody file (custody: file).
	// It is never written anywhere by the wizard.
	CustodyPassphrase []byte
}

// StepInfo names one pipeline step for the deploy view, in plan order.
type StepInfo struct {
	ID    string
	Title string
}

// StepInfos lists a plan's steps in order.
func StepInfos(p *steps.Plan) []StepInfo {
	var out []StepInfo
	for _, s := range p.Steps() {
		out = append(out, StepInfo{ID: s.ID(), Title: s.Title()})
	}
	return out
}

// RunFunc runs the install once, reporting every event through emit, and
// returns when the run has ended (steps.Runner.Run with Events: emit).
// Retrying calls it again; the runner resumes at the first unfinished step.
// emit may block while the screen catches up; it never drops an event while
// the program is showing them.
type RunFunc func(ctx context.Context, emit func(steps.Event)) error

// Summary is what the final screen shows after a successful install.
type Summary struct {
	// Checks is the validation checklist, grouped by area on screen.
	Checks []validate.Result
	// GatewayURL is where the API is reached, WebAppURL the Mifos X web app.
	GatewayURL string
	WebAppURL  string
	// Tenants are the tenant identifiers to type at sign-in, SignIn who
	// signs in first and how ("mifos, password shown once at install").
	Tenants []string
	SignIn  string
	// Unseal says how to unseal Vault after a reboot (a command line).
	Unseal string
	// Backups says where backups are written and how often.
	Backups string
}

// DeployOptions configures RunDeploy.
type DeployOptions struct {
	Terminal
	// Title names the install on the header ("demo install of fineract.local").
	Title string
	// Steps is the plan's steps in order (StepInfos).
	Steps []StepInfo
	// Run runs the install; see RunFunc. Required.
	Run RunFunc
	// Ceremony, when set, lets the Vault step show the unseal key shares
	// and ask for one back inside the program (production custody).
	Ceremony *Ceremony
	// Summary runs the validation checklist and gathers the login details
	// after a successful run; nil shows the step timings only.
	Summary func(ctx context.Context) Summary
	// SupportBundle writes a redacted support bundle and returns its path;
	// nil hides the action.
	SupportBundle func(ctx context.Context) (string, error)
	// ResumeCommand is shown when the person quits to resume later
	// ("fineract-installer install --answers answers.yaml").
	ResumeCommand string
	// LogLines is how many lines are kept per service (logtail.DefaultCapacity if 0).
	LogLines int
	// Now is the clock for elapsed times; nil means time.Now.
	Now func() time.Time
}

// OutcomeStatus is how a deploy ended.
type OutcomeStatus string

// Deploy outcomes.
const (
	// Installed: every step finished and the final screen was shown.
	Installed OutcomeStatus = "installed"
	// Failed: a step failed and the person left from the failure screen;
	// the state is kept and the same command resumes.
	Failed OutcomeStatus = "failed"
	// Interrupted: the person stopped a running install; the running step
	// was cancelled and the state is kept.
	Interrupted OutcomeStatus = "interrupted"
)

// Outcome is what RunDeploy reports.
type Outcome struct {
	Status OutcomeStatus
	// Err is the last run's error (nil when installed).
	Err error
	// FailedStep is the ID of the step that failed, if one did.
	FailedStep string
	// SupportBundle is the path of a bundle written from the failure screen.
	SupportBundle string
}
