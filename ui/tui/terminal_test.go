package tui

import (
	"bytes"
	"context"
	"io"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/fineract-installer/fineract-installer/steps"
)

func TestNoColorDrawsPlainText(t *testing.T) {
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

	// The same screen drawn by a program on a colour terminal: with colour
	// on it is coloured for the background the program asks for; with
	// colour off it has no colour and asks the terminal nothing about
	// colours.
	for _, color := range []bool{true, false} {
		out := drawDeploy(t, color)
		if got := hasColor(out); got != color {
			t.Errorf("colour %t: the program drew colours: %t\n%q", color, got, out)
		}
		if got := strings.Contains(out, ansi.RequestBackgroundColor); got != color {
			t.Errorf("colour %t: the program asked for the background: %t", color, got)
		}
		for _, q := range []string{ansi.RequestForegroundColor, ansi.RequestCursorPositionReport} {
			if strings.Contains(out, q) {
				t.Errorf("colour %t: the program sent the query %q", color, q)
			}
		}
	}
}

// drawDeploy runs the deploy view with the options RunDeploy gives it, on
// a 256-colour terminal, until its first frame is drawn, and returns all it
// wrote.
func drawDeploy(t *testing.T, color bool) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	keys, typing := io.Pipe() // input stays open: queries expect replies there
	defer typing.Close()
	out := &syncBuffer{}
	opts := resolved{in: keys, out: out, mode: drawScreen, noColor: !color}.programOptions(ctx)
	opts = append(opts, tea.WithEnvironment([]string{"TERM=xterm-256color", "TTY_FORCE=1"}),
		tea.WithWindowSize(120, 40), tea.WithoutSignalHandler())
	pipe := newPipeline(ctx, func(ctx context.Context, _ func(steps.Event)) error { <-ctx.Done(); return nil })
	defer pipe.close()
	p := tea.NewProgram(newDeploy(ctx, DeployOptions{Steps: planSteps(), Now: clock}, color, pipe), opts...)
	done := make(chan struct{})
	go func() { _, _ = p.Run(); close(done) }()
	// The first frame and the question about the background come from
	// commands that run concurrently (Init's batch), in either order: with
	// colour on, both are waited for. With colour off the question is
	// never made (askBackground returns no command), so there is nothing
	// to wait for.
	drawn := func() bool {
		s := out.String()
		return strings.Contains(ansi.Strip(s), "Overall") && (!color || strings.Contains(s, ansi.RequestBackgroundColor))
	}
	deadline := time.Now().Add(5 * time.Second)
	for !drawn() {
		if time.Now().After(deadline) {
			t.Fatalf("no frame within 5 s:\n%q", out.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
	p.Quit()
	<-done
	return out.String()
}

// syncBuffer is a buffer the program writes to while the test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

var sgr = regexp.MustCompile(`\x1b\[([0-9;:]*)m`)

// hasColor reports whether s sets a foreground or background colour.
func hasColor(s string) bool {
	for _, m := range sgr.FindAllStringSubmatch(s, -1) {
		for _, p := range strings.FieldsFunc(m[1], func(r rune) bool { return r == ';' || r == ':' }) {
			n, _ := strconv.Atoi(p)
			if (n >= 30 && n <= 48 && n != 39) || (n >= 90 && n <= 107) {
				return true
			}
		}
	}
	return false
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
