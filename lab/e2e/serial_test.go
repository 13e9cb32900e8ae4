package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/docker/docker/api/types/image"

	"github.com/fineract-installer/fineract-installer/steps"
)

// The tests in this file take the whole engine: they stop it, or remove
// lab images other tests use. lab/test.sh runs them on their own after the
// parallel suite, with FINERACT_SERIAL_FAULTS=1.
func serialOnly(t *testing.T) {
	t.Helper()
	if os.Getenv("FINERACT_SERIAL_FAULTS") != "1" {
		t.Skip("stops the Docker engine or removes lab images: lab/test.sh runs it alone (FINERACT_SERIAL_FAULTS=1)")
	}
}

// Ctrl-C while images load from an offline bundle: exit 130, and a rerun
// loads what is missing and finishes.
func TestSerialInterruptedImageLoadResumes(t *testing.T) {
	serialOnly(t)
	s := newStack(t, 9)
	ctx := ctxFor(t, 20*time.Minute)
	ids := map[string]string{}
	var refs []string
	for _, svc := range s.bundle.Services {
		if _, ok := ids[svc.Image]; ok {
			continue
		}
		img, err := s.engine.API().ImageInspect(ctx, svc.Image)
		if err != nil {
			t.Fatal(err)
		}
		ids[svc.Image] = img.ID
		refs = append(refs, svc.Image)
	}
	// The offline bundle and its manifest, as `images bundle` makes them on
	// a connected host.
	bundle := filepath.Join(t.TempDir(), "stack-images.tar")
	r := s.run(ctx, "images", "bundle", "--answers", s.answers, "--out", bundle, "-o", "json")
	if r.code != 0 {
		t.Fatalf("images bundle: exit %d %s\n%s", r.code, r.stderr, r.stdout)
	}
	// Progress events, then the record of what was written.
	events(t, r.stdout)
	var written struct {
		Type   string `json:"type"`
		Bundle string `json:"bundle"`
		Images []struct {
			Image, ID string
		} `json:"images"`
	}
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &written); err != nil || written.Type != "images_bundle" || written.Bundle != bundle || len(written.Images) != len(refs) {
		t.Errorf("images bundle -o json does not end with its record: %v\n%s", err, tail(r.stdout, 3))
	}
	if _, err := os.Stat(bundle + ".manifest.json"); err != nil {
		t.Fatalf("images bundle wrote no manifest: %v", err)
	}
	missing := func() []string {
		var out []string
		for _, ref := range refs {
			if _, err := s.engine.API().ImageInspect(context.Background(), ref); err != nil {
				out = append(out, ref)
			}
		}
		return out
	}
	// Whatever happens, the lab images come back for the tests after this.
	t.Cleanup(func() {
		if len(missing()) == 0 {
			return
		}
		f, err := os.Open(bundle)
		if err != nil {
			t.Error(err)
			return
		}
		defer f.Close()
		resp, err := s.engine.API().ImageLoad(context.Background(), f)
		if err != nil {
			t.Errorf("reload the lab images: %v", err)
			return
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	})
	for _, ref := range refs {
		if _, err := s.engine.API().ImageRemove(ctx, ref, image.RemoveOptions{Force: true}); err != nil {
			t.Fatal(err)
		}
	}

	code, _, stderr := s.installUntil(ctx, func(e steps.Event, installer *os.Process) bool {
		// The first byte counts of the load: images are arriving.
		if e.Step == "images" && e.Kind == steps.KindProgress {
			_ = installer.Signal(syscall.SIGINT)
			return true
		}
		return false
	}, "--images-bundle", bundle)
	if code != 130 {
		t.Fatalf("want exit 130 after Ctrl-C during the image load: exit %d\n%s", code, stderr)
	}
	st, err := steps.LoadState(s.dir)
	if err != nil {
		t.Fatal(err)
	}
	if got := st.Steps["images"].Status; got != steps.StatusInterrupted {
		t.Errorf("images step after Ctrl-C: %s, want interrupted", got)
	}
	t.Logf("after Ctrl-C, %d of %d images were still missing", len(missing()), len(refs))

	r = s.run(ctx, "install", "--answers", s.answers, "--yes", "-o", "json", "--images-bundle", bundle)
	if r.code != 0 {
		t.Fatalf("rerun after the interrupted load: exit %d %s\n%s", r.code, r.stderr, tail(r.stdout, 20))
	}
	for _, ref := range refs {
		img, err := s.engine.API().ImageInspect(ctx, ref)
		if err != nil || img.ID != ids[ref] {
			t.Errorf("%s after the rerun: %v (id %s, want %s)", ref, err, img.ID, ids[ref])
		}
	}
}

// engineProcess is the running Docker engine and how it was started, so a
// test can stop it and start it again the same way.
type engineProcess struct {
	pid     int
	args    []string
	systemd bool
}

func findEngine(t *testing.T) engineProcess {
	t.Helper()
	b, err := os.ReadFile("/var/run/docker.pid")
	if err != nil {
		t.Fatalf("find the Docker engine: %v", err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatalf("docker.pid: %v", err)
	}
	cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil {
		t.Fatalf("the engine's command line: %v", err)
	}
	cgroup, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", pid))
	return engineProcess{pid: pid, args: strings.Split(strings.TrimRight(string(cmdline), "\x00"), "\x00"),
		systemd: strings.Contains(string(cgroup), "docker.service")}
}

// stop shuts the engine down as `systemctl stop docker` or a SIGTERM does,
// and waits until it is gone.
func (p engineProcess) stop(t *testing.T) {
	t.Helper()
	if p.systemd {
		if out, err := exec.Command("systemctl", "stop", "docker.socket", "docker.service").CombinedOutput(); err != nil {
			t.Fatalf("systemctl stop docker: %v %s", err, out)
		}
		return
	}
	if err := syscall.Kill(p.pid, syscall.SIGTERM); err != nil {
		t.Fatalf("stop the engine: %v", err)
	}
	for deadline := time.Now().Add(2 * time.Minute); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", p.pid))
		if err != nil || strings.Contains(string(stat), ") Z ") {
			return
		}
	}
	t.Fatal("the engine did not stop within two minutes")
}

// start starts the engine again with its old command line (detached from
// the test, as the engine outlives it) and waits until it answers.
func (p engineProcess) start(t *testing.T, s *stack) {
	t.Helper()
	if p.systemd {
		if out, err := exec.Command("systemctl", "start", "docker.service").CombinedOutput(); err != nil {
			t.Fatalf("systemctl start docker: %v %s", err, out)
		}
	} else {
		log, err := os.OpenFile("/var/log/fineract-lab-dockerd.log", os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
		if err != nil {
			t.Fatal(err)
		}
		defer log.Close()
		cmd := exec.Command(p.args[0], p.args[1:]...)
		cmd.Stdout, cmd.Stderr = log, log
		cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
		if err := cmd.Start(); err != nil {
			t.Fatalf("start the engine again: %v", err)
		}
		go func() { _ = cmd.Wait() }()
	}
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(500 * time.Millisecond) {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		_, err := s.engine.API().Ping(ctx)
		cancel()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the engine did not answer within a minute of its restart: %v", err)
		}
	}
}

// The Docker engine stops while the services are being started: the
// install fails saying so, and once the engine is back a rerun completes
// (Vault, restarted by the engine, comes back sealed and is unsealed).
func TestSerialEngineStoppedMidDeployResumes(t *testing.T) {
	serialOnly(t)
	s := newStack(t, 10)
	ctx := ctxFor(t, 20*time.Minute)
	eng := findEngine(t)
	running := true
	// Registered after newStack's cleanup, so it runs first: the engine is
	// back before the stack is purged and before the next test.
	t.Cleanup(func() {
		if !running {
			eng.start(t, s)
		}
	})
	code, seen, stderr := s.installUntil(ctx, func(e steps.Event, _ *os.Process) bool {
		if e.Kind == steps.KindStarted && e.Step == "services" {
			eng.stop(t)
			running = false
			return true
		}
		return false
	})
	var failure *steps.Event
	for i := range seen {
		if seen[i].Kind == steps.KindFailed {
			failure = &seen[i]
		}
	}
	if code != 1 || failure == nil {
		t.Fatalf("with the engine stopped mid-deploy: exit %d, failure event %v\n%s\n%v", code, failure, stderr, kinds(seen))
	}
	t.Logf("failure reported: step %s: %s; hint: %s", failure.Step, failure.Cause, failure.Hint)
	if !strings.Contains(failure.Hint, "Docker engine stopped answering") {
		t.Errorf("the failure does not say the Docker engine is the problem and what to do: %+v", failure)
	}
	st, err := steps.LoadState(s.dir)
	if err != nil {
		t.Fatal(err)
	}
	if st.Steps["vault"].Status != steps.StatusDone || st.Steps["services"].Status == steps.StatusDone {
		t.Errorf("state after the engine stopped: vault=%s services=%s", st.Steps["vault"].Status, st.Steps["services"].Status)
	}

	eng.start(t, s)
	running = true
	r := s.install(ctx)
	if r.code != 0 {
		t.Fatalf("rerun after the engine came back: exit %d %s\n%s", r.code, r.stderr, tail(r.stdout, 30))
	}
	if r = s.run(ctx, "validate"); r.code != 0 {
		t.Errorf("validate after the resumed install: exit %d\n%s", r.code, r.stdout)
	}
}

// A service that cannot start (here the web app's image is swapped for one
// whose nginx refuses its certificate): the install fails naming the
// service with its last log lines, and once the image is right again a
// rerun completes. It retags a lab image, so it runs alone.
func TestSerialServiceThatNeverComesUpIsNamedWithItsLogs(t *testing.T) {
	serialOnly(t)
	s := newStack(t, 12)
	ctx := ctxFor(t, 20*time.Minute)
	svc, _ := s.bundle.Service("web-app")
	orig, err := s.engine.API().ImageInspect(ctx, svc.Image)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.engine.API().ImageTag(context.Background(), orig.ID, svc.Image); err != nil {
			t.Errorf("give %s its lab image back: %v", svc.Image, err)
		}
	})
	build := t.TempDir()
	script := "#!/bin/sh\necho 'nginx: [emerg] cannot load certificate \"/etc/nginx/tls/web-app.crt\": BIO_new_file() failed' >&2\nexit 1\n"
	if err := os.WriteFile(filepath.Join(build, "nginx"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	dockerfile := fmt.Sprintf("FROM %s\nCOPY nginx /usr/local/sbin/nginx\n", orig.ID)
	if err := os.WriteFile(filepath.Join(build, "Dockerfile"), []byte(dockerfile), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.CommandContext(ctx, "docker", "build", "-q", "-t", svc.Image, build).CombinedOutput(); err != nil {
		t.Fatalf("build the broken image: %v\n%s", err, out)
	}

	r := s.install(ctx)
	var failure *steps.Event
	evs := events(t, r.stdout)
	for i := range evs {
		if evs[i].Kind == steps.KindFailed {
			failure = &evs[i]
		}
	}
	if r.code != 1 || failure == nil || failure.Subject != "web-app" || strings.Contains(failure.Cause, "exit code 0") || !strings.Contains(strings.Join(failure.Logs, "\n"), "[emerg] cannot load certificate") || failure.Hint == "" {
		t.Fatalf("want exit 1 and a failure naming web-app with its log lines: exit %d %+v\n%s", r.code, failure, r.stderr)
	}
	t.Logf("failure reported: %s; logs: %q; hint: %s", failure.Cause, failure.Logs, failure.Hint)

	// The first install recorded the broken image: giving the reference
	// its lab image back is an image change like any other, refused before
	// any container changes until it is accepted.
	if err := s.engine.API().ImageTag(ctx, orig.ID, svc.Image); err != nil {
		t.Fatal(err)
	}
	before := s.containerIDs(ctx)
	r = s.install(ctx)
	failure = nil
	evs = events(t, r.stdout)
	for i := range evs {
		if evs[i].Kind == steps.KindFailed {
			failure = &evs[i]
		}
	}
	if r.code != 4 || failure == nil || failure.Step != "images" || !strings.Contains(failure.Cause, "web-app") || !strings.Contains(failure.Cause, orig.ID) || !strings.Contains(failure.Hint, "--accept-image-change web-app") {
		t.Fatalf("rerun with another web-app image than recorded: want exit 4 and an images failure naming web-app: exit %d %+v\n%s", r.code, failure, r.stderr)
	}
	if after := s.containerIDs(ctx); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Errorf("containers changed although the image change was refused: before %v after %v", before, after)
	}
	if r = s.run(ctx, "install", "--answers", s.answers, "--yes", "-o", "json", "--accept-image-change", "web-app"); r.code != 0 {
		t.Fatalf("rerun accepting the web-app image: exit %d %s\n%s", r.code, r.stderr, tail(r.stdout, 20))
	}
}

// containerIDs maps each service of the stack to its container's ID.
func (s *stack) containerIDs(ctx context.Context) map[string]string {
	s.t.Helper()
	st, err := s.engine.Status(ctx, s.project)
	if err != nil {
		s.t.Fatal(err)
	}
	ids := map[string]string{}
	for _, c := range st {
		ids[c.Service] = c.ID
	}
	return ids
}
