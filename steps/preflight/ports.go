package preflight

import (
	"bufio"
	"context"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/docker/docker/api/types/system"
)

func checkPorts(ctx context.Context, in Input, _ *system.Info) []Result {
	g := in.Answers.Gateway
	var out []Result
	for _, port := range []int{g.HTTPSPort, g.HTTPPort} {
		out = append(out, portResult(ctx, in, g.BindIP, port))
	}
	return out
}

func portResult(ctx context.Context, in Input, bindIP string, port int) Result {
	r := Result{ID: "ports", Title: fmt.Sprintf("Port %d", port)}
	addr := net.JoinHostPort(bindIP, strconv.Itoa(port))
	ln, err := net.Listen("tcp", addr)
	if err == nil {
		ln.Close()
		r.Status, r.Observed = Pass, fmt.Sprintf("%s is free", displayAddr(addr))
		return r
	}
	if ours, ok := heldByThisStack(ctx, in, port); ok {
		r.Status, r.Observed = Pass, fmt.Sprintf("held by this stack's %s (a rerun keeps it)", ours)
		return r
	}
	r.Status = Fail
	if owner, ok := PortOwner(port); ok {
		r.Observed = fmt.Sprintf("%s is held by %s", displayAddr(addr), owner)
	} else {
		r.Observed = fmt.Sprintf("%s cannot be used: %v", displayAddr(addr), err)
	}
	r.Fix = fmt.Sprintf("stop that program, or choose another port with gateway.%s in the answers file", map[bool]string{true: "https_port", false: "http_port"}[port == in.Answers.Gateway.HTTPSPort])
	return r
}

func displayAddr(addr string) string {
	if strings.HasPrefix(addr, ":") {
		return "port " + addr[1:] + " on every address"
	}
	return addr
}

// heldByThisStack reports whether a container of the project publishes the port.
func heldByThisStack(ctx context.Context, in Input, port int) (string, bool) {
	if in.Engine == nil {
		return "", false
	}
	st, err := in.Engine.Status(ctx, in.Project)
	if err != nil {
		return "", false
	}
	for _, s := range st {
		for _, p := range s.Ports {
			if int(p.HostPort) == port {
				return s.Service, true
			}
		}
	}
	return "", false
}

// Owner is the process holding a listening socket.
type Owner struct {
	PID     int
	Command string
}

func (o Owner) String() string { return fmt.Sprintf("%s (pid %d)", o.Command, o.PID) }

// PortOwner finds the process listening on a TCP port from /proc: the
// socket's inode from /proc/net/tcp{,6}, then the process holding a file
// descriptor to it. Processes in other PID namespaces are not visible.
func PortOwner(port int) (Owner, bool) {
	inodes := map[string]bool{}
	for _, f := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		for _, ino := range listeningInodes(f, port) {
			inodes[ino] = true
		}
	}
	if len(inodes) == 0 {
		return Owner{}, false
	}
	procs, _ := filepath.Glob("/proc/[0-9]*")
	for _, p := range procs {
		fds, _ := os.ReadDir(filepath.Join(p, "fd"))
		for _, fd := range fds {
			link, err := os.Readlink(filepath.Join(p, "fd", fd.Name()))
			if err != nil || !strings.HasPrefix(link, "socket:[") {
				continue
			}
			if inodes[strings.TrimSuffix(strings.TrimPrefix(link, "socket:["), "]")] {
				pid, _ := strconv.Atoi(filepath.Base(p))
				return Owner{PID: pid, Command: commandLine(p)}, true
			}
		}
	}
	return Owner{}, false
}

// listeningInodes parses /proc/net/tcp: "sl local_address rem_address st ... inode".
func listeningInodes(file string, port int) []string {
	f, err := os.Open(file)
	if err != nil {
		return nil
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	sc.Scan() // header
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 10 || fields[3] != "0A" { // 0A = LISTEN
			continue
		}
		_, hexPort, ok := strings.Cut(fields[1], ":")
		if !ok {
			continue
		}
		b, err := hex.DecodeString(hexPort)
		if err != nil || len(b) != 2 || int(b[0])<<8|int(b[1]) != port {
			continue
		}
		out = append(out, fields[9])
	}
	return out
}

func commandLine(procDir string) string {
	raw, err := os.ReadFile(filepath.Join(procDir, "cmdline"))
	if err == nil && len(raw) > 0 {
		cmd := strings.TrimSpace(strings.ReplaceAll(string(raw), "\x00", " "))
		if len(cmd) > 120 {
			cmd = cmd[:117] + "..."
		}
		return cmd
	}
	comm, _ := os.ReadFile(filepath.Join(procDir, "comm"))
	return strings.TrimSpace(string(comm))
}
