package cli

import (
	"bytes"
	"strings"
	"testing"
)

func TestConfirmUninstallInATerminal(t *testing.T) {
	cases := []struct {
		purge bool
		typed string
		ok    bool
	}{
		{false, "y\n", true},
		{false, "YES\n", true},
		{false, "\n", false},
		{false, "", false},
		{true, "fineract\n", true},
		{true, "y\n", false},
		{true, "fineract-other\n", false},
	}
	for _, c := range cases {
		var out bytes.Buffer
		a := &app{f: testFactory(), io: &Streams{In: strings.NewReader(c.typed), Out: &out, InTTY: true, OutTTY: true}, project: "fineract", dir: "/opt/fineract-stack"}
		err := confirmUninstall(a, 3, c.purge, false)
		if (err == nil) != c.ok {
			t.Errorf("purge=%t typed %q: err=%v, want ok=%t", c.purge, c.typed, err, c.ok)
		}
		if c.purge && !strings.Contains(out.String(), "Type the project name") {
			t.Errorf("purge prompt does not ask for the project name: %q", out.String())
		}
		if err != nil && exitCode(err) != ExitUsage {
			t.Errorf("refusal exit code %d", exitCode(err))
		}
	}
}
