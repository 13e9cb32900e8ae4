package preflight

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/docker/docker/api/types/system"

	"github.com/fineract-installer/fineract-installer/assets"
	"github.com/fineract-installer/fineract-installer/steps/answers"
)

// A host account, group or process that shares a service's uid and gid can
// read the service's memory, environment and files through /proc and send
// it signals: without user namespaces the uid is the only wall between
// them. Each service runs as ids of its own (answers' service_ids_from);
// this check makes sure nothing on the host uses them.

// HostIDs says who on this host uses which uid and gid.
type HostIDs struct {
	UIDs map[int][]string
	GIDs map[int][]string
}

// maxIDLines bounds what is read of /etc/passwd and /etc/group.
const maxIDLines = 1 << 20

// ReadHostIDs reads the accounts in root/etc/passwd (uid and primary
// gid), the groups in root/etc/group, and the processes under root/proc
// that run in the host's own pid namespace (real, effective and saved
// ids). Processes of containers live in pid namespaces of their own and
// cannot reach the services' processes, so they are left out. root is "/"
// on a host.
func ReadHostIDs(root string) (HostIDs, error) {
	h := HostIDs{UIDs: map[int][]string{}, GIDs: map[int][]string{}}
	if err := readIDFile(filepath.Join(root, "etc/passwd"), func(f []string) {
		if len(f) >= 4 {
			if uid, err := strconv.Atoi(f[2]); err == nil {
				h.UIDs[uid] = append(h.UIDs[uid], "account "+f[0])
			}
			if gid, err := strconv.Atoi(f[3]); err == nil {
				h.GIDs[gid] = append(h.GIDs[gid], "account "+f[0]+"'s group")
			}
		}
	}); err != nil {
		return h, err
	}
	if err := readIDFile(filepath.Join(root, "etc/group"), func(f []string) {
		if len(f) >= 3 {
			if gid, err := strconv.Atoi(f[2]); err == nil {
				h.GIDs[gid] = append(h.GIDs[gid], "group "+f[0])
			}
		}
	}); err != nil {
		return h, err
	}
	h.addProcesses(filepath.Join(root, "proc"))
	for _, m := range []map[int][]string{h.UIDs, h.GIDs} {
		for id, who := range m {
			slices.Sort(who)
			m[id] = slices.Compact(who)
		}
	}
	return h, nil
}

// readIDFile calls fn with the colon-separated fields of each line.
func readIDFile(path string, fn func([]string)) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("read %s: %w", path, err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for n := 0; sc.Scan() && n < maxIDLines; n++ {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fn(strings.Split(line, ":"))
	}
	return sc.Err()
}

// addProcesses records the ids of every process in the pid namespace of
// process 1 (the host's, when the installer runs on the host).
func (h HostIDs) addProcesses(proc string) {
	hostNS, err := os.Readlink(filepath.Join(proc, "1/ns/pid"))
	if err != nil {
		return
	}
	entries, err := os.ReadDir(proc)
	if err != nil {
		return
	}
	for _, e := range entries {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		dir := filepath.Join(proc, e.Name())
		if ns, err := os.Readlink(filepath.Join(dir, "ns/pid")); err != nil || ns != hostNS {
			continue
		}
		status, err := os.ReadFile(filepath.Join(dir, "status"))
		if err != nil {
			continue // gone meanwhile
		}
		name, uids, gids := parseStatus(status)
		who := fmt.Sprintf("process %s (%s)", e.Name(), name)
		for _, id := range uids {
			h.UIDs[id] = append(h.UIDs[id], who)
		}
		for _, id := range gids {
			h.GIDs[id] = append(h.GIDs[id], who)
		}
	}
}

// ProcessIDs returns the real uid and gid of a host process.
func ProcessIDs(pid int) (uid, gid int, err error) {
	if pid <= 0 {
		return 0, 0, fmt.Errorf("not running")
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0, err
	}
	_, uids, gids := parseStatus(b)
	if len(uids) == 0 || len(gids) == 0 {
		return 0, 0, fmt.Errorf("no ids in /proc/%d/status", pid)
	}
	return uids[0], gids[0], nil
}

// parseStatus reads a process's name and its real, effective and saved
// uids and gids from /proc/PID/status.
func parseStatus(b []byte) (name string, uids, gids []int) {
	ids := func(v string) []int {
		var out []int
		for _, f := range strings.Fields(v) {
			if id, err := strconv.Atoi(f); err == nil && !slices.Contains(out, id) {
				out = append(out, id)
			}
		}
		return out
	}
	for _, line := range bytes.Split(b, []byte("\n")) {
		k, v, ok := strings.Cut(string(line), ":")
		if !ok {
			continue
		}
		switch k {
		case "Name":
			name = strings.TrimSpace(v)
		case "Uid":
			uids = ids(v)
		case "Gid":
			gids = ids(v)
		}
	}
	return name, uids, gids
}

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
	ids, err := ReadHostIDs(hostRoot)
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
func IDsResult(r Result, ids HostIDs, services []assets.Service, from int) Result {
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
func FreeIDBlock(ids HostIDs, start int) int {
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
