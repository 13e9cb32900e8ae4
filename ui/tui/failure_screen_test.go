package tui

import (
	"errors"
	"strings"
	"testing"

	"github.com/fineract-installer/fineract-installer/steps"
)

// blocks splits the failure screen into its labelled blocks: each label's
// text, joined from the lines that start with it and the lines indented
// under it. A line of a block that starts anywhere else fails the test.
func blocks(t *testing.T, screen string, width int) map[string]string {
	t.Helper()
	out := map[string]string{}
	current := ""
	for _, l := range strings.Split(plain(screen), "\n") {
		if cellWidth(l) > width {
			t.Errorf("line wider than %d: %q", width, l)
		}
		switch {
		case strings.HasPrefix(l, "Cause  "), strings.HasPrefix(l, "Hint   "):
			current = strings.TrimSpace(l[:6])
			out[current] = strings.TrimSpace(l[7:])
		case current != "" && strings.HasPrefix(l, "       ") && strings.TrimSpace(l) != "":
			out[current] += " " + strings.TrimSpace(l)
		case current != "" && strings.TrimSpace(l) != "" && out[current] != "":
			t.Errorf("a line of the %s block is not indented under it: %q\n%s", current, l, plain(screen))
			current = ""
		default:
			current = ""
		}
	}
	return out
}

// The failure screen shows the cause and the hint as blocks of their own,
// each wrapped within itself: a cause of several lines (errors joined one
// per line) stays in the Cause block, and the hint of a run that stopped
// outside a step is taken out of its error and shown under Hint, not lost
// or run into the cause.
func TestFailureScreenKeepsCauseAndHintApart(t *testing.T) {
	const w = 60
	cause := "answers.yaml:3: network.app.name \"App Net\" must be lower-case letters, digits, '-' or '_'\nanswers.yaml:9: vault.key_threshold 9 is more than vault.key_shares 5"
	hint := "fix the answers file, then run the same command again; finished steps are skipped and nothing is lost"

	failed := newTestDeploy(t, DeployOptions{Steps: planSteps()}, w+1, 30)
	failed.rows[2].status = stepFailed
	failed.rows[2].failure = &steps.Event{Kind: steps.KindFailed, Step: failed.rows[2].id, Cause: cause, Hint: hint}

	stopped := newTestDeploy(t, DeployOptions{Steps: planSteps()}, w+1, 30)
	stopped.runErr = steps.Fail(errors.New(strings.ReplaceAll(cause, "\n", "; ")), hint)

	for name, m := range map[string]deployModel{"failed step": failed, "stopped run": stopped} {
		got := blocks(t, m.failureText(w), w)
		wantCause := strings.Join(strings.Fields(cause), " ")
		if name == "stopped run" {
			wantCause = strings.Join(strings.Fields(strings.ReplaceAll(cause, "\n", "; ")), " ")
		}
		if got["Cause"] != wantCause {
			t.Errorf("%s: Cause block %q; want %q", name, got["Cause"], wantCause)
		}
		if got["Hint"] != hint {
			t.Errorf("%s: Hint block %q; want %q", name, got["Hint"], hint)
		}
	}
}
