// Package e2e runs the real installer binary against the lab: local images
// tagged with the exact references the assets use, a real Docker engine and
// a real Vault. It needs what lab/test.sh prepares (engine, lab images).
package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/api/types/volume"

	"github.com/fineract-installer/fineract-installer/assets"
	"github.com/fineract-installer/fineract-installer/compose"
	"github.com/fineract-installer/fineract-installer/lab/labtest"
	"github.com/fineract-installer/fineract-installer/steps"
	"github.com/fineract-installer/fineract-installer/steps/answers"
	"github.com/fineract-installer/fineract-installer/ui/cli/schema"
)

const passphrase = "lab classroom passphrase"

// binary builds the installer once per test run.
func binary(t *testing.T) string {
	t.Helper()
	out := filepath.Join(os.TempDir(), "fineract-installer-e2e")
	cmd := exec.Command("go", "build", "-o", out, ".")
	cmd.Dir = "../.."
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build the installer: %v\n%s", err, b)
	}
	return out
}

// stack is one installation made for a test, with its own project name,
// install dir, networks and gateway ports, so tests never collide.
type stack struct {
	t       *testing.T
	bin     string
	project string
	dir     string
	answers string
	engine  *compose.Engine
	ans     answers.Answers
	// bundle is the stack rendered from ans: its services and images.
	bundle assets.Bundle
}

// requireLabImages stops the test when a lab image the answers need is
// missing: the installer would otherwise pull it from a registry. It
// returns the rendered stack.
func requireLabImages(t *testing.T, e *compose.Engine, a answers.Answers) assets.Bundle {
	t.Helper()
	b, err := assets.Render(a, assets.Options{Project: "check", SecretsDir: "/run/check"})
	if err != nil {
		t.Fatal(err)
	}
	for _, svc := range b.Services {
		if _, err := e.API().ImageInspect(context.Background(), svc.Image); err != nil {
			if labtest.Required() {
				t.Fatalf("lab image %s is missing: run lab/test.sh (it builds the lab images)", svc.Image)
			}
			t.Skipf("lab image %s is missing: run lab/test.sh", svc.Image)
		}
	}
	return b
}

func newStack(t *testing.T, n int, groups ...string) *stack {
	t.Helper()
	e := labtest.Engine(t)
	project := labtest.Project(t, e)
	root := t.TempDir()
	a := answers.Defaults(answers.Demo)
	a.Groups = append([]string{answers.GroupCore}, groups...)
	a.InstallDir = filepath.Join(root, "stack")
	a.Gateway.HTTPSPort, a.Gateway.HTTPPort = 18443+n, 18080+n
	a.Network = answers.Network{
		DMZ:        answers.Segment{Name: project + "-dmz", Subnet: fmt.Sprintf("10.231.%d.0/26", 100+n)},
		App:        answers.Segment{Name: project + "-app", Subnet: fmt.Sprintf("10.231.%d.64/26", 100+n)},
		Data:       answers.Segment{Name: project + "-data", Subnet: fmt.Sprintf("10.231.%d.128/26", 100+n)},
		Monitoring: answers.Segment{Name: project + "-mon", Subnet: fmt.Sprintf("10.231.%d.192/26", 100+n)},
	}
	bundle := requireLabImages(t, e, a)
	data, err := yamlOf(a)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(root, "answers.yaml")
	if err := os.WriteFile(file, data, 0o600); err != nil {
		t.Fatal(err)
	}
	s := &stack{t: t, bin: binary(t), project: project, dir: a.InstallDir, answers: file, engine: e, ans: a, bundle: bundle}
	t.Cleanup(func() {
		// Purge through the installer itself; labtest.Project's cleanup
		// then catches anything left.
		s.run(context.Background(), "uninstall", "--purge", "--yes")
		_ = os.RemoveAll(filepath.Join("/run/fineract-stack", project))
	})
	return s
}

type result struct {
	code   int
	stdout string
	stderr string
	// maxRSS is the installer process's peak resident memory, in bytes.
	maxRSS int64
}

func (s *stack) command(ctx context.Context, args ...string) *exec.Cmd {
	args = append(args, "--project", s.project, "--dir", s.dir)
	cmd := exec.CommandContext(ctx, s.bin, args...)
	cmd.Env = append(os.Environ(), "FINERACT_UNSEAL_PASSPHRASE="+passphrase, "NO_COLOR=1")
	return cmd
}

func (s *stack) run(ctx context.Context, args ...string) result {
	return s.runCommand(s.command(ctx, args...), args)
}

// runCommand runs cmd (the installer with args), holds its -o json
// output to the contract, and returns how it ended.
func (s *stack) runCommand(cmd *exec.Cmd, args []string) result {
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		s.t.Fatalf("run %v: %v", args, err)
	}
	var rss int64
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		rss = ru.Maxrss << 10 // Linux reports KiB
	}
	checkJSON(s.t, args, out.String(), errb.String())
	return result{code: code, stdout: out.String(), stderr: errb.String(), maxRSS: rss}
}

// checkJSON holds the output of a command run with -o json to the JSON
// contract (ui/cli/schema): every line of stdout and of stderr.
func checkJSON(t *testing.T, args []string, stdout, stderr string) {
	t.Helper()
	if !jsonOutput(args) {
		return
	}
	if err := schema.Check([]byte(stdout)); err != nil {
		t.Errorf("%v: stdout breaks the JSON contract: %v", args, err)
	}
	if err := schema.Check([]byte(stderr)); err != nil {
		t.Errorf("%v: stderr breaks the JSON contract: %v", args, err)
	}
}

// jsonOutput says whether args ask for JSON output.
func jsonOutput(args []string) bool {
	for i, a := range args {
		switch {
		case a == "-o=json" || a == "--output=json" || a == "-ojson":
			return true
		case (a == "-o" || a == "--output") && i+1 < len(args) && args[i+1] == "json":
			return true
		}
	}
	return false
}

// checklistResults decodes the results of the checklist object that
// validate -o json writes into results.
func checklistResults(stdout string, results any) error {
	var doc struct {
		Type    string          `json:"type"`
		Results json.RawMessage `json:"results"`
	}
	if err := json.Unmarshal([]byte(stdout), &doc); err != nil {
		return err
	}
	if doc.Type != "checklist" {
		return fmt.Errorf("validate -o json wrote %q, not a checklist", doc.Type)
	}
	return json.Unmarshal(doc.Results, results)
}

func (s *stack) install(ctx context.Context) result {
	return s.run(ctx, "install", "--answers", s.answers, "--yes", "-o", "json")
}

func ctxFor(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// events parses a JSON event stream and checks every line against the
// documented schema.
func events(t *testing.T, out string) []steps.Event {
	t.Helper()
	var evs []steps.Event
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(make([]byte, 0, 1<<20), 1<<20)
	known := map[steps.Kind]bool{steps.KindStarted: true, steps.KindProgress: true, steps.KindLog: true, steps.KindWarning: true, steps.KindDone: true, steps.KindFailed: true, steps.KindSkipped: true}
	for sc.Scan() {
		var raw map[string]any
		if err := json.Unmarshal(sc.Bytes(), &raw); err != nil {
			t.Fatalf("output line is not JSON: %q", sc.Text())
		}
		if raw["type"] != "event" {
			continue
		}
		var e steps.Event
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatalf("event does not match the schema: %v: %s", err, sc.Text())
		}
		if !known[e.Kind] || e.Step == "" || e.Time.IsZero() {
			t.Errorf("event breaks the schema (kind, step, time): %s", sc.Text())
		}
		evs = append(evs, e)
	}
	return evs
}

func containerIDs(t *testing.T, s *stack) map[string]string {
	st, err := s.engine.Status(context.Background(), s.project)
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]string{}
	for _, c := range st {
		ids[c.Service] = c.ID
	}
	return ids
}

func TestInstallValidateRerunUninstall(t *testing.T) {
	s := newStack(t, 1)
	ctx := ctxFor(t, 20*time.Minute)

	// A container that is not the installer's must survive everything.
	img := labtest.Busybox(t, s.engine)
	init := true
	foreign, err := s.engine.API().ContainerCreate(ctx, &container.Config{Image: img, Cmd: []string{"sleep", "3600"}}, &container.HostConfig{Init: &init}, nil, nil, s.project+"-bystander")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = s.engine.API().ContainerRemove(context.Background(), foreign.ID, container.RemoveOptions{Force: true})
	})
	if err := s.engine.API().ContainerStart(ctx, foreign.ID, container.StartOptions{}); err != nil {
		t.Fatal(err)
	}

	start := time.Now()
	r := s.install(ctx)
	t.Logf("install: %s", time.Since(start).Round(time.Second))
	evs := events(t, r.stdout)
	if r.code != 0 {
		t.Fatalf("install exit %d\nstderr: %s\nlast events: %s", r.code, r.stderr, tail(r.stdout, 30))
	}
	done := map[string]bool{}
	for _, e := range evs {
		if e.Kind == steps.KindDone {
			done[e.Step] = true
		}
	}
	for _, step := range []string{"preflight", "install-dir", "render", "certificates", "networks", "vault-start", "vault", "services", "validate"} {
		if !done[step] && step != "images" {
			t.Errorf("step %s did not finish: %v", step, done)
		}
	}

	r = s.run(ctx, "validate", "-o", "json")
	var checks []struct {
		ID, Status, Evidence string
	}
	if err := checklistResults(r.stdout, &checks); err != nil {
		t.Fatalf("validate: exit %d %v\n%s", r.code, err, r.stdout)
	}
	if r.code != 0 {
		t.Errorf("validate exit %d", r.code)
	}
	if len(checks) < 25 {
		t.Errorf("validate ran %d checks, want at least 25", len(checks))
	}
	for _, c := range checks {
		if c.Status == "fail" {
			t.Errorf("check %s failed: %s", c.ID, c.Evidence)
		}
	}

	before := containerIDs(t, s)
	r = s.install(ctx)
	if r.code != 0 {
		t.Fatalf("rerun: exit %d %s\n%s", r.code, r.stderr, tail(r.stdout, 15))
	}
	for _, e := range events(t, r.stdout) {
		if e.Kind == steps.KindStarted && e.Step != "preflight" && e.Step != "validate" {
			t.Errorf("rerun of a completed install ran %s again", e.Step)
		}
	}
	if after := containerIDs(t, s); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Errorf("rerun replaced containers: %v -> %v", before, after)
	}

	checkSupportBundle(t, s, ctx)

	// Rotating the gateway's certificate recreates the gateway alone.
	r = s.run(ctx, "certs", "rotate", "gateway", "--yes")
	if r.code != 0 {
		t.Fatalf("certs rotate gateway: exit %d %s %s", r.code, r.stdout, r.stderr)
	}
	rotated := containerIDs(t, s)
	for svc, id := range before {
		if changed := rotated[svc] != id; changed != (svc == "gateway") {
			t.Errorf("after rotating the gateway certificate, %s changed=%t", svc, changed)
		}
	}

	// Vault restarted: sealed; a wrong passphrase is refused and changes
	// nothing; unseal with the right one brings everything back.
	timeout := 10
	if err := s.engine.API().ContainerRestart(ctx, s.project+"-vault-1", container.StopOptions{Timeout: &timeout}); err != nil {
		t.Fatal(err)
	}
	wrong := s.command(ctx, "unseal")
	wrong.Env = append(wrong.Env, "FINERACT_UNSEAL_PASSPHRASE=not the passphrase")
	out, err := wrong.CombinedOutput()
	if err == nil || !strings.Contains(strings.ToLower(string(out)), "passphrase") {
		t.Errorf("unseal with a wrong passphrase: %v\n%s", err, out)
	}
	// Vault is sealed: the entry is written, its head in Vault deferred.
	if !strings.Contains(string(out), "audit entry 4 is in the log but its head was not kept in Vault") {
		t.Errorf("unseal with a sealed Vault did not warn that the audit head was not kept:\n%s", out)
	}
	r = s.run(ctx, "unseal")
	if r.code != 0 {
		t.Fatalf("unseal: exit %d %s %s", r.code, tail(r.stdout, 20), r.stderr)
	}
	if r = s.run(ctx, "validate"); r.code != 0 {
		t.Errorf("validate after unseal: exit %d\n%s", r.code, r.stdout)
	}

	checkAuditLog(t, s, ctx)

	r = s.run(ctx, "uninstall", "--purge", "--yes")
	if r.code != 0 {
		t.Fatalf("uninstall: exit %d %s", r.code, r.stderr)
	}
	assertGone(t, s)
	c, err := s.engine.API().ContainerInspect(ctx, foreign.ID)
	if err != nil || !c.State.Running {
		t.Errorf("the bystander container did not survive: %v", err)
	}
}

// assertGone checks that nothing of the stack is left: containers,
// networks, volumes, the install dir.
func assertGone(t *testing.T, s *stack) {
	t.Helper()
	ctx := context.Background()
	args := filters.NewArgs(filters.Arg("label", compose.LabelProject+"="+s.project))
	if cs, _ := s.engine.API().ContainerList(ctx, container.ListOptions{All: true, Filters: args}); len(cs) != 0 {
		t.Errorf("%d containers left", len(cs))
	}
	if ns, _ := s.engine.API().NetworkList(ctx, network.ListOptions{Filters: args}); len(ns) != 0 {
		t.Errorf("%d networks left", len(ns))
	}
	if vs, _ := s.engine.API().VolumeList(ctx, volume.ListOptions{Filters: args}); len(vs.Volumes) != 0 {
		t.Errorf("%d volumes left", len(vs.Volumes))
	}
	if _, err := os.Stat(s.dir); !os.IsNotExist(err) {
		t.Errorf("install dir left: %v", err)
	}
	// The delivered secrets (database passwords) must not wait for a reboot.
	if _, err := os.Stat(filepath.Join("/run/fineract-stack", s.project)); !os.IsNotExist(err) {
		t.Errorf("delivered secrets left in /run/fineract-stack/%s: %v", s.project, err)
	}
}

// Ctrl-C while the services start: exit 130, a consistent state that says
// where it stopped, and a rerun that finishes without redoing earlier steps.
func TestInterruptedInstallResumes(t *testing.T) {
	s := newStack(t, 2)
	ctx := ctxFor(t, 20*time.Minute)
	code, seen, stderr := s.installUntil(ctx, func(e steps.Event, installer *os.Process) bool {
		if e.Kind == steps.KindStarted && e.Step == "services" {
			_ = installer.Signal(syscall.SIGINT)
			return true
		}
		return false
	})
	if code != 130 {
		t.Fatalf("want exit 130 after SIGINT during services: exit %d\n%s\n%v", code, stderr, kinds(seen))
	}
	st, err := steps.LoadState(s.dir)
	if err != nil {
		t.Fatal(err)
	}
	if st.Steps["vault"].Status != steps.StatusDone || st.Steps["services"].Status != steps.StatusInterrupted {
		t.Fatalf("state after the interruption: vault=%s services=%s", st.Steps["vault"].Status, st.Steps["services"].Status)
	}
	r := s.install(ctx)
	if r.code != 0 {
		t.Fatalf("rerun after interruption: exit %d %s\n%s", r.code, r.stderr, tail(r.stdout, 20))
	}
	for _, e := range events(t, r.stdout) {
		if e.Kind == steps.KindStarted && (e.Step == "vault" || e.Step == "certificates" || e.Step == "render") {
			t.Errorf("rerun redid finished step %s", e.Step)
		}
	}
}

// A port held by another process: preflight names it, exit 3, nothing written.
func TestPreflightNamesThePortHolder(t *testing.T) {
	s := newStack(t, 3)
	ctx := ctxFor(t, 5*time.Minute)
	// The holder says when it listens: preflight runs only once the port
	// is held.
	holder := exec.Command("python3", "-c", fmt.Sprintf("import socket,time\ns=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(('0.0.0.0', %d)); s.listen(); print('listening', flush=True); time.sleep(120)", s.ans.Gateway.HTTPSPort))
	held, err := holder.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := holder.Start(); err != nil {
		t.Skipf("python3 is needed to hold a port: %v", err)
	}
	defer holder.Wait()
	defer holder.Process.Kill()
	if line, err := bufio.NewReader(held).ReadString('\n'); line != "listening\n" {
		t.Fatalf("the port holder did not start listening: %q %v", line, err)
	}
	r := s.run(ctx, "install", "--answers", s.answers, "--yes")
	if r.code != 3 || !strings.Contains(r.stdout, fmt.Sprintf("pid %d", holder.Process.Pid)) || !strings.Contains(r.stdout, "python3") {
		t.Errorf("want exit 3 naming the python3 holder (pid %d): exit %d\n%s%s", holder.Process.Pid, r.code, r.stdout, r.stderr)
	}
	if _, err := os.Stat(s.dir); !os.IsNotExist(err) {
		t.Errorf("a failed preflight wrote the install dir: %v", err)
	}
}

// installUntil starts `install -o json` and calls at for every event until
// at returns true (it acts then, on the installer's process or the host);
// then it waits for the installer to exit.
func (s *stack) installUntil(ctx context.Context, at func(e steps.Event, installer *os.Process) bool, extra ...string) (code int, seen []steps.Event, stderr string) {
	t := s.t
	t.Helper()
	cmd := s.command(ctx, append([]string{"install", "--answers", s.answers, "--yes", "-o", "json"}, extra...)...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var errb bytes.Buffer
	cmd.Stderr = &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(stdout)
	sc.Buffer(make([]byte, 0, 1<<20), 1<<20)
	acted := false
	for sc.Scan() {
		if err := schema.Check(sc.Bytes()); err != nil {
			t.Errorf("install -o json breaks the JSON contract: %v", err)
		}
		var e steps.Event
		if json.Unmarshal(sc.Bytes(), &e) != nil || e.Step == "" {
			continue
		}
		seen = append(seen, e)
		if !acted && at(e, cmd.Process) {
			acted = true
		}
	}
	_, _ = io.Copy(io.Discard, stdout)
	err = cmd.Wait()
	if err := schema.Check(errb.Bytes()); err != nil {
		t.Errorf("install -o json: stderr breaks the JSON contract: %v", err)
	}
	if !acted {
		t.Fatalf("the moment to act never came; events: %v\n%s", kinds(seen), errb.String())
	}
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode(), seen, errb.String()
	} else if err != nil {
		t.Fatal(err)
	}
	return 0, seen, errb.String()
}

func kinds(evs []steps.Event) []string {
	var out []string
	for _, e := range evs {
		out = append(out, string(e.Kind)+":"+e.Step)
	}
	return out
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// checkSupportBundle writes a bundle after planting a secret value in a
// container's output, and requires that no secret survives in it.
func checkSupportBundle(t *testing.T, s *stack, ctx context.Context) {
	t.Helper()
	secret, err := os.ReadFile(filepath.Join("/run/fineract-stack", s.project, "secrets", "postgres", "superuser_password"))
	if err != nil {
		t.Fatal(err)
	}
	planted := strings.TrimSpace(string(secret))
	// A careless log line with the secret in it.
	if _, err := s.engine.Exec(ctx, s.project, "gateway", "", []string{"sh", "-c", "echo \"debug: db password is " + planted + "\" > /proc/1/fd/1"}, nil, nil); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "bundle.tar.gz")
	r := s.run(ctx, "diagnose", "--out", out, "-o", "json")
	if r.code != 0 {
		t.Fatalf("diagnose: exit %d %s", r.code, r.stderr)
	}
	raw, err := exec.Command("sh", "-c", "tar -xzOf "+out).Output()
	if err != nil {
		t.Fatalf("read the bundle: %v", err)
	}
	for _, v := range [][]byte{[]byte(planted)} {
		if bytes.Contains(raw, v) {
			t.Error("a secret value survived in the support bundle")
		}
	}
	for _, want := range []string{"debug: db password is [REDACTED", "\"Env\"", "\"redacted\"", "ssl_min_protocol_version"} {
		if !bytes.Contains(raw, []byte(want)) {
			t.Errorf("the bundle lacks %q", want)
		}
	}
	var doc struct {
		Manifest struct {
			Redacted map[string]int `json:"redacted"`
		} `json:"manifest"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil || len(doc.Manifest.Redacted) == 0 {
		t.Errorf("the manifest counts nothing redacted: %v %s", err, r.stdout)
	}
}

// checkAuditLog reads what the commands above recorded with the real
// binary: the install, its unchanged rerun, the gateway's rotation, the
// unseal refused for a wrong passphrase and the one that worked, each
// with its flags and changes, no secret, an intact chain; then an edited
// entry makes audit verify fail naming it, and the checklist's audit-log
// check fails too.
func checkAuditLog(t *testing.T, s *stack, ctx context.Context) {
	t.Helper()
	r := s.run(ctx, "audit", "show", "-o", "json")
	if r.code != 0 {
		t.Fatalf("audit show: exit %d %s", r.code, r.stderr)
	}
	type change struct{ Resource, Action, Subject string }
	type entry struct {
		Entry struct {
			Command string
			Args    []string
			Changed bool
			Changes []change
			Result  string
		}
	}
	var entries []entry
	for _, line := range strings.Split(strings.TrimSpace(r.stdout), "\n") {
		var e entry
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Fatalf("audit show -o json: %v: %s", err, line)
		}
		entries = append(entries, e)
	}
	var got []string
	for _, e := range entries {
		got = append(got, fmt.Sprintf("%s:%s:changed=%t", e.Entry.Command, e.Entry.Result, e.Entry.Changed))
	}
	// The unseal with a wrong passphrase is recorded as failed: a step
	// that failed part-way may have changed something.
	want := []string{"install:ok:changed=true", "install:ok:changed=false", "certs rotate:ok:changed=true", "unseal:failed:changed=true", "unseal:ok:changed=true"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("audit entries %v, want %v", got, want)
	}
	has := func(cs []change, c change) bool {
		for _, x := range cs {
			if x == c {
				return true
			}
		}
		return false
	}
	rotate := entries[2].Entry
	if !has(rotate.Changes, change{"certificate", "issue", "gateway"}) || !has(rotate.Changes, change{"container", "recreate", "gateway"}) {
		t.Errorf("certs rotate recorded %+v, want the gateway's certificate issued and its container recreated", rotate.Changes)
	}
	if want := []string{"--dir=" + s.dir, "--project=" + s.project, "--yes=true", "gateway"}; fmt.Sprint(rotate.Args) != fmt.Sprint(want) {
		t.Errorf("certs rotate recorded args %q", rotate.Args)
	}
	path := filepath.Join(s.dir, "audit.jsonl")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{passphrase, "not the passphrase"} {
		if strings.Contains(string(data), secret) {
			t.Errorf("the audit log holds an unseal passphrase: %q", secret)
		}
	}
	// Every entry but the one written while Vault was sealed left its
	// head in Vault; the unseal's covers it.
	if r := s.run(ctx, "audit", "verify"); r.code != 0 || !strings.Contains(r.stdout, "5 entries, chain intact") ||
		!strings.Contains(r.stdout, "every one of the 4 heads kept in Vault is in the chain") {
		t.Errorf("audit verify: exit %d %s %s", r.code, r.stdout, r.stderr)
	}
	if fi, err := os.Lstat(filepath.Join(s.dir, "vault", "audit-head-token")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("the audit head token file: %v %v, want mode 0600", fi, err)
	}

	// Cutting the last entry off leaves a consistent chain; the heads in
	// Vault name what is missing.
	cut := data[:strings.LastIndex(strings.TrimSuffix(string(data), "\n"), "\n")+1]
	if err := os.WriteFile(path, cut, 0o600); err != nil {
		t.Fatal(err)
	}
	if r := s.run(ctx, "audit", "verify"); r.code != 1 || !strings.Contains(r.stdout, "truncated: the file ends at entry 4 but Vault kept entry 5") {
		t.Errorf("audit verify of a log cut short: exit %d, want 1 naming entry 5\n%s%s", r.code, r.stdout, r.stderr)
	}
	r = s.run(ctx, "validate", "-o", "json")
	var cutChecks []struct{ ID, Status, Evidence string }
	if err := checklistResults(r.stdout, &cutChecks); err != nil {
		t.Fatalf("validate: %v", err)
	}
	for _, c := range cutChecks {
		if c.ID == "audit-log" && (c.Status != "fail" || !strings.Contains(c.Evidence, "Vault kept entry 5")) {
			t.Errorf("the audit-log check on a log cut short: %s %s", c.Status, c.Evidence)
		}
	}

	edited := strings.Replace(string(data), `"command":"certs rotate"`, `"command":"status"`, 1)
	if err := os.WriteFile(path, []byte(edited), 0o600); err != nil {
		t.Fatal(err)
	}
	if r := s.run(ctx, "audit", "verify"); r.code != 1 || !strings.Contains(r.stdout, "edited: entry 3 at line 3") {
		t.Errorf("audit verify of an edited log: exit %d, want 1 naming entry 3\n%s%s", r.code, r.stdout, r.stderr)
	}
	r = s.run(ctx, "validate", "-o", "json")
	var checks []struct{ ID, Status, Evidence string }
	if err := checklistResults(r.stdout, &checks); err != nil {
		t.Fatalf("validate: %v", err)
	}
	for _, c := range checks {
		if c.ID == "audit-log" && (c.Status != "fail" || !strings.Contains(c.Evidence, "entry 3 at line 3")) {
			t.Errorf("the audit-log check on an edited log: %s %s", c.Status, c.Evidence)
		}
	}
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
}
