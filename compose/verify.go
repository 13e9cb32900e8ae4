package compose

import (
	"context"
	"fmt"
	"sort"

	"github.com/compose-spec/compose-go/v2/types"

	"github.com/fineract-installer/fineract-installer/steps/event"
)

// ServiceImage is the image a service resolves to on this host.
type ServiceImage struct {
	Service string `json:"service"`
	// Image is the reference the compose file names.
	Image string `json:"image"`
	// ID is the image ID the reference resolves to now.
	ID string `json:"id"`
}

// ImageVerifier approves the images services are about to run. An error
// stops Up before any container is created, replaced or removed.
type ImageVerifier interface {
	VerifyImages(ctx context.Context, images []ServiceImage) error
}

// SetImageVerifier makes every later Up ask v about the images first. An
// installation sets one, so that every command that (re)creates containers
// runs only the images it recorded.
func (e *Engine) SetImageVerifier(v ImageVerifier) { e.verifier = v }

// serviceImages pairs each service of p with its image ID.
func serviceImages(p *types.Project, ids map[string]string) []ServiceImage {
	out := make([]ServiceImage, 0, len(p.Services))
	for name, s := range p.Services {
		out = append(out, ServiceImage{Service: name, Image: s.Image, ID: ids[s.Image]})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Service < out[j].Service })
	return out
}

// resolveImages makes the images of p present and asks the verifier, if
// any, about every service. It returns each reference's image ID.
func (e *Engine) resolveImages(ctx context.Context, p *types.Project, o ImageOptions, r *reporter) (map[string]string, error) {
	ids, err := e.ensureImages(ctx, ProjectImages(p), o, r)
	if err != nil {
		return nil, err
	}
	if e.verifier != nil {
		if err := e.verifier.VerifyImages(ctx, serviceImages(p, ids)); err != nil {
			return nil, err
		}
	}
	return ids, nil
}

// CheckImages does what Up does before it touches a container: it makes
// the images of services (and of what they depend on; all when empty)
// present and asks the verifier about them. A command that changes
// something else first (certificates, say) calls it before that change.
func (e *Engine) CheckImages(ctx context.Context, p *types.Project, services []string, o ImageOptions, emit event.Emitter) error {
	if len(services) > 0 {
		sub, err := p.WithSelectedServices(services, types.IncludeDependencies)
		if err != nil {
			return fmt.Errorf("select services: %w", err)
		}
		p = sub
	}
	_, err := e.resolveImages(ctx, p, o, newReporter(emit))
	return err
}
