package compose

import (
	"fmt"
	"os"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/mount"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/go-connections/nat"
	"github.com/docker/go-units"
)

// containerSpec is everything needed to create one service's container.
type containerSpec struct {
	Name       string
	Config     *container.Config
	HostConfig *container.HostConfig
	// Endpoints lists the networks to join in priority order. The first one
	// is given at create time; the Docker API before 1.44 takes only one, so
	// the others are connected before the container starts.
	Endpoints []endpoint
}

type endpoint struct {
	Network  string // Docker network name
	Settings *network.EndpointSettings
}

// containerName is the name of a service's container: its container_name,
// or the one docker compose would give the first replica.
func containerName(projectName string, s types.ServiceConfig) string {
	if s.ContainerName != "" {
		return s.ContainerName
	}
	return ContainerName(projectName, s.Name)
}

// ContainerName is the name docker compose gives the first replica of a
// service: PROJECT-SERVICE-1 (docker/compose v2, pkg/compose/convergence.go:
// getDefaultContainerName joins project, service and number with
// api.Separator, "-").
func ContainerName(project, service string) string {
	return project + "-" + service + "-1"
}

// unsupported rejects compose features this engine does not implement, so a
// file never deploys with a setting silently dropped.
func unsupported(s types.ServiceConfig) error {
	var bad []string
	if s.Build != nil {
		bad = append(bad, "build")
	}
	if len(s.Devices) > 0 {
		bad = append(bad, "devices")
	}
	if len(s.VolumesFrom) > 0 {
		bad = append(bad, "volumes_from")
	}
	if len(s.Links) > 0 || len(s.ExternalLinks) > 0 {
		bad = append(bad, "links")
	}
	if s.Scale != nil && *s.Scale != 1 || s.Deploy != nil && s.Deploy.Replicas != nil && *s.Deploy.Replicas != 1 {
		bad = append(bad, "more than one replica")
	}
	if s.NetworkMode != "" && s.NetworkMode != "none" && s.NetworkMode != "bridge" {
		bad = append(bad, "network_mode "+s.NetworkMode)
	}
	if s.Pid != "" || s.Ipc != "" && s.Ipc != "private" {
		bad = append(bad, "host namespaces (pid/ipc)")
	}
	// Settings the conversion below has no field for: refused, never
	// dropped in silence.
	if s.Runtime != "" {
		bad = append(bad, "runtime")
	}
	if s.CgroupParent != "" {
		bad = append(bad, "cgroup_parent")
	}
	if s.OomScoreAdj != 0 {
		bad = append(bad, "oom_score_adj")
	}
	if len(s.StorageOpt) > 0 {
		bad = append(bad, "storage_opt")
	}
	if s.Isolation != "" && s.Isolation != "default" {
		bad = append(bad, "isolation")
	}
	if len(bad) > 0 {
		return fmt.Errorf("service %s uses %s, which the installer does not support", s.Name, strings.Join(bad, ", "))
	}
	return nil
}

// toContainerSpec converts a loaded compose service into Docker API structs.
func toContainerSpec(p *types.Project, s types.ServiceConfig, labels map[string]string) (containerSpec, error) {
	if err := unsupported(s); err != nil {
		return containerSpec{}, err
	}
	if s.Image == "" {
		return containerSpec{}, fmt.Errorf("service %s has no image", s.Name)
	}
	exposed, bindings, err := portsOf(s)
	if err != nil {
		return containerSpec{}, fmt.Errorf("service %s ports: %w", s.Name, err)
	}
	mounts, binds, err := mountsOf(p, s)
	if err != nil {
		return containerSpec{}, fmt.Errorf("service %s volumes: %w", s.Name, err)
	}
	restart, err := restartPolicyOf(s.Restart)
	if err != nil {
		return containerSpec{}, fmt.Errorf("service %s: %w", s.Name, err)
	}
	ulimits, err := ulimitsOf(s.Ulimits)
	if err != nil {
		return containerSpec{}, fmt.Errorf("service %s: %w", s.Name, err)
	}

	cfg := &container.Config{
		Hostname:     s.Hostname,
		Domainname:   s.DomainName,
		User:         s.User,
		ExposedPorts: exposed,
		Tty:          s.Tty,
		OpenStdin:    s.StdinOpen,
		Env:          envOf(s.Environment),
		Cmd:          []string(s.Command),
		Healthcheck:  healthOf(s.HealthCheck),
		Image:        s.Image,
		WorkingDir:   s.WorkingDir,
		Entrypoint:   []string(s.Entrypoint),
		Labels:       labels,
		StopSignal:   s.StopSignal,
	}
	if s.StopGracePeriod != nil {
		secs := int(time.Duration(*s.StopGracePeriod).Seconds())
		cfg.StopTimeout = &secs
	}

	hc := &container.HostConfig{
		Binds:          binds,
		PortBindings:   bindings,
		RestartPolicy:  restart,
		CapAdd:         s.CapAdd,
		CapDrop:        s.CapDrop,
		DNS:            s.DNS,
		DNSSearch:      s.DNSSearch,
		DNSOptions:     s.DNSOpts,
		ExtraHosts:     s.ExtraHosts.AsList(":"),
		GroupAdd:       s.GroupAdd,
		Privileged:     s.Privileged,
		ReadonlyRootfs: s.ReadOnly,
		SecurityOpt:    s.SecurityOpt,
		Tmpfs:          tmpfsOf(s.Tmpfs),
		ShmSize:        int64(s.ShmSize),
		Sysctls:        map[string]string(s.Sysctls),
		Init:           s.Init,
		Mounts:         mounts,
		Resources: container.Resources{
			Memory:            int64(s.MemLimit),
			MemoryReservation: int64(s.MemReservation),
			NanoCPUs:          int64(s.CPUS * 1e9),
			Ulimits:           ulimits,
		},
	}
	if s.MemSwapLimit != 0 {
		hc.MemorySwap = int64(s.MemSwapLimit)
	}
	if s.PidsLimit != 0 {
		pids := s.PidsLimit
		hc.PidsLimit = &pids
	}
	applyDeployLimits(s, hc)
	if s.Logging != nil {
		hc.LogConfig = container.LogConfig{Type: s.Logging.Driver, Config: map[string]string(s.Logging.Options)}
	}
	if s.NetworkMode == "none" {
		hc.NetworkMode = "none"
		return containerSpec{Name: containerName(p.Name, s), Config: cfg, HostConfig: hc}, nil
	}

	eps, err := endpointsOf(p, s)
	if err != nil {
		return containerSpec{}, fmt.Errorf("service %s networks: %w", s.Name, err)
	}
	if len(eps) > 0 {
		hc.NetworkMode = container.NetworkMode(eps[0].Network)
	}
	return containerSpec{Name: containerName(p.Name, s), Config: cfg, HostConfig: hc, Endpoints: eps}, nil
}

// applyDeployLimits honours deploy.resources.limits when the short fields are unset.
func applyDeployLimits(s types.ServiceConfig, hc *container.HostConfig) {
	if s.Deploy == nil || s.Deploy.Resources.Limits == nil {
		return
	}
	l := s.Deploy.Resources.Limits
	if hc.Memory == 0 {
		hc.Memory = int64(l.MemoryBytes)
	}
	if hc.NanoCPUs == 0 {
		hc.NanoCPUs = int64(float64(l.NanoCPUs) * 1e9)
	}
	if hc.PidsLimit == nil && l.Pids != 0 {
		pids := l.Pids
		hc.PidsLimit = &pids
	}
}

func envOf(m types.MappingWithEquals) []string {
	env := make([]string, 0, len(m))
	for k, v := range m {
		if v == nil {
			continue // unresolved and unset: docker compose leaves it out too
		}
		env = append(env, k+"="+*v)
	}
	sort.Strings(env)
	return env
}

func healthOf(h *types.HealthCheckConfig) *container.HealthConfig {
	if h == nil {
		return nil
	}
	if h.Disable {
		return &container.HealthConfig{Test: []string{"NONE"}}
	}
	hc := &container.HealthConfig{Test: []string(h.Test)}
	if h.Interval != nil {
		hc.Interval = time.Duration(*h.Interval)
	}
	if h.Timeout != nil {
		hc.Timeout = time.Duration(*h.Timeout)
	}
	if h.StartPeriod != nil {
		hc.StartPeriod = time.Duration(*h.StartPeriod)
	}
	if h.StartInterval != nil {
		hc.StartInterval = time.Duration(*h.StartInterval)
	}
	if h.Retries != nil {
		hc.Retries = int(*h.Retries)
	}
	return hc
}

func restartPolicyOf(s string) (container.RestartPolicy, error) {
	if s == "" {
		return container.RestartPolicy{Name: container.RestartPolicyDisabled}, nil
	}
	name, count, hasCount := strings.Cut(s, ":")
	p := container.RestartPolicy{Name: container.RestartPolicyMode(name)}
	switch p.Name {
	case container.RestartPolicyDisabled, container.RestartPolicyAlways, container.RestartPolicyUnlessStopped:
		if hasCount {
			return p, fmt.Errorf("restart policy %q takes no retry count", s)
		}
	case container.RestartPolicyOnFailure:
		if hasCount {
			n, err := strconv.Atoi(count)
			if err != nil || n < 0 {
				return p, fmt.Errorf("restart policy %q: retry count must be a whole number", s)
			}
			p.MaximumRetryCount = n
		}
	default:
		return p, fmt.Errorf("unknown restart policy %q (use no, always, unless-stopped or on-failure[:N])", s)
	}
	return p, nil
}

func ulimitsOf(in map[string]*types.UlimitsConfig) ([]*container.Ulimit, error) {
	names := make([]string, 0, len(in))
	for n := range in {
		names = append(names, n)
	}
	sort.Strings(names)
	out := make([]*container.Ulimit, 0, len(in))
	for _, n := range names {
		u := in[n]
		if u == nil {
			continue
		}
		soft, hard := int64(u.Soft), int64(u.Hard)
		if u.Single != 0 {
			soft, hard = int64(u.Single), int64(u.Single)
		}
		if soft > hard {
			return nil, fmt.Errorf("ulimit %s: soft limit %d exceeds hard limit %d", n, soft, hard)
		}
		out = append(out, &units.Ulimit{Name: n, Soft: soft, Hard: hard})
	}
	return out, nil
}

func tmpfsOf(list types.StringList) map[string]string {
	if len(list) == 0 {
		return nil
	}
	m := make(map[string]string, len(list))
	for _, t := range list {
		p, opts, _ := strings.Cut(t, ":")
		m[p] = opts
	}
	return m
}

func portsOf(s types.ServiceConfig) (nat.PortSet, nat.PortMap, error) {
	exposed := nat.PortSet{}
	bindings := nat.PortMap{}
	for _, e := range s.Expose {
		proto, port := "tcp", e
		if p, pr, ok := strings.Cut(e, "/"); ok {
			port, proto = p, pr
		}
		np, err := nat.NewPort(proto, port)
		if err != nil {
			return nil, nil, err
		}
		exposed[np] = struct{}{}
	}
	for _, p := range s.Ports {
		proto := p.Protocol
		if proto == "" {
			proto = "tcp"
		}
		np, err := nat.NewPort(proto, strconv.FormatUint(uint64(p.Target), 10))
		if err != nil {
			return nil, nil, err
		}
		exposed[np] = struct{}{}
		if p.Published == "" && p.HostIP == "" {
			continue // exposed only
		}
		bindings[np] = append(bindings[np], nat.PortBinding{HostIP: p.HostIP, HostPort: p.Published})
	}
	if len(exposed) == 0 {
		exposed = nil
	}
	if len(bindings) == 0 {
		bindings = nil
	}
	return exposed, bindings, nil
}

// mountsOf turns volumes, secrets and configs into mounts. Bind mounts that
// may create their host path go through Binds, which is how the engine
// creates a missing source directory; everything else uses Mounts.
func mountsOf(p *types.Project, s types.ServiceConfig) ([]mount.Mount, []string, error) {
	var mounts []mount.Mount
	var binds []string
	for _, v := range s.Volumes {
		switch v.Type {
		case types.VolumeTypeBind:
			if v.Bind != nil && bool(v.Bind.CreateHostPath) && v.Bind.Propagation == "" && v.Bind.SELinux == "" {
				mode := "rw"
				if v.ReadOnly {
					mode = "ro"
				}
				binds = append(binds, v.Source+":"+v.Target+":"+mode)
				continue
			}
			m := mount.Mount{Type: mount.TypeBind, Source: v.Source, Target: v.Target, ReadOnly: v.ReadOnly}
			if v.Bind != nil && v.Bind.Propagation != "" {
				m.BindOptions = &mount.BindOptions{Propagation: mount.Propagation(v.Bind.Propagation)}
			}
			mounts = append(mounts, m)
		case types.VolumeTypeVolume:
			m := mount.Mount{Type: mount.TypeVolume, Source: v.Source, Target: v.Target, ReadOnly: v.ReadOnly}
			if v.Source != "" {
				vol, ok := p.Volumes[v.Source]
				if !ok {
					return nil, nil, fmt.Errorf("volume %q is not declared in the top-level volumes", v.Source)
				}
				m.Source = vol.Name
			}
			if v.Volume != nil && v.Volume.NoCopy {
				m.VolumeOptions = &mount.VolumeOptions{NoCopy: true}
			}
			mounts = append(mounts, m)
		case types.VolumeTypeTmpfs:
			m := mount.Mount{Type: mount.TypeTmpfs, Target: v.Target, ReadOnly: v.ReadOnly}
			if v.Tmpfs != nil {
				m.TmpfsOptions = &mount.TmpfsOptions{SizeBytes: int64(v.Tmpfs.Size), Mode: os.FileMode(v.Tmpfs.Mode)}
			}
			mounts = append(mounts, m)
		default:
			return nil, nil, fmt.Errorf("volume type %q for %s is not supported", v.Type, v.Target)
		}
	}
	for _, ref := range s.Secrets {
		def, ok := p.Secrets[ref.Source]
		if !ok {
			return nil, nil, fmt.Errorf("secret %q is not declared in the top-level secrets", ref.Source)
		}
		m, err := fileMount(types.FileObjectConfig(def), types.FileReferenceConfig(ref), "/run/secrets/", "secret")
		if err != nil {
			return nil, nil, err
		}
		mounts = append(mounts, m)
	}
	for _, ref := range s.Configs {
		def, ok := p.Configs[ref.Source]
		if !ok {
			return nil, nil, fmt.Errorf("config %q is not declared in the top-level configs", ref.Source)
		}
		m, err := fileMount(types.FileObjectConfig(def), types.FileReferenceConfig(ref), "/", "config")
		if err != nil {
			return nil, nil, err
		}
		mounts = append(mounts, m)
	}
	return mounts, binds, nil
}

// fileMount mounts a file-based secret or config read-only, as docker compose
// does outside swarm mode.
func fileMount(def types.FileObjectConfig, ref types.FileReferenceConfig, base, kind string) (mount.Mount, error) {
	if def.File == "" {
		return mount.Mount{}, fmt.Errorf("%s %q: only file-based %ss are supported (environment or inline content would put the value in the container's configuration)", kind, ref.Source, kind)
	}
	target := ref.Target
	switch {
	case target == "":
		target = base + ref.Source
	case !path.IsAbs(target):
		target = base + target
	}
	return mount.Mount{Type: mount.TypeBind, Source: def.File, Target: target, ReadOnly: true}, nil
}

func endpointsOf(p *types.Project, s types.ServiceConfig) ([]endpoint, error) {
	var eps []endpoint
	for _, key := range s.NetworksByPriority() {
		n, ok := p.Networks[key]
		if !ok {
			return nil, fmt.Errorf("network %q is not declared in the top-level networks", key)
		}
		cfg := s.Networks[key]
		es := &network.EndpointSettings{Aliases: []string{s.Name}}
		if cfg != nil {
			es.Aliases = append(es.Aliases, cfg.Aliases...)
			if cfg.Ipv4Address != "" || cfg.Ipv6Address != "" {
				es.IPAMConfig = &network.EndpointIPAMConfig{IPv4Address: cfg.Ipv4Address, IPv6Address: cfg.Ipv6Address}
			}
		}
		eps = append(eps, endpoint{Network: n.Name, Settings: es})
	}
	return eps, nil
}
