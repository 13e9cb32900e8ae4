package cli

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/fineract-installer/fineract-installer/steps"
)

// A command's error keeps its advice apart from its cause: the cause is
// one line (what `cause` carries in JSON and the error line in text), and
// the advice is the hint, printed on a hint line of its own.
func TestUsageErrorsCarryTheirAdviceAsAHint(t *testing.T) {
	var out, errb bytes.Buffer
	a := &app{io: &Streams{In: strings.NewReader(""), Out: &out, Err: &errb}}
	root := newRootCmd(a)
	root.SetArgs([]string{"status", "--bogus"})
	root.SetOut(&out)
	root.SetErr(&errb)
	err := root.ExecuteContext(context.Background())
	if exitCode(err) != ExitUsage {
		t.Fatalf("exit %d for %v", exitCode(err), err)
	}
	x := steps.Explain(err)
	if x.Cause != "unknown flag: --bogus" || x.Hint != "run `fineract-installer status --help` for the flags" {
		t.Errorf("cause %q hint %q", x.Cause, x.Hint)
	}

	r := run(t, "", "status", "--bogus")
	want := "error: unknown flag: --bogus\n  hint: run `fineract-installer status --help` for the flags\n"
	if r.code != ExitUsage || r.err != want {
		t.Errorf("exit %d stderr %q; want %q", r.code, r.err, want)
	}
}
