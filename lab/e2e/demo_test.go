package e2e

import (
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mattn/go-shellwords"

	"github.com/fineract-installer/fineract-installer/lab/labtest"
	"github.com/fineract-installer/fineract-installer/steps/answers"
)

// readmeFirstCommand returns the environment and the installer arguments of
// the first line of README's quick start ("VAR=value go run . ARGS...").
func readmeFirstCommand(t *testing.T) (env []string, args []string) {
	t.Helper()
	text, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, block, ok := strings.Cut(string(text), "```sh\n")
	if !ok {
		t.Fatal("README has no sh code block")
	}
	line, _, _ := strings.Cut(block, "\n")
	// Split as the reader's shell would (quotes, comments).
	p := shellwords.NewParser()
	p.ParseEnv, p.ParseBacktick = false, false
	words, err := p.Parse(strings.TrimSpace(strings.SplitN(line, " #", 2)[0]))
	if err != nil {
		t.Fatalf("README's first command %q: %v", line, err)
	}
	for len(words) > 0 && strings.Contains(words[0], "=") {
		name, value, _ := strings.Cut(words[0], "=")
		// The passphrase is the reader's to choose; the lab uses its own.
		if name == "FINERACT_UNSEAL_PASSPHRASE" {
			value = passphrase
		}
		env = append(env, name+"="+value)
		words = words[1:]
	}
	if len(words) < 3 || words[0] != "go" || words[1] != "run" || words[2] != "." {
		t.Fatalf("README's first command does not run the installer with `go run .`: %q", line)
	}
	return env, words[3:]
}

// TestReadmeFirstCommandInstallsTheDemo runs README's own first command,
// exactly as written (default install dir, project, networks and ports), to
// a passing checklist, then purges it. It never touches an installation that
// is already on the host.
func TestReadmeFirstCommandInstallsTheDemo(t *testing.T) {
	env, args := readmeFirstCommand(t)
	if strings.Join(args, " ") != "install --demo --yes" {
		t.Fatalf("README's first command is now %q: update this test to what it promises", args)
	}
	e := labtest.Engine(t)
	demo := answers.Defaults(answers.Demo)
	requireLabImages(t, e, demo)

	// The defaults belong to the host: refuse to run over anything there.
	var taken []string
	if _, err := os.Lstat(demo.InstallDir); err == nil {
		taken = append(taken, demo.InstallDir+" exists")
	}
	if st, err := e.Status(context.Background(), "fineract"); err == nil && len(st) > 0 {
		taken = append(taken, "the engine has containers of project fineract")
	}
	for _, port := range []string{"443", "80"} {
		l, err := net.Listen("tcp", ":"+port)
		if err != nil {
			taken = append(taken, "port "+port+" is in use")
			continue
		}
		l.Close()
	}
	if len(taken) > 0 {
		msg := "README's demo installs at the host's defaults, which are taken: " + strings.Join(taken, "; ")
		if labtest.Required() {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}

	bin := binary(t)
	ctx := ctxFor(t, 25*time.Minute)
	run := func(args ...string) (int, string) {
		cmd := exec.CommandContext(ctx, bin, args...)
		cmd.Env = append(append(os.Environ(), env...), "NO_COLOR=1")
		cmd.Stdin = nil
		out, err := cmd.CombinedOutput()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatalf("run %v: %v", args, err)
		}
		return code, string(out)
	}
	t.Cleanup(func() {
		if code, out := run("uninstall", "--purge", "--yes"); code != 0 {
			t.Errorf("uninstall --purge: exit %d\n%s", code, tail(out, 20))
		}
		_ = os.RemoveAll(filepath.Join("/run/fineract-stack", "fineract"))
	})

	start := time.Now()
	code, out := run(args...)
	t.Logf("README's first command: exit %d in %s", code, time.Since(start).Round(time.Second))
	if code != 0 {
		t.Fatalf("`%s` exit %d\n%s", strings.Join(args, " "), code, tail(out, 40))
	}
	code, out = run("validate")
	if code != 0 {
		t.Fatalf("validate after the demo install: exit %d\n%s", code, out)
	}
	// The demo's groups are core and monitoring: the monitoring checks ran.
	for _, want := range []string{"grafana", "prometheus"} {
		if !strings.Contains(strings.ToLower(out), want) {
			t.Errorf("validate's checklist does not mention %s:\n%s", want, out)
		}
	}
}
