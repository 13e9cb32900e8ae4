package compose

import (
	"context"
	"fmt"

	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/volume"
	"golang.org/x/sync/errgroup"

	"github.com/fineract-installer/fineract-installer/steps/event"
)

// DownOptions tune a teardown.
type DownOptions struct {
	// Volumes also removes the project's named volumes, and with them the
	// data they hold.
	Volumes bool
}

// Down stops and removes everything of the project, found by its labels:
// containers, then networks, then (when asked) volumes. Objects of other
// projects or created by hand are never touched.
func (e *Engine) Down(ctx context.Context, project string, o DownOptions, emit event.Emitter) error {
	r := newReporter(emit)
	cs, err := e.projectContainers(ctx, project, true)
	if err != nil {
		return err
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(8)
	for _, c := range cs {
		svc := c.Labels[LabelService]
		g.Go(func() error {
			r.working(event.ResourceContainer, svc, event.ActionRemove, "")
			if err := e.removeContainer(gctx, c.ID, nil); err != nil {
				err = fmt.Errorf("remove %s: %w", svc, err)
				r.failed(event.ResourceContainer, svc, event.ActionRemove, err)
				return err
			}
			r.done(event.ResourceContainer, svc, event.ActionRemove, "")
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	nets, err := e.projectNetworks(ctx, project)
	if err != nil {
		return err
	}
	for _, n := range nets {
		r.working(event.ResourceNetwork, n.Name, event.ActionRemove, "")
		if err := e.api.NetworkRemove(ctx, n.ID); err != nil && !isGone(err) {
			err = fmt.Errorf("remove network %s: %w (is a container outside the project still attached? `docker network inspect %s` shows it)", n.Name, err, n.Name)
			r.failed(event.ResourceNetwork, n.Name, event.ActionRemove, err)
			return err
		}
		r.done(event.ResourceNetwork, n.Name, event.ActionRemove, "")
	}
	if !o.Volumes {
		return nil
	}
	vols, err := e.api.VolumeList(ctx, volume.ListOptions{Filters: filters.NewArgs(filters.Arg("label", projectFilter(project)))})
	if err != nil {
		return fmt.Errorf("list volumes of %s: %w", project, err)
	}
	for _, v := range vols.Volumes {
		r.working(event.ResourceVolume, v.Name, event.ActionRemove, "")
		if err := e.api.VolumeRemove(ctx, v.Name, false); err != nil && !isGone(err) {
			err = fmt.Errorf("remove volume %s: %w", v.Name, err)
			r.failed(event.ResourceVolume, v.Name, event.ActionRemove, err)
			return err
		}
		r.done(event.ResourceVolume, v.Name, event.ActionRemove, "")
	}
	return nil
}
