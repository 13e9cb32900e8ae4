package install

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fineract-installer/fineract-installer/assets"
	"github.com/fineract-installer/fineract-installer/compose"
	"github.com/fineract-installer/fineract-installer/lab/labtest"
	"github.com/fineract-installer/fineract-installer/steps"
	"github.com/fineract-installer/fineract-installer/steps/answers"
	"github.com/fineract-installer/fineract-installer/steps/event"
	"github.com/fineract-installer/fineract-installer/steps/installation"
)

// emitted records what a step reports.
type emitted struct {
	mu    sync.Mutex
	lines []string
}

func (e *emitted) add(s string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.lines = append(e.lines, s)
}

// emitter returns an emitter that records into e.
func (e *emitted) emitter() steps.Emitter {
	return event.Func(func(ev steps.Event) {
		if ev.Kind == steps.KindWarning {
			e.add("warning: " + ev.Message)
			return
		}
		e.add(ev.Subject + ": " + ev.Message)
	})
}

func (e *emitted) String() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return strings.Join(e.lines, "\n")
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// The flow of an installation and its later runs, on a real engine with a
// one-service stack: the first run records the image; once the reference
// is moved to another image, the images step and every apply refuse it
// before a container changes; accepting the change records the new image
// and the next apply runs it.
func TestChangedImageIsRefusedUntilAccepted(t *testing.T) {
	e := labtest.Engine(t)
	base := labtest.Busybox(t, e)
	project := labtest.Project(t, e)
	repo := "fineract-lab/" + project
	ref := repo + ":app"
	a := labtest.ImageVariant(t, e, base, ref, "a")
	dir := t.TempDir()
	env, err := NewEnv(answers.Defaults(answers.Demo), project, dir, t.TempDir(), e)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.SetImageVerifier(nil) })
	env.Bundle.Services = []assets.Service{{Name: "app", Image: ref}}
	_, load := labtest.WriteProject(t, project, labtest.Hardened+fmt.Sprintf(`
services:
  app:
    image: %s
    <<: *hardened
    init: true
    command: ["sleep", "3600"]
`, ref), nil)
	ctx := ctxT(t)
	step := ImagesStep{Env: env}

	// First install: the image is recorded.
	if done, _ := step.Check(ctx); done {
		t.Fatal("images step done before anything was recorded")
	}
	if err := step.Run(ctx, (&emitted{}).emitter()); err != nil {
		t.Fatalf("first run: %v", err)
	}
	rec, ok, err := LoadImageRecord(dir)
	if err != nil || !ok || rec.Services["app"].Image != ref || rec.Services["app"].ID != a {
		t.Fatalf("record after the first run: %+v ok=%t err=%v; want app -> %s %s", rec, ok, err, ref, a)
	}
	if done, _ := step.Check(ctx); !done {
		t.Error("images step not done right after it recorded the images")
	}
	if err := e.Up(ctx, load(), compose.UpOptions{}, nil); err != nil {
		t.Fatalf("first apply: %v", err)
	}
	first := serviceContainer(t, e, project)

	// Someone puts another image behind the reference.
	b := labtest.ImageVariant(t, e, base, repo+":b", "b")
	// The containers go before the images they run.
	t.Cleanup(func() { _ = e.Down(context.Background(), project, compose.DownOptions{}, nil) })
	if err := e.API().ImageTag(ctx, b, ref); err != nil {
		t.Fatal(err)
	}
	if done, _ := step.Check(ctx); done {
		t.Error("images step done although the image changed")
	}
	err = step.Run(ctx, (&emitted{}).emitter())
	var changed *ImageChangedError
	var failure *steps.Failure
	if !errors.As(err, &changed) || !errors.Is(err, compose.ErrUntrustedImage) || !errors.As(err, &failure) {
		t.Fatalf("images step after the change: %v; want an ImageChangedError in a step failure", err)
	}
	for _, want := range []string{"app", ref, a, b} {
		if !strings.Contains(failure.Cause, want) {
			t.Errorf("cause %q does not name %s", failure.Cause, want)
		}
	}
	if !strings.Contains(failure.Hint, "--accept-image-change app") {
		t.Errorf("hint %q does not say how to accept the change", failure.Hint)
	}
	if rec, _, _ := LoadImageRecord(dir); rec.Services["app"].ID != a {
		t.Errorf("refused run changed the record to %s", rec.Services["app"].ID)
	}
	err = e.Up(ctx, load(), compose.UpOptions{}, nil)
	if !errors.Is(err, compose.ErrUntrustedImage) || !errors.As(err, &changed) {
		t.Fatalf("apply after the change: %v; want the record to refuse it", err)
	}
	if now := serviceContainer(t, e, project); now != first {
		t.Errorf("the container was replaced although its image was refused: %s -> %s", first, now)
	}
	if c, err := e.API().ContainerInspect(ctx, first); err != nil || c.Image != a || !c.State.Running {
		t.Errorf("container after the refusal: %v image %s; want it running %s", err, c.Image, a)
	}

	// The operator accepts the change.
	env.AcceptImageChange = []string{"app"}
	out := &emitted{}
	if err := step.Run(ctx, out.emitter()); err != nil {
		t.Fatalf("accepted change: %v", err)
	}
	if !strings.Contains(out.String(), "accepted the image change of app") {
		t.Errorf("accepting said nothing about it:\n%s", out)
	}
	if rec, _, _ := LoadImageRecord(dir); rec.Services["app"].ID != b {
		t.Fatalf("record after accepting: %s, want %s", rec.Services["app"].ID, b)
	}
	if err := e.Up(ctx, load(), compose.UpOptions{}, nil); err != nil {
		t.Fatalf("apply after accepting: %v", err)
	}
	if c, err := e.API().ContainerInspect(ctx, serviceContainer(t, e, project)); err != nil || c.Image != b {
		t.Errorf("after accepting, the container runs %s (%v); want %s", c.Image, err, b)
	}
}

func serviceContainer(t *testing.T, e *compose.Engine, project string) string {
	t.Helper()
	st, err := e.Status(context.Background(), project)
	if err != nil || len(st) != 1 {
		t.Fatalf("status: %+v %v", st, err)
	}
	c, err := e.API().ContainerInspect(context.Background(), project+"-"+st[0].Service+"-1")
	if err != nil {
		t.Fatal(err)
	}
	return c.ID
}

func found(pairs ...string) []compose.ServiceImage {
	var out []compose.ServiceImage
	for i := 0; i < len(pairs); i += 3 {
		out = append(out, compose.ServiceImage{Service: pairs[i], Image: pairs[i+1], ID: pairs[i+2]})
	}
	return out
}

var (
	idA = "sha256:" + strings.Repeat("a", 64)
	idB = "sha256:" + strings.Repeat("b", 64)
)

func TestImageRecordUpdate(t *testing.T) {
	now := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	rec := ImageRecord{Version: 1, Services: map[string]RecordedImage{
		"vault": {Image: "hashicorp/vault:1.21.4", ID: idA, Recorded: now.Add(-time.Hour)},
		"gone":  {Image: "old:1", ID: idA},
	}}

	// Unchanged, plus a service new to the installation; the service no
	// longer in the stack is dropped.
	next, recorded, err := rec.update(found("vault", "hashicorp/vault:1.21.4", idA, "redis", "redis:8", idB), nil, now)
	if err != nil || len(recorded) != 1 || recorded[0].Service != "redis" || len(next.Services) != 2 || next.Services["vault"].Recorded != now.Add(-time.Hour) {
		t.Fatalf("update: %+v %+v %v", next, recorded, err)
	}

	// A changed ID, or a changed reference, is refused unless accepted.
	for _, f := range [][]compose.ServiceImage{
		found("vault", "hashicorp/vault:1.21.4", idB),
		found("vault", "hashicorp/vault:1.22.0", idA),
	} {
		if _, _, err := rec.update(f, nil, now); !errors.Is(err, compose.ErrUntrustedImage) {
			t.Errorf("%+v: %v; want a refusal", f, err)
		}
		if _, _, err := rec.update(f, map[string]bool{"redis": true}, now); err == nil {
			t.Errorf("%+v: accepting another service accepted vault's change", f)
		}
		next, recorded, err := rec.update(f, map[string]bool{"vault": true}, now)
		if err != nil || len(recorded) != 1 || next.Services["vault"].ID != f[0].ID || next.Services["vault"].Image != f[0].Image {
			t.Errorf("%+v accepted: %+v %v", f, next, err)
		}
	}

	// Verify (what every apply asks) knows no first use.
	if err := rec.Verify(found("redis", "redis:8", idB)); !errors.Is(err, compose.ErrUntrustedImage) || !strings.Contains(err.Error(), "no recorded image") {
		t.Errorf("verify of an unrecorded service: %v", err)
	}
	var changed *ImageChangedError
	if err := (ImageRecord{}).Verify(found("redis", "redis:8", idB)); !errors.As(err, &changed) || !strings.Contains(changed.Hint(), "run `fineract-installer install`") {
		t.Errorf("verify without a record: %v", err)
	}
}

func TestLoadImageRecordRefusesDamagedRecords(t *testing.T) {
	good := `{"version":1,"services":{"vault":{"image":"hashicorp/vault:1.21.4","id":"` + idA + `","recorded":"2025-01-02T03:04:05Z"}}}`
	cases := map[string]string{
		"not JSON":        `{"version":1,`,
		"unknown version": strings.Replace(good, `"version":1`, `"version":9`, 1),
		"unknown field":   strings.Replace(good, `"version":1`, `"version":1,"trust_all":true`, 1),
		"empty ID":        strings.Replace(good, idA, "", 1),
		"ID not a digest": strings.Replace(good, idA, "latest", 1),
		"too large":       good + strings.Repeat(" ", maxImageRecord),
	}
	for name, data := range cases {
		dir := t.TempDir()
		if err := os.WriteFile(installation.New(dir, "").ImageRecordFile(), []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, _, err := LoadImageRecord(dir); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	dir := t.TempDir()
	if err := os.WriteFile(installation.New(dir, "").ImageRecordFile(), []byte(good), 0o600); err != nil {
		t.Fatal(err)
	}
	if rec, ok, err := LoadImageRecord(dir); err != nil || !ok || rec.Services["vault"].ID != idA {
		t.Fatalf("good record: %+v %t %v", rec, ok, err)
	}
	if _, ok, err := LoadImageRecord(t.TempDir()); err != nil || ok {
		t.Fatalf("no record: ok=%t err=%v", ok, err)
	}
}

// The record names a stack version only while every service runs that
// release's pin: an accepted image change leaves it unnamed.
func TestImageRecordNamesTheStackOfItsPins(t *testing.T) {
	pins := []assets.ImagePin{{Service: "fineract", Image: "openmf/fineract:1.14.0"}, {Service: "gateway", Image: "nginx:1"}}
	rec := ImageRecord{Services: map[string]RecordedImage{
		"fineract": {Image: "openmf/fineract:1.14.0", ID: "sha256:a"},
		"gateway":  {Image: "nginx:1", ID: "sha256:b"},
	}}
	if got := rec.stackOf(pins, "2026.12"); got != "2026.12" {
		t.Errorf("record of the pins: stack %q", got)
	}
	rec.Services["gateway"] = RecordedImage{Image: "nginx:1-custom", ID: "sha256:c"}
	if got := rec.stackOf(pins, "2026.12"); got != "" {
		t.Errorf("record with an accepted change names stack %q", got)
	}
	up := rec.Upgraded([]compose.ServiceImage{{Service: "fineract", Image: "openmf/fineract:2.0.0", ID: "sha256:n"}, {Service: "gateway", Image: "nginx:1-custom", ID: "sha256:c"}}, "lab-2", time.Now())
	if up.Stack != "lab-2" || up.Services["fineract"].ID != "sha256:n" || up.Services["gateway"] != rec.Services["gateway"] {
		t.Errorf("upgraded record %+v", up)
	}
}
