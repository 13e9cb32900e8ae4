package tui

import (
	"bytes"
	"strings"
	"testing"

	"github.com/charmbracelet/lipgloss"
)

func TestNoColorDrawsPlainText(t *testing.T) {
	old := lipgloss.DefaultRenderer()
	t.Cleanup(func() { lipgloss.SetDefaultRenderer(old) })

	t.Setenv("NO_COLOR", "1")
	term := Terminal{Out: &bytes.Buffer{}}
	if !term.resolve().noColor {
		t.Fatal("NO_COLOR in the environment must turn colour off")
	}
	t.Setenv("NO_COLOR", "")
	if term.resolve().noColor {
		t.Fatal("colour is off without NO_COLOR or --no-color")
	}
	term.NoColor = true
	if !term.resolve().noColor {
		t.Fatal("--no-color must turn colour off")
	}

	r := newRenderer(&bytes.Buffer{}, true)
	st := NewStyles(r)
	for _, s := range []string{st.Fail.Render("✗ failed"), st.Pass.Render("✓"), st.Alert.Render("shares"), bar(st, 0.5, 10)} {
		if strings.Contains(s, "\x1b[") {
			t.Fatalf("no-colour styles emit escape sequences: %q", s)
		}
	}
	if lipgloss.DefaultRenderer() != r {
		t.Fatal("huh draws with lipgloss's default renderer; it must be the program's")
	}
}

func TestModeFollowsTheTerminal(t *testing.T) {
	t.Setenv("TERM", "xterm-256color")
	cases := []struct {
		term Terminal
		want drawMode
	}{
		{Terminal{In: strings.NewReader(""), Out: &bytes.Buffer{}}, drawPlain},
		{Terminal{In: strings.NewReader(""), Out: &bytes.Buffer{}, Accessible: true}, drawAccessible},
		{Terminal{Plain: true, Accessible: true}, drawPlain},
	}
	for _, c := range cases {
		if got := c.term.resolve().mode; got != c.want {
			t.Errorf("%+v resolves to mode %d, want %d", c.term, got, c.want)
		}
	}
	t.Setenv("TERM", "dumb")
	if got := (Terminal{Out: &bytes.Buffer{}}).resolve().mode; got != drawAccessible {
		t.Errorf("TERM=dumb resolves to mode %d, want accessible", got)
	}
}
