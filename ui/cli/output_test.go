package cli

import (
	"bytes"
	"context"
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/fineract-installer/fineract-installer/steps"
	"github.com/fineract-installer/fineract-installer/steps/validate"
	"github.com/fineract-installer/fineract-installer/ui/tui"
)

// A failure whose text spans lines is printed as it is: lipgloss pads
// every line of a multi-line string to the longest one, which left runs
// of spaces at the ends of `✗ ...` lines, with colour and without.
func TestFailureLinesEndWithoutSpaces(t *testing.T) {
	cause := "3 problems in answers.yaml:\nanswers.yaml:4: unknown key \"vault.key_treshold\"; did you mean \"vault.key_threshold\"?\nshort"
	for _, color := range []bool{false, true} {
		var b bytes.Buffer
		p := newPrinter(&b, formatText, color)
		p.stepEvent(steps.Event{Time: time.Now(), Kind: steps.KindFailed, Step: "render", Title: "Render the configuration",
			Cause: cause, Hint: "fix the answers\nand run the same command again", Subject: "vault", Logs: []string{"a log line", "another, longer log line"}})
		p.stepEvent(steps.Event{Time: time.Now(), Kind: steps.KindWarning, Step: "render", Message: cause})
		for _, line := range strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n") {
			if plain := ansi.Strip(line); strings.TrimRight(plain, " \t") != plain {
				t.Errorf("colour %t: line ends with spaces: %q", color, plain)
			}
		}
		if !strings.Contains(ansi.Strip(b.String()), "✗ Render the configuration failed: 3 problems") {
			t.Errorf("colour %t: the failure line is missing:\n%s", color, b.String())
		}
	}
}

// Help shows each flag's value as one placeholder word (FILE, DIR,
// SERVICE, N) or the flag's type. pflag takes the first back-quoted text
// of a usage as the value's name, so a usage quoting a command showed
// `--answers fineract-installer answers init`.
func TestFlagHelpShowsOnePlaceholderWord(t *testing.T) {
	placeholder := regexp.MustCompile(`^[A-Z][A-Z_:]*$`)
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		check := func(f *pflag.Flag) {
			name, _ := pflag.UnquoteUsage(f)
			if name != "" && name != f.Value.Type() && !placeholder.MatchString(name) {
				t.Errorf("%s --%s: help shows its value as %q", c.CommandPath(), f.Name, name)
			}
		}
		c.Flags().VisitAll(check)
		c.PersistentFlags().VisitAll(check)
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(newRootCmd(&app{f: testFactory(), io: &Streams{}}))
}

// The command line and the screens without a full-screen terminal draw a
// run the same way, line for line: one renderer (a skipped step was "-"
// in one and "↷" in the other, and a failure's hint and last log lines
// came in different orders), and the checklist drawn by one function.
func TestCommandLineAndPlainScreenDrawARunAlike(t *testing.T) {
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	evs := []steps.Event{
		{Time: at, Kind: steps.KindStarted, Step: "install-dir", Title: "Prepare the install directory"},
		{Time: at, Kind: steps.KindSkipped, Step: "install-dir", Title: "Prepare the install directory", Message: "already done"},
		{Time: at, Kind: steps.KindStarted, Step: "images", Title: "Make the container images available"},
		{Time: at, Kind: steps.KindProgress, Step: "images", Subject: "hashicorp/vault:1.21.4", Current: 5 << 20, Total: 10 << 20, Unit: "bytes"},
		{Time: at, Kind: steps.KindProgress, Step: "images", Subject: "hashicorp/vault:1.21.4", Current: 10 << 20, Total: 10 << 20, Unit: "bytes", Message: "pulled"},
		{Time: at, Kind: steps.KindProgress, Step: "images", Subject: "postgres", Current: 1, Total: 2, Unit: "services", Message: "healthy"},
		{Time: at, Kind: steps.KindDone, Step: "images", Title: "Make the container images available", Elapsed: 83 * time.Second},
		{Time: at, Kind: steps.KindLog, Step: "services", Subject: "vault", Stream: "stderr", Message: "sealed"},
		{Time: at, Kind: steps.KindWarning, Step: "services", Message: "the disk is slow"},
		{Time: at, Kind: steps.KindFailed, Step: "services", Title: "Start the services", Cause: "vault is unhealthy",
			Hint: "run `fineract-installer logs vault`", Subject: "vault", Logs: []string{"sealed", "still sealed"}},
	}
	var cli bytes.Buffer
	p := newPrinter(&cli, formatText, false)
	for _, e := range evs {
		p.stepEvent(e)
	}
	var screen bytes.Buffer
	_, err := tui.RunDeploy(context.Background(), tui.DeployOptions{
		Terminal: tui.Terminal{Plain: true, Out: &screen, In: strings.NewReader("")},
		Steps:    []tui.StepInfo{{ID: "install-dir", Title: "Prepare the install directory"}, {ID: "images", Title: "Make the container images available"}, {ID: "services", Title: "Start the services"}},
		Run: func(ctx context.Context, emit func(steps.Event)) error {
			for _, e := range evs {
				emit(e)
			}
			return errors.New("services failed")
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if cli.String() != screen.String() {
		t.Errorf("the command line drew\n%s\nthe plain screen drew\n%s", cli.String(), screen.String())
	}

	rs := []validate.Result{
		{Area: validate.AreaHost, Title: "Swap is off or limited", Status: validate.Fail, Evidence: "swappiness 60", Fix: "set vm.swappiness=1"},
		{Area: validate.AreaTLS, Title: "Gateway accepts TLS 1.3 only", Status: validate.Pass, Evidence: "TLS 1.2 refused"},
	}
	cli.Reset()
	if err := newPrinter(&cli, formatText, false).checklist(rs); err != nil {
		t.Fatal(err)
	}
	screen.Reset()
	if _, err := tui.RunDeploy(context.Background(), tui.DeployOptions{
		Terminal: tui.Terminal{Plain: true, Out: &screen, In: strings.NewReader("")},
		Run:      func(context.Context, func(steps.Event)) error { return nil },
		Summary:  func(context.Context) tui.Summary { return tui.Summary{Checks: rs} },
	}); err != nil {
		t.Fatal(err)
	}
	if list := strings.TrimPrefix(cli.String(), "\n"); list == "" || !strings.HasSuffix(screen.String(), list) {
		t.Errorf("the command line's checklist\n%s\nis not the plain screen's\n%s", cli.String(), screen.String())
	}
}
