package compose

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/api/types/versions"
	"golang.org/x/sync/errgroup"

	"github.com/fineract-installer/fineract-installer/steps/event"
)

// UpOptions tune an apply.
type UpOptions struct {
	// Policy is the hardening every service of the project must honour;
	// the apply is refused, with nothing created, when one does not. The
	// zero value is the strictest policy (no host paths, nobody as root).
	Policy Policy
	Images ImageOptions
	// WaitTimeout bounds how long one service may take to become ready after
	// it starts. Fineract's first start runs database migrations for many
	// minutes, so the default is generous: 15 minutes.
	WaitTimeout time.Duration
	// Settle is how long a service without a healthcheck must keep running
	// before it counts as ready, so a container that dies straight after
	// start fails the apply instead of slipping through. Default 500ms.
	Settle time.Duration
	// KeepOrphans leaves running the containers of services that are no
	// longer in the project; by default they are removed.
	KeepOrphans bool
	// Services limits the apply to these services and what they depend on
	// (all when empty). Other services are left as they are.
	Services []string
	// StartOnly lists services that count as ready once started, without
	// waiting for their healthcheck: Vault, for one, is healthy only after
	// it has been unsealed, which happens after it starts.
	StartOnly []string
}

func (o UpOptions) withDefaults() UpOptions {
	if o.WaitTimeout <= 0 {
		o.WaitTimeout = 15 * time.Minute
	}
	if o.Settle <= 0 {
		o.Settle = 500 * time.Millisecond
	}
	return o
}

// Up converges the Docker host to the project: networks, volumes, images,
// then containers, started in depends_on order (independent services in
// parallel), each waited for until healthy. Unchanged containers are left
// alone; a changed service is recreated. Every service of the project,
// selected or not, is first checked against o.Policy.
func (e *Engine) Up(ctx context.Context, p *types.Project, o UpOptions, emit event.Emitter) error {
	o = o.withDefaults()
	r := newReporter(emit)
	if err := e.admit(ctx, p, o.Policy); err != nil {
		return err
	}
	if err := checkGraph(p); err != nil {
		return err
	}
	p, o, err := selectServices(p, o)
	if err != nil {
		return err
	}
	// Images come first: each is resolved to an ID and approved before
	// anything on the host changes.
	ids, err := e.resolveImages(ctx, p, o.Images, r)
	if err != nil {
		return err
	}
	if err := e.ensureNetworks(ctx, p, r); err != nil {
		return err
	}
	if err := e.ensureVolumes(ctx, p, r); err != nil {
		return err
	}
	existing, err := e.projectContainers(ctx, p.Name, true)
	if err != nil {
		return err
	}
	byService := map[string][]container.Summary{}
	for _, c := range existing {
		byService[c.Labels[LabelService]] = append(byService[c.Labels[LabelService]], c)
	}
	if !o.KeepOrphans {
		if err := e.removeOrphans(ctx, p, byService, r); err != nil {
			return err
		}
	}
	return e.startAll(ctx, p, ids, byService, o, r)
}

// selectServices narrows p to o.Services and what they depend on (all when
// empty); the rest of the project is then no orphan.
func selectServices(p *types.Project, o UpOptions) (*types.Project, UpOptions, error) {
	if len(o.Services) == 0 {
		return p, o, nil
	}
	sub, err := p.WithSelectedServices(o.Services, types.IncludeDependencies)
	if err != nil {
		return nil, o, fmt.Errorf("select services: %w", err)
	}
	o.KeepOrphans = true
	return sub, o, nil
}

// checkGraph rejects dependency cycles and health conditions that can never
// be met, before anything is started.
func checkGraph(p *types.Project) error {
	const (
		unvisited = iota
		visiting
		visited
	)
	state := map[string]int{}
	var visit func(name string, path []string) error
	visit = func(name string, path []string) error {
		switch state[name] {
		case visiting:
			return fmt.Errorf("services depend on each other in a cycle: %s", strings.Join(append(path, name), " -> "))
		case visited:
			return nil
		}
		state[name] = visiting
		s := p.Services[name]
		for dep, d := range s.DependsOn {
			ds, ok := p.Services[dep]
			if !ok {
				if d.Required {
					return fmt.Errorf("service %s depends on %s, which is not in the project", name, dep)
				}
				continue
			}
			if d.Condition == types.ServiceConditionHealthy && (ds.HealthCheck == nil || ds.HealthCheck.Disable) {
				return fmt.Errorf("service %s waits for %s to be healthy, but %s has no healthcheck", name, dep, dep)
			}
			if err := visit(dep, append(path, name)); err != nil {
				return err
			}
		}
		state[name] = visited
		return nil
	}
	names := make([]string, 0, len(p.Services))
	for n := range p.Services {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if err := visit(n, nil); err != nil {
			return err
		}
	}
	return nil
}

// serviceRun tracks one service while the apply runs.
type serviceRun struct {
	started  chan struct{} // closed when its container runs
	ready    chan struct{} // closed when healthy, settled or completed
	passing  chan struct{} // closed when its healthcheck first passes (or ready)
	pass     sync.Once
	complete bool // a dependent waits for it to exit 0
}

// release lets the dependents that wait for health start.
func (r *serviceRun) release() { r.pass.Do(func() { close(r.passing) }) }

func (e *Engine) startAll(ctx context.Context, p *types.Project, ids map[string]string, byService map[string][]container.Summary, o UpOptions, r *reporter) error {
	runs := map[string]*serviceRun{}
	for name := range p.Services {
		runs[name] = &serviceRun{started: make(chan struct{}), ready: make(chan struct{}), passing: make(chan struct{})}
	}
	startOnly := map[string]bool{}
	for _, name := range o.StartOnly {
		startOnly[name] = true
	}
	for _, s := range p.Services {
		for dep, d := range s.DependsOn {
			if d.Condition == types.ServiceConditionCompletedSuccessfully {
				if run, ok := runs[dep]; ok {
					run.complete = true
				}
			}
		}
	}
	g, gctx := errgroup.WithContext(ctx)
	for name, s := range p.Services {
		run := runs[name]
		g.Go(func() error {
			if err := waitForDependencies(gctx, s, runs); err != nil {
				return err
			}
			id, err := e.converge(gctx, p, s, ids[s.Image], byService[name], r)
			if err != nil {
				return err
			}
			close(run.started)
			if !startOnly[name] {
				if err := e.waitReady(gctx, s.Name, id, run.complete, o, r, run.release); err != nil {
					return err
				}
			}
			run.release()
			close(run.ready)
			return nil
		})
	}
	err := g.Wait()
	if err != nil && ctx.Err() != nil {
		return fmt.Errorf("apply %s: %w", p.Name, ctx.Err())
	}
	return err
}

func waitForDependencies(ctx context.Context, s types.ServiceConfig, runs map[string]*serviceRun) error {
	deps := make([]string, 0, len(s.DependsOn))
	for dep := range s.DependsOn {
		deps = append(deps, dep)
	}
	sort.Strings(deps)
	for _, dep := range deps {
		run, ok := runs[dep]
		if !ok {
			continue // optional dependency not in the project
		}
		var ch chan struct{}
		switch s.DependsOn[dep].Condition {
		case types.ServiceConditionStarted:
			ch = run.started
		case types.ServiceConditionHealthy:
			ch = run.passing
		default:
			ch = run.ready
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

func serviceLabels(p *types.Project, s types.ServiceConfig, fp fingerprint, imageID string) (map[string]string, error) {
	parts, err := partsLabel(fp)
	if err != nil {
		return nil, err
	}
	labels := map[string]string{}
	for k, v := range s.Labels {
		labels[k] = v
	}
	deps := make([]string, 0, len(s.DependsOn))
	for dep, d := range s.DependsOn {
		deps = append(deps, fmt.Sprintf("%s:%s:%t", dep, d.Condition, d.Restart))
	}
	sort.Strings(deps)
	labels[LabelProject] = p.Name
	labels[LabelService] = s.Name
	labels[LabelNumber] = "1"
	labels[LabelOneoff] = "False"
	labels[LabelConfigHash] = fp.Hash
	labels[LabelConfigParts] = parts
	labels[LabelWorkingDir] = p.WorkingDir
	labels[LabelConfigFiles] = strings.Join(p.ComposeFiles, ",")
	labels[LabelDependsOn] = strings.Join(deps, ",")
	labels[LabelImage] = imageID
	labels[LabelImageRef] = s.Image
	labels[LabelManagedBy] = managedBy
	return labels, nil
}

// converge makes sure the service has one up-to-date running container and
// returns its ID. What it does is decide's decision, the one Plan reports.
func (e *Engine) converge(ctx context.Context, p *types.Project, s types.ServiceConfig, imageID string, existing []container.Summary, r *reporter) (string, error) {
	fp, err := serviceFingerprint(p, s, imageID)
	if err != nil {
		return "", err
	}
	d := decide(s.Name, s.Image, imageID, fp, existing)
	why := strings.Join(d.Reasons, "; ")
	for _, c := range d.remove {
		// Outdated or surplus container of this service.
		r.working(event.ResourceContainer, s.Name, event.ActionRecreate, why)
		if err := e.removeContainer(ctx, c.ID, s.StopGracePeriod); err != nil {
			return "", fmt.Errorf("recreate %s: %w", s.Name, err)
		}
	}
	if current := d.keep; current != nil {
		if current.State == "running" {
			r.done(event.ResourceContainer, s.Name, event.ActionStart, "unchanged")
			return current.ID, nil
		}
		r.working(event.ResourceContainer, s.Name, event.ActionStart, "")
		if err := e.startContainer(ctx, current.ID); err != nil {
			err = fmt.Errorf("start %s: %w", s.Name, err)
			r.failed(event.ResourceContainer, s.Name, event.ActionStart, err)
			return "", err
		}
		r.done(event.ResourceContainer, s.Name, event.ActionStart, "")
		return current.ID, nil
	}

	labels, err := serviceLabels(p, s, fp, imageID)
	if err != nil {
		return "", err
	}
	spec, err := toContainerSpec(p, s, labels)
	if err != nil {
		return "", err
	}
	// The container is made from the image ID that was resolved (and
	// approved), not from the tag, which may point elsewhere by now. The
	// reference stays visible in LabelImageRef.
	if imageID != "" {
		spec.Config.Image = imageID
	}
	// start_interval only makes the first probes more frequent; engines
	// older than API 1.44 reject the field, so it is left out there.
	if hc := spec.Config.Healthcheck; hc != nil && hc.StartInterval != 0 && versions.LessThan(e.api.ClientVersion(), "1.44") {
		hc.StartInterval = 0
	}
	r.working(event.ResourceContainer, s.Name, event.ActionCreate, spec.Name)
	var netCfg *network.NetworkingConfig
	if len(spec.Endpoints) > 0 {
		first := spec.Endpoints[0]
		netCfg = &network.NetworkingConfig{EndpointsConfig: map[string]*network.EndpointSettings{first.Network: first.Settings}}
	}
	created, err := e.api.ContainerCreate(ctx, spec.Config, spec.HostConfig, netCfg, nil, spec.Name)
	if err != nil {
		err = fmt.Errorf("create container for %s: %w", s.Name, err)
		r.failed(event.ResourceContainer, s.Name, event.ActionCreate, err)
		return "", err
	}
	for _, ep := range spec.Endpoints[min(1, len(spec.Endpoints)):] {
		if err := e.api.NetworkConnect(ctx, ep.Network, created.ID, ep.Settings); err != nil {
			err = fmt.Errorf("connect %s to network %s: %w", s.Name, ep.Network, err)
			r.failed(event.ResourceContainer, s.Name, event.ActionCreate, err)
			return "", err
		}
	}
	if err := e.api.ContainerStart(ctx, created.ID, container.StartOptions{}); err != nil {
		err = fmt.Errorf("start %s: %w", s.Name, err)
		r.failed(event.ResourceContainer, s.Name, event.ActionStart, err)
		return "", err
	}
	r.done(event.ResourceContainer, s.Name, event.ActionStart, spec.Name)
	return created.ID, nil
}

func (e *Engine) removeOrphans(ctx context.Context, p *types.Project, byService map[string][]container.Summary, r *reporter) error {
	for _, d := range orphanChanges(p, byService) {
		why := strings.Join(d.Reasons, "; ")
		for _, c := range d.remove {
			r.working(event.ResourceContainer, d.Service, event.ActionRemove, why)
			if err := e.removeContainer(ctx, c.ID, nil); err != nil {
				return fmt.Errorf("remove orphan %s: %w", d.Service, err)
			}
			r.done(event.ResourceContainer, d.Service, event.ActionRemove, why)
		}
		delete(byService, d.Service)
	}
	return nil
}

// projectContainers lists the project's service containers (not one-off runs).
func (e *Engine) projectContainers(ctx context.Context, project string, all bool) ([]container.Summary, error) {
	cs, err := e.api.ContainerList(ctx, container.ListOptions{All: all, Filters: filters.NewArgs(
		filters.Arg("label", projectFilter(project)),
	)})
	if err != nil {
		return nil, fmt.Errorf("list containers of %s: %w", project, err)
	}
	return cs, nil
}

// startContainer starts a container that exists. Right after the engine
// itself restarts, it brings back containers with a restart policy on its
// own, and a start racing with that fails ("task ... already exists"): a
// container found running moments later counts as started.
func (e *Engine) startContainer(ctx context.Context, id string) error {
	err := e.api.ContainerStart(ctx, id, container.StartOptions{})
	if err == nil {
		return nil
	}
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); {
		if insp, ierr := e.api.ContainerInspect(ctx, id); ierr == nil && insp.State != nil && insp.State.Running {
			return nil
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(pollEvery):
		}
	}
	return err
}

func (e *Engine) removeContainer(ctx context.Context, id string, grace *types.Duration) error {
	var timeout *int
	if grace != nil {
		secs := int(time.Duration(*grace).Seconds())
		timeout = &secs
	}
	if err := e.api.ContainerStop(ctx, id, container.StopOptions{Timeout: timeout}); err != nil && !isGone(err) {
		return fmt.Errorf("stop container %s: %w", shortID(id), err)
	}
	if err := e.api.ContainerRemove(ctx, id, container.RemoveOptions{Force: true}); err != nil && !isGone(err) {
		return fmt.Errorf("remove container %s: %w", shortID(id), err)
	}
	return nil
}

func shortID(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}
