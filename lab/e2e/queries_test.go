package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/fineract-installer/fineract-installer/lab/labtest"
)

// terminalQueries are the questions a program can put to a terminal,
// whose answers the terminal types into the program's input.
var terminalQueries = []struct {
	what string
	re   *regexp.Regexp
}{
	{"a colour (OSC 10, 11, 12, 4) or the clipboard (OSC 52)", regexp.MustCompile(`\x1b\][0-9]+;(?:[^\x07\x1b]*;)?\?(?:\x07|\x1b\\)`)},
	{"the cursor position or the terminal's status (DSR)", regexp.MustCompile(`\x1b\[\??[0-9;]*n`)},
	{"the device attributes (DA)", regexp.MustCompile(`\x1b\[[>=]?[0-9;]*c`)},
	{"the terminal's name and version (XTVERSION)", regexp.MustCompile(`\x1b\[>[0-9]*q`)},
	{"a mode's setting (DECRQM)", regexp.MustCompile(`\x1b\[\??[0-9;]*\$p`)},
	{"the keyboard protocol (kitty)", regexp.MustCompile(`\x1b\[\?u`)},
	{"the window's size or position (XTWINOPS)", regexp.MustCompile(`\x1b\[(?:13|14|15|16|18|19|20|21)(?:;[0-9]*)*t`)},
	{"a capability or a setting (XTGETTCAP, DECRQSS)", regexp.MustCompile(`\x1bP[+$]q`)},
}

// Commands that draw no full-screen UI ask the terminal nothing, with
// colour off (NO_COLOR, --no-color) or on: each runs on a terminal of its
// own whose every byte is kept. Bubble Tea v1 asked for the background
// colour and the cursor position in a package init, before main ran, in
// every command of any binary that linked it.
func TestCommandsSendNoTerminalQueries(t *testing.T) {
	bin := binary(t)
	colours := []struct {
		name  string
		env   []string
		flags []string
	}{
		{"NO_COLOR", []string{"NO_COLOR=1"}, nil},
		{"--no-color", nil, []string{"--no-color"}},
		{"colour on", nil, nil},
	}
	commands := []struct {
		name string
		args []string
		// answer plays the person's part, if there is one.
		answer func(*labtest.RawTerminal)
		exit   int
		says   string
	}{
		{name: "version", args: []string{"version"}, says: "fineract-installer"},
		{name: "answers init", args: []string{"answers", "init"}, says: "# fineract-installer answers file."},
		{name: "status", args: []string{"status"}, exit: 3, says: "docker engine unreachable"},
		{name: "accessible wizard left with Ctrl-C", args: []string{"--accessible", "--project", "fit-queries"},
			answer: func(term *labtest.RawTerminal) {
				term.WaitFor("Run the checks again?")
				term.Type("\x03")
			},
			exit: 130, says: "Quit the wizard. Nothing has been changed on this host."},
	}
	for _, c := range colours {
		for _, cmd := range commands {
			t.Run(c.name+"/"+cmd.name, func(t *testing.T) {
				t.Parallel()
				work := t.TempDir()
				args := append(append([]string{}, c.flags...), cmd.args...)
				args = append(args, "--dir", filepath.Join(work, "stack"))
				run := exec.Command(bin, args...)
				run.Dir = work
				// No engine answers: nothing here may depend on one.
				run.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + work, "TERM=xterm-256color",
					"DOCKER_HOST=unix://" + filepath.Join(work, "no-engine.sock")}, c.env...)
				term := labtest.StartRawTerminal(t, run)
				if cmd.answer != nil {
					cmd.answer(term)
				}
				out, exit := term.Wait()
				if exit != cmd.exit || !strings.Contains(out, cmd.says) {
					t.Fatalf("exit %d, want %d, and the output must say %q:\n%s", exit, cmd.exit, cmd.says, out)
				}
				for _, q := range terminalQueries {
					if found := q.re.FindAllString(out, -1); len(found) > 0 {
						t.Errorf("the program asked the terminal for %s: %q", q.what, found)
					}
				}
				if t.Failed() {
					t.Logf("everything it wrote: %q", out)
				}
			})
		}
	}
}

// screenQueries are what Bubble Tea asks a terminal it takes over:
// whether it has synchronised output and Unicode widths (DECRQM 2026 and
// 2027) and which keyboard protocol it speaks (kitty).
var screenQueries = map[string]bool{"\x1b[?2026$p": true, "\x1b[?2027$p": true, "\x1b[?u": true}

// The full-screen wizard asks the terminal only what Bubble Tea needs to
// read keys and draw, and for its background colour only with colour on:
// with colour off no colour is drawn, so nothing about colours is asked.
func TestFullScreenWizardAsksForColoursOnlyWithColourOn(t *testing.T) {
	bin := binary(t)
	colours := []struct {
		name  string
		env   []string
		flags []string
		color bool
	}{
		{"NO_COLOR", []string{"NO_COLOR=1"}, nil, false},
		{"--no-color", nil, []string{"--no-color"}, false},
		{"colour on", nil, nil, true},
	}
	for _, c := range colours {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			work := t.TempDir()
			run := exec.Command(bin, append(c.flags, "--dir", filepath.Join(work, "stack"), "--project", "fit-queries")...)
			run.Dir = work
			run.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + work, "TERM=xterm-256color",
				"DOCKER_HOST=unix://" + filepath.Join(work, "no-engine.sock")}, c.env...)
			term := labtest.StartRawTerminal(t, run)
			term.WaitFor("What will happen")
			term.Type("\x03")
			term.WaitFor("Quit the wizard?")
			term.Type("y")
			out, exit := term.Wait()
			if exit != 130 {
				t.Fatalf("leaving the wizard exited %d, want 130:\n%q", exit, out)
			}
			colours, others := terminalQueries[0], terminalQueries[1:]
			asked := colours.re.FindAllString(out, -1)
			if c.color && (len(asked) != 1 || !strings.HasPrefix(asked[0], "\x1b]11;?")) {
				t.Errorf("with colour on the wizard asked for %q, want the background colour (OSC 11) once", asked)
			}
			if !c.color && len(asked) > 0 {
				t.Errorf("with colour off the wizard asked the terminal for %s: %q", colours.what, asked)
			}
			for _, q := range others {
				for _, seq := range q.re.FindAllString(out, -1) {
					if !screenQueries[seq] {
						t.Errorf("the wizard asked the terminal for %s: %q", q.what, seq)
					}
				}
			}
			if t.Failed() {
				t.Logf("everything it wrote: %q", out)
			}
		})
	}
}
