package compose_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/fineract-installer/fineract-installer/compose"
	"github.com/fineract-installer/fineract-installer/lab/labtest"
)

// The dependent must start only after the dependency's first passing
// healthcheck, observed from the engine's own timestamps.
func TestDependsOnConditionsAreObserved(t *testing.T) {
	e := labtest.Engine(t)
	img := labtest.Busybox(t, e)
	project := labtest.Project(t, e)
	yaml := fmt.Sprintf(`
services:
  db:
    image: %[1]s
    init: true
    command: ["sh", "-c", "sleep 2; touch /tmp/ready; sleep 3600"]
    healthcheck:
      test: ["CMD", "test", "-f", "/tmp/ready"]
      interval: 1s
      retries: 30
  migrate:
    image: %[1]s
    init: true
    command: ["sh", "-c", "sleep 1; echo migrated"]
    depends_on:
      db: {condition: service_healthy}
  app:
    image: %[1]s
    init: true
    command: ["sleep", "3600"]
    depends_on:
      db: {condition: service_healthy}
      migrate: {condition: service_completed_successfully}
  sidecar:
    image: %[1]s
    init: true
    command: ["sleep", "3600"]
    depends_on:
      app: {condition: service_started}
`, img)
	_, load := labtest.WriteProject(t, project, yaml, nil)
	up(t, e, load(), compose.UpOptions{})

	db := inspect(t, e, project+"-db-1")
	migrate := inspect(t, e, project+"-migrate-1")
	app := inspect(t, e, project+"-app-1")
	sidecar := inspect(t, e, project+"-sidecar-1")

	var healthyAt time.Time
	for _, probe := range db.State.Health.Log {
		if probe.ExitCode == 0 {
			healthyAt = probe.End
			break
		}
	}
	if healthyAt.IsZero() {
		t.Fatalf("db never had a passing probe: %+v", db.State.Health)
	}
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
		yaml += fmt.Sprintf("  s%d:\n    image: %s\n    init: true\n    command: [\"sh\", \"-c\", \"sleep 1; touch /tmp/up; sleep 3600\"]\n    healthcheck:\n      test: [\"CMD\", \"test\", \"-f\", \"/tmp/up\"]\n      interval: 1s\n", i, img)
	}
	_, load := labtest.WriteProject(t, project, yaml, nil)
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
