package compose_test

import (
	"fmt"
	"testing"

	"github.com/fineract-installer/fineract-installer/compose"
	"github.com/fineract-installer/fineract-installer/lab/labtest"
	"github.com/fineract-installer/fineract-installer/steps/event"
)

// Every service the engine brings up is reported started and then ready,
// in typed actions a caller can count on (the install's services step
// follows logs from the start and counts services from the ready): a
// service with a healthcheck once healthy, one without once it has kept
// running, and a one-shot job once it exited 0.
func TestUpReportsEachServiceStartedThenReady(t *testing.T) {
	e := labtest.Engine(t)
	img := labtest.Busybox(t, e)
	project := labtest.Project(t, e)
	_, load := labtest.WriteProject(t, project, labtest.Hardened+fmt.Sprintf(`
services:
  checked:
    image: %[1]s
    <<: *hardened
    init: true
    command: ["sleep", "3600"]
    healthcheck:
      test: ["CMD", "true"]
      interval: 1s
  plain:
    image: %[1]s
    <<: *hardened
    init: true
    command: ["sleep", "3600"]
  job:
    image: %[1]s
    <<: *hardened
    command: ["true"]
  after:
    image: %[1]s
    <<: *hardened
    init: true
    command: ["sleep", "3600"]
    depends_on:
      job: {condition: service_completed_successfully}
`, img), nil)
	events := up(t, e, load(), compose.UpOptions{})
	started, ready := map[string]int{}, map[string]string{}
	for _, ev := range events {
		if ev.Resource != event.ResourceContainer || ev.Status != event.StatusDone {
			continue
		}
		switch ev.Action {
		case event.ActionStart:
			started[ev.Subject]++
			if ready[ev.Subject] != "" {
				t.Errorf("%s reported ready before started", ev.Subject)
			}
		case event.ActionWait:
			ready[ev.Subject] = ev.Message
		}
	}
	for _, svc := range []string{"checked", "plain", "job", "after"} {
		if started[svc] != 1 || ready[svc] == "" {
			t.Errorf("%s: started %d times, ready %q; want started once, then ready (events %+v)", svc, started[svc], ready[svc], events)
		}
	}
}
