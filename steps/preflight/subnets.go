package preflight

import (
	"bufio"
	"context"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"net/netip"
	"os"
	"sort"
	"strings"

	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/api/types/system"

	"github.com/fineract-installer/fineract-installer/compose"
	"github.com/fineract-installer/fineract-installer/steps/installation"
)

// used is an address range already taken on the host, and by what.
type used struct {
	prefix netip.Prefix
	by     string
}

func checkSubnets(ctx context.Context, in Input, _ *system.Info) []Result {
	taken := hostRoutes()
	if in.Engine != nil {
		nets, err := in.Engine.API().NetworkList(ctx, network.ListOptions{})
		if err != nil {
			return []Result{{ID: "subnets", Title: "Subnets", Status: Warn, Observed: "cannot list Docker networks: " + err.Error()}}
		}
		for _, n := range nets {
			if n.Labels[compose.LabelProject] == in.Project {
				continue // this stack's own networks, from an earlier run
			}
			for _, c := range n.IPAM.Config {
				if p, err := netip.ParsePrefix(c.Subnet); err == nil {
					taken = append(taken, used{p, "Docker network " + n.Name})
				}
			}
		}
	}
	roles := installation.NetworkRoles()
	segs := in.Answers.Network.Segments()
	var wanted []netip.Prefix
	for _, role := range roles {
		if p, err := netip.ParsePrefix(segs[role].Subnet); err == nil {
			wanted = append(wanted, p)
		}
	}
	var out []Result
	for _, role := range roles {
		seg := segs[role]
		r := Result{ID: "subnets", Title: fmt.Sprintf("Subnet for %s (%s)", role, seg.Subnet)}
		p, err := netip.ParsePrefix(seg.Subnet)
		if err != nil {
			r.Status, r.Observed = Fail, err.Error()
			out = append(out, r)
			continue
		}
		var clashes []string
		for _, u := range taken {
			if u.prefix.Overlaps(p) {
				clashes = append(clashes, fmt.Sprintf("%s (%s)", u.by, u.prefix))
			}
		}
		if len(clashes) == 0 {
			r.Status, r.Observed = Pass, "no overlap with Docker networks or host routes"
		} else {
			r.Status = Fail
			r.Observed = "overlaps " + strings.Join(clashes, ", ")
			r.Fix = fmt.Sprintf("set network.%s.subnet to a free range", role)
			if free, ok := FreeSubnet(p.Bits(), append(taken, asUsed(wanted)...)); ok {
				r.Fix += fmt.Sprintf(", for example %s", free)
			}
		}
		out = append(out, r)
	}
	return out
}

func asUsed(ps []netip.Prefix) []used {
	out := make([]used, len(ps))
	for i, p := range ps {
		out[i] = used{prefix: p, by: "another stack network"}
	}
	return out
}

// FreeSubnet proposes a private subnet of the given size that overlaps none of taken.
func FreeSubnet(bits int, taken []used) (netip.Prefix, bool) {
	for third := 0; third < 256; third++ {
		for second := 231; second < 256; second++ {
			candidate := netip.PrefixFrom(netip.AddrFrom4([4]byte{10, byte(second), byte(third), 0}), bits).Masked()
			free := true
			for _, u := range taken {
				if u.prefix.Overlaps(candidate) {
					free = false
					break
				}
			}
			if free {
				return candidate, true
			}
		}
	}
	return netip.Prefix{}, false
}

// Route is one non-default IPv4 route of the host.
type Route struct {
	Prefix netip.Prefix
	Iface  string
}

// HostRoutes reads the host's IPv4 routing table, default routes left out.
func HostRoutes() []Route {
	f, err := os.Open("/proc/net/route")
	if err != nil {
		return nil
	}
	defer f.Close()
	var out []Route
	sc := bufio.NewScanner(f)
	sc.Scan()
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

// hostRoutes are the host routes a new subnet must not overlap, except
// those of Docker's own bridges (those networks are listed from the engine).
func hostRoutes() []used {
	var out []used
	for _, r := range HostRoutes() {
		if r.Iface == "docker0" || strings.HasPrefix(r.Iface, "br-") {
			continue
		}
		out = append(out, used{r.Prefix, "host route via " + r.Iface})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].by < out[j].by })
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
