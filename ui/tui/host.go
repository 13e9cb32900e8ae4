package tui

import (
	"bufio"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"
)

// DetectHost reads this machine's name, addresses, memory and the subnets
// of its non-Docker interfaces. Call it before RunWizard (it does I/O);
// add the engine's Docker networks, except the project's own, to Taken.
func DetectHost() HostFacts {
	var h HostFacts
	if name, err := os.Hostname(); err == nil {
		h.Hostname = name
	}
	h.MemoryMiB = memTotalMiB("/proc/meminfo")
	ifaces, err := net.Interfaces()
	if err != nil {
		return h
	}
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
			h.IPs = append(h.IPs, p.Addr().String())
			h.Taken = append(h.Taken, TakenSubnet{Prefix: p.Masked(), By: "interface " + ifc.Name})
		}
	}
	return h
}

// dockerInterface reports bridges and veths Docker made; their networks
// come from the engine, which knows which belong to this stack.
func dockerInterface(name string) bool {
	return name == "docker0" || strings.HasPrefix(name, "br-") || strings.HasPrefix(name, "veth")
}

// memTotalMiB reads MemTotal from a meminfo file; 0 when unknown.
func memTotalMiB(path string) int {
	f, err := os.Open(path)
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) >= 2 && fields[0] == "MemTotal:" {
			kb, err := strconv.Atoi(fields[1])
			if err != nil {
				return 0
			}
			return kb / 1024
		}
	}
	return 0
}
