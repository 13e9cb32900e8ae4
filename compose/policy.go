package compose

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/containerd/errdefs"
)

// Policy is the hardening every service of an applied project must honour.
// The engine checks it before it creates or changes anything, whatever
// compose file it was given, so a tampered file cannot run a container that
// owns the host.
//
// The zero value is the strictest policy: no host path may be mounted and
// no service may run as root. The installer derives its policy from the
// rendered stack (see steps/install).
type Policy struct {
	// BindRoots are the host directories bind mounts (and file-based
	// secrets and configs) may come from: the install dir and the secrets
	// dir. A path is compared after `..` and symbolic links are resolved.
	BindRoots []string
	// RootServices may run as uid 0. Every other service must name a
	// numeric non-root user.
	RootServices []string
	// ReadOnlyHostPaths are host paths outside BindRoots that a service may
	// mount read-only, by service name: the documented exceptions of the
	// stack (the log shipper reading Docker's container logs).
	ReadOnlyHostPaths map[string][]string
	// WritableHostPaths are host directories a service may mount
	// read-write, by service name, inside BindRoots or not: the WAL
	// repository PostgreSQL's archive_command writes.
	WritableHostPaths map[string][]string
}

// Violation is one setting that breaks a hardening rule.
type Violation struct {
	// Subject names what breaks the rule: "service vault", "volume data".
	Subject string
	// Setting is the offending setting as the compose file spells it.
	Setting string
	// Rule is the hardening rule, in words.
	Rule string
}

func (v Violation) String() string {
	return fmt.Sprintf("%s: %s is not allowed (hardening rule: %s)", v.Subject, v.Setting, v.Rule)
}

// PolicyError lists every violation found in a project. The engine refuses
// the whole project when it returns one: nothing is created or changed.
type PolicyError struct {
	Violations []Violation
}

func (e *PolicyError) Error() string {
	if len(e.Violations) == 1 {
		return e.Violations[0].String() + "; the compose file was not applied"
	}
	lines := make([]string, 0, len(e.Violations)+1)
	lines = append(lines, fmt.Sprintf("the compose file was not applied: it breaks %d hardening rules", len(e.Violations)))
	for _, v := range e.Violations {
		lines = append(lines, "  "+v.String())
	}
	return strings.Join(lines, "\n")
}

// The rules, as the error messages state them.
const (
	rulePrivileged = "no container runs privileged"
	ruleCapAdd     = "no service gets a capability back after cap_drop ALL"
	ruleCapDrop    = "every service drops all capabilities (cap_drop: [ALL])"
	ruleNoNewPriv  = "every service sets security_opt no-new-privileges:true and nothing else, " +
		"so the default seccomp, AppArmor and SELinux confinement stays"
	ruleNamespaces = "no service shares a namespace of the host or of another container"
	ruleDevices    = "no host device is passed into a container"
	ruleBinds      = "host paths are mounted read-only, and only from the install dir and the secrets dir " +
		"(or a documented exception)"
	ruleSocket  = "the Docker and containerd sockets, and the directories holding them, are never mounted"
	ruleUser    = "services run as a numeric non-root user unless the stack documents why they need root"
	ruleGroups  = "services run with their own group only, no supplementary groups"
	ruleVolumes = "named volumes use the local driver without options (driver options can mount any host path)"
)

// enginePaths are where Docker and containerd keep their sockets and state.
// A bind of one of them, or of a directory above one, hands the container
// control of the engine.
var enginePaths = []string{
	"/run/docker.sock", "/var/run/docker.sock",
	"/run/docker", "/var/run/docker",
	"/run/containerd", "/var/run/containerd",
	"/var/lib/docker", "/var/lib/containerd",
}

// Check reports every rule the project breaks, as a *PolicyError, or an
// error when the policy itself is unusable. It reads the host's file system
// (to resolve symbolic links in mounted paths) but changes nothing.
func (pol Policy) Check(p *types.Project) error {
	c := checker{pol: pol, project: p, engine: resolvedEnginePaths()}
	if err := c.resolveRoots(); err != nil {
		return err
	}
	c.volumes()
	for _, name := range slices.Sorted(maps.Keys(p.Services)) {
		c.service(p.Services[name])
	}
	return c.err()
}

// checkVolumes applies the volume rule alone, for callers that create a
// project's volumes without starting anything.
func checkVolumes(p *types.Project) error {
	c := checker{project: p}
	c.volumes()
	return c.err()
}

// checker collects the violations of one project.
type checker struct {
	pol     Policy
	project *types.Project
	engine  []string // enginePaths, and what they resolve to on this host
	roots   []string // pol.BindRoots, resolved
	bad     []Violation
}

func (c *checker) fail(subject, rule, format string, args ...any) {
	c.bad = append(c.bad, Violation{Subject: subject, Setting: fmt.Sprintf(format, args...), Rule: rule})
}

func (c *checker) err() error {
	if len(c.bad) > 0 {
		return &PolicyError{Violations: c.bad}
	}
	return nil
}

// resolveRoots checks and resolves the bind roots. A root at or above an
// engine path would make the bind rule meaningless, so it is refused.
func (c *checker) resolveRoots() error {
	for _, r := range c.pol.BindRoots {
		if !filepath.IsAbs(r) {
			return fmt.Errorf("hardening policy: bind root %q is not an absolute path", r)
		}
		resolved, err := resolveHostPath(r)
		if err != nil {
			return fmt.Errorf("hardening policy: bind root %s: %w", r, err)
		}
		if e, ok := c.coversEngine(resolved); ok {
			return fmt.Errorf("hardening policy: bind root %s contains %s; choose an install directory of its own", r, e)
		}
		c.roots = append(c.roots, resolved)
	}
	return nil
}

func (c *checker) volumes() {
	for _, key := range slices.Sorted(maps.Keys(c.project.Volumes)) {
		v := c.project.Volumes[key]
		subject := "volume " + key
		if v.Driver != "" && v.Driver != "local" {
			c.fail(subject, ruleVolumes, "driver %s", v.Driver)
		}
		if len(v.DriverOpts) > 0 {
			c.fail(subject, ruleVolumes, "driver_opts %s", strings.Join(slices.Sorted(maps.Keys(v.DriverOpts)), ", "))
		}
	}
}

// service checks one service. Sysctls and ulimits are left alone: the
// runtime accepts only sysctls scoped to the container's own namespaces
// (sharing the host's is refused here), and ulimits bound resources, under
// the memory and pids limits, without granting any privilege.
func (c *checker) service(s types.ServiceConfig) {
	subject := "service " + s.Name
	if s.Privileged {
		c.fail(subject, rulePrivileged, "privileged: true")
	}
	if len(s.CapAdd) > 0 {
		c.fail(subject, ruleCapAdd, "cap_add %s", strings.Join(s.CapAdd, ", "))
	}
	if !slices.ContainsFunc(s.CapDrop, func(cp string) bool { return strings.TrimPrefix(strings.ToUpper(cp), "CAP_") == "ALL" }) {
		c.fail(subject, ruleCapDrop, "leaving out cap_drop ALL")
	}
	c.securityOpts(subject, s.SecurityOpt)
	c.namespaces(subject, s)
	if len(s.Devices) > 0 || len(s.DeviceCgroupRules) > 0 || len(s.Gpus) > 0 || hasDeviceReservations(s) {
		c.fail(subject, ruleDevices, "devices")
	}
	if s.UseAPISocket {
		c.fail(subject, ruleSocket, "use_api_socket: true")
	}
	if !slices.Contains(c.pol.RootServices, s.Name) {
		if why := rootUser(s.User); why != "" {
			c.fail(subject, ruleUser, "%s", why)
		}
	}
	if len(s.GroupAdd) > 0 {
		// A supplementary group (root's, or the docker group's gid) would
		// open files the service's own gid cannot.
		c.fail(subject, ruleGroups, "group_add %s", strings.Join(s.GroupAdd, ", "))
	}
	c.mounts(subject, s)
}

func (c *checker) securityOpts(subject string, opts []string) {
	named := false // one message is enough for no-new-privileges:false
	for _, o := range opts {
		norm := strings.ReplaceAll(o, "=", ":")
		named = named || strings.HasPrefix(norm, "no-new-privileges")
		if norm != "no-new-privileges" && norm != "no-new-privileges:true" {
			c.fail(subject, ruleNoNewPriv, "security_opt %q", o)
		}
	}
	if !named {
		c.fail(subject, ruleNoNewPriv, "leaving out security_opt no-new-privileges:true")
	}
}

func (c *checker) namespaces(subject string, s types.ServiceConfig) {
	for _, ns := range []struct{ key, value string }{
		{"network_mode", s.NetworkMode},
		{"pid", s.Pid},
		{"ipc", s.Ipc},
		{"uts", s.Uts},
		{"userns_mode", s.UserNSMode},
		{"cgroup", s.Cgroup},
	} {
		if ns.value == "" || privateNamespace(ns.key, ns.value) {
			continue
		}
		c.fail(subject, ruleNamespaces, "%s: %s", ns.key, ns.value)
	}
	// A network named host is the host's network namespace too.
	for _, key := range slices.Sorted(maps.Keys(s.Networks)) {
		if n, ok := c.project.Networks[key]; ok && (n.Name == "host" || n.Driver == "host") {
			c.fail(subject, ruleNamespaces, "network %s (the host's network)", key)
		}
	}
}

// privateNamespace reports whether a namespace setting keeps the container
// in a namespace of its own.
func privateNamespace(key, value string) bool {
	switch key {
	case "network_mode":
		return value == "none" || value == "bridge"
	case "ipc":
		return value == "private" || value == "none"
	case "cgroup":
		return value == "private"
	}
	return false
}

func hasDeviceReservations(s types.ServiceConfig) bool {
	return s.Deploy != nil && s.Deploy.Resources.Reservations != nil && len(s.Deploy.Resources.Reservations.Devices) > 0
}

// rootUser says why user may run as root, or returns "" when it names a
// non-root uid. Only a numeric uid can be judged: a name is resolved inside
// the image, where any name may map to uid 0.
func rootUser(user string) string {
	if user == "" {
		return "leaving out user (the image's default user, often root, would run it)"
	}
	uid, _, _ := strings.Cut(user, ":")
	n, err := strconv.ParseUint(uid, 10, 32)
	switch {
	case uid == "root" || err == nil && n == 0:
		return fmt.Sprintf("user %q (root)", user)
	case err != nil:
		return fmt.Sprintf("user %q (a name the image resolves, possibly to root; give a numeric uid)", user)
	}
	return ""
}

// mounts checks every host path the service's container would mount:
// bind volumes and file-based secrets and configs.
func (c *checker) mounts(subject string, s types.ServiceConfig) {
	for _, v := range s.Volumes {
		if v.Type == types.VolumeTypeBind {
			c.hostPath(subject, s.Name, "volume "+v.Source, v.Source, v.ReadOnly)
		}
	}
	for _, ref := range s.Secrets {
		if def, ok := c.project.Secrets[ref.Source]; ok && def.File != "" {
			c.hostPath(subject, s.Name, "secret "+ref.Source+" (file "+def.File+")", def.File, true)
		}
	}
	for _, ref := range s.Configs {
		if def, ok := c.project.Configs[ref.Source]; ok && def.File != "" {
			c.hostPath(subject, s.Name, "config "+ref.Source+" (file "+def.File+")", def.File, true)
		}
	}
}

// hostPath checks one mounted host path as the Docker daemon will resolve
// it on this host: cleaned, every symbolic link followed.
func (c *checker) hostPath(subject, service, setting, source string, readOnly bool) {
	if !filepath.IsAbs(source) {
		c.fail(subject, ruleBinds, "%s (not an absolute path)", setting)
		return
	}
	resolved, err := resolveHostPath(source)
	if err != nil {
		c.fail(subject, ruleBinds, "%s (%v)", setting, err)
		return
	}
	if resolved != filepath.Clean(source) {
		setting += " -> " + resolved
	}
	if e, ok := c.coversEngine(resolved); ok {
		c.fail(subject, ruleSocket, "%s (holds %s)", setting, e)
		return
	}
	if fi, err := os.Stat(resolved); err == nil && fi.Mode().Type() == fs.ModeSocket {
		c.fail(subject, ruleSocket, "%s (a socket)", setting)
		return
	}
	if !c.bindable(service, resolved) {
		where := "this policy allows no host path"
		if len(c.pol.BindRoots) > 0 {
			where = "outside " + strings.Join(c.pol.BindRoots, " and ")
		}
		c.fail(subject, ruleBinds, "%s (%s)", setting, where)
		return
	}
	if !readOnly && !c.listed(c.pol.WritableHostPaths[service], resolved) {
		c.fail(subject, ruleBinds, "%s mounted writable", setting)
	}
}

// listed reports whether resolved is one of paths, resolved.
func (c *checker) listed(paths []string, resolved string) bool {
	for _, p := range paths {
		if r, err := resolveHostPath(p); err == nil && resolved == r {
			return true
		}
	}
	return false
}

// bindable reports whether a resolved host path lies in a bind root or is
// one of the service's documented exceptions.
func (c *checker) bindable(service, resolved string) bool {
	for _, r := range c.roots {
		if within(resolved, r) {
			return true
		}
	}
	return c.listed(c.pol.ReadOnlyHostPaths[service], resolved) || c.listed(c.pol.WritableHostPaths[service], resolved)
}

// resolvedEnginePaths lists enginePaths as written and as this host
// resolves them (/var/run is often a link to /run).
func resolvedEnginePaths() []string {
	out := slices.Clone(enginePaths)
	for _, e := range enginePaths {
		if r, err := resolveHostPath(e); err == nil && r != e {
			out = append(out, r)
		}
	}
	return out
}

// coversEngine returns the engine path that the resolved path p is, or
// holds.
func (c *checker) coversEngine(p string) (string, bool) {
	for _, e := range c.engine {
		if within(e, p) {
			return e, true
		}
	}
	return "", false
}

// within reports whether p is dir or lies below it (both cleaned).
func within(p, dir string) bool {
	return p == dir || strings.HasPrefix(p, strings.TrimSuffix(dir, "/")+"/")
}

// resolveHostPath cleans an absolute path and resolves every symbolic link
// in the part that exists, so neither `..` nor a link can lead a mount out
// of its root. The missing tail is kept as written: it holds no link yet.
// A dangling link is refused, since the daemon would follow it.
func resolveHostPath(p string) (string, error) {
	p = filepath.Clean(p)
	existing, missing := p, []string(nil)
	for {
		r, err := filepath.EvalSymlinks(existing)
		if err == nil {
			return filepath.Join(append([]string{r}, missing...)...), nil
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return "", fmt.Errorf("resolve %s: %w", p, err)
		}
		if _, lerr := os.Lstat(existing); lerr == nil {
			return "", fmt.Errorf("resolve %s: %s is a symbolic link to a missing path", p, existing)
		}
		parent := filepath.Dir(existing)
		if parent == existing {
			return p, nil
		}
		missing = append([]string{filepath.Base(existing)}, missing...)
		existing = parent
	}
}

// admit is the entry check of an apply: it refuses a project that breaks
// the policy, mounts a volume the engine already holds with options, or
// cannot be converted, before anything is created or changed.
func (e *Engine) admit(ctx context.Context, p *types.Project, pol Policy) error {
	err := pol.Check(p)
	var refused *PolicyError
	if err != nil && !errors.As(err, &refused) {
		return err
	}
	held, err := e.volumesWithOptions(ctx, p)
	if err != nil {
		return err
	}
	if len(held) > 0 {
		if refused == nil {
			refused = &PolicyError{}
		}
		refused.Violations = append(refused.Violations, held...)
	}
	if refused != nil {
		return refused
	}
	for _, name := range slices.Sorted(maps.Keys(p.Services)) {
		if _, err := toContainerSpec(p, p.Services[name], nil); err != nil {
			return fmt.Errorf("%w; the compose file was not applied", err)
		}
	}
	return nil
}

// volumesWithOptions finds the project's volumes that already exist on the
// engine with a driver or options the file does not show: a volume made
// earlier with `o: bind` would mount a host path under an innocent name.
func (e *Engine) volumesWithOptions(ctx context.Context, p *types.Project) ([]Violation, error) {
	var bad []Violation
	for _, key := range slices.Sorted(maps.Keys(p.Volumes)) {
		v, err := e.api.VolumeInspect(ctx, p.Volumes[key].Name)
		if errdefs.IsNotFound(err) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("inspect volume %s: %w", p.Volumes[key].Name, err)
		}
		if v.Driver != "local" || len(v.Options) > 0 {
			bad = append(bad, Violation{Subject: "volume " + key, Rule: ruleVolumes,
				Setting: fmt.Sprintf("the existing volume %s (driver %s, options %s)", v.Name, v.Driver, strings.Join(slices.Sorted(maps.Keys(v.Options)), ", "))})
		}
	}
	return bad, nil
}
