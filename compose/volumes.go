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
		exists, err := e.volumeExists(ctx, p.Name, v)
		if err != nil {
			return err
		}
		if exists {
			continue
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

// volumeExists reports whether the project's volume is there, false when
// it is missing, and an error when it cannot be used. Apply and plan both
// decide with it.
func (e *Engine) volumeExists(ctx context.Context, project string, v types.VolumeConfig) (bool, error) {
	got, err := e.api.VolumeInspect(ctx, v.Name)
	switch {
	case err == nil:
		if !bool(v.External) && got.Labels[LabelProject] != project {
			return false, fmt.Errorf("volume %s already exists and does not belong to project %s; it is left untouched: remove it yourself if it is not needed, or rename the volume", v.Name, project)
		}
		return true, nil
	case !errdefs.IsNotFound(err):
		return false, fmt.Errorf("inspect volume %s: %w", v.Name, err)
	case bool(v.External):
		return false, fmt.Errorf("external volume %s does not exist; create it first, or remove `external: true`", v.Name)
	}
	return false, nil
}
