package tui

import (
	"github.com/charmbracelet/bubbles/help"
	"github.com/charmbracelet/lipgloss"

	"github.com/fineract-installer/fineract-installer/ui/logtail"
)

// Styles holds every style the screens use, built once for one renderer.
// Status colours are the terminal's own base colours (green, yellow, red),
// which each palette tunes for its background, so they read on light and
// dark terminals alike; the accent adapts explicitly. No meaning is carried
// by colour alone: every status also has its mark.
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
}

// barStyles draws progress bars without colour dependence: filled and empty
// cells differ in shape.
type barStyles struct {
	Full, Empty lipgloss.Style
}

// NewStyles builds the styles for a renderer (its colour profile decides
// whether any colour is emitted: NO_COLOR and --no-color give plain text).
func NewStyles(r *lipgloss.Renderer) Styles {
	accent := lipgloss.AdaptiveColor{Light: "#4B46C8", Dark: "#8A86FF"}
	muted := lipgloss.AdaptiveColor{Light: "241", Dark: "247"}
	green, yellow, red := lipgloss.Color("2"), lipgloss.Color("3"), lipgloss.Color("1")
	s := Styles{
		AppName:  r.NewStyle().Bold(true).Foreground(accent),
		Heading:  r.NewStyle().Bold(true),
		Muted:    r.NewStyle().Foreground(muted),
		Bold:     r.NewStyle().Bold(true),
		Accent:   r.NewStyle().Foreground(accent),
		Pass:     r.NewStyle().Foreground(green),
		Warn:     r.NewStyle().Foreground(yellow),
		Fail:     r.NewStyle().Foreground(red).Bold(true),
		Panel:    r.NewStyle().Border(lipgloss.RoundedBorder()).BorderForeground(muted).Padding(0, 1),
		Alert:    r.NewStyle().Border(lipgloss.ThickBorder()).BorderForeground(red).Padding(0, 1),
		Share:    r.NewStyle().Bold(true),
		Selected: r.NewStyle().Bold(true).Foreground(accent),
		Bar: barStyles{
			Full:  r.NewStyle().Foreground(accent),
			Empty: r.NewStyle().Foreground(muted),
		},
	}
	s.Help = help.Styles{
		Ellipsis:       r.NewStyle().Foreground(muted),
		ShortKey:       r.NewStyle().Bold(true),
		ShortDesc:      r.NewStyle().Foreground(muted),
		ShortSeparator: r.NewStyle().Foreground(muted),
		FullKey:        r.NewStyle().Bold(true),
		FullDesc:       r.NewStyle().Foreground(muted),
		FullSeparator:  r.NewStyle().Foreground(muted),
	}
	s.Log = logtail.Styles{
		Header:       r.NewStyle().Bold(true),
		Muted:        r.NewStyle().Foreground(muted),
		StdoutGutter: r.NewStyle().Foreground(muted),
		StderrGutter: r.NewStyle().Foreground(red).Bold(true),
		StderrText:   r.NewStyle().Foreground(red),
	}
	return s
}
