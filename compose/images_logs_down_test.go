package compose_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/api/types/volume"

	"github.com/fineract-installer/fineract-installer/compose"
	"github.com/fineract-installer/fineract-installer/lab/labtest"
	"github.com/fineract-installer/fineract-installer/steps/event"
)

// No registry answers here: a loopback registry with nothing listening
// fails at once, without sending traffic anywhere else. The error names
// the image in one line; the advice to use a bundle is its hint, apart, so
// a JSON failed event carries it in "hint" and not inside "cause".
func TestPullFailureNamesImageAndSuggestsBundle(t *testing.T) {
	e := labtest.Engine(t)
	const ref = "127.0.0.1:9/fineract-lab/missing:1.0"
	var events []event.Event
	_, err := e.EnsureImages(ctxT(t), []string{ref}, compose.ImageOptions{}, event.Func(func(ev event.Event) { events = append(events, ev) }))
	if err == nil {
		t.Fatal("pull from a registry that does not exist succeeded")
	}
	if !strings.Contains(err.Error(), ref) || strings.Contains(err.Error(), "\n") || strings.Contains(err.Error(), "--images-bundle") {
		t.Errorf("the pull error should name %s in one line, without the advice: %q", ref, err)
	}
	var h interface{ Hint() string }
	if !errors.As(err, &h) {
		t.Fatalf("the pull error carries no hint: %q", err)
	}
	for _, want := range []string{"--images-bundle", "images bundle"} {
		if !strings.Contains(h.Hint(), want) {
			t.Errorf("the pull error's hint should mention %q: %q", want, h.Hint())
		}
	}
	if len(events) == 0 || events[len(events)-1].Status != event.StatusFailed || events[len(events)-1].Subject != ref {
		t.Errorf("want a final error event for %s, got %+v", ref, events)
	}
}

func TestLogsDemultiplexStreams(t *testing.T) {
	e := labtest.Engine(t)
	img := labtest.Busybox(t, e)
	project := labtest.Project(t, e)
	_, load := labtest.WriteProject(t, project, labtest.Hardened+fmt.Sprintf(`
services:
  talker:
    image: %s
    <<: *hardened
    init: true
    command: ["sh", "-c", "for i in 1 2 3; do echo out-$$i; echo err-$$i >&2; done; sleep 3600"]
`, img), nil)
	up(t, e, load(), compose.UpOptions{})
	var lines []compose.LogLine
	waitFor(t, func() bool {
		lines = nil
		err := e.Logs(ctxT(t), project, compose.LogOptions{}, func(l compose.LogLine) { lines = append(lines, l) })
		return err == nil && len(lines) == 6
	}, "six log lines")
	for _, l := range lines {
		want := compose.Stdout
		if strings.HasPrefix(l.Text, "err-") {
			want = compose.Stderr
		}
		if l.Stream != want || l.Service != "talker" || l.Time.IsZero() {
			t.Errorf("line %q: stream %s service %s time %v", l.Text, l.Stream, l.Service, l.Time)
		}
	}
	var tail []compose.LogLine
	if err := e.Logs(ctxT(t), project, compose.LogOptions{Tail: 1}, func(l compose.LogLine) { tail = append(tail, l) }); err != nil {
		t.Fatal(err)
	}
	// The engine applies tail to the container's combined log.
	// The last two lines were written at the same instant to different
	// streams, so either may be last; the stream must match the text.
	lastLine := func(l compose.LogLine) bool {
		return l.Text == "out-3" && l.Stream == compose.Stdout || l.Text == "err-3" && l.Stream == compose.Stderr
	}
	if len(tail) != 1 || !lastLine(tail[0]) {
		t.Errorf("tail 1: want one of the last lines, got %+v", tail)
	}

	// Follow streams new lines and stops cleanly when cancelled.
	fctx, cancel := context.WithCancel(ctxT(t))
	got := make(chan compose.LogLine, 100)
	done := make(chan error, 1)
	go func() {
		done <- e.Logs(fctx, project, compose.LogOptions{Follow: true, Tail: 1}, func(l compose.LogLine) { got <- l })
	}()
	select {
	case l := <-got:
		if !lastLine(l) {
			t.Errorf("follow with tail 1 started at %+v", l)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("follow produced nothing")
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("cancelled follow returned %v, want nil", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("follow did not stop when cancelled")
	}
	err := e.Logs(ctxT(t), project, compose.LogOptions{Services: []string{"nope"}}, func(compose.LogLine) {})
	if err == nil || !strings.Contains(err.Error(), `no service "nope"`) || !strings.Contains(err.Error(), "talker") {
		t.Errorf("unknown service: want an error listing the services, got %v", err)
	}
}

func TestDownRemovesOnlyTheProject(t *testing.T) {
	e := labtest.Engine(t)
	img := labtest.Busybox(t, e)
	project := labtest.Project(t, e)
	ctx := ctxT(t)

	// Someone else's container and network on the same host.
	foreignNet := project + "-foreign"
	if _, err := e.API().NetworkCreate(ctx, foreignNet, network.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = e.API().NetworkRemove(ctx, foreignNet) })
	init := true
	foreign, err := e.API().ContainerCreate(ctx, &container.Config{Image: img, Cmd: []string{"sleep", "3600"}},
		&container.HostConfig{Init: &init, NetworkMode: container.NetworkMode(foreignNet)}, nil, nil, project+"-foreign")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = e.API().ContainerRemove(ctx, foreign.ID, container.RemoveOptions{Force: true}) })
	if err := e.API().ContainerStart(ctx, foreign.ID, container.StartOptions{}); err != nil {
		t.Fatal(err)
	}

	_, load := labtest.WriteProject(t, project, labtest.Hardened+fmt.Sprintf(`
services:
  a:
    image: %[1]s
    <<: *hardened
    init: true
    command: ["sleep", "3600"]
    volumes: [data:/data]
    networks: [one, two]
networks:
  one: {}
  two: {internal: true}
volumes:
  data: {}
`, img), nil)
	up(t, e, load(), compose.UpOptions{})

	if err := e.Down(ctx, project, compose.DownOptions{}, nil); err != nil {
		t.Fatal(err)
	}
	if st, _ := e.Status(ctx, project); len(st) != 0 {
		t.Errorf("containers left after down: %+v", st)
	}
	for _, n := range []string{project + "_one", project + "_two"} {
		if _, err := e.API().NetworkInspect(ctx, n, network.InspectOptions{}); err == nil {
			t.Errorf("network %s left after down", n)
		}
	}
	if _, err := e.API().VolumeInspect(ctx, project+"_data"); err != nil {
		t.Errorf("down without volumes removed the data volume: %v", err)
	}
	if err := e.Down(ctx, project, compose.DownOptions{Volumes: true}, nil); err != nil {
		t.Fatal(err)
	}
	vols, _ := e.API().VolumeList(ctx, volume.ListOptions{})
	for _, v := range vols.Volumes {
		if v.Name == project+"_data" {
			t.Errorf("down with volumes left %s", v.Name)
		}
	}
	c, err := e.API().ContainerInspect(ctx, foreign.ID)
	if err != nil || !c.State.Running {
		t.Errorf("foreign container did not survive: %v", err)
	}
	if _, err := e.API().NetworkInspect(ctx, foreignNet, network.InspectOptions{}); err != nil {
		t.Errorf("foreign network did not survive: %v", err)
	}
}
