package validate

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"

	"github.com/fineract-installer/fineract-installer/assets"
	"github.com/fineract-installer/fineract-installer/compose"
	"github.com/fineract-installer/fineract-installer/lab/labtest"
)

// hardened is a service block that meets every container check.
const hardened = `
    image: %[1]s
    init: true
    user: "1000:1000"
    read_only: true
    cap_drop: [ALL]
    security_opt: ["no-new-privileges:true"]
    mem_limit: 32m
    pids_limit: 32
    restart: unless-stopped
    logging: {driver: json-file, options: {max-size: "1m", max-file: "2"}}
    healthcheck: {test: ["CMD", "true"], interval: 1s}
`

func deploy(t *testing.T, yaml string, pol compose.Policy) (*compose.Engine, string) {
	t.Helper()
	e := labtest.Engine(t)
	img := labtest.Busybox(t, e)
	project := labtest.Project(t, e)
	_, load := labtest.WriteProject(t, project, labtest.Hardened+fmt.Sprintf(yaml, img), nil)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := e.Up(ctx, load(), compose.UpOptions{Policy: pol}, nil); err != nil {
		t.Fatal(err)
	}
	return e, project
}

func results(t *testing.T, target *Target, checks []Check) map[string]Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out := map[string]Result{}
	for _, r := range Run(ctx, target, checks) {
		out[r.ID] = r
		if r.Observed.IsZero() || len(r.Controls) == 0 || r.Evidence == "" {
			t.Errorf("%s: result lacks time, controls or evidence: %+v", r.ID, r)
		}
	}
	return out
}

func TestContainerChecksPassOnAHardenedService(t *testing.T) {
	e, project := deploy(t, "services:\n  app:"+hardened+"    command: [sleep, \"3600\"]\n", compose.Policy{})
	target := &Target{Engine: e, Project: project, Expect: assets.Bundle{Services: []assets.Service{{Name: "app"}}}}
	for id, r := range results(t, target, ContainerChecks()) {
		if r.Status != Pass {
			t.Errorf("%s on a hardened service: %s: %s", id, r.Status, r.Evidence)
		}
	}
	if r := results(t, target, ContainerChecks())["container-user"]; !strings.Contains(r.Evidence, "process uid 1000") {
		t.Errorf("user check did not observe the process: %s", r.Evidence)
	}
}

// The broken container is made through the Docker API directly: the
// installer's engine refuses several of its settings.
func TestContainerChecksFailOnABrokenService(t *testing.T) {
	e := labtest.Engine(t)
	img := labtest.Busybox(t, e)
	project := labtest.Project(t, e)
	ctx := context.Background()
	init := true
	c, err := e.API().ContainerCreate(ctx,
		&container.Config{Image: img, Cmd: []string{"sleep", "3600"}, Labels: map[string]string{compose.LabelProject: project, compose.LabelService: "sloppy"}},
		&container.HostConfig{
			Init: &init, CapAdd: []string{"NET_ADMIN"}, UTSMode: "host",
			Binds:     []string{"/var/run/docker.sock:/var/run/docker.sock:ro"},
			LogConfig: container.LogConfig{Type: "json-file"},
		}, nil, nil, project+"-sloppy-1")
	if err != nil {
		t.Fatal(err)
	}
	if err := e.API().ContainerStart(ctx, c.ID, container.StartOptions{}); err != nil {
		t.Fatal(err)
	}
	target := &Target{Engine: e, Project: project, Expect: assets.Bundle{Services: []assets.Service{{Name: "sloppy"}}}}
	want := map[string]string{
		"container-read-only":         "writable root filesystem",
		"container-capabilities":      "does not drop ALL",
		"container-no-new-privileges": "lack no-new-privileges",
		"container-unprivileged":      "host UTS namespace",
		"container-user":              "process uid 0",
		"container-docker-socket":     "docker.sock",
		"container-limits":            "memory 0 MiB, pids 0",
		"container-health":            "no healthcheck",
		"container-restart":           "restart policy",
		"container-log-rotation":      "json-file",
	}
	got := results(t, target, ContainerChecks())
	for id, evidence := range want {
		r := got[id]
		if r.Status != Fail || !strings.Contains(r.Evidence, evidence) || r.Subject != "sloppy" || r.Fix == "" {
			t.Errorf("%s on a broken service: %s %q (subject %q), want fail with %q", id, r.Status, r.Evidence, r.Subject, evidence)
		}
	}
}

func TestDocumentedExceptionsPass(t *testing.T) {
	// The engine lets root-reader run as root only because its policy says so.
	e, project := deploy(t, "services:\n  root-reader:\n    image: %[1]s\n    init: true\n    cap_drop: [ALL]\n    security_opt: [\"no-new-privileges:true\"]\n    command: [sleep, \"3600\"]\n",
		compose.Policy{RootServices: []string{"root-reader"}})
	target := &Target{Engine: e, Project: project, Expect: assets.Bundle{Services: []assets.Service{{Name: "root-reader", ReadOnlyException: "writes its keystore", RootReason: "reads root-owned logs"}}}}
	got := results(t, target, ContainerChecks())
	for _, id := range []string{"container-read-only", "container-user"} {
		if r := got[id]; r.Status != Pass || !strings.Contains(r.Evidence, "documented") {
			t.Errorf("%s with a documented exception: %s %q", id, r.Status, r.Evidence)
		}
	}
}

const segmented = `
services:
  gateway:
    image: %[1]s
    <<: *hardened
    init: true
    command: ["httpd", "-f", "-p", "8443", "-h", "/etc"]
    ports: ["127.0.0.1:0:8443"]
    networks: {dmz: {}, app: {}%[2]s}
  fineract:
    image: %[1]s
    <<: *hardened
    init: true
    command: ["httpd", "-f", "-p", "8443", "-h", "/etc"]
    networks: {app: {}, data: {}}
  postgres:
    image: %[1]s
    <<: *hardened
    init: true
    command: ["httpd", "-f", "-p", "5432", "-h", "/etc"]
    networks: {data: {}}
  vault:
    image: %[1]s
    <<: *hardened
    init: true
    command: ["httpd", "-f", "-p", "8200", "-h", "/etc"]
    networks: {data: {}}%[3]s
networks:
  dmz: {ipam: {config: [{subnet: 10.231.241.0/24}]}}
  app:
    internal: true
    driver_opts: {com.docker.network.bridge.inhibit_ipv4: "%[4]s"}
    ipam: {config: [{subnet: 10.231.242.0/24}]}
  data:
    internal: true
    driver_opts: {com.docker.network.bridge.inhibit_ipv4: "%[4]s"}
    ipam: {config: [{subnet: 10.231.243.0/24}]}
`

func segmentedTarget(e *compose.Engine, project string, gatewayPorts ...int) *Target {
	return &Target{Engine: e, Project: project,
		Networks: map[string]string{"dmz": project + "_dmz", "app": project + "_app", "data": project + "_data"},
		Expect: assets.Bundle{Services: []assets.Service{
			{Name: "gateway", Networks: []string{"dmz", "app"}, Published: gatewayPorts},
			{Name: "fineract", Networks: []string{"app", "data"}},
			{Name: "postgres", Networks: []string{"data"}},
			{Name: "vault", Networks: []string{"data"}},
		}}}
}

func TestNetworkChecksPassOnASegmentedStack(t *testing.T) {
	e, project := deploy(t, strings.NewReplacer("%[2]s", "", "%[3]s", "", "%[4]s", "true").Replace(segmented), compose.Policy{})
	st, _ := e.Status(context.Background(), project)
	var port int
	for _, s := range st {
		if s.Service == "gateway" {
			port = int(s.Ports[0].HostPort)
		}
	}
	got := results(t, segmentedTarget(e, project, port), NetworkChecks())
	for id, r := range got {
		if r.Status != Pass {
			t.Errorf("%s on a segmented stack: %s: %s", id, r.Status, r.Evidence)
		}
	}
	if r := got["network-dmz-isolation"]; !strings.Contains(r.Evidence, "control: gateway -> fineract") || !strings.Contains(r.Evidence, "gateway -> postgres") {
		t.Errorf("isolation evidence: %s", r.Evidence)
	}
}

func TestNetworkChecksFailOnABrokenLayout(t *testing.T) {
	// The gateway also joins data; postgres publishes a port; the data
	// bridge gives the host an address.
	broken := strings.NewReplacer("%[2]s", ", data: {}", "%[3]s", "\n    ports: [\"127.0.0.1:0:5432\"]", "%[4]s", "false").Replace(segmented)
	broken = strings.Replace(broken, "    networks: {data: {}}\n", "    networks: {data: {}}\n    ports: [\"127.0.0.1:0:5432\"]\n", 1)
	e, project := deploy(t, broken, compose.Policy{})
	got := results(t, segmentedTarget(e, project), NetworkChecks())
	want := map[string]string{
		"network-published-ports": "postgres: 127.0.0.1:",
		"network-internal":        "host address on its bridge=true",
		"network-membership":      "gateway: on",
		"network-dmz-isolation":   "gateway reached postgres",
	}
	for id, evidence := range want {
		if r := got[id]; r.Status != Fail || !strings.Contains(r.Evidence, evidence) {
			t.Errorf("%s on a broken layout: %s %q, want fail with %q", id, r.Status, r.Evidence, evidence)
		}
	}
}

// hostRoot makes a host root holding only /etc/passwd and /etc/group.
func hostRoot(t *testing.T, passwd string) string {
	t.Helper()
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "etc"), 0o755); err != nil {
		t.Fatal(err)
	}
	for name, body := range map[string]string{"passwd": passwd, "group": "root:x:0:\n"} {
		if err := os.WriteFile(filepath.Join(root, "etc", name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

// host-ids reads the ids the service's process really has and fails when a
// host account uses them, or when the service does not run as its own.
func TestHostIDsCheck(t *testing.T) {
	e, project := deploy(t, "services:\n  app:"+hardened+"    command: [sleep, \"3600\"]\n", compose.Policy{})
	own := assets.Service{Name: "app", UID: 1000, GID: 1000, OwnUID: true, OwnGID: true}
	check := func(svc assets.Service, passwd string) Result {
		target := &Target{Engine: e, Project: project, Expect: assets.Bundle{Services: []assets.Service{svc}}, HostRoot: hostRoot(t, passwd)}
		return results(t, target, HostChecks())["host-ids"]
	}
	if r := check(own, "root:x:0:0::/root:/bin/sh\n"); r.Status != Pass {
		t.Errorf("no host account uses 1000: %s: %s", r.Status, r.Evidence)
	}
	if r := check(own, "root:x:0:0::/root:/bin/sh\nstudent:x:1000:1000::/home/student:/bin/bash\n"); r.Status != Fail || !strings.Contains(r.Evidence, "uid of app (1000) is used by account student") {
		t.Errorf("a host account with the service's uid: %s: %s", r.Status, r.Evidence)
	}
	other := own
	other.UID, other.GID = 70003, 70003
	if r := check(other, "root:x:0:0::/root:/bin/sh\n"); r.Status != Fail || !strings.Contains(r.Evidence, "app runs as 1000:1000, not as 70003:70003") {
		t.Errorf("a service not running as its own ids: %s: %s", r.Status, r.Evidence)
	}
}

// TestGroupChecksRunOnlyWhereTheGroupIsInstalled: a check tied to a group is
// left out of the checklist of an installation without that group.
func TestGroupChecksRunOnlyWhereTheGroupIsInstalled(t *testing.T) {
	ran := map[string]bool{}
	var mu sync.Mutex
	check := func(id, group string) Check {
		return Check{ID: id, Group: group, Run: func(context.Context, *Target) Finding {
			mu.Lock()
			ran[id] = true
			mu.Unlock()
			return pass("observed")
		}}
	}
	tg := &Target{Expect: assets.Bundle{Services: []assets.Service{{Name: "vault", Group: "core"}, {Name: "redis", Group: "messaging"}}}}
	rs := Run(context.Background(), tg, []Check{check("everywhere", ""), check("messaging-only", "messaging"), check("logging-only", "logging")})
	var ids []string
	for _, r := range rs {
		ids = append(ids, r.ID)
		if want := map[string]string{"messaging-only": "messaging"}[r.ID]; r.Group != want {
			t.Errorf("%s: group %q in its result, want %q", r.ID, r.Group, want)
		}
	}
	if strings.Join(ids, ",") != "everywhere,messaging-only" || ran["logging-only"] {
		t.Errorf("checklist = %v (ran %v), want everywhere and messaging-only only", ids, ran)
	}
}
