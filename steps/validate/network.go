package validate

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/go-connections/nat"

	"github.com/fineract-installer/fineract-installer/assets"
	"github.com/fineract-installer/fineract-installer/compose/nsdial"
	"github.com/fineract-installer/fineract-installer/steps/hostfacts"
)

// NetworkChecks prove the segmentation: what is published, which networks
// are internal, who sits on which network, and that the DMZ cannot reach
// the data tier.
func NetworkChecks() []Check {
	seg := []Control{ControlSegmentation}
	return []Check{
		{ID: "network-published-ports", Area: AreaNetwork, Title: "Only the gateway publishes ports", Controls: seg, Run: checkPublishedPorts},
		{ID: "network-internal", Area: AreaNetwork, Title: "App, data and monitoring networks are internal", Controls: seg, Run: checkInternalNetworks},
		{ID: "network-membership", Area: AreaNetwork, Title: "Each service is on exactly its networks", Controls: seg, Run: checkMembership},
		{ID: "network-dmz-isolation", Area: AreaNetwork, Title: "The DMZ cannot reach the data tier", Controls: seg, Run: checkDMZIsolation},
	}
}

func checkPublishedPorts(ctx context.Context, t *Target) Finding {
	return t.perService(ctx, "remove ports: from every service but the gateway", func(svc assets.Service, c container.InspectResponse) (bool, string) {
		allowed := map[string]bool{}
		for _, p := range svc.Published {
			allowed[fmt.Sprint(p)] = true
		}
		// Live bindings first; requested ones count too where nothing is
		// live: Docker does not publish for a container that is only on
		// internal networks, but would once it is attached elsewhere.
		var got []string
		ok := true
		record := func(port nat.Port, b nat.PortBinding) {
			hostPort := b.HostPort
			if hostPort == "" || hostPort == "0" {
				hostPort = "(any)"
			}
			got = append(got, fmt.Sprintf("%s:%s->%s", b.HostIP, hostPort, port))
			if !allowed[b.HostPort] {
				ok = false
			}
		}
		for port, bindings := range c.NetworkSettings.Ports {
			for _, b := range bindings {
				record(port, b)
			}
		}
		for port, bindings := range c.HostConfig.PortBindings {
			if len(c.NetworkSettings.Ports[port]) > 0 {
				continue
			}
			for _, b := range bindings {
				record(port, b)
			}
		}
		sort.Strings(got)
		if len(got) == 0 {
			return ok, "none"
		}
		return ok, strings.Join(got, ", ")
	})
}

func checkInternalNetworks(ctx context.Context, t *Target) Finding {
	var evidence, bad []string
	for _, role := range []string{"app", "data", "monitoring"} {
		name, ok := t.Networks[role]
		if !ok {
			continue // monitoring exists only with the monitoring or logging group
		}
		n, err := t.Engine.API().NetworkInspect(ctx, name, network.InspectOptions{})
		if err != nil {
			bad = append(bad, fmt.Sprintf("%s: %v", name, err))
			continue
		}
		hostAddr := n.Options["com.docker.network.bridge.inhibit_ipv4"] != "true"
		var routed []string
		for _, c := range n.IPAM.Config {
			if iface, ok := hostRouteTo(t.HostRoot, c.Subnet); ok {
				routed = append(routed, c.Subnet+" via "+iface)
			}
		}
		line := fmt.Sprintf("%s: internal=%t, host address on its bridge=%t, host routes=%v", name, n.Internal, hostAddr, routed)
		if !n.Internal || hostAddr || len(routed) > 0 {
			bad = append(bad, line)
		} else {
			evidence = append(evidence, line)
		}
	}
	if len(bad) > 0 {
		return Finding{Status: Fail, Evidence: strings.Join(bad, "; "), Fix: "run `fineract-installer uninstall` and install again: the networks were not created by this installer's configuration", Subject: "networks"}
	}
	return pass(strings.Join(evidence, "; "))
}

func checkMembership(ctx context.Context, t *Target) Finding {
	return t.perService(ctx, "recreate the service from the rendered compose file (`fineract-installer install` puts it back)", func(svc assets.Service, c container.InspectResponse) (bool, string) {
		want := map[string]bool{}
		for _, role := range svc.Networks {
			want[t.Networks[role]] = true
		}
		var got []string
		ok := true
		for name := range c.NetworkSettings.Networks {
			got = append(got, name)
			if !want[name] {
				ok = false
			}
		}
		sort.Strings(got)
		if len(got) != len(want) {
			ok = false
		}
		return ok, "on " + strings.Join(got, ", ")
	})
}

// probeTimeout bounds one segmentation probe.
const probeTimeout = 2 * time.Second

// checkDMZIsolation connects from inside the gateway's network namespace
// (the only service on the DMZ) to Postgres and Vault. The probe's packets
// carry an IP TTL of 1: they reach only hosts on a network the gateway
// shares, and die at the first router instead of leaving the machine.
// Routed paths are excluded by checkInternalNetworks (no host route into
// the data network). A control probe to a service the gateway does share a
// network with shows the probe itself works.
func checkDMZIsolation(ctx context.Context, t *Target) Finding {
	cs, err := t.inspectAll(ctx)
	if err != nil {
		return fail("cannot inspect the containers: "+err.Error(), "check that the Docker engine runs")
	}
	gw, ok := cs["gateway"]
	if !ok || gw.State == nil || gw.State.Pid == 0 {
		return fail("the gateway is not running", "start the stack: `fineract-installer install`")
	}
	ns := fmt.Sprintf("/proc/%d/ns/net", gw.State.Pid)
	var evidence, bad []string
	for _, target := range []struct {
		service string
		port    int
	}{{"postgres", 5432}, {"vault", 8200}} {
		c, ok := cs[target.service]
		if !ok {
			continue
		}
		for _, ep := range c.NetworkSettings.Networks {
			addr := net.JoinHostPort(ep.IPAddress, fmt.Sprint(target.port))
			err := probe(ctx, ns, addr)
			if err == nil {
				bad = append(bad, fmt.Sprintf("gateway reached %s at %s", target.service, addr))
			} else {
				evidence = append(evidence, fmt.Sprintf("gateway -> %s %s: %s", target.service, addr, probeOutcome(err)))
			}
		}
	}
	// Control: the gateway does reach Fineract, on the app network.
	if fin, ok := cs["fineract"]; ok {
		if ep, ok := fin.NetworkSettings.Networks[t.Networks["app"]]; ok {
			addr := net.JoinHostPort(ep.IPAddress, "8443")
			if err := probe(ctx, ns, addr); err != nil {
				return fail(fmt.Sprintf("control probe gateway -> fineract %s failed (%v): the probe cannot tell", addr, err), "check that Fineract runs: `fineract-installer status`")
			}
			evidence = append(evidence, "control: gateway -> fineract "+addr+" connects")
		}
	}
	if len(bad) > 0 {
		return Finding{Status: Fail, Evidence: strings.Join(bad, "; "), Fix: "the gateway must be on the dmz and app networks only; reinstall to recreate it", Subject: "gateway"}
	}
	return pass(strings.Join(evidence, "; "))
}

func probe(ctx context.Context, nsPath, addr string) error {
	d := &net.Dialer{Timeout: probeTimeout, Control: func(_, _ string, c syscall.RawConn) error {
		var serr error
		err := c.Control(func(fd uintptr) { serr = syscall.SetsockoptInt(int(fd), syscall.IPPROTO_IP, syscall.IP_TTL, 1) })
		if err != nil {
			return err
		}
		return serr
	}}
	conn, err := nsdial.DialInNamespaceWith(ctx, d, nsPath, "tcp", addr)
	if err == nil {
		conn.Close()
	}
	return err
}

func probeOutcome(err error) string {
	var ne net.Error
	switch {
	case errors.As(err, &ne) && ne.Timeout():
		return "no answer"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "refused"
	case errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH):
		return "unreachable"
	}
	return "blocked (" + err.Error() + ")"
}

// hostRouteTo finds a host route into a subnet.
func hostRouteTo(hostRoot, subnet string) (string, bool) {
	p, err := netip.ParsePrefix(subnet)
	if err != nil {
		return "", false
	}
	for _, r := range hostfacts.Routes(hostRoot) {
		if r.Prefix.Overlaps(p) {
			return r.Iface, true
		}
	}
	return "", false
}
