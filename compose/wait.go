package compose

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/container"

	"github.com/fineract-installer/fineract-installer/steps/event"
)

// pollEvery is how often a starting container's state is read. Reading state
// over the local socket is cheap; a shorter interval only shortens the time
// between a container turning healthy and its dependents starting.
const pollEvery = 200 * time.Millisecond

// failureLogLines is how many log lines a ServiceError carries.
const failureLogLines = 30

// ServiceError says that a service did not become ready, why, and what it
// printed last. Error is the one-line cause; callers show Logs apart (the
// "logs" of a JSON failed event, indented lines in text).
type ServiceError struct {
	Service string
	Reason  string
	Logs    []string
}

func (e *ServiceError) Error() string { return fmt.Sprintf("service %s %s", e.Service, e.Reason) }

// Hint says where to look and how to go on.
func (e *ServiceError) Hint() string {
	return fmt.Sprintf("see `fineract-installer logs %s`; after fixing the cause, run the same command again", e.Service)
}

// probeEvery is how often the installer runs a starting container's own
// healthcheck command itself (see probeHealthcheck).
const probeEvery = time.Second

// waitReady waits until the container is healthy (with a healthcheck),
// has exited 0 (when a dependent waits for completion), or has kept running
// for the settle time (no healthcheck). passing is called once the
// container's healthcheck command has passed, which may be before the
// engine reports it healthy.
func (e *Engine) waitReady(ctx context.Context, service, id string, complete bool, o UpOptions, r *reporter, passing func()) error {
	deadline := time.Now().Add(o.WaitTimeout)
	announced, passed := false, false
	var restarts int
	var lastRun time.Time
	first := true
	for {
		wait := pollEvery
		insp, err := e.api.ContainerInspect(ctx, id)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return fmt.Errorf("wait for %s: %w", service, err)
		}
		st := insp.State
		if first {
			restarts, first = insp.RestartCount, false
		}
		switch {
		case complete && st.Status == "exited" && st.ExitCode == 0:
			r.done(event.ResourceContainer, service, event.ActionWait, "exited 0")
			return nil
		case st.Status == "exited" || st.Status == "dead":
			return e.serviceFailed(service, id, fmt.Sprintf("exited with code %d", st.ExitCode), r)
		case st.Restarting || insp.RestartCount > restarts:
			// Once the engine has started it again, the exit code it had is
			// gone from the state (it reads 0); say it only when it is known.
			reason := "keeps restarting"
			if st.ExitCode != 0 {
				reason += fmt.Sprintf(" (last exit code %d)", st.ExitCode)
			}
			return e.serviceFailed(service, id, reason, r)
		case complete:
			// still running a one-shot job
		case st.Health != nil && st.Health.Status == container.Healthy:
			r.done(event.ResourceContainer, service, event.ActionWait, "healthy")
			return nil
		case st.Health != nil && st.Health.Status == container.Unhealthy:
			return e.serviceFailed(service, id, "is unhealthy"+lastProbe(st.Health), r)
		case st.Health == nil && st.Running:
			started, _ := time.Parse(time.RFC3339Nano, st.StartedAt)
			if time.Since(started) >= o.Settle {
				r.done(event.ResourceContainer, service, event.ActionWait, "running")
				return nil
			}
			// Sleep exactly until the settle time is over, then look again.
			wait = time.Until(started.Add(o.Settle))
		}
		if !announced && st.Health != nil {
			r.working(event.ResourceContainer, service, event.ActionWait, "waiting for the healthcheck")
			announced = true
		}
		if !passed && !complete && st.Running && st.Health != nil && st.Health.Status == container.Starting && time.Since(lastRun) >= probeEvery {
			lastRun = time.Now()
			if e.probeHealthcheck(ctx, id, insp.Config) {
				passed = true
				passing()
				r.working(event.ResourceContainer, service, event.ActionWait, "healthcheck passes; dependents start while the engine's own probe confirms")
			}
		}
		if time.Now().After(deadline) {
			return e.serviceFailed(service, id, fmt.Sprintf("did not become ready within %s (state %s%s)", o.WaitTimeout, st.Status, healthSuffix(st.Health)), r)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
	}
}

// probeHealthcheck runs the container's healthcheck command the way the
// engine would. Until its first probe the engine says "starting" for a full
// interval (30 s for Fineract) unless it supports start_interval (API 1.44,
// Docker 25), and dependents would sit idle that long; running the same
// command here releases them as soon as it passes. The service itself still
// counts as ready only when the engine reports it healthy.
func (e *Engine) probeHealthcheck(ctx context.Context, id string, cfg *container.Config) bool {
	if cfg == nil || cfg.Healthcheck == nil {
		return false
	}
	cmd := healthcheckCommand(cfg.Healthcheck.Test, cfg.Shell)
	if cmd == nil {
		return false
	}
	timeout := cfg.Healthcheck.Timeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	pctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	res, err := e.execIn(pctx, id, id, "", cmd, nil, io.Discard)
	return err == nil && res.ExitCode == 0
}

// healthcheckCommand turns a healthcheck test into the command the engine
// runs: CMD as it is, CMD-SHELL through the container's shell.
func healthcheckCommand(test, shell []string) []string {
	if len(test) < 2 {
		return nil
	}
	switch test[0] {
	case "CMD":
		return test[1:]
	case "CMD-SHELL":
		if len(shell) == 0 {
			shell = []string{"/bin/sh", "-c"}
		}
		return append(append([]string(nil), shell...), test[1])
	}
	return nil
}

func healthSuffix(h *container.Health) string {
	if h == nil {
		return ""
	}
	return ", health " + h.Status
}

func lastProbe(h *container.Health) string {
	if h == nil || len(h.Log) == 0 {
		return ""
	}
	out := strings.TrimSpace(h.Log[len(h.Log)-1].Output)
	if out == "" {
		return fmt.Sprintf(" (healthcheck exit code %d)", h.Log[len(h.Log)-1].ExitCode)
	}
	return fmt.Sprintf(" (healthcheck said: %s)", out)
}

func (e *Engine) serviceFailed(service, id, reason string, r *reporter) error {
	// The apply's context may already be cancelled; the logs are still worth
	// fetching for the person reading the error.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	lines, _ := e.tailLines(ctx, id, failureLogLines)
	err := &ServiceError{Service: service, Reason: reason, Logs: lines}
	r.failed(event.ResourceContainer, service, event.ActionStart, err)
	return err
}

// isGone reports errors that mean the container is already gone or going.
func isGone(err error) bool {
	return errdefs.IsNotFound(err) || errdefs.IsConflict(err) && strings.Contains(err.Error(), "already in progress")
}
