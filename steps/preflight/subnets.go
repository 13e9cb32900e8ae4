package preflight

import (
	"context"
	"fmt"
	"net/netip"
	"strings"

	"github.com/docker/docker/api/types/system"

	"github.com/fineract-installer/fineract-installer/steps/hostfacts"
	"github.com/fineract-installer/fineract-installer/steps/installation"
)

func checkSubnets(ctx context.Context, in Input, _ *system.Info) []Result {
	taken := hostfacts.RouteSubnets(in.HostRoot)
	if in.Engine != nil {
		docker, err := hostfacts.DockerSubnets(ctx, in.Engine.API(), in.Project)
		if err != nil {
			return []Result{{ID: "subnets", Title: "Subnets", Status: Warn, Observed: "cannot list Docker networks: " + err.Error()}}
		}
		taken = append(taken, docker...)
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
			if u.Prefix.Overlaps(p) {
				clashes = append(clashes, fmt.Sprintf("%s (%s)", u.By, u.Prefix))
			}
		}
		if len(clashes) == 0 {
			r.Status, r.Observed = Pass, "no overlap with Docker networks or host routes"
		} else {
			r.Status = Fail
			r.Observed = "overlaps " + strings.Join(clashes, ", ")
			r.Fix = fmt.Sprintf("set network.%s.subnet to a free range", role)
			if free, ok := FreeSubnet(p.Bits(), append(taken, asTaken(wanted)...)); ok {
				r.Fix += fmt.Sprintf(", for example %s", free)
			}
		}
		out = append(out, r)
	}
	return out
}

func asTaken(ps []netip.Prefix) []hostfacts.Subnet {
	out := make([]hostfacts.Subnet, len(ps))
	for i, p := range ps {
		out[i] = hostfacts.Subnet{Prefix: p, By: "another stack network"}
	}
	return out
}

// FreeSubnet proposes a private subnet of the given size that overlaps none of taken.
func FreeSubnet(bits int, taken []hostfacts.Subnet) (netip.Prefix, bool) {
	for third := 0; third < 256; third++ {
		for second := 231; second < 256; second++ {
			candidate := netip.PrefixFrom(netip.AddrFrom4([4]byte{10, byte(second), byte(third), 0}), bits).Masked()
			free := true
			for _, u := range taken {
				if u.Prefix.Overlaps(candidate) {
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
