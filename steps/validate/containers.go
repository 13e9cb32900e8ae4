package validate

import (
	"context"
	"fmt"
	"strings"

	"github.com/docker/docker/api/types/container"

	"github.com/fineract-installer/fineract-installer/assets"
	"github.com/fineract-installer/fineract-installer/steps/hostfacts"
)

// ContainerChecks are the CIS Docker Benchmark section 5 checks, read from
// the running containers, never from the compose file.
func ContainerChecks() []Check {
	hardening := []Control{ControlHardening}
	return []Check{
		{ID: "container-read-only", Area: AreaContainers, Title: "Read-only root filesystem", Controls: hardening, Run: checkReadOnly},
		{ID: "container-capabilities", Area: AreaContainers, Title: "All capabilities dropped", Controls: hardening, Run: checkCapabilities},
		{ID: "container-no-new-privileges", Area: AreaContainers, Title: "No new privileges", Controls: hardening, Run: checkNoNewPrivileges},
		{ID: "container-unprivileged", Area: AreaContainers, Title: "Not privileged, no host namespaces", Controls: hardening, Run: checkUnprivileged},
		{ID: "container-user", Area: AreaContainers, Title: "Runs as a non-root user", Controls: hardening, Run: checkUser},
		{ID: "container-docker-socket", Area: AreaContainers, Title: "No Docker socket mounted", Controls: hardening, Run: checkDockerSocket},
		{ID: "container-limits", Area: AreaContainers, Title: "Memory and process limits", Controls: hardening, Run: checkLimits},
		{ID: "container-health", Area: AreaContainers, Title: "Healthcheck present and healthy", Controls: hardening, Run: checkHealth},
		{ID: "container-restart", Area: AreaContainers, Title: "Restart policy", Controls: []Control{ControlHardening, ControlBackup}, Run: checkRestart},
		{ID: "container-log-rotation", Area: AreaContainers, Title: "Container logs rotated", Controls: []Control{ControlLogging}, Run: checkLogRotation},
	}
}

func checkReadOnly(ctx context.Context, t *Target) Finding {
	return t.perService(ctx, "set read_only: true with tmpfs for the paths the service writes", func(svc assets.Service, c container.InspectResponse) (bool, string) {
		switch {
		case c.HostConfig.ReadonlyRootfs:
			return true, "read-only"
		case svc.ReadOnlyException != "":
			return true, "writable, documented: " + svc.ReadOnlyException
		}
		return false, "writable root filesystem"
	})
}

func checkCapabilities(ctx context.Context, t *Target) Finding {
	return t.perService(ctx, "set cap_drop: [ALL] and remove cap_add", func(_ assets.Service, c container.InspectResponse) (bool, string) {
		dropAll := false
		for _, d := range c.HostConfig.CapDrop {
			if strings.EqualFold(strings.TrimPrefix(d, "CAP_"), "ALL") {
				dropAll = true
			}
		}
		switch {
		case !dropAll:
			return false, fmt.Sprintf("cap_drop %v does not drop ALL", c.HostConfig.CapDrop)
		case len(c.HostConfig.CapAdd) > 0:
			return false, fmt.Sprintf("adds %v", c.HostConfig.CapAdd)
		}
		return true, "ALL dropped, none added"
	})
}

func checkNoNewPrivileges(ctx context.Context, t *Target) Finding {
	return t.perService(ctx, `set security_opt: ["no-new-privileges:true"]`, func(_ assets.Service, c container.InspectResponse) (bool, string) {
		for _, o := range c.HostConfig.SecurityOpt {
			if o == "no-new-privileges" || o == "no-new-privileges:true" || o == "no-new-privileges=true" {
				return true, "set"
			}
		}
		return false, fmt.Sprintf("security options %v lack no-new-privileges", c.HostConfig.SecurityOpt)
	})
}

func checkUnprivileged(ctx context.Context, t *Target) Finding {
	return t.perService(ctx, "remove privileged, pid/ipc/uts: host and network_mode: host", func(_ assets.Service, c container.InspectResponse) (bool, string) {
		hc := c.HostConfig
		var bad []string
		if hc.Privileged {
			bad = append(bad, "privileged")
		}
		if hc.PidMode.IsHost() {
			bad = append(bad, "host PID namespace")
		}
		if hc.IpcMode.IsHost() {
			bad = append(bad, "host IPC namespace")
		}
		if hc.UTSMode.IsHost() {
			bad = append(bad, "host UTS namespace")
		}
		if hc.NetworkMode.IsHost() {
			bad = append(bad, "host network")
		}
		if hc.UsernsMode.IsHost() {
			bad = append(bad, "host user namespace")
		}
		if len(bad) > 0 {
			return false, strings.Join(bad, ", ")
		}
		return true, "unprivileged, private namespaces"
	})
}

// checkUser reads both the configured user and the uid the main process
// really runs as, from /proc on the host.
func checkUser(ctx context.Context, t *Target) Finding {
	return t.perService(ctx, "run the service as its image's unprivileged user (user: in the compose file)", func(svc assets.Service, c container.InspectResponse) (bool, string) {
		uid, _, err := hostfacts.ProcessIDs(c.State.Pid)
		if err != nil {
			return false, "cannot read the process's uid: " + err.Error()
		}
		observed := fmt.Sprintf("user %q, process uid %d", c.Config.User, uid)
		if uid != 0 {
			return true, observed
		}
		if svc.RootReason != "" {
			return true, observed + ", documented: " + svc.RootReason
		}
		return false, observed
	})
}

func checkDockerSocket(ctx context.Context, t *Target) Finding {
	return t.perService(ctx, "remove the Docker socket mount: it gives root on the host", func(_ assets.Service, c container.InspectResponse) (bool, string) {
		for _, m := range c.Mounts {
			if strings.HasSuffix(m.Source, "docker.sock") || strings.HasSuffix(m.Destination, "docker.sock") || strings.Contains(m.Source, "/run/containerd") {
				return false, "mounts " + m.Source
			}
		}
		return true, fmt.Sprintf("%d mounts, none of the engine's socket", len(c.Mounts))
	})
}

func checkLimits(ctx context.Context, t *Target) Finding {
	return t.perService(ctx, "set mem_limit and pids_limit", func(_ assets.Service, c container.InspectResponse) (bool, string) {
		mem := c.HostConfig.Memory
		var pids int64
		if c.HostConfig.PidsLimit != nil {
			pids = *c.HostConfig.PidsLimit
		}
		observed := fmt.Sprintf("memory %d MiB, pids %d", mem>>20, pids)
		return mem > 0 && pids > 0, observed
	})
}

func checkHealth(ctx context.Context, t *Target) Finding {
	return t.perService(ctx, "see `fineract-installer logs SERVICE`; a service without a healthcheck needs one in the compose file", func(_ assets.Service, c container.InspectResponse) (bool, string) {
		switch {
		case c.Config.Healthcheck == nil || len(c.Config.Healthcheck.Test) == 0 || c.Config.Healthcheck.Test[0] == "NONE":
			return false, "no healthcheck"
		case c.State.Health == nil:
			return false, "no health state"
		case c.State.Health.Status != container.Healthy:
			return false, c.State.Health.Status
		}
		return true, "healthy"
	})
}

func checkRestart(ctx context.Context, t *Target) Finding {
	return t.perService(ctx, "set restart: unless-stopped", func(_ assets.Service, c container.InspectResponse) (bool, string) {
		p := c.HostConfig.RestartPolicy.Name
		switch p {
		case container.RestartPolicyUnlessStopped, container.RestartPolicyAlways, container.RestartPolicyOnFailure:
			return true, string(p)
		}
		return false, fmt.Sprintf("restart policy %q", p)
	})
}

func checkLogRotation(ctx context.Context, t *Target) Finding {
	return t.perService(ctx, `use the json-file (or local) log driver with max-size and max-file`, func(_ assets.Service, c container.InspectResponse) (bool, string) {
		lc := c.HostConfig.LogConfig
		if (lc.Type == "json-file" || lc.Type == "local") && lc.Config["max-size"] != "" {
			return true, fmt.Sprintf("%s, max-size %s, max-file %s", lc.Type, lc.Config["max-size"], lc.Config["max-file"])
		}
		return false, fmt.Sprintf("log driver %q with %v", lc.Type, lc.Config)
	})
}
