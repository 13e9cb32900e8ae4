package hostfacts

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

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

// ProcessIDs returns the real uid and gid of a host process, from
// /proc/PID/status on this host.
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
