package hostfacts

import (
	"context"
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/docker/docker/api/types/network"

	"github.com/fineract-installer/fineract-installer/compose"
)

// hostRoot makes a host root holding the given files below proc/.
func hostRoot(t *testing.T, files map[string]string) string {
	t.Helper()
	root := t.TempDir()
	for name, content := range files {
		p := filepath.Join(root, "proc", name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

func TestReadMemory(t *testing.T) {
	for _, c := range []struct {
		name, meminfo string
		want          Memory
		err           string
	}{
		{"both", "MemTotal:       16318480 kB\nMemFree:         1234 kB\nMemAvailable:    8159240 kB\n", Memory{TotalMiB: 15936, AvailableMiB: 7968}, ""},
		{"old kernel without MemAvailable", "MemTotal: 2097152 kB\n", Memory{TotalMiB: 2048}, ""},
		{"no total", "MemFree: 1 kB\n", Memory{}, "no MemTotal"},
		{"garbage", "MemTotal: lots kB\n", Memory{}, "not a number"},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := ReadMemory(hostRoot(t, map[string]string{"meminfo": c.meminfo}))
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("got %+v, %v; want an error with %q", got, err, c.err)
				}
				return
			}
			if err != nil || got != c.want {
				t.Fatalf("got %+v, %v; want %+v", got, err, c.want)
			}
		})
	}
	if _, err := ReadMemory(t.TempDir()); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing meminfo: %v", err)
	}
}

// A routing table as the kernel prints it: a default route, the host's
// LAN, Docker's bridges and a static route.
const routeTable = `Iface	Destination	Gateway 	Flags	RefCnt	Use	Metric	Mask		MTU	Window	IRTT
eth0	00000000	0102A8C0	0003	0	0	100	00000000	0	0	0
eth0	0002A8C0	00000000	0001	0	0	100	00FFFFFF	0	0	0
docker0	000011AC	00000000	0001	0	0	0	0000FFFF	0	0	0
br-1a2b3c	00E7140A	00000000	0001	0	0	0	00FFFFFF	0	0	0
wg0	0000000A	00000000	0001	0	0	0	000000FF	0	0	0
`

func TestRoutes(t *testing.T) {
	root := hostRoot(t, map[string]string{"thread-self/net/route": routeTable})
	got := Routes(root)
	want := []Route{
		{netip.MustParsePrefix("192.168.2.0/24"), "eth0"},
		{netip.MustParsePrefix("172.17.0.0/16"), "docker0"},
		{netip.MustParsePrefix("10.20.231.0/24"), "br-1a2b3c"},
		{netip.MustParsePrefix("10.0.0.0/8"), "wg0"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Routes = %v, want %v", got, want)
	}
	subnets := RouteSubnets(root)
	wantSubnets := []Subnet{
		{netip.MustParsePrefix("192.168.2.0/24"), "host route via eth0"},
		{netip.MustParsePrefix("10.0.0.0/8"), "host route via wg0"},
	}
	if !reflect.DeepEqual(subnets, wantSubnets) {
		t.Errorf("RouteSubnets = %v, want %v (Docker's bridges come from the engine)", subnets, wantSubnets)
	}
	if r := Routes(t.TempDir()); r != nil {
		t.Errorf("no routing table: %v", r)
	}
}

type networks []network.Summary

func (n networks) NetworkList(context.Context, network.ListOptions) ([]network.Summary, error) {
	return n, nil
}

func TestDockerSubnetsLeavesOutTheProjectsOwn(t *testing.T) {
	nets := networks{
		{Name: "bridge", IPAM: network.IPAM{Config: []network.IPAMConfig{{Subnet: "172.17.0.0/16"}}}},
		{Name: "fineract_app", Labels: map[string]string{compose.LabelProject: "fineract"}, IPAM: network.IPAM{Config: []network.IPAMConfig{{Subnet: "10.231.20.0/24"}}}},
		{Name: "other_app", Labels: map[string]string{compose.LabelProject: "other"}, IPAM: network.IPAM{Config: []network.IPAMConfig{{Subnet: "10.231.20.0/24"}, {Subnet: "not a subnet"}}}},
		{Name: "host"},
	}
	got, err := DockerSubnets(context.Background(), nets, "fineract")
	want := []Subnet{
		{netip.MustParsePrefix("172.17.0.0/16"), "Docker network bridge"},
		{netip.MustParsePrefix("10.231.20.0/24"), "Docker network other_app"},
	}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, %v; want %v", got, err, want)
	}
}
