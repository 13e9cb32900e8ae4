package tui

import (
	"context"
	"fmt"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/fineract-installer/fineract-installer/steps"
)

// planSteps is the install plan's steps as the pipeline lists them.
func planSteps() []StepInfo {
	return []StepInfo{
		{"preflight", "Check the host"},
		{"install-dir", "Prepare the install directory"},
		{"render", "Write the stack's configuration"},
		{"images", "Make the container images available"},
		{"certificates", "Issue certificates"},
		{"networks", "Create networks and volumes"},
		{"vault-start", "Start Vault"},
		{"vault", "Initialise Vault and deliver secrets"},
		{"services", "Start the services"},
		{"validate", "Prove the installation"},
	}
}

// at is a time the given seconds after the test clock.
func at(sec float64) time.Time { return fixedNow.Add(time.Duration(sec * float64(time.Second))) }

func done(id, title string, sec float64) steps.Event {
	return steps.Event{Kind: steps.KindDone, Step: id, Title: title, Elapsed: time.Duration(sec * float64(time.Second))}
}

// midRunEvents is an install part-way: three steps done, images pulling
// with byte progress, and service logs on both streams.
func midRunEvents() []steps.Event {
	evs := []steps.Event{
		{Kind: steps.KindStarted, Step: "preflight", Time: at(-95)},
		done("preflight", "Check the host", 0.4),
		{Kind: steps.KindSkipped, Step: "install-dir", Message: "already done"},
		{Kind: steps.KindStarted, Step: "render", Time: at(-94)},
		done("render", "Write the stack's configuration", 1.2),
		{Kind: steps.KindStarted, Step: "images", Time: at(-83)},
		{Kind: steps.KindProgress, Step: "images", Subject: "apache/fineract:1.10.1", Current: 318 << 20, Total: 742 << 20, Unit: "bytes", Message: "pull"},
		{Kind: steps.KindProgress, Step: "images", Subject: "postgres:17.2", Current: 151 << 20, Total: 151 << 20, Unit: "bytes", Message: "pull"},
		{Kind: steps.KindProgress, Step: "images", Subject: "openmf/web-app:1.x", Current: 12 << 20, Total: 48 << 20, Unit: "bytes", Message: "pull"},
		{Kind: steps.KindWarning, Step: "images", Message: "image hashicorp/vault:1.18 has no digest pin in this bundle"},
	}
	for i := 1; i <= 30; i++ {
		stream := "stdout"
		if i%7 == 0 {
			stream = "stderr"
		}
		evs = append(evs, steps.Event{Kind: steps.KindLog, Step: "vault-start", Subject: "vault", Stream: stream,
			Message: fmt.Sprintf("2025-03-14T09:25:%02d.000Z [INFO]  core: log line %d of the vault server", i, i)})
	}
	return evs
}

// newTestDeploy returns a sized deploy model whose pipeline runs run (or
// blocks until the test ends when run is nil).
func newTestDeploy(t *testing.T, opts DeployOptions, w, h int) deployModel {
	t.Helper()
	if opts.Run == nil {
		opts.Run = func(ctx context.Context, _ func(steps.Event)) error { <-ctx.Done(); return ctx.Err() }
	}
	if opts.Now == nil {
		opts.Now = clock
	}
	pipe := newPipeline(context.Background(), opts.Run)
	t.Cleanup(pipe.close)
	m := newDeploy(context.Background(), opts, false, pipe)
	next, _ := m.Update(tea.WindowSizeMsg{Width: w, Height: h})
	return next.(deployModel)
}
