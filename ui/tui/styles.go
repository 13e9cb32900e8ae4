package tui

import (
	"charm.land/bubbles/v2/help"
	tea "charm.land/bubbletea/v2"
	"charm.land/huh/v2"
	"charm.land/lipgloss/v2"

	"github.com/fineract-installer/fineract-installer/ui/logtail"
	"github.com/fineract-installer/fineract-installer/ui/textout"
)

// Styles holds every style the screens use, built once for a background.
// Status colours are the terminal's own base colours (green, yellow, red),
// which each palette tunes for its background, so they read on light and
// dark terminals alike; the accent follows the background explicitly. No
// meaning is carried by colour alone: every status also has its mark.
// Whether any colour reaches the terminal is the program's colour
// profile's business (see resolved.programOptions), not the styles'.
type Styles struct {
	AppName  lipgloss.Style
	Heading  lipgloss.Style
	Muted    lipgloss.Style
	Bold     lipgloss.Style
	Accent   lipgloss.Style
	Pass     lipgloss.Style
	Warn     lipgloss.Style
	Fail     lipgloss.Style
	Panel    lipgloss.Style
	Alert    lipgloss.Style
	Share    lipgloss.Style
	Selected lipgloss.Style
	Help     help.Styles
	Log      logtail.Styles
	Bar      barStyles
	// Form is huh's theme for the wizard's forms.
	Form huh.Theme
}

// text returns the styles textout draws with, so lines drawn by textout on
// a screen match the screen's own.
func (s Styles) text() textout.Styles {
	return textout.Styles{
		OK: textout.Style{Style: s.Pass}, Warn: textout.Style{Style: s.Warn}, Bad: textout.Style{Style: s.Fail},
		Dim: textout.Style{Style: s.Muted}, Bold: textout.Style{Style: s.Heading},
	}
}

// barStyles draws progress bars without colour dependence: filled and empty
// cells differ in shape.
type barStyles struct {
	Full, Empty lipgloss.Style
}

// NewStyles builds the styles for a terminal with a dark (or light)
// background.
func NewStyles(dark bool) Styles {
	lightDark := lipgloss.LightDark(dark)
	accent := lightDark(lipgloss.Color("#4B46C8"), lipgloss.Color("#8A86FF"))
	muted := lightDark(lipgloss.Color("241"), lipgloss.Color("247"))
	green, yellow, red := lipgloss.Green, lipgloss.Yellow, lipgloss.Red
	s := Styles{
		AppName:  lipgloss.NewStyle().Bold(true).Foreground(accent),
		Heading:  lipgloss.NewStyle().Bold(true),
		Muted:    lipgloss.NewStyle().Foreground(muted),
		Bold:     lipgloss.NewStyle().Bold(true),
		Accent:   lipgloss.NewStyle().Foreground(accent),
		Pass:     lipgloss.NewStyle().Foreground(green),
		Warn:     lipgloss.NewStyle().Foreground(yellow),
		Fail:     lipgloss.NewStyle().Foreground(red).Bold(true),
		Panel:    lipgloss.NewStyle().Border(lipgloss.RoundedBorder()).BorderForeground(muted).Padding(0, 1),
		Alert:    lipgloss.NewStyle().Border(lipgloss.ThickBorder()).BorderForeground(red).Padding(0, 1),
		Share:    lipgloss.NewStyle().Bold(true),
		Selected: lipgloss.NewStyle().Bold(true).Foreground(accent),
		Bar: barStyles{
			Full:  lipgloss.NewStyle().Foreground(accent),
			Empty: lipgloss.NewStyle().Foreground(muted),
		},
		// huh's fields ask the theme with the background each has seen;
		// fields of a group not yet shown have seen none, so the theme
		// answers with the program's.
		Form: huh.ThemeFunc(func(bool) *huh.Styles { return huh.ThemeCharm(dark) }),
	}
	s.Help = help.Styles{
		Ellipsis:       lipgloss.NewStyle().Foreground(muted),
		ShortKey:       lipgloss.NewStyle().Bold(true),
		ShortDesc:      lipgloss.NewStyle().Foreground(muted),
		ShortSeparator: lipgloss.NewStyle().Foreground(muted),
		FullKey:        lipgloss.NewStyle().Bold(true),
		FullDesc:       lipgloss.NewStyle().Foreground(muted),
		FullSeparator:  lipgloss.NewStyle().Foreground(muted),
	}
	s.Log = logtail.Styles{
		Header:       lipgloss.NewStyle().Bold(true),
		Muted:        lipgloss.NewStyle().Foreground(muted),
		StdoutGutter: lipgloss.NewStyle().Foreground(muted),
		StderrGutter: lipgloss.NewStyle().Foreground(red).Bold(true),
		StderrText:   lipgloss.NewStyle().Foreground(red),
	}
	return s
}

// askBackground asks the terminal for its background, whose reply (a
// tea.BackgroundColorMsg) restyles the screens; until it comes they are
// drawn for a dark one. With colour off nothing is asked: no colour is
// drawn, so the answer would change nothing.
func askBackground(color bool) tea.Cmd {
	if !color {
		return nil
	}
	return tea.RequestBackgroundColor
}
