package compose

import (
	"context"
	"fmt"
)

// ServicePID returns the host PID of the main process of a project's
// service container, for entering its namespaces.
func (e *Engine) ServicePID(ctx context.Context, project, service string) (int, error) {
	cs, err := e.projectContainers(ctx, project, false)
	if err != nil {
		return 0, err
	}
	for _, c := range cs {
		if c.Labels[LabelService] != service {
			continue
		}
		insp, err := e.api.ContainerInspect(ctx, c.ID)
		if err != nil {
			return 0, fmt.Errorf("inspect %s: %w", service, err)
		}
		if insp.State == nil || !insp.State.Running || insp.State.Pid == 0 {
			break
		}
		return insp.State.Pid, nil
	}
	return 0, fmt.Errorf("service %s of project %s is not running; start it with `fineract-installer install` (or `unseal` after a reboot)", service, project)
}
