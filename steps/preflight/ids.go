package preflight

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/docker/docker/api/types/system"

	"github.com/fineract-installer/fineract-installer/assets"
	"github.com/fineract-installer/fineract-installer/steps/answers"
	"github.com/fineract-installer/fineract-installer/steps/hostfacts"
)

// A host account, group or process that shares a service's uid and gid can
// read the service's memory, environment and files through /proc and send
// it signals: without user namespaces the uid is the only wall between
// them. Each service runs as ids of its own (answers' service_ids_from);
// this check makes sure nothing on the host uses them.

// hostRoot is where ReadHostIDs looks ("/"; tests point it elsewhere).
var hostRoot = "/"

func checkServiceIDs(ctx context.Context, in Input, info *system.Info) []Result {
	r := Result{ID: "ids", Title: "No host account shares a service's uid or gid"}
	if info != nil && slices.ContainsFunc(info.SecurityOptions, func(o string) bool { return strings.Contains(o, "name=userns") }) {
		r.Status = Fail
		r.Observed = "the Docker engine runs with userns-remap"
		r.Fix = "the installer gives keys and secret files to each service's own uid on the host and does not translate them through the remapping, so the services could not read them; run it on an engine without userns-remap (every service already runs as ids no host account may use)"
		return []Result{r}
	}
	ids, err := hostfacts.ReadHostIDs(hostRoot)
	if err != nil {
		r.Status = Fail
		r.Observed = err.Error()
		r.Fix = "run the installer on the Docker host itself"
		return []Result{r}
	}
	return []Result{IDsResult(r, ids, in.Services, in.Answers.ServiceIDsFrom)}
}

// IDsResult judges the services' ids against what the host uses: a
// service's own uid or gid used by anything on the host fails; an id the
// image needs shared (IDsReason) used by a host account warns. from is the
// answers' service_ids_from, for the suggested fix.
func IDsResult(r Result, ids hostfacts.HostIDs, services []assets.Service, from int) Result {
	var clash, shared []string
	for _, svc := range services {
		if svc.RootReason != "" {
			continue // runs as root, which the host's root shares by definition
		}
		for _, c := range []struct {
			kind string
			id   int
			own  bool
			used map[int][]string
		}{{"uid", svc.UID, svc.OwnUID, ids.UIDs}, {"gid", svc.GID, svc.OwnGID, ids.GIDs}} {
			who := c.used[c.id]
			switch {
			case len(who) == 0 || c.id == 0:
			case c.own:
				clash = append(clash, fmt.Sprintf("%s of %s (%d) is used by %s", c.kind, svc.Name, c.id, strings.Join(who, ", ")))
			default:
				shared = append(shared, fmt.Sprintf("%s of %s (%d, the image's own) is used by %s", c.kind, svc.Name, c.id, strings.Join(who, ", ")))
			}
		}
	}
	switch {
	case len(clash) > 0:
		r.Status = Fail
		r.Observed = strings.Join(clash, "; ")
		r.Fix = fmt.Sprintf("each service's ids must be its own: remove or renumber what uses them, or move the block with service_ids_from in the answers (%d is free on this host)", FreeIDBlock(ids, from))
	case len(shared) > 0:
		r.Status = Warn
		r.Observed = strings.Join(shared, "; ")
		r.Fix = "these host accounts can signal the service and, when their gid matches too, read its memory; give them other ids, or do not log in as them on this host"
	default:
		r.Status = Pass
		r.Observed = fmt.Sprintf("%d services checked against the host's accounts, groups and processes", len(services))
	}
	return r
}

// FreeIDBlock returns the first block of service ids, from start on in
// steps of a block, that nothing on the host uses.
func FreeIDBlock(ids hostfacts.HostIDs, start int) int {
	if start < answers.DefaultServiceIDsFrom {
		start = answers.DefaultServiceIDsFrom
	}
	used := map[int]bool{}
	for _, m := range []map[int][]string{ids.UIDs, ids.GIDs} {
		for id := range m {
			used[id] = true
		}
	}
	keys := make([]int, 0, len(used))
	for id := range used {
		keys = append(keys, id)
	}
	sort.Ints(keys)
	for from := start; ; from += answers.ServiceIDsBlock {
		i := sort.SearchInts(keys, from)
		if i == len(keys) || keys[i] >= from+answers.ServiceIDsBlock {
			return from
		}
	}
}
