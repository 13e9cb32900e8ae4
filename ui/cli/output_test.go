package cli

import (
	"bytes"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/fineract-installer/fineract-installer/steps"
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
		if !strings.Contains(ansi.Strip(b.String()), "✗ Render the configuration: 3 problems") {
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
