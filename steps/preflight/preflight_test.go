package preflight

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strings"
	"testing"

	"github.com/docker/docker/api/types/network"

	"github.com/fineract-installer/fineract-installer/compose"
	"github.com/fineract-installer/fineract-installer/lab/labtest"
	"github.com/fineract-installer/fineract-installer/steps/answers"
	"github.com/fineract-installer/fineract-installer/steps/hostfacts"
)

func find(rs []Result, id, titlePart string) (Result, bool) {
	for _, r := range rs {
		if r.ID == id && strings.Contains(r.Title, titlePart) {
			return r, true
		}
	}
	return Result{}, false
}

func freePort(t *testing.T) int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

func testAnswers(t *testing.T) answers.Answers {
	a := answers.Defaults(answers.Demo)
	a.InstallDir = t.TempDir()
	a.Gateway.BindIP = "127.0.0.1"
	a.Gateway.HTTPSPort = freePort(t)
	a.Gateway.HTTPPort = freePort(t)
	return a
}

func TestPortHeldByAProcessIsNamed(t *testing.T) {
	e := labtest.Engine(t)
	a := testAnswers(t)
	ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", a.Gateway.HTTPSPort))
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	rs := Run(context.Background(), Input{Answers: a, Project: "fit-preflight", Engine: e, MemoryBudgetMiB: 64})
	r, ok := find(rs, "ports", fmt.Sprint(a.Gateway.HTTPSPort))
	if !ok {
		t.Fatalf("no port result: %+v", rs)
	}
	if r.Status != Fail || !strings.Contains(r.Observed, fmt.Sprintf("pid %d", os.Getpid())) || !strings.Contains(r.Fix, "https_port") {
		t.Errorf("held port: %+v", r)
	}
	if r, _ := find(rs, "ports", fmt.Sprint(a.Gateway.HTTPPort)); r.Status != Pass {
		t.Errorf("free port: %+v", r)
	}
	if !Failed(rs) {
		t.Error("Failed() is false with a failing check")
	}
}

func TestSubnetClashWithADockerNetworkIsNamed(t *testing.T) {
	e := labtest.Engine(t)
	a := testAnswers(t)
	ctx := context.Background()
	name := "fit-preflight-clash"
	_ = e.API().NetworkRemove(ctx, name)
	if _, err := e.API().NetworkCreate(ctx, name, network.CreateOptions{IPAM: &network.IPAM{Config: []network.IPAMConfig{{Subnet: "10.231.30.0/25"}}}}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = e.API().NetworkRemove(ctx, name) })
	rs := Run(ctx, Input{Answers: a, Project: "fit-preflight", Engine: e, MemoryBudgetMiB: 64})
	r, _ := find(rs, "subnets", "data")
	if r.Status != Fail || !strings.Contains(r.Observed, "Docker network "+name) || !strings.Contains(r.Fix, "network.data.subnet") || !strings.Contains(r.Fix, "for example 10.") {
		t.Errorf("clash: %+v", r)
	}
	if r, _ := find(rs, "subnets", "dmz"); r.Status != Pass {
		t.Errorf("dmz should not clash: %+v", r)
	}
	// A network of the same project (an earlier run) is not a clash.
	rs = Run(ctx, Input{Answers: a, Project: "other", Engine: e, MemoryBudgetMiB: 64})
	if r, _ := find(rs, "subnets", "data"); r.Status != Fail {
		t.Errorf("clash must be seen by another project too: %+v", r)
	}
}

func TestOwnNetworksAreNotClashes(t *testing.T) {
	e := labtest.Engine(t)
	a := testAnswers(t)
	ctx := context.Background()
	name := "fit-preflight-own"
	_ = e.API().NetworkRemove(ctx, name)
	if _, err := e.API().NetworkCreate(ctx, name, network.CreateOptions{
		Labels: map[string]string{compose.LabelProject: "fit-preflight-own"},
		IPAM:   &network.IPAM{Config: []network.IPAMConfig{{Subnet: a.Network.Data.Subnet}}},
	}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = e.API().NetworkRemove(ctx, name) })
	rs := Run(ctx, Input{Answers: a, Project: "fit-preflight-own", Engine: e, MemoryBudgetMiB: 64})
	if r, _ := find(rs, "subnets", "data"); r.Status != Pass {
		t.Errorf("the stack's own network reported as a clash: %+v", r)
	}
}

func TestEngineUnreachableFailsWithFix(t *testing.T) {
	a := testAnswers(t)
	rs := Run(context.Background(), Input{Answers: a, EngineErr: fmt.Errorf("%w: nope", compose.ErrEngineUnreachable), MemoryBudgetMiB: 64})
	r, _ := find(rs, "engine", "")
	if r.Status != Fail || !strings.Contains(r.Fix, "systemctl start docker") {
		t.Errorf("%+v", r)
	}
}

func TestMemoryBudget(t *testing.T) {
	a := testAnswers(t)
	r := checkMemory(context.Background(), Input{Answers: a, MemoryBudgetMiB: 1 << 30}, nil)[0]
	if r.Status != Fail || !strings.Contains(r.Fix, "fewer service groups") {
		t.Errorf("impossible budget: %+v", r)
	}
	if r := checkMemory(context.Background(), Input{Answers: a, MemoryBudgetMiB: 16}, nil)[0]; r.Status != Pass {
		t.Errorf("tiny budget: %+v", r)
	}
}

func TestFreeSubnetAvoidsTaken(t *testing.T) {
	taken := []hostfacts.Subnet{{Prefix: netip.MustParsePrefix("10.231.0.0/24"), By: "a"}, {Prefix: netip.MustParsePrefix("10.232.0.0/16"), By: "b"}}
	p, ok := FreeSubnet(24, taken)
	if !ok || p.Overlaps(taken[0].Prefix) || p.Overlaps(taken[1].Prefix) || p.Bits() != 24 || !p.Addr().IsPrivate() {
		t.Fatalf("got %s %t", p, ok)
	}
}
