package install

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/compose-spec/compose-go/v2/types"

	"github.com/fineract-installer/fineract-installer/compose"
	"github.com/fineract-installer/fineract-installer/steps"
	"github.com/fineract-installer/fineract-installer/steps/event"
)

// NetworksStep creates the dmz, app, data and monitoring networks and the
// data volumes, and gives each volume to its service.
type NetworksStep struct{ Env *Env }

// ID implements steps.Step.
func (s NetworksStep) ID() string { return "networks" }

// Title implements steps.Step.
func (s NetworksStep) Title() string { return "Create networks and volumes" }

// Check implements steps.Step.
func (s NetworksStep) Check(ctx context.Context) (bool, error) {
	p, err := s.Env.LoadProject(ctx)
	if err != nil {
		return false, nil
	}
	ok, _, err := s.Env.Engine.NetworksReady(ctx, p)
	if err != nil || !ok {
		return false, err
	}
	ok, _, err = s.Env.volumesOwned(ctx, p)
	return ok, err
}

// Run implements steps.Step.
func (s NetworksStep) Run(ctx context.Context, emit steps.Emitter) error {
	p, err := s.Env.LoadProject(ctx)
	if err != nil {
		return err
	}
	if err := s.Env.Engine.EnsureNetworks(ctx, p, emit); err != nil {
		return err
	}
	return s.Env.handOverVolumes(ctx, p, emit.Info)
}

// vaultService is the compose service name of Vault in the assets.
const vaultService = "vault"

// VaultStartStep starts Vault alone: the other services need the secrets
// it will hold. Vault is healthy only once unsealed, so this step waits
// for the container to run, not for its healthcheck.
type VaultStartStep struct{ Env *Env }

// ID implements steps.Step.
func (s VaultStartStep) ID() string { return "vault-start" }

// Title implements steps.Step.
func (s VaultStartStep) Title() string { return "Start Vault" }

// Check implements steps.Step.
func (s VaultStartStep) Check(ctx context.Context) (bool, error) {
	p, err := s.Env.LoadProject(ctx)
	if err != nil {
		return false, nil
	}
	return s.Env.converged(ctx, p, []string{vaultService}, false)
}

// Run implements steps.Step.
func (s VaultStartStep) Run(ctx context.Context, emit steps.Emitter) error {
	p, err := s.Env.LoadProject(ctx)
	if err != nil {
		return err
	}
	return ImageFailure(s.Env.Engine.Up(ctx, p, compose.UpOptions{
		Services: []string{vaultService}, StartOnly: []string{vaultService}, Policy: s.Env.Policy(),
	}, emit))
}

// ServicesStep starts every service in dependency order and waits until
// each is healthy, streaming their logs as they start.
type ServicesStep struct {
	Env *Env
	// Services limits the step to these services and what they depend on
	// (all when empty).
	Services []string
}

// ID implements steps.Step.
func (s ServicesStep) ID() string { return "services" }

// Title implements steps.Step.
func (s ServicesStep) Title() string { return "Start the services" }

// Check implements steps.Step.
func (s ServicesStep) Check(ctx context.Context) (bool, error) {
	p, err := s.Env.LoadProject(ctx)
	if err != nil {
		return false, nil
	}
	return s.Env.converged(ctx, p, s.Services, true)
}

// Run implements steps.Step.
func (s ServicesStep) Run(ctx context.Context, emit steps.Emitter) error {
	p, notes, err := s.Env.loadProject(ctx)
	if err != nil {
		return err
	}
	for _, note := range notes {
		emit.Warn(note + "; " + openFilesHint)
	}
	total := int64(len(p.Services))
	if len(s.Services) > 0 {
		sub, err := p.WithSelectedServices(s.Services, types.IncludeDependencies)
		if err != nil {
			return fmt.Errorf("select services: %w", err)
		}
		total = int64(len(sub.Services))
	}
	// The slowest first start (Fineract's migrations) sets the wait budget.
	budget := 15 * time.Minute
	for _, svc := range s.Env.Bundle.Services {
		budget = max(budget, svc.HealthBudget)
	}
	tails := newLogTails(ctx, s.Env.Engine, s.Env.Project, emit)
	defer tails.stop()
	var ready int64
	return ImageFailure(s.Env.Engine.Up(ctx, p, compose.UpOptions{WaitTimeout: budget, Policy: s.Env.Policy(), Services: s.Services}, event.Func(func(e event.Event) {
		emit.Emit(e)
		if e.Resource != event.ResourceContainer || e.Status != event.StatusDone {
			return
		}
		switch e.Action {
		case event.ActionStart:
			tails.follow(e.Subject)
		case event.ActionWait:
			ready++
			emit.Progress(e.Subject, ready, total, "services", e.Subject+" is ready")
		}
	})))
}

// logTails follows the logs of services while they start, forwarding each
// line as a log event, until the step ends.
type logTails struct {
	ctx     context.Context
	cancel  context.CancelFunc
	engine  *compose.Engine
	project string
	emit    steps.Emitter
	mu      sync.Mutex
	seen    map[string]bool
	wg      sync.WaitGroup
}

func newLogTails(ctx context.Context, e *compose.Engine, project string, emit steps.Emitter) *logTails {
	ctx, cancel := context.WithCancel(ctx)
	return &logTails{ctx: ctx, cancel: cancel, engine: e, project: project, emit: emit, seen: map[string]bool{}}
}

func (t *logTails) follow(service string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.seen[service] {
		return
	}
	t.seen[service] = true
	t.wg.Add(1)
	go func() {
		defer t.wg.Done()
		_ = t.engine.Logs(t.ctx, t.project, compose.LogOptions{Services: []string{service}, Follow: true, Tail: 50}, func(l compose.LogLine) {
			t.emit.Log(l.Service, string(l.Stream), l.Text)
		})
	}()
}

func (t *logTails) stop() {
	t.cancel()
	t.wg.Wait()
}
