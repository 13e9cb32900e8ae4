package compose

import (
	"context"
	"fmt"

	"github.com/docker/docker/api/types/container"
)

// Restart restarts the running containers of a project's service, each
// stopped within the grace period it was created with (stop_grace_period).
// It does not wait for them to be ready: Up on the same project does,
// leaving the unchanged containers as they are.
func (e *Engine) Restart(ctx context.Context, project, service string) error {
	cs, err := e.projectContainers(ctx, project, false)
	if err != nil {
		return err
	}
	n := 0
	for _, c := range cs {
		if c.Labels[LabelService] != service {
			continue
		}
		if err := e.api.ContainerRestart(ctx, c.ID, container.StopOptions{}); err != nil {
			return fmt.Errorf("restart %s: %w", service, err)
		}
		n++
	}
	if n == 0 {
		return fmt.Errorf("service %s of project %s is not running; start it with `fineract-installer install` (or `unseal` after a reboot)", service, project)
	}
	return nil
}
