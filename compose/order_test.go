package compose_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	dcontainer "github.com/docker/docker/api/types/container"
	"github.com/docker/docker/pkg/stdcopy"

	"github.com/fineract-installer/fineract-installer/compose"
	"github.com/fineract-installer/fineract-installer/lab/labtest"
)

// The dependent must start only after the dependency's healthcheck passes,
// observed from the engine's own timestamps: db logs "ready" just before
// the file its healthcheck tests appears.
func TestDependsOnConditionsAreObserved(t *testing.T) {
	e := labtest.Engine(t)
	img := labtest.Busybox(t, e)
	project := labtest.Project(t, e)
	yaml := fmt.Sprintf(`
services:
  db:
    image: %[1]s
    <<: *hardened
    init: true
    command: ["sh", "-c", "sleep 2; echo ready; touch /tmp/ready; sleep 3600"]
    healthcheck:
      test: ["CMD", "test", "-f", "/tmp/ready"]
      interval: 1s
      retries: 30
  migrate:
    image: %[1]s
    <<: *hardened
    init: true
    command: ["sh", "-c", "sleep 1; echo migrated"]
    depends_on:
      db: {condition: service_healthy}
  app:
    image: %[1]s
    <<: *hardened
    init: true
    command: ["sleep", "3600"]
    depends_on:
      db: {condition: service_healthy}
      migrate: {condition: service_completed_successfully}
  sidecar:
    image: %[1]s
    <<: *hardened
    init: true
    command: ["sleep", "3600"]
    depends_on:
      app: {condition: service_started}
`, img)
	_, load := labtest.WriteProject(t, project, labtest.Hardened+yaml, nil)
	up(t, e, load(), compose.UpOptions{})

	db := inspect(t, e, project+"-db-1")
	migrate := inspect(t, e, project+"-migrate-1")
	app := inspect(t, e, project+"-app-1")
	sidecar := inspect(t, e, project+"-sidecar-1")

	if db.State.Health.Status != "healthy" {
		t.Fatalf("Up returned before the engine said db is healthy: %+v", db.State.Health)
	}
	healthyAt := logTime(t, e, project+"-db-1", "ready")
	parse := func(s string) time.Time {
		ts, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			t.Fatal(err)
		}
		return ts
	}
	migrateStart := parse(migrate.State.StartedAt)
	migrateEnd := parse(migrate.State.FinishedAt)
	appStart := parse(app.State.StartedAt)
	sidecarStart := parse(sidecar.State.StartedAt)

	if migrateStart.Before(healthyAt) {
		t.Errorf("migrate started at %s, before db became healthy at %s", migrateStart, healthyAt)
	}
	if appStart.Before(healthyAt) {
		t.Errorf("app started at %s, before db became healthy at %s", appStart, healthyAt)
	}
	if appStart.Before(migrateEnd) || migrate.State.ExitCode != 0 {
		t.Errorf("app started at %s, before migrate completed at %s (exit %d)", appStart, migrateEnd, migrate.State.ExitCode)
	}
	if sidecarStart.Before(appStart) {
		t.Errorf("sidecar started at %s, before app at %s", sidecarStart, appStart)
	}
}

// Independent services start in parallel: four services that each need a
// second to settle finish together, not one after another.
func TestIndependentServicesStartInParallel(t *testing.T) {
	e := labtest.Engine(t)
	img := labtest.Busybox(t, e)
	project := labtest.Project(t, e)
	yaml := "services:\n"
	for i := range 4 {
		yaml += fmt.Sprintf("  s%d:\n    image: %s\n    <<: *hardened\n    init: true\n    command: [\"sh\", \"-c\", \"sleep 1; touch /tmp/up; sleep 3600\"]\n    healthcheck:\n      test: [\"CMD\", \"test\", \"-f\", \"/tmp/up\"]\n      interval: 1s\n", i, img)
	}
	_, load := labtest.WriteProject(t, project, labtest.Hardened+yaml, nil)
	up(t, e, load(), compose.UpOptions{})
	// Parallel starts overlap: every service started before any became healthy.
	var firstHealthy, lastStart time.Time
	for i := range 4 {
		c := inspect(t, e, fmt.Sprintf("%s-s%d-1", project, i))
		st, _ := time.Parse(time.RFC3339Nano, c.State.StartedAt)
		if st.After(lastStart) {
			lastStart = st
		}
		for _, p := range c.State.Health.Log {
			if p.ExitCode == 0 && (firstHealthy.IsZero() || p.End.Before(firstHealthy)) {
				firstHealthy = p.End
			}
		}
	}
	if !lastStart.Before(firstHealthy) {
		t.Errorf("services were started one after another: last start %s, first healthy %s", lastStart, firstHealthy)
	}
}

// A dependent waiting for health starts as soon as the dependency's
// healthcheck command passes, not one whole interval later when the engine
// runs its first probe; Up still returns only once the engine says healthy.
func TestHealthyDependentsStartOnTheFirstPassingCheck(t *testing.T) {
	e := labtest.Engine(t)
	img := labtest.Busybox(t, e)
	project := labtest.Project(t, e)
	yaml := fmt.Sprintf(`
services:
  db:
    image: %[1]s
    <<: *hardened
    init: true
    command: ["sh", "-c", "sleep 1; echo ready; touch /tmp/ready; sleep 3600"]
    healthcheck:
      test: ["CMD-SHELL", "test -f /tmp/ready"]
      interval: 8s
  app:
    image: %[1]s
    <<: *hardened
    init: true
    command: ["sleep", "3600"]
    depends_on:
      db: {condition: service_healthy}
`, img)
	_, load := labtest.WriteProject(t, project, labtest.Hardened+yaml, nil)
	up(t, e, load(), compose.UpOptions{})

	db := inspect(t, e, project+"-db-1")
	app := inspect(t, e, project+"-app-1")
	if db.State.Health.Status != "healthy" || len(db.State.Health.Log) == 0 {
		t.Fatalf("Up returned before the engine said db is healthy: %+v", db.State.Health)
	}
	firstEngineProbe := db.State.Health.Log[0].Start
	appStart, _ := time.Parse(time.RFC3339Nano, app.State.StartedAt)
	if ready := logTime(t, e, project+"-db-1", "ready"); appStart.Before(ready) {
		t.Errorf("app started at %s, before db was ready at %s", appStart, ready)
	}
	if !appStart.Before(firstEngineProbe) {
		t.Errorf("app started at %s, only after the engine's first probe at %s: the passing check did not release it", appStart, firstEngineProbe)
	}
}

// logTime is the engine's timestamp of the first log line equal to line.
func logTime(t *testing.T, e *compose.Engine, container, line string) time.Time {
	t.Helper()
	rc, err := e.API().ContainerLogs(context.Background(), container, dcontainer.LogsOptions{ShowStdout: true, Timestamps: true})
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	var out bytes.Buffer
	if _, err := stdcopy.StdCopy(&out, io.Discard, rc); err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(out.String(), "\n") {
		ts, text, ok := strings.Cut(l, " ")
		if ok && text == line {
			at, err := time.Parse(time.RFC3339Nano, ts)
			if err != nil {
				t.Fatal(err)
			}
			return at
		}
	}
	t.Fatalf("%s never logged %q:\n%s", container, line, out.String())
	return time.Time{}
}
