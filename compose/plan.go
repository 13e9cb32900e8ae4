package compose

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/volume"
)

// PlanOptions say what Plan compares the host with.
type PlanOptions struct {
	// Up are the options the apply would run with: the same policy,
	// service selection and orphan handling decide the same way.
	Up UpOptions
	// Pending holds, by absolute path, files an apply writes before it
	// creates containers (the rendered configuration): their content is
	// read from here, not from the disk, which still holds the old one.
	Pending map[string][]byte
}

// ResourceAction is what an apply does to a network or volume.
type ResourceAction string

// Resource actions.
const (
	ResourceUnchanged ResourceAction = "unchanged"
	ResourceCreate    ResourceAction = "create"
	// ResourceKept is a volume no longer in the project: an apply never
	// removes a volume, it holds data.
	ResourceKept ResourceAction = "kept"
)

// ResourceChange is the decision about one network or volume.
type ResourceChange struct {
	Name   string         `json:"name"`
	Action ResourceAction `json:"action"`
	Reason string         `json:"reason,omitempty"`
}

// ImageAction is how an image becomes present.
type ImageAction string

// Image actions.
const (
	ImagePresent ImageAction = "present" // already on this host
	ImagePull    ImageAction = "pull"    // pulled from its registry
	ImageLoad    ImageAction = "load"    // loaded from the offline bundle
)

// ImageChange is the decision about one image reference.
type ImageChange struct {
	Ref    string      `json:"ref"`
	Action ImageAction `json:"action"`
	// ID is the image ID here, empty until the image is present.
	ID string `json:"id,omitempty"`
}

// ProjectPlan is what Up would do to the host, found without changing it.
type ProjectPlan struct {
	Project  string           `json:"project"`
	Services []ServiceChange  `json:"services"`
	Networks []ResourceChange `json:"networks"`
	Volumes  []ResourceChange `json:"volumes"`
	Images   []ImageChange    `json:"images"`
}

// Changes reports whether an apply would change anything. A kept volume
// is no change: it stays as it is.
func (pl ProjectPlan) Changes() bool {
	for _, s := range pl.Services {
		if s.Changes() {
			return true
		}
	}
	for _, r := range slices.Concat(pl.Networks, pl.Volumes) {
		if r.Action == ResourceCreate {
			return true
		}
	}
	for _, i := range pl.Images {
		if i.Action != ImagePresent {
			return true
		}
	}
	return false
}

// Plan says what Up with o.Up would do to the project, changing nothing:
// each service's decision comes from the function Up acts on, networks
// and volumes from the checks Up makes, and it refuses what Up would
// refuse before changing anything (policy, dependency graph, a network or
// volume it cannot use). Images not on this host cannot be compared by ID
// until they are pulled; the reasons say so.
func (e *Engine) Plan(ctx context.Context, p *types.Project, o PlanOptions) (*ProjectPlan, error) {
	up := o.Up.withDefaults()
	if err := e.admit(ctx, p, up.Policy); err != nil {
		return nil, err
	}
	if err := checkGraph(p); err != nil {
		return nil, err
	}
	p, up, err := selectServices(p, up)
	if err != nil {
		return nil, err
	}
	pl := &ProjectPlan{Project: p.Name, Services: []ServiceChange{}, Networks: []ResourceChange{}, Volumes: []ResourceChange{}, Images: []ImageChange{}}

	ids, missing, err := e.localImages(ctx, ProjectImages(p))
	if err != nil {
		return nil, err
	}
	for _, ref := range ProjectImages(p) {
		ic := ImageChange{Ref: ref, Action: ImagePresent, ID: ids[ref]}
		if slices.Contains(missing, ref) {
			ic.Action = ImagePull
			if up.Images.Bundle != "" {
				ic.Action = ImageLoad
			}
		}
		pl.Images = append(pl.Images, ic)
	}

	for _, key := range slices.Sorted(maps.Keys(p.Networks)) {
		n := p.Networks[key]
		rc := ResourceChange{Name: n.Name, Action: ResourceUnchanged}
		if bool(n.External) {
			if err := e.externalNetwork(ctx, n); err != nil {
				return nil, err
			}
			rc.Reason = "external"
		} else if exists, err := e.networkExists(ctx, p.Name, n); err != nil {
			return nil, err
		} else if !exists {
			rc.Action, rc.Reason = ResourceCreate, "missing"
		}
		pl.Networks = append(pl.Networks, rc)
	}
	if pl.Volumes, err = e.planVolumes(ctx, p); err != nil {
		return nil, err
	}

	existing, err := e.projectContainers(ctx, p.Name, true)
	if err != nil {
		return nil, err
	}
	byService := map[string][]container.Summary{}
	for _, c := range existing {
		byService[c.Labels[LabelService]] = append(byService[c.Labels[LabelService]], c)
	}
	if !up.KeepOrphans {
		for _, d := range orphanChanges(p, byService) {
			pl.Services = append(pl.Services, d.ServiceChange)
		}
	}
	for _, name := range slices.Sorted(maps.Keys(p.Services)) {
		s := p.Services[name]
		fp, err := fingerprintWith(p, s, ids[s.Image], o.Pending)
		if err != nil {
			return nil, err
		}
		pl.Services = append(pl.Services, decide(name, s.Image, ids[s.Image], fp, byService[name]).ServiceChange)
	}
	slices.SortFunc(pl.Services, func(a, b ServiceChange) int { return strings.Compare(a.Service, b.Service) })
	return pl, nil
}

// planVolumes lists the project's volumes as an apply leaves them, and the
// ones of the project it no longer names, which an apply keeps.
func (e *Engine) planVolumes(ctx context.Context, p *types.Project) ([]ResourceChange, error) {
	out := []ResourceChange{}
	wanted := map[string]bool{}
	for _, key := range slices.Sorted(maps.Keys(p.Volumes)) {
		v := p.Volumes[key]
		wanted[v.Name] = true
		exists, err := e.volumeExists(ctx, p.Name, v)
		if err != nil {
			return nil, err
		}
		rc := ResourceChange{Name: v.Name, Action: ResourceUnchanged}
		if !exists {
			rc.Action, rc.Reason = ResourceCreate, "missing"
		}
		out = append(out, rc)
	}
	vols, err := e.api.VolumeList(ctx, volume.ListOptions{Filters: filters.NewArgs(filters.Arg("label", projectFilter(p.Name)))})
	if err != nil {
		return nil, fmt.Errorf("list volumes of %s: %w", p.Name, err)
	}
	var kept []ResourceChange
	for _, v := range vols.Volumes {
		if !wanted[v.Name] {
			kept = append(kept, ResourceChange{Name: v.Name, Action: ResourceKept,
				Reason: "no longer in the project; an apply never removes a volume (`uninstall --purge` does)"})
		}
	}
	slices.SortFunc(kept, func(a, b ResourceChange) int { return strings.Compare(a.Name, b.Name) })
	return append(out, kept...), nil
}
