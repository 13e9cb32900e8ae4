// Package hostfacts reads what the installer needs to know about the host
// it runs on: its addresses, its memory, the address ranges already in use
// by host routes and other Docker networks, the uids and gids its accounts,
// groups and processes use, and which process holds a port. It judges
// nothing: preflight, the validation checklist and the wizard read the
// facts here and decide, so the wizard flags exactly the subnet clashes
// preflight would refuse.
//
// Most facts are read below a host root ("/" when empty), so tests can
// hand in a made-up one.
package hostfacts

import (
	"bufio"
	"context"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/docker/docker/api/types/network"

	"github.com/fineract-installer/fineract-installer/compose"
)

// Subnet is an address range the host already uses, and by what ("Docker
// network bridge", "host route via eth0").
type Subnet struct {
	Prefix netip.Prefix
	By     string
}

func procFile(hostRoot, name string) string {
	if hostRoot == "" {
		hostRoot = "/"
	}
	return filepath.Join(hostRoot, "proc", name)
}

// netFile names a file of /proc/net as the calling thread sees it.
// /proc/net is /proc/self/net, the network namespace of the process's
// first thread, and nsdial moves one locked thread at a time into a
// container's namespace for a connect: when that thread is the first, the
// host's routing table reads as the container's. A goroutine not locked to
// its thread always runs in the host's namespace, so thread-self is right.
func netFile(hostRoot, name string) string {
	return procFile(hostRoot, "thread-self/net/"+name)
}

// Memory is the host's memory in MiB.
type Memory struct {
	TotalMiB, AvailableMiB uint64
}

// ReadMemory reads MemTotal and MemAvailable from /proc/meminfo.
func ReadMemory(hostRoot string) (Memory, error) {
	f, err := os.Open(procFile(hostRoot, "meminfo"))
	if err != nil {
		return Memory{}, fmt.Errorf("read memory size: %w", err)
	}
	defer f.Close()
	m, err := parseMeminfo(f)
	if err != nil {
		return Memory{}, fmt.Errorf("read memory size from %s: %w", f.Name(), err)
	}
	return m, nil
}

func parseMeminfo(r io.Reader) (Memory, error) {
	var m Memory
	var sawTotal bool
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 2 || (fields[0] != "MemTotal:" && fields[0] != "MemAvailable:") {
			continue
		}
		kb, err := strconv.ParseUint(fields[1], 10, 64)
		if err != nil {
			return Memory{}, fmt.Errorf("%s %q is not a number of kB", fields[0], fields[1])
		}
		if fields[0] == "MemTotal:" {
			m.TotalMiB, sawTotal = kb/1024, true
		} else {
			m.AvailableMiB = kb / 1024
		}
	}
	if err := sc.Err(); err != nil {
		return Memory{}, err
	}
	if !sawTotal {
		return Memory{}, fmt.Errorf("no MemTotal line")
	}
	return m, nil
}

// Route is one non-default IPv4 route of the host.
type Route struct {
	Prefix netip.Prefix
	Iface  string
}

// Routes reads the host's IPv4 routing table from /proc/net/route, default
// routes left out; nil when it cannot be read.
func Routes(hostRoot string) []Route {
	f, err := os.Open(netFile(hostRoot, "route"))
	if err != nil {
		return nil
	}
	defer f.Close()
	var out []Route
	sc := bufio.NewScanner(f)
	sc.Scan() // header
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 8 {
			continue
		}
		dst, err1 := hexIPv4(fields[1])
		mask, err2 := hexIPv4(fields[7])
		if err1 != nil || err2 != nil {
			continue
		}
		bits := 0
		for _, b := range mask.AsSlice() {
			for ; b != 0; b <<= 1 {
				bits++
			}
		}
		if bits == 0 {
			continue // default route
		}
		out = append(out, Route{netip.PrefixFrom(dst, bits).Masked(), fields[0]})
	}
	return out
}

// hexIPv4 decodes /proc/net/route's little-endian hex addresses.
func hexIPv4(s string) (netip.Addr, error) {
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != 4 {
		return netip.Addr{}, fmt.Errorf("bad address %q", s)
	}
	var a [4]byte
	binary.BigEndian.PutUint32(a[:], binary.LittleEndian.Uint32(b))
	return netip.AddrFrom4(a), nil
}

// dockerInterface reports bridges and veths Docker made; their networks
// are listed from the engine, which knows which belong to this stack.
func dockerInterface(name string) bool {
	return name == "docker0" || strings.HasPrefix(name, "br-") || strings.HasPrefix(name, "veth")
}

// RouteSubnets are the host routes a new subnet must not overlap, except
// those of Docker's own bridges, sorted by what uses them.
func RouteSubnets(hostRoot string) []Subnet {
	var out []Subnet
	for _, r := range Routes(hostRoot) {
		if dockerInterface(r.Iface) {
			continue
		}
		out = append(out, Subnet{r.Prefix, "host route via " + r.Iface})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].By < out[j].By })
	return out
}

// NetworkLister is the part of the Docker API DockerSubnets uses.
type NetworkLister interface {
	NetworkList(ctx context.Context, options network.ListOptions) ([]network.Summary, error)
}

// DockerSubnets lists the subnets of Docker networks that do not belong to
// project (its own networks, from an earlier run, are no clash).
func DockerSubnets(ctx context.Context, api NetworkLister, project string) ([]Subnet, error) {
	nets, err := api.NetworkList(ctx, network.ListOptions{})
	if err != nil {
		return nil, fmt.Errorf("list Docker networks: %w", err)
	}
	var out []Subnet
	for _, n := range nets {
		if n.Labels[compose.LabelProject] == project {
			continue
		}
		for _, c := range n.IPAM.Config {
			if p, err := netip.ParsePrefix(c.Subnet); err == nil {
				out = append(out, Subnet{p, "Docker network " + n.Name})
			}
		}
	}
	return out, nil
}

// Addresses are the IPv4 addresses of the host's interfaces that are up,
// not loopback and not made by Docker, link-local ones left out.
func Addresses() []string {
	ifaces, err := net.Interfaces()
	if err != nil {
		return nil
	}
	var out []string
	for _, ifc := range ifaces {
		if ifc.Flags&net.FlagUp == 0 || ifc.Flags&net.FlagLoopback != 0 || dockerInterface(ifc.Name) {
			continue
		}
		addrs, err := ifc.Addrs()
		if err != nil {
			continue
		}
		for _, a := range addrs {
			p, err := netip.ParsePrefix(a.String())
			if err != nil || !p.Addr().Is4() || p.Addr().IsLinkLocalUnicast() {
				continue
			}
			out = append(out, p.Addr().String())
		}
	}
	return out
}
