package compose

import (
	"context"
	"fmt"
	"maps"
	"slices"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/network"

	"github.com/fineract-installer/fineract-installer/steps/event"
)

// ensureNetworks creates the project's networks, or checks that existing ones
// still match what the project asks for.
func (e *Engine) ensureNetworks(ctx context.Context, p *types.Project, r *reporter) error {
	for _, key := range slices.Sorted(maps.Keys(p.Networks)) {
		n := p.Networks[key]
		if bool(n.External) {
			if err := e.externalNetwork(ctx, n); err != nil {
				return err
			}
			continue
		}
		if err := e.ensureNetwork(ctx, p.Name, key, n, r); err != nil {
			return err
		}
	}
	return nil
}

func (e *Engine) ensureNetwork(ctx context.Context, project, key string, n types.NetworkConfig, r *reporter) error {
	if exists, err := e.networkExists(ctx, project, n); err != nil || exists {
		return err
	}
	r.working(event.ResourceNetwork, n.Name, event.ActionCreate, "")
	labels := map[string]string{}
	for k, v := range n.Labels {
		labels[k] = v
	}
	labels[LabelProject] = project
	labels[LabelNetwork] = key
	labels[LabelManagedBy] = managedBy
	opts := network.CreateOptions{
		Driver:     n.Driver,
		Internal:   n.Internal,
		Attachable: n.Attachable,
		Options:    n.DriverOpts,
		Labels:     labels,
		EnableIPv6: n.EnableIPv6,
	}
	if opts.Driver == "" {
		opts.Driver = "bridge"
	}
	if len(n.Ipam.Config) > 0 || n.Ipam.Driver != "" {
		ipam := &network.IPAM{Driver: n.Ipam.Driver, Options: n.Ipam.Options}
		for _, pool := range n.Ipam.Config {
			ipam.Config = append(ipam.Config, network.IPAMConfig{
				Subnet: pool.Subnet, Gateway: pool.Gateway, IPRange: pool.IPRange, AuxAddress: pool.AuxiliaryAddresses,
			})
		}
		opts.IPAM = ipam
	}
	if _, err := e.api.NetworkCreate(ctx, n.Name, opts); err != nil {
		err = fmt.Errorf("create network %s: %w", n.Name, err)
		r.failed(event.ResourceNetwork, n.Name, event.ActionCreate, err)
		return err
	}
	r.done(event.ResourceNetwork, n.Name, event.ActionCreate, "")
	return nil
}

// externalNetwork checks that a network the project does not own exists.
func (e *Engine) externalNetwork(ctx context.Context, n types.NetworkConfig) error {
	if _, err := e.api.NetworkInspect(ctx, n.Name, network.InspectOptions{}); err != nil {
		return fmt.Errorf("external network %s: %w (create it first, or remove `external: true`)", n.Name, err)
	}
	return nil
}

// networkExists reports whether the network is there as the project wants
// it, false when it is missing, and an error when it is there but cannot
// be used. Apply and plan both decide with it.
func (e *Engine) networkExists(ctx context.Context, project string, n types.NetworkConfig) (bool, error) {
	existing, err := e.api.NetworkInspect(ctx, n.Name, network.InspectOptions{})
	switch {
	case err == nil:
		return true, networkMatches(existing, project, n)
	case errdefs.IsNotFound(err):
		return false, nil
	}
	return false, fmt.Errorf("inspect network %s: %w", n.Name, err)
}

// networkMatches refuses to reuse a network that belongs to someone else or
// whose isolation or addressing differs: silently attaching services to a
// network that is not internal would break the segmentation promise.
func networkMatches(got network.Inspect, project string, want types.NetworkConfig) error {
	if got.Labels[LabelProject] != project {
		return fmt.Errorf("network %s already exists and does not belong to project %s; remove it or choose another network name in the answers", want.Name, project)
	}
	if got.Internal != want.Internal {
		return fmt.Errorf("network %s exists with internal=%t but the project needs internal=%t; run `fineract-installer uninstall` to remove the old networks, then apply again", want.Name, got.Internal, want.Internal)
	}
	wantSubnets := map[string]bool{}
	for _, pool := range want.Ipam.Config {
		if pool.Subnet != "" {
			wantSubnets[pool.Subnet] = true
		}
	}
	if len(wantSubnets) == 0 {
		return nil
	}
	for _, c := range got.IPAM.Config {
		if !wantSubnets[c.Subnet] {
			return fmt.Errorf("network %s exists with subnet %s, which the project no longer asks for; run `fineract-installer uninstall` to remove the old networks, then apply again", want.Name, c.Subnet)
		}
		delete(wantSubnets, c.Subnet)
	}
	for s := range wantSubnets {
		return fmt.Errorf("network %s exists without subnet %s; run `fineract-installer uninstall` to remove the old networks, then apply again", want.Name, s)
	}
	return nil
}

// projectNetworks lists networks carrying the project label.
func (e *Engine) projectNetworks(ctx context.Context, project string) ([]network.Summary, error) {
	nets, err := e.api.NetworkList(ctx, network.ListOptions{Filters: filters.NewArgs(filters.Arg("label", projectFilter(project)))})
	if err != nil {
		return nil, fmt.Errorf("list networks: %w", err)
	}
	return nets, nil
}
