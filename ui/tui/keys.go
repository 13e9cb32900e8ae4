package tui

import (
	"charm.land/bubbles/v2/key"
)

// KeyMap is every key binding of the program. Screens pick the bindings
// that apply to them; the help bar is generated from the same bindings, so
// it never lists a key that does nothing.
type KeyMap struct {
	Quit      key.Binding
	Interrupt key.Binding
	Help      key.Binding
	Back      key.Binding
	Continue  key.Binding
	Recheck   key.Binding
	Save      key.Binding
	Start     key.Binding
	Yes       key.Binding
	No        key.Binding
	Up        key.Binding
	Down      key.Binding
	PageUp    key.Binding
	PageDown  key.Binding
	Top       key.Binding
	Bottom    key.Binding
	NextLog   key.Binding
	PrevLog   key.Binding
	Follow    key.Binding
	Retry     key.Binding
	FullLogs  key.Binding
	Bundle    key.Binding
	Resume    key.Binding
	Submit    key.Binding
	Recorded  key.Binding
	// Scroll only labels the arrow keys in the help bar of scrolling screens.
	Scroll key.Binding
}

// NewKeyMap returns the default bindings.
func NewKeyMap() KeyMap {
	return KeyMap{
		Quit:      key.NewBinding(key.WithKeys("q", "ctrl+c"), key.WithHelp("q", "quit")),
		Interrupt: key.NewBinding(key.WithKeys("ctrl+c"), key.WithHelp("ctrl+c", "quit")),
		Help:      key.NewBinding(key.WithKeys("?"), key.WithHelp("?", "all keys")),
		Back:      key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "back")),
		Continue:  key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "continue")),
		Recheck:   key.NewBinding(key.WithKeys("r"), key.WithHelp("r", "re-check")),
		Save:      key.NewBinding(key.WithKeys("s"), key.WithHelp("s", "save")),
		Start:     key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "save & install")),
		Yes:       key.NewBinding(key.WithKeys("y", "Y"), key.WithHelp("y", "yes")),
		No:        key.NewBinding(key.WithKeys("n", "N", "esc"), key.WithHelp("n", "no")),
		Up:        key.NewBinding(key.WithKeys("up", "k"), key.WithHelp("↑/k", "scroll up")),
		Down:      key.NewBinding(key.WithKeys("down", "j"), key.WithHelp("↓/j", "scroll down")),
		PageUp:    key.NewBinding(key.WithKeys("pgup", "ctrl+u"), key.WithHelp("pgup", "page up")),
		PageDown:  key.NewBinding(key.WithKeys("pgdown", "ctrl+d"), key.WithHelp("pgdn", "page down")),
		Top:       key.NewBinding(key.WithKeys("home", "g"), key.WithHelp("g", "oldest")),
		Bottom:    key.NewBinding(key.WithKeys("end", "G"), key.WithHelp("G", "newest")),
		NextLog:   key.NewBinding(key.WithKeys("right", "tab"), key.WithHelp("→/tab", "next service")),
		PrevLog:   key.NewBinding(key.WithKeys("left", "shift+tab"), key.WithHelp("←", "previous service")),
		Follow:    key.NewBinding(key.WithKeys("f"), key.WithHelp("f", "follow")),
		Retry:     key.NewBinding(key.WithKeys("r"), key.WithHelp("r", "retry")),
		FullLogs:  key.NewBinding(key.WithKeys("l"), key.WithHelp("l", "full logs")),
		Bundle:    key.NewBinding(key.WithKeys("b"), key.WithHelp("b", "support bundle")),
		Resume:    key.NewBinding(key.WithKeys("q"), key.WithHelp("q", "quit, resume later")),
		Submit:    key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "submit")),
		Recorded:  key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "I have recorded them")),
		Scroll:    key.NewBinding(key.WithKeys("up", "down"), key.WithHelp("↑/↓", "scroll")),
	}
}

// ShortHelp implements help.KeyMap with the bindings every screen shares.
func (k KeyMap) ShortHelp() []key.Binding { return []key.Binding{k.Help, k.Quit} }

// FullHelp implements help.KeyMap with every binding, grouped by use.
func (k KeyMap) FullHelp() [][]key.Binding {
	return [][]key.Binding{
		{k.Continue, k.Back, k.Recheck, k.Save, k.Start},
		{k.Up, k.Down, k.PageUp, k.PageDown, k.Top, k.Bottom},
		{k.NextLog, k.PrevLog, k.Follow, k.FullLogs},
		{k.Retry, k.Bundle, k.Resume, k.Help, k.Quit},
	}
}

// bindings is the help of one screen: its short line and its full table.
type bindings struct {
	short []key.Binding
	full  [][]key.Binding
}

// ShortHelp implements help.KeyMap.
func (b bindings) ShortHelp() []key.Binding { return b.short }

// FullHelp implements help.KeyMap.
func (b bindings) FullHelp() [][]key.Binding {
	if b.full == nil {
		return [][]key.Binding{b.short}
	}
	return b.full
}
