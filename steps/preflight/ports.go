package preflight

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"strings"

	"github.com/docker/docker/api/types/system"

	"github.com/fineract-installer/fineract-installer/steps/hostfacts"
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
	if owner, ok := hostfacts.PortOwner(port); ok {
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
