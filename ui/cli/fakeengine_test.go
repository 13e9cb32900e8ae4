package cli

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/fineract-installer/fineract-installer/compose"
	"github.com/fineract-installer/fineract-installer/compose/composetest"
	"github.com/fineract-installer/fineract-installer/ui/tui"
)

// testClock is the time of every test factory.
var testClock = time.Date(2031, 2, 3, 4, 5, 6, 0, time.UTC)

// testFactory builds nothing from the machine the tests run on: no
// engine (a command that needs one fails), a fixed clock, an empty
// environment (NO_COLOR set for the test run changes nothing) and a fixed
// host.
func testFactory() *factory {
	return &factory{
		Engine: func(context.Context) (*compose.Engine, error) {
			return nil, errors.New("this test gives the command no Docker engine")
		},
		Now:    func() time.Time { return testClock },
		Getenv: func(string) string { return "" },
		Host:   func() tui.HostFacts { return tui.HostFacts{Hostname: "bank.example.test", MemoryMiB: 16384} },
	}
}

// withEngine is testFactory whose engine answers from api.
func withEngine(api *composetest.API) *factory {
	f := testFactory()
	f.Engine = func(context.Context) (*compose.Engine, error) { return composetest.Engine(api), nil }
	return f
}

// runWith runs the program with f's dependencies and streams of its own;
// tty says whether they are terminals.
func runWith(t *testing.T, f *factory, tty bool, stdin string, args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	f.IO = &Streams{In: strings.NewReader(stdin), Out: &out, Err: &errb, InTTY: tty, OutTTY: tty, ErrTTY: tty}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	code := mainWith(ctx, args, f, BuildInfo{Version: "v0.0.0-test", Go: "go"})
	return result{code, out.String(), errb.String()}
}
