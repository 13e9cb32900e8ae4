package install

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/fineract-installer/fineract-installer/compose"
)

// EngineOpenFiles returns the hard open-files limit (RLIMIT_NOFILE) of the
// Docker engine's process on this host, read from /proc through the
// engine's pid file under root ("/" on a real host). A container cannot be
// given more: runc fails to start it ("error setting rlimit type 7") when
// the engine runs without the right to raise its own limit, as under a
// systemd LimitNOFILE or in a container. ok is false when the engine's
// process is not found here (a remote engine): nothing is known then.
func EngineOpenFiles(root string) (limit uint64, ok bool) {
	for _, pidfile := range []string{"run/docker.pid", "var/run/docker.pid"} {
		b, err := os.ReadFile(filepath.Join(root, pidfile))
		if err != nil {
			continue
		}
		pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
		if err != nil || pid <= 0 {
			continue
		}
		limits, err := os.ReadFile(filepath.Join(root, "proc", strconv.Itoa(pid), "limits"))
		if err != nil {
			continue
		}
		return parseOpenFilesHard(limits)
	}
	return 0, false
}

// parseOpenFilesHard reads the hard "Max open files" of a /proc/PID/limits.
func parseOpenFilesHard(limits []byte) (uint64, bool) {
	sc := bufio.NewScanner(bytes.NewReader(limits))
	for sc.Scan() {
		rest, ok := strings.CutPrefix(sc.Text(), "Max open files")
		if !ok {
			continue
		}
		f := strings.Fields(rest) // soft, hard, unit
		if len(f) < 2 {
			return 0, false
		}
		if f[1] == "unlimited" {
			return 0, false
		}
		n, err := strconv.ParseUint(f[1], 10, 64)
		return n, err == nil
	}
	return 0, false
}

// FitOpenFiles lowers every service's nofile ulimit that is above max to
// max, and says what it lowered, so a service the engine could not start
// (Elasticsearch asks for 65535) starts with what the engine can give.
func FitOpenFiles(p *compose.Project, max uint64) []string {
	var notes []string
	for name, svc := range p.Services {
		u := svc.Ulimits["nofile"]
		if u == nil {
			continue
		}
		soft, hard := uint64(u.Soft), uint64(u.Hard)
		if u.Single > 0 {
			soft, hard = uint64(u.Single), uint64(u.Single)
		}
		if hard <= max && soft <= max {
			continue
		}
		notes = append(notes, fmt.Sprintf("%s asks for %d open files, but the Docker engine can give at most %d: it runs with %d", name, hard, max, max))
		u.Soft, u.Hard, u.Single = int(min(soft, max)), int(max), 0
		p.Services[name] = svc
	}
	return notes
}

// openFilesHint says how to give the engine more open files.
const openFilesHint = "raise the engine's limit (systemd: `systemctl edit docker` with [Service] LimitNOFILE=1048576, then restart Docker) and run install again; Elastic recommends 65535 for Elasticsearch"
