// Package preflight checks a host before anything is changed on it: the
// Docker engine, memory, disk, ports, subnets, privileges, the uids and gids
// the services run as, the clock, whether the data will be on encrypted
// storage, and whether the images to pull resolve at their registries.
// Each check says what it observed and, when it does not pass, how to fix it.
package preflight

import (
	"context"
	"sort"
	"sync"

	"github.com/docker/docker/api/types/system"

	"github.com/fineract-installer/fineract-installer/assets"
	"github.com/fineract-installer/fineract-installer/compose"
	"github.com/fineract-installer/fineract-installer/steps/answers"
)

// Status of one check.
type Status string

// Check outcomes. A failing check stops the install before anything changes.
const (
	Pass Status = "pass"
	Warn Status = "warn"
	Fail Status = "fail"
)

// Result is the outcome of one check.
type Result struct {
	ID       string `json:"id"`
	Title    string `json:"title"`
	Status   Status `json:"status"`
	Observed string `json:"observed"`
	Fix      string `json:"fix,omitempty"`
}

// Input is what the checks look at.
type Input struct {
	Answers answers.Answers
	Project string
	// MemoryBudgetMiB is what the selected groups need.
	MemoryBudgetMiB int
	// Services are the rendered services, with the ids they run as.
	Services []assets.Service
	// Engine is nil when EngineErr says why it could not be reached.
	Engine    *compose.Engine
	EngineErr error
	// HostRoot is where the host's /sys and /proc are read ("/" when
	// empty).
	HostRoot string
}

// check is one preflight check. info is nil when the engine is unreachable.
type check func(ctx context.Context, in Input, info *system.Info) []Result

var checks = []check{
	checkEngine, checkStorage, checkMemory, checkDisk, checkPorts, checkSubnets, checkPrivileges, checkServiceIDs, checkClock, checkEncryption, checkRegistry,
}

// Run runs every check in parallel and returns the results in a stable order.
func Run(ctx context.Context, in Input) []Result {
	var info *system.Info
	if in.Engine != nil {
		if i, err := in.Engine.API().Info(ctx); err == nil {
			info = &i
		} else {
			in.EngineErr = err
		}
	}
	var mu sync.Mutex
	var out []Result
	var wg sync.WaitGroup
	for _, c := range checks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rs := c(ctx, in, info)
			mu.Lock()
			out = append(out, rs...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	order := map[string]int{}
	for i, id := range checkOrder {
		order[id] = i
	}
	sort.SliceStable(out, func(i, j int) bool {
		if order[out[i].ID] != order[out[j].ID] {
			return order[out[i].ID] < order[out[j].ID]
		}
		return out[i].Title < out[j].Title
	})
	return out
}

var checkOrder = []string{"engine", "storage", "cgroup", "memory", "disk", "ports", "subnets", "privileges", "ids", "clock", "encryption", "registry"}

// Failed reports whether any result fails.
func Failed(rs []Result) bool {
	for _, r := range rs {
		if r.Status == Fail {
			return true
		}
	}
	return false
}
