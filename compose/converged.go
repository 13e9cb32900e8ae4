package compose

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/network"

	"github.com/fineract-installer/fineract-installer/steps/event"
)

// EnsureNetworks creates the project's networks and volumes, or checks
// that existing ones match. A volume with driver options is refused, as Up
// refuses it.
func (e *Engine) EnsureNetworks(ctx context.Context, p *types.Project, emit event.Emitter) error {
	if err := checkVolumes(p); err != nil {
		return err
	}
	r := newReporter(emit)
	if err := e.ensureNetworks(ctx, p, r); err != nil {
		return err
	}
	return e.ensureVolumes(ctx, p, r)
}

// NetworksReady reports whether every network and volume of the project
// exists as the project describes it. Reason says what is missing.
func (e *Engine) NetworksReady(ctx context.Context, p *types.Project) (bool, string, error) {
	for _, key := range slices.Sorted(maps.Keys(p.Networks)) {
		n := p.Networks[key]
		got, err := e.api.NetworkInspect(ctx, n.Name, network.InspectOptions{})
		if err != nil {
			if isGone(err) {
				return false, "network " + n.Name + " is missing", nil
			}
			return false, "", fmt.Errorf("inspect network %s: %w", n.Name, err)
		}
		if !bool(n.External) {
			if err := networkMatches(got, p.Name, n); err != nil {
				return false, err.Error(), nil
			}
		}
	}
	for _, key := range slices.Sorted(maps.Keys(p.Volumes)) {
		v := p.Volumes[key]
		if _, err := e.api.VolumeInspect(ctx, v.Name); err != nil {
			if isGone(err) {
				return false, "volume " + v.Name + " is missing", nil
			}
			return false, "", fmt.Errorf("inspect volume %s: %w", v.Name, err)
		}
	}
	return true, "", nil
}

// Converged reports whether the given services (all when empty) each run
// one container with the current configuration, healthy where they have a
// healthcheck and requireHealthy is set. Reason names the first that is not.
// It changes nothing, so pipeline steps use it as their Check.
func (e *Engine) Converged(ctx context.Context, p *types.Project, services []string, requireHealthy bool) (bool, string, error) {
	return e.ConvergedWith(ctx, p, ConvergedOptions{Services: services, RequireHealthy: requireHealthy})
}

// ConvergedOptions tune ConvergedWith.
type ConvergedOptions struct {
	// Services to check (all when empty).
	Services []string
	// RequireHealthy asks services with a healthcheck to be healthy.
	RequireHealthy bool
	// Pending holds files an apply would write first, as for Plan: a plan
	// asks whether the services would be converged once they are written.
	Pending map[string][]byte
}

// ConvergedWith is Converged with options.
func (e *Engine) ConvergedWith(ctx context.Context, p *types.Project, o ConvergedOptions) (bool, string, error) {
	services, requireHealthy := o.Services, o.RequireHealthy
	names := services
	if len(names) == 0 {
		names = p.ServiceNames()
	}
	ids, missing, err := e.localImages(ctx, ProjectImages(p))
	if err != nil {
		return false, "", err
	}
	if len(missing) > 0 {
		return false, "image " + missing[0] + " is missing", nil
	}
	cs, err := e.projectContainers(ctx, p.Name, true)
	if err != nil {
		return false, "", err
	}
	byService := map[string][]container.Summary{}
	for _, c := range cs {
		byService[c.Labels[LabelService]] = append(byService[c.Labels[LabelService]], c)
	}
	sort.Strings(names)
	for _, name := range names {
		s, ok := p.Services[name]
		if !ok {
			return false, "", fmt.Errorf("%w: %s", ErrNoSuchService, name)
		}
		fp, err := fingerprintWith(p, s, ids[s.Image], o.Pending)
		if err != nil {
			return false, "", err
		}
		// The same decision Up acts on: converged is what Up leaves alone.
		d := decide(name, s.Image, ids[s.Image], fp, byService[name])
		switch {
		case d.Action == ServiceStart && d.keep.State != "running":
			return false, "service " + name + " is " + d.keep.State, nil
		case d.Changes():
			return false, "service " + name + " is not deployed with the current configuration (it would be " + actionWords(d.Action) + ": " + strings.Join(d.Reasons, "; ") + ")", nil
		}
		have := d.keep
		if requireHealthy && s.HealthCheck != nil && !s.HealthCheck.Disable {
			insp, err := e.api.ContainerInspect(ctx, have.ID)
			if err != nil {
				return false, "", fmt.Errorf("inspect %s: %w", name, err)
			}
			if insp.State.Health == nil || insp.State.Health.Status != container.Healthy {
				return false, "service " + name + " is not healthy", nil
			}
		}
	}
	return true, "", nil
}
