// Package textout draws what the installer reports as lines of text: the
// pipeline's events, a command's error and the validation checklist. The
// command line (ui/cli) and the screens without a full-screen terminal
// (ui/tui's plain and accessible modes, and its final screen's checklist)
// all draw through it, so a step, a failure or a check reads the same
// wherever it appears.
//
// The marks are the same everywhere: ▶ started, ✓ done or passed, ↷ skipped
// (already done), ! warning, ✗ failed. A failure is followed by the failing
// service's last log lines and then the hint, so what to do comes last.
package textout

import (
	"strings"

	"charm.land/lipgloss/v2"
)

// Style paints text without changing its layout. lipgloss pads every line
// of a multi-line string to the width of the longest one, which leaves
// runs of spaces at the ends of a message's lines; each line is painted on
// its own instead. The zero Style prints text as it is.
type Style struct{ lipgloss.Style }

// Render paints text line by line.
func (s Style) Render(text string) string {
	lines := strings.Split(text, "\n")
	for i, l := range lines {
		lines[i] = s.Style.Render(l)
	}
	return strings.Join(lines, "\n")
}

// Styles are the few styles text output uses. No meaning is carried by
// colour alone: every status also has its mark.
type Styles struct {
	OK, Warn, Bad, Dim, Bold Style
}

// Plain returns styles that print text as it is.
func Plain() Styles { return Styles{} }

// Colored returns styles in the terminal's base colours, which each
// palette tunes for its background, so they read on light and dark
// terminals alike.
func Colored() Styles {
	return Styles{
		OK:   Style{lipgloss.NewStyle().Foreground(lipgloss.Green)},
		Warn: Style{lipgloss.NewStyle().Foreground(lipgloss.Yellow)},
		Bad:  Style{lipgloss.NewStyle().Foreground(lipgloss.Red)},
		Dim:  Style{lipgloss.NewStyle().Faint(true)},
		Bold: Style{lipgloss.NewStyle().Bold(true)},
	}
}
