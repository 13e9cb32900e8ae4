package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"

	"github.com/fineract-installer/fineract-installer/compose"
	"github.com/fineract-installer/fineract-installer/compose/composetest"
	"github.com/fineract-installer/fineract-installer/steps/installdir"
)

// shop is a project of two services, both running; a container of
// another project sits on the same engine.
func shop() *composetest.API {
	api := composetest.New()
	api.Containers = []composetest.Container{
		{ID: "c-api", Project: "fakeshop", Service: "api", Image: "busybox", State: container.StateRunning, Health: "healthy"},
		{ID: "c-web", Name: "fakeshop-web-1", Project: "fakeshop", Service: "web", Image: "busybox", State: container.StateRunning,
			Ports: []container.Port{{IP: "127.0.0.1", PublicPort: 8443, PrivatePort: 443, Type: "tcp"}}},
		{ID: "c-other", Project: "other", Service: "db", Image: "busybox", State: container.StateRunning},
	}
	return api
}

// `status` says a stack with a stopped container is degraded, shows the
// exit code, and exits 1; the same stack running exits 0. Containers of
// other projects are not the stack's.
func TestStatusOfAStackWithAStoppedContainer(t *testing.T) {
	dir := t.TempDir()
	running := runWith(t, withEngine(shop()), false, "", "status", "--project", "fakeshop", "--dir", dir)
	if running.code != ExitOK || !strings.Contains(running.out, "Project fakeshop is running.") {
		t.Fatalf("status of a running stack: exit %d\n%s%s", running.code, running.out, running.err)
	}

	api := shop()
	api.Containers[1].State, api.Containers[1].ExitCode, api.Containers[1].Restarts = container.StateExited, 137, 3
	r := runWith(t, withEngine(api), false, "", "status", "--project", "fakeshop", "--dir", dir)
	if r.code != ExitFailed {
		t.Errorf("status with a stopped container: exit %d, want %d", r.code, ExitFailed)
	}
	for _, want := range []string{"Project fakeshop is degraded.", "exited (137)", "127.0.0.1:8443->443/tcp", "fakeshop-web-1"} {
		if !strings.Contains(r.out, want) {
			t.Errorf("status does not say %q:\n%s", want, r.out)
		}
	}
	if strings.Contains(r.out, "db") {
		t.Errorf("status shows another project's container:\n%s", r.out)
	}

	r = runWith(t, withEngine(api), false, "", "status", "--project", "fakeshop", "--dir", dir, "-o", "json")
	var doc statusDoc
	if err := json.Unmarshal([]byte(r.out), &doc); err != nil {
		t.Fatalf("status -o json: %v\n%s", err, r.out)
	}
	if r.code != ExitFailed || doc.State != stackDegraded || len(doc.Services) != 2 {
		t.Fatalf("status -o json: exit %d, state %q, %d services\n%s", r.code, doc.State, len(doc.Services), r.out)
	}
	web := doc.Services[1]
	if web.Service != "web" || web.State != "exited" || web.ExitCode != 137 || web.Restarts != 3 {
		t.Errorf("status -o json reports web as %+v", web)
	}
}

// `status` of an installation whose services have no container left says
// it is down, and lists every service it expects.
func TestStatusOfAnInstallationWithNoContainer(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "stack")
	if err := installdir.Mark(dir); err != nil {
		t.Fatal(err)
	}
	r := runWith(t, testFactory(), false, "", "answers", "init", "--profile", "demo")
	if err := os.WriteFile(filepath.Join(dir, "answers.yaml"), []byte(r.out), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "state.json"), []byte(`{"steps":{"install-dir":{"status":"done"}}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	r = runWith(t, withEngine(composetest.New()), false, "", "status", "--dir", dir, "-o", "json")
	var doc statusDoc
	if err := json.Unmarshal([]byte(r.out), &doc); err != nil {
		t.Fatalf("status -o json: %v\n%s%s", err, r.out, r.err)
	}
	if r.code != ExitFailed || doc.State != stackDown || !slices.Contains(doc.Missing, "fineract") || !slices.Contains(doc.Missing, "vault") {
		t.Errorf("status of an installation without containers: exit %d, state %q, missing %v", r.code, doc.State, doc.Missing)
	}
}

// `logs` interleaves the services' lines by time, marks stdout "|" and
// stderr "!", keeps to the services named, and refuses a service the
// stack does not have with exit 2.
func TestLogsInterleaveByTimeAndKeepStreamsApart(t *testing.T) {
	t0 := time.Date(2031, 2, 3, 10, 0, 0, 0, time.UTC)
	api := shop()
	api.Containers[0].Logs = []composetest.LogLine{{Time: t0, Text: "api starting"}, {Time: t0.Add(2 * time.Second), Stderr: true, Text: "api warning"}}
	api.Containers[1].Logs = []composetest.LogLine{{Time: t0.Add(time.Second), Text: "web ready"}}
	api.Containers[2].Logs = []composetest.LogLine{{Time: t0, Text: "another project's line"}}

	r := runWith(t, withEngine(api), false, "", "logs", "--project", "fakeshop")
	want := "api | api starting\nweb | web ready\napi ! api warning\n"
	if r.code != ExitOK || r.out != want {
		t.Errorf("logs: exit %d\n%s\nwant\n%s", r.code, r.out, want)
	}
	r = runWith(t, withEngine(api), false, "", "logs", "--project", "fakeshop", "--tail", "1", "api")
	if want := "api ! api warning\n"; r.code != ExitOK || r.out != want {
		t.Errorf("logs --tail 1 api: exit %d %q, want %q", r.code, r.out, want)
	}
	r = runWith(t, withEngine(api), false, "", "logs", "--project", "fakeshop", "-o", "json", "web")
	var line compose.LogLine
	if err := json.Unmarshal([]byte(r.out), &line); err != nil || line.Service != "web" || line.Text != "web ready" || line.Stream != compose.Stdout {
		t.Errorf("logs -o json web: %v %+v\n%s", err, line, r.out)
	}
	r = runWith(t, withEngine(api), false, "", "logs", "--project", "fakeshop", "db")
	if r.code != ExitUsage || !strings.Contains(r.err, `no service "db"`) || !strings.Contains(r.err, "api, web") {
		t.Errorf("logs of a service the stack lacks: exit %d\n%s", r.code, r.err)
	}
}

// `install` without an engine stops at preflight with exit 3, says why,
// and leaves the host as it was: no install dir.
func TestInstallWithoutEngineStopsAtPreflight(t *testing.T) {
	f := testFactory()
	f.Engine = func(ctx context.Context) (*compose.Engine, error) {
		return nil, fmt.Errorf("%w at unix:///test.sock: connection refused", compose.ErrEngineUnreachable)
	}
	t.Setenv(passphraseEnv, "correct horse battery staple for the preflight test")
	dir := filepath.Join(t.TempDir(), "stack")
	r := runWith(t, f, false, "", "install", "--demo", "--yes", "--dir", dir, "--project", "preflighttest")
	if r.code != ExitHostNotOK {
		t.Errorf("install without an engine: exit %d, want %d\n%s%s", r.code, ExitHostNotOK, r.out, r.err)
	}
	if !strings.Contains(r.out, "unix:///test.sock: connection refused") {
		t.Errorf("preflight does not say why the engine is missing:\n%s", r.out)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("a failed preflight made the install dir: %v", err)
	}
}

// `uninstall` removes nothing unless confirmed: without a terminal it
// needs --yes, and --purge needs the project name typed back. Confirmed,
// it removes the project's containers and networks and no one else's.
func TestUninstallRemovesNothingUnlessConfirmed(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "stack")
	if err := installdir.Mark(dir); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name  string
		tty   bool
		stdin string
		args  []string
		msg   string
	}{
		{"no terminal, no --yes", false, "", nil, "pass --yes to confirm when not running in a terminal"},
		{"no terminal, --purge", false, "", []string{"--purge"}, "pass --yes to confirm when not running in a terminal"},
		{"answered no", true, "n\n", nil, "not confirmed; nothing was changed"},
		{"purge, wrong name typed", true, "fineract\n", []string{"--purge"}, "not confirmed; nothing was removed"},
		{"purge, nothing typed", true, "", []string{"--purge"}, "not confirmed; nothing was removed"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			api := shop()
			r := runWith(t, withEngine(api), c.tty, c.stdin, append([]string{"uninstall", "--project", "fakeshop", "--dir", dir}, c.args...)...)
			if r.code != ExitUsage || !strings.Contains(r.err, c.msg) {
				t.Errorf("exit %d, stderr %q; want exit %d and %q", r.code, r.err, ExitUsage, c.msg)
			}
			if got := api.Removed(); len(got) != 0 {
				t.Errorf("the refused uninstall removed %v", got)
			}
			if ok, err := installdir.Exists(dir); !ok || err != nil {
				t.Errorf("the refused uninstall touched the install dir: %v %v", ok, err)
			}
		})
	}

	api := shop()
	r := runWith(t, withEngine(api), true, "y\n", "uninstall", "--project", "fakeshop", "--dir", dir)
	got := api.Removed()
	slices.Sort(got)
	if want := []string{"container c-api", "container c-web"}; r.code != ExitOK || !slices.Equal(got, want) {
		t.Errorf("confirmed uninstall: exit %d, removed %v, want %v\n%s%s", r.code, got, want, r.out, r.err)
	}
}

// On a terminal, output is coloured unless NO_COLOR (read through the
// factory, so the environment of the test run does not count) or
// --no-color says otherwise.
func TestColourFollowsNoColorAndTheFlag(t *testing.T) {
	for _, c := range []struct {
		name     string
		noColor  string
		args     []string
		coloured bool
	}{
		{"terminal", "", nil, true},
		{"NO_COLOR set", "1", nil, false},
		{"--no-color", "", []string{"--no-color"}, false},
	} {
		f := withEngine(shop())
		f.Getenv = func(key string) string {
			if key == "NO_COLOR" {
				return c.noColor
			}
			return ""
		}
		r := runWith(t, f, true, "", append([]string{"status", "--project", "fakeshop", "--dir", t.TempDir()}, c.args...)...)
		if got := strings.Contains(r.out, "\x1b["); got != c.coloured || r.code != ExitOK {
			t.Errorf("%s: exit %d, coloured %v, want %v\n%q", c.name, r.code, got, c.coloured, r.out)
		}
	}
}
