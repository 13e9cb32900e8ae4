package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"

	"github.com/fineract-installer/fineract-installer/compose"
	"github.com/fineract-installer/fineract-installer/lab/labtest"
	"github.com/fineract-installer/fineract-installer/steps"
	"github.com/fineract-installer/fineract-installer/steps/answers"
	"github.com/fineract-installer/fineract-installer/steps/installdir"
)

type result struct {
	code     int
	out, err string
}

func run(t *testing.T, stdin string, args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	io := &Streams{In: strings.NewReader(stdin), Out: &out, Err: &errb}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	code := Main(ctx, args, io, BuildInfo{Version: "v0.0.0-test", Go: "go"})
	return result{code, out.String(), errb.String()}
}

func TestExitCodesForBadInput(t *testing.T) {
	cases := []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"frobnicate"}, ExitUsage, `unknown command "frobnicate"`},
		{[]string{"status", "--bogus"}, ExitUsage, "unknown flag: --bogus"},
		{[]string{"version", "-o", "yaml"}, ExitUsage, `--output "yaml" is not known`},
		{[]string{"answers", "init", "--profile", "staging"}, ExitUsage, `unknown profile "staging"`},
		{[]string{"version", "extra"}, ExitUsage, "takes no arguments"},
		{nil, ExitUsage, "no terminal to run the wizard in"},
		// The project name becomes part of host paths (its secrets directory).
		{[]string{"status", "--project", "../../etc"}, ExitUsage, `invalid project name "../../etc"`},
	}
	for _, c := range cases {
		r := run(t, "", c.args...)
		if r.code != c.code || !strings.Contains(r.err, c.msg) {
			t.Errorf("%v: exit %d stderr %q; want exit %d and %q", c.args, r.code, r.err, c.code, c.msg)
		}
	}
}

func TestEngineUnreachableExitsThree(t *testing.T) {
	t.Setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock")
	for _, args := range [][]string{{"status"}, {"logs"}, {"uninstall", "--yes"}} {
		r := run(t, "", args...)
		if r.code != ExitHostNotOK || !strings.Contains(r.err, "docker engine unreachable") || !strings.Contains(r.err, "DOCKER_HOST") {
			t.Errorf("%v: exit %d stderr %q", args, r.code, r.err)
		}
	}
}

func TestVersionJSON(t *testing.T) {
	r := run(t, "", "version", "--output", "json")
	var b BuildInfo
	if err := json.Unmarshal([]byte(r.out), &b); err != nil || b.Version != "v0.0.0-test" || r.code != 0 {
		t.Fatalf("exit %d out %q: %v", r.code, r.out, err)
	}
}

func TestAnswersInitWritesLoadableFile(t *testing.T) {
	r := run(t, "", "answers", "init", "--profile", "demo")
	a, err := answers.Parse("init.yaml", []byte(r.out))
	if err != nil || r.code != 0 {
		t.Fatalf("exit %d: %v\n%s", r.code, err, r.out)
	}
	if a.Profile != answers.Demo {
		t.Errorf("profile %s", a.Profile)
	}
}

// installDemo brings up a two-service project the way the installer would
// name it, with one service writing to both streams.
func installDemo(t *testing.T) (project string, e *compose.Engine) {
	e = labtest.Engine(t)
	img := labtest.Busybox(t, e)
	project = labtest.Project(t, e)
	_, load := labtest.WriteProject(t, project, labtest.Hardened+fmt.Sprintf(`
services:
  api:
    image: %[1]s
    <<: *hardened
    init: true
    command: ["sh", "-c", "echo api-ready; echo api-warning >&2; sleep 3600"]
    healthcheck: {test: ["CMD", "true"], interval: 1s}
    volumes: [data:/data]
  web:
    image: %[1]s
    <<: *hardened
    init: true
    command: ["sh", "-c", "echo web-ready; sleep 3600"]
    ports: ["127.0.0.1:0:80"]
volumes:
  data: {}
`, img), nil)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := e.Up(ctx, load(), compose.UpOptions{}, nil); err != nil {
		t.Fatal(err)
	}
	return project, e
}

func TestStatusAndLogsOnARunningProject(t *testing.T) {
	project, _ := installDemo(t)

	r := run(t, "", "status", "--project", project, "-o", "json")
	var st struct {
		Project  string                  `json:"project"`
		Services []compose.ServiceStatus `json:"services"`
	}
	if err := json.Unmarshal([]byte(r.out), &st); err != nil || r.code != 0 {
		t.Fatalf("status json: exit %d %v\n%s%s", r.code, err, r.out, r.err)
	}
	if len(st.Services) != 2 || st.Services[0].Service != "api" || st.Services[0].Health != "healthy" || st.Services[1].State != "running" {
		t.Errorf("status: %+v", st.Services)
	}
	if len(st.Services[1].Ports) != 1 || st.Services[1].Ports[0].HostIP != "127.0.0.1" || st.Services[1].Ports[0].ContainerPort != 80 {
		t.Errorf("web ports: %+v", st.Services[1].Ports)
	}
	text := run(t, "", "status", "--project", project, "--no-color")
	if !strings.Contains(text.out, "SERVICE") || !strings.Contains(text.out, "healthy") || strings.Contains(text.out, "\x1b[") {
		t.Errorf("status text:\n%s", text.out)
	}

	r = run(t, "", "logs", "--project", project, "--no-color")
	for _, want := range []string{"api | api-ready", "api ! api-warning", "web | web-ready"} {
		if !strings.Contains(r.out, want) {
			t.Errorf("logs: want %q in\n%s", want, r.out)
		}
	}
	r = run(t, "", "logs", "web", "--project", project, "-o", "json")
	lines := strings.Split(strings.TrimSpace(r.out), "\n")
	var rec struct {
		Type, Service, Stream, Text string
	}
	if len(lines) != 1 || json.Unmarshal([]byte(lines[0]), &rec) != nil || rec.Type != "log" || rec.Service != "web" || rec.Stream != "stdout" || rec.Text != "web-ready" {
		t.Errorf("logs json: %q", r.out)
	}
	r = run(t, "", "logs", "nope", "--project", project)
	if r.code != ExitUsage || !strings.Contains(r.err, `no service "nope"`) {
		t.Errorf("unknown service: exit %d %q", r.code, r.err)
	}
}

func TestStatusExitsOneWhenAServiceIsDown(t *testing.T) {
	project, e := installDemo(t)
	timeout := 2
	if err := e.API().ContainerStop(context.Background(), project+"-web-1", container.StopOptions{Timeout: &timeout}); err != nil {
		t.Fatal(err)
	}
	r := run(t, "", "status", "--project", project, "--no-color")
	if r.code != ExitFailed || !strings.Contains(r.out, "exited") {
		t.Errorf("exit %d\n%s", r.code, r.out)
	}
}

func TestUninstallNeedsConsentAndKeepsDataByDefault(t *testing.T) {
	project, e := installDemo(t)
	dir := filepath.Join(t.TempDir(), "stack")
	if err := installdir.Mark(dir); err != nil {
		t.Fatal(err)
	}

	r := run(t, "", "uninstall", "--project", project, "--dir", dir)
	if r.code != ExitUsage || !strings.Contains(r.err, "--yes") {
		t.Fatalf("uninstall without a terminal or --yes: exit %d %q", r.code, r.err)
	}
	if st, _ := e.Status(context.Background(), project); len(st) != 2 {
		t.Fatalf("refused uninstall still removed containers: %+v", st)
	}

	secret := deliverTestSecret(t, project)

	r = run(t, "", "uninstall", "--project", project, "--dir", dir, "--yes")
	if r.code != 0 {
		t.Fatalf("uninstall: exit %d %s", r.code, r.err)
	}
	if _, err := os.Stat(secret); err != nil || !strings.Contains(r.out, "delivered secret files in "+installdir.ProjectRunDir(project)) {
		t.Errorf("plain uninstall must keep the delivered secrets and say so (%v):\n%s", err, r.out)
	}
	if st, _ := e.Status(context.Background(), project); len(st) != 0 {
		t.Errorf("containers left: %+v", st)
	}
	if _, err := e.API().VolumeInspect(context.Background(), project+"_data"); err != nil {
		t.Errorf("plain uninstall removed the data volume: %v", err)
	}
	if _, err := os.Stat(dir); err != nil {
		t.Errorf("plain uninstall removed the install dir: %v", err)
	}

	r = run(t, "", "uninstall", "--project", project, "--dir", dir, "--purge", "--yes", "-o", "json")
	if r.code != 0 {
		t.Fatalf("purge: exit %d %s", r.code, r.err)
	}
	if _, err := e.API().VolumeInspect(context.Background(), project+"_data"); err == nil {
		t.Error("purge left the data volume")
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("purge left the install dir: %v", err)
	}
	if _, err := os.Stat(installdir.ProjectRunDir(project)); !os.IsNotExist(err) {
		t.Errorf("purge left the delivered secrets until the next reboot: %v", err)
	}
	for _, line := range strings.Split(strings.TrimSpace(r.out), "\n") {
		var ev map[string]any
		if err := json.Unmarshal([]byte(line), &ev); err != nil || ev["type"] != "event" {
			t.Errorf("purge json output line %q: %v", line, err)
		}
	}
}

func TestPurgeLeavesADirectoryThatIsNotAnInstallDir(t *testing.T) {
	project, _ := installDemo(t)
	dir := t.TempDir()
	precious := filepath.Join(dir, "thesis.tex")
	if err := os.WriteFile(precious, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	r := run(t, "", "uninstall", "--project", project, "--dir", dir, "--purge", "--yes", "--no-color")
	if r.code != 0 || !strings.Contains(r.out, "left in place") {
		t.Fatalf("exit %d out %q err %q", r.code, r.out, r.err)
	}
	if _, err := os.Stat(precious); err != nil {
		t.Fatalf("purge deleted a directory the installer did not make: %v", err)
	}
}

func TestStatusShowsRecordedSteps(t *testing.T) {
	project, _ := installDemo(t)
	dir := t.TempDir()
	rec := &steps.State{Version: 1, Project: project, Order: []string{"preflight", "services"}, Steps: map[string]*steps.StepState{
		"preflight": {Status: steps.StatusDone},
		"services":  {Status: steps.StatusFailed, Error: "service fineract is unhealthy"},
	}}
	if err := rec.Save(dir); err != nil {
		t.Fatal(err)
	}
	r := run(t, "", "status", "--project", project, "--dir", dir, "--no-color")
	for _, want := range []string{"preflight", "done", "services", "failed: service fineract is unhealthy", "SERVICE"} {
		if !strings.Contains(r.out, want) {
			t.Errorf("status text lacks %q:\n%s", want, r.out)
		}
	}
	r = run(t, "", "status", "--project", project, "--dir", dir, "-o", "json")
	var doc struct {
		Steps []steps.NamedStepState `json:"steps"`
	}
	if err := json.Unmarshal([]byte(r.out), &doc); err != nil || len(doc.Steps) != 2 || doc.Steps[1].Status != steps.StatusFailed {
		t.Errorf("status json steps: %v %+v", err, doc.Steps)
	}
}

// deliverTestSecret puts a secret file where the vault step delivers the
// project's secrets, as an install would have.
func deliverTestSecret(t *testing.T, project string) string {
	t.Helper()
	if os.Geteuid() != 0 {
		if os.Getenv("CI") == "true" {
			t.Fatal("this test writes under /run/fineract-stack: run the suite as root")
		}
		t.Skip("needs root: it writes under /run/fineract-stack")
	}
	dir, err := installdir.EnsureSecretsTmpfs(project)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = installdir.RemoveSecrets(project) })
	p := filepath.Join(dir, "postgres", "superuser_password")
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte("not-a-real-password-1234"), 0o400); err != nil {
		t.Fatal(err)
	}
	return p
}

// `status` exits 0 only while the stack runs. After `uninstall` (data
// kept) the installation is uninstalled: status says so, lists no step as
// done (the containers those steps made are gone) and exits 1; before, it
// exited 0 and listed every step as done. Its JSON says "uninstalled" with
// the time, and holds no zero time ("started" of a step found done at its
// check, which never started). Every event uninstall prints carries its
// time.
func TestStatusAfterUninstallSaysUninstalledAndExitsOne(t *testing.T) {
	project, _ := installDemo(t)
	dir := filepath.Join(t.TempDir(), "stack")
	if err := installdir.Mark(dir); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	rec := &steps.State{Version: 1, Project: project, Order: []string{"preflight", "services"}, Steps: map[string]*steps.StepState{
		"preflight": {Status: steps.StatusDone, Finished: now},
		"services":  {Status: steps.StatusDone, Started: now, Finished: now},
	}}
	if err := rec.Save(dir); err != nil {
		t.Fatal(err)
	}
	r := run(t, "", "status", "--project", project, "--dir", dir, "-o", "json")
	if r.code != 0 || !strings.Contains(r.out, `"state":"running"`) || strings.Contains(r.out, "0001-01-01") {
		t.Errorf("status of the running stack: exit %d\n%s", r.code, r.out)
	}

	r = run(t, "", "uninstall", "--project", project, "--dir", dir, "--yes", "-o", "json")
	if r.code != 0 {
		t.Fatalf("uninstall: exit %d %s", r.code, r.err)
	}
	for _, line := range strings.Split(strings.TrimSpace(r.out), "\n") {
		var ev struct {
			Type string    `json:"type"`
			Time time.Time `json:"time"`
		}
		if err := json.Unmarshal([]byte(line), &ev); err != nil || ev.Type != "event" || ev.Time.IsZero() {
			t.Errorf("uninstall event without its time: %s", line)
		}
	}

	r = run(t, "", "status", "--project", project, "--dir", dir, "--no-color")
	if r.code != ExitFailed || !strings.Contains(r.out, "is uninstalled") || strings.Contains(r.out, " done") {
		t.Errorf("status after uninstall: want exit 1 saying uninstalled, no step done: exit %d\n%s", r.code, r.out)
	}
	r = run(t, "", "status", "--project", project, "--dir", dir, "-o", "json")
	var doc struct {
		State       string                 `json:"state"`
		Uninstalled time.Time              `json:"uninstalled"`
		Steps       []steps.NamedStepState `json:"steps"`
	}
	if err := json.Unmarshal([]byte(r.out), &doc); err != nil || r.code != ExitFailed || doc.State != "uninstalled" || doc.Uninstalled.IsZero() || len(doc.Steps) != 0 {
		t.Errorf("status -o json after uninstall: exit %d %v\n%s", r.code, err, r.out)
	}
	if strings.Contains(r.out, "0001-01-01") {
		t.Errorf("status -o json holds a zero time:\n%s", r.out)
	}

	// A stack never installed here is not running either.
	r = run(t, "", "status", "--project", project+"-never", "--dir", filepath.Join(t.TempDir(), "none"), "-o", "json")
	if r.code != ExitFailed || !strings.Contains(r.out, `"state":"not installed"`) {
		t.Errorf("status of a project never installed: exit %d\n%s", r.code, r.out)
	}
}

// `completion SHELL` prints the shell's completion script for the
// program's commands.
func TestCompletionScriptsNameTheCommands(t *testing.T) {
	for _, shell := range []string{"bash", "zsh", "fish", "powershell"} {
		r := run(t, "", "completion", shell)
		if r.code != 0 || !strings.Contains(r.out, "fineract-installer") {
			t.Errorf("completion %s: exit %d\n%s", shell, r.code, r.err)
		}
	}
}
