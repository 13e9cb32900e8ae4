package compose

import (
	"context"
	"fmt"
	"maps"
	"slices"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/volume"

	"github.com/fineract-installer/fineract-installer/steps/event"
)

// ensureVolumes creates missing named volumes. Existing volumes are kept as
// they are: they hold data.
func (e *Engine) ensureVolumes(ctx context.Context, p *types.Project, r *reporter) error {
	for _, key := range slices.Sorted(maps.Keys(p.Volumes)) {
		v := p.Volumes[key]
		got, err := e.api.VolumeInspect(ctx, v.Name)
		if err == nil {
			if !bool(v.External) && got.Labels[LabelProject] != p.Name {
				return fmt.Errorf("volume %s already exists and does not belong to project %s; it is left untouched: remove it yourself if it is not needed, or rename the volume", v.Name, p.Name)
			}
			continue
		}
		if !errdefs.IsNotFound(err) {
			return fmt.Errorf("inspect volume %s: %w", v.Name, err)
		}
		if bool(v.External) {
			return fmt.Errorf("external volume %s does not exist; create it first, or remove `external: true`", v.Name)
		}
		labels := map[string]string{LabelProject: p.Name, LabelVolume: key, LabelManagedBy: managedBy}
		for k, val := range v.Labels {
			labels[k] = val
		}
		r.working(event.ResourceVolume, v.Name, event.ActionCreate, "")
		if _, err := e.api.VolumeCreate(ctx, volume.CreateOptions{Name: v.Name, Driver: v.Driver, DriverOpts: v.DriverOpts, Labels: labels}); err != nil {
			err = fmt.Errorf("create volume %s: %w", v.Name, err)
			r.failed(event.ResourceVolume, v.Name, event.ActionCreate, err)
			return err
		}
		r.done(event.ResourceVolume, v.Name, event.ActionCreate, "")
	}
	return nil
}
