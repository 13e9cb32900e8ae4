package compose

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"
)

// Port is one published port.
type Port struct {
	HostIP        string `json:"host_ip"`
	HostPort      uint16 `json:"host_port"`
	ContainerPort uint16 `json:"container_port"`
	Protocol      string `json:"protocol"`
}

// ServiceStatus is what a person asks first about a service.
type ServiceStatus struct {
	Service   string    `json:"service"`
	Container string    `json:"container"`
	ID        string    `json:"id"`
	Image     string    `json:"image"`
	ImageID   string    `json:"image_id"`
	State     string    `json:"state"`
	Health    string    `json:"health,omitempty"`
	ExitCode  int       `json:"exit_code"`
	Restarts  int       `json:"restarts"`
	StartedAt time.Time `json:"started_at,omitzero"`
	Ports     []Port    `json:"ports,omitempty"`
}

// Status reports every container of the project, sorted by service.
func (e *Engine) Status(ctx context.Context, project string) ([]ServiceStatus, error) {
	cs, err := e.projectContainers(ctx, project, true)
	if err != nil {
		return nil, err
	}
	out := make([]ServiceStatus, 0, len(cs))
	for _, c := range cs {
		insp, err := e.api.ContainerInspect(ctx, c.ID)
		if err != nil {
			if isGone(err) {
				continue
			}
			return nil, fmt.Errorf("inspect %s: %w", c.Labels[LabelService], err)
		}
		s := ServiceStatus{
			Service:   c.Labels[LabelService],
			Container: strings.TrimPrefix(insp.Name, "/"),
			ID:        shortID(c.ID),
			Image:     imageRef(c.Labels, c.Image),
			ImageID:   insp.Image,
			State:     insp.State.Status,
			ExitCode:  insp.State.ExitCode,
			Restarts:  insp.RestartCount,
		}
		s.StartedAt, _ = time.Parse(time.RFC3339Nano, insp.State.StartedAt)
		if insp.State.Health != nil {
			s.Health = insp.State.Health.Status
		}
		for _, p := range c.Ports {
			if p.PublicPort == 0 {
				continue
			}
			s.Ports = append(s.Ports, Port{HostIP: p.IP, HostPort: p.PublicPort, ContainerPort: p.PrivatePort, Protocol: p.Type})
		}
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Service < out[j].Service })
	return out, nil
}

// imageRef is the reference a container was made for. Containers are made
// from image IDs, so the engine's own image field shows the ID.
func imageRef(labels map[string]string, engineImage string) string {
	if ref := labels[LabelImageRef]; ref != "" {
		return ref
	}
	return engineImage
}
