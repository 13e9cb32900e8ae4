package preflight

import (
	"context"
	"fmt"

	"github.com/docker/docker/api/types/system"
	"github.com/docker/docker/api/types/versions"
)

// minAPIVersion is Docker 20.10's API, the oldest engine the installer is tested on.
const minAPIVersion = "1.41"

func checkEngine(ctx context.Context, in Input, info *system.Info) []Result {
	r := Result{ID: "engine", Title: "Docker engine"}
	if in.Engine == nil || info == nil {
		r.Status = Fail
		r.Observed = fmt.Sprintf("not reachable: %v", in.EngineErr)
		r.Fix = "install Docker (Debian: apt-get install docker.io) and start it (systemctl start docker), or point DOCKER_HOST at a running engine"
		return []Result{r}
	}
	api := in.Engine.APIVersion()
	r.Observed = fmt.Sprintf("Docker %s, API %s", info.ServerVersion, api)
	if versions.LessThan(api, minAPIVersion) {
		r.Status = Fail
		r.Fix = fmt.Sprintf("upgrade the Docker engine to 20.10 or newer (API %s)", minAPIVersion)
		return []Result{r}
	}
	r.Status = Pass
	return []Result{r}
}

func checkStorage(ctx context.Context, in Input, info *system.Info) []Result {
	if info == nil {
		return nil
	}
	storage := Result{ID: "storage", Title: "Storage driver", Observed: info.Driver, Status: Pass}
	if info.Driver != "overlay2" {
		storage.Status = Warn
		storage.Fix = "overlay2 is the driver Docker recommends and the one the installer is tested with; see the Docker storage driver documentation to switch"
	}
	cg := Result{ID: "cgroup", Title: "Control groups", Status: Pass, Observed: fmt.Sprintf("cgroup v%s, %s driver", info.CgroupVersion, info.CgroupDriver)}
	if !info.MemoryLimit || !info.PidsLimit {
		cg.Status = Fail
		cg.Observed += fmt.Sprintf("; memory limits %t, pids limits %t", info.MemoryLimit, info.PidsLimit)
		cg.Fix = "enable the memory and pids cgroup controllers (kernel command line cgroup_enable=memory) so every service can be limited"
	}
	return []Result{storage, cg}
}
