package compose_test

import (
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/network"

	"github.com/fineract-installer/fineract-installer/compose"
	"github.com/fineract-installer/fineract-installer/lab/labtest"
	"github.com/fineract-installer/fineract-installer/steps/event"
)

func containerIDs(t *testing.T, e *compose.Engine, project string) map[string]string {
	t.Helper()
	st, err := e.Status(ctxT(t), project)
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]string{}
	for _, s := range st {
		ids[s.Service] = s.ID
	}
	return ids
}

func TestReapplyChangesOnlyWhatChanged(t *testing.T) {
	e := labtest.Engine(t)
	img := labtest.Busybox(t, e)
	project := labtest.Project(t, e)
	tmpl := `
services:
  a:
    image: %[1]s
    <<: *hardened
    init: true
    command: ["sleep", "3600"]
    environment: {MODE: "${MODE_A}"}
  b:
    image: %[1]s
    <<: *hardened
    init: true
    command: ["sleep", "3600"]
  c:
    image: %[1]s
    <<: *hardened
    init: true
    command: ["sleep", "3600"]
    depends_on: [a]
`
	yaml := fmt.Sprintf(tmpl, img)
	_, load := labtest.WriteProject(t, project, labtest.Hardened+yaml, map[string]string{"MODE_A": "one"})
	up(t, e, load(), compose.UpOptions{})
	first := containerIDs(t, e, project)
	if len(first) != 3 {
		t.Fatalf("want 3 containers, got %v", first)
	}

	events := up(t, e, load(), compose.UpOptions{})
	if again := containerIDs(t, e, project); fmt.Sprint(again) != fmt.Sprint(first) {
		t.Errorf("unchanged re-apply replaced containers: before %v after %v", first, again)
	}
	for _, ev := range events {
		if ev.Action == event.ActionCreate || ev.Action == event.ActionRecreate || ev.Action == event.ActionRemove {
			t.Errorf("unchanged re-apply did %s on %s %s", ev.Action, ev.Resource, ev.Subject)
		}
	}

	_, loadChanged := labtest.WriteProject(t, project, labtest.Hardened+yaml, map[string]string{"MODE_A": "two"})
	up(t, e, loadChanged(), compose.UpOptions{})
	after := containerIDs(t, e, project)
	if after["a"] == first["a"] {
		t.Errorf("service a changed its environment but was not recreated")
	}
	if after["b"] != first["b"] || after["c"] != first["c"] {
		t.Errorf("unchanged services were recreated: before %v after %v", first, after)
	}
	if env := inspect(t, e, project+"-a-1").Config.Env; !strings.Contains(strings.Join(env, " "), "MODE=two") {
		t.Errorf("recreated a does not carry the new environment: %v", env)
	}
}

func TestStoppedContainerIsStartedNotRecreated(t *testing.T) {
	e := labtest.Engine(t)
	img := labtest.Busybox(t, e)
	project := labtest.Project(t, e)
	_, load := labtest.WriteProject(t, project, labtest.Hardened+fmt.Sprintf("services:\n  a:\n    image: %s\n    <<: *hardened\n    init: true\n    command: [sleep, \"3600\"]\n", img), nil)
	up(t, e, load(), compose.UpOptions{})
	before := containerIDs(t, e, project)["a"]
	if err := e.API().ContainerStop(ctxT(t), project+"-a-1", containerStop()); err != nil {
		t.Fatal(err)
	}
	up(t, e, load(), compose.UpOptions{})
	c := inspect(t, e, project+"-a-1")
	if !strings.HasPrefix(c.ID, before) || !c.State.Running {
		t.Errorf("stopped container: want the same container running again, got id %s running=%t (was %s)", c.ID[:12], c.State.Running, before)
	}
}

func TestFailingServiceNamesItselfWithLogs(t *testing.T) {
	e := labtest.Engine(t)
	img := labtest.Busybox(t, e)
	project := labtest.Project(t, e)
	_, load := labtest.WriteProject(t, project, labtest.Hardened+fmt.Sprintf(`
services:
  ok:
    image: %[1]s
    <<: *hardened
    init: true
    command: ["sleep", "3600"]
  broken:
    image: %[1]s
    <<: *hardened
    command: ["sh", "-c", "echo starting broken; echo 'fatal: cannot open database' >&2; exit 1"]
`, img), nil)
	var events []event.Event
	err := e.Up(ctxT(t), load(), compose.UpOptions{}, event.Func(func(ev event.Event) { events = append(events, ev) }))
	var se *compose.ServiceError
	if !errors.As(err, &se) {
		t.Fatalf("want a ServiceError, got %v", err)
	}
	if se.Service != "broken" || !strings.Contains(se.Reason, "exited with code 1") {
		t.Errorf("error names %q with reason %q", se.Service, se.Reason)
	}
	joined := strings.Join(se.Logs, "\n")
	for _, want := range []string{"starting broken", "fatal: cannot open database"} {
		if !strings.Contains(joined, want) {
			t.Errorf("error lacks log line %q: %q", want, se.Logs)
		}
	}
	// The log lines travel apart from the cause, which is one line.
	if strings.Contains(err.Error(), "\n") || strings.Contains(err.Error(), "fatal: cannot open database") {
		t.Errorf("the cause carries the log lines: %q", err)
	}
	failed := false
	for _, ev := range events {
		if ev.Status == event.StatusFailed && ev.Subject == "broken" {
			failed = true
		}
	}
	if !failed {
		t.Errorf("no error event for broken: %+v", events)
	}
}

func TestUnhealthyServiceFails(t *testing.T) {
	e := labtest.Engine(t)
	img := labtest.Busybox(t, e)
	project := labtest.Project(t, e)
	_, load := labtest.WriteProject(t, project, labtest.Hardened+fmt.Sprintf(`
services:
  sick:
    image: %s
    <<: *hardened
    init: true
    command: ["sh", "-c", "echo booting; sleep 3600"]
    healthcheck:
      test: ["CMD-SHELL", "echo database not ready; exit 1"]
      interval: 1s
      retries: 2
`, img), nil)
	err := e.Up(ctxT(t), load(), compose.UpOptions{}, nil)
	var se *compose.ServiceError
	if !errors.As(err, &se) || se.Service != "sick" || !strings.Contains(se.Reason, "unhealthy") || !strings.Contains(se.Reason, "database not ready") {
		t.Fatalf("want sick reported unhealthy with the probe output, got %v", err)
	}
	if !strings.Contains(strings.Join(se.Logs, "\n"), "booting") {
		t.Errorf("logs missing from error: %v", se.Logs)
	}
}

func TestInternalNetworkHasNoWayOut(t *testing.T) {
	e := labtest.Engine(t)
	img := labtest.Busybox(t, e)
	project := labtest.Project(t, e)
	// A listener on the host, on every address: an internal network must not
	// reach it through its bridge gateway.
	ln, err := net.Listen("tcp", "0.0.0.0:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	hostPort := ln.Addr().(*net.TCPAddr).Port
	// "web" listens on a normal bridge network; "outside" proves web and the
	// host are reachable from there; "inside" sits on an internal network
	// only and must reach neither, while still reaching its own peer.
	probe := `sleep 1; for t in "$$@"; do nc -w 2 $${t%%:*} $${t##*:} </dev/null && echo "reach $$t=yes" || echo "reach $$t=no"; done; ip -4 addr show eth0; sleep 3600`
	_, load := labtest.WriteProject(t, project, labtest.Hardened+fmt.Sprintf(`
services:
  web:
    image: %[1]s
    <<: *hardened
    init: true
    command: ["httpd", "-f", "-p", "8080", "-h", "/etc"]
    networks:
      public: {ipv4_address: 10.231.252.5}
  peer:
    image: %[1]s
    <<: *hardened
    init: true
    command: ["httpd", "-f", "-p", "8080", "-h", "/etc"]
    networks:
      private: {ipv4_address: 10.231.253.9}
  outside:
    image: %[1]s
    <<: *hardened
    init: true
    entrypoint: ["/bin/sh", "-c", %[2]q, "probe"]
    command: ["10.231.252.5:8080", "10.231.252.1:%[3]d"]
    networks: [public]
    depends_on: [web]
  inside:
    image: %[1]s
    <<: *hardened
    init: true
    entrypoint: ["/bin/sh", "-c", %[2]q, "probe"]
    command: ["10.231.252.5:8080", "10.231.253.1:%[3]d", "10.231.253.9:8080"]
    networks:
      private: {ipv4_address: 10.231.253.7}
    depends_on: [web, peer]
networks:
  public:
    ipam: {config: [{subnet: 10.231.252.0/24}]}
  private:
    internal: true
    driver_opts:
      com.docker.network.bridge.inhibit_ipv4: "true"
    ipam: {config: [{subnet: 10.231.253.0/24}]}
`, img, probe, hostPort), nil)
	up(t, e, load(), compose.UpOptions{})

	n, err := e.API().NetworkInspect(ctxT(t), project+"_private", network.InspectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !n.Internal || n.IPAM.Config[0].Subnet != "10.231.253.0/24" || n.Options["com.docker.network.bridge.inhibit_ipv4"] != "true" {
		t.Errorf("private network: internal=%t ipam=%+v options=%v", n.Internal, n.IPAM.Config, n.Options)
	}
	done := func(service string, probes int) func() bool {
		return func() bool { return strings.Count(logText(t, e, project, service), "reach ") == probes }
	}
	waitFor(t, done("inside", 3), "inside's probes:\n"+logText(t, e, project, "inside"))
	waitFor(t, done("outside", 2), "outside's probes")
	inside := logText(t, e, project, "inside")
	for _, want := range []string{
		"reach 10.231.252.5:8080=no",                      // another network
		fmt.Sprintf("reach 10.231.253.1:%d=no", hostPort), // the host, via the bridge
		"reach 10.231.253.9:8080=yes",                     // its own peer
		"inet 10.231.253.7/24",                            // static IPv4
	} {
		if !strings.Contains(inside, want) {
			t.Errorf("internal network: want %q in:\n%s", want, inside)
		}
	}
	outside := logText(t, e, project, "outside")
	for _, want := range []string{"reach 10.231.252.5:8080=yes", fmt.Sprintf("reach 10.231.252.1:%d=yes", hostPort)} {
		if !strings.Contains(outside, want) {
			t.Errorf("control on the public network: want %q in:\n%s", want, outside)
		}
	}
}

func TestImpossibleHealthConditionIsRejected(t *testing.T) {
	e := labtest.Engine(t)
	img := labtest.Busybox(t, e)
	project := labtest.Project(t, e)
	_, load := labtest.WriteProject(t, project, labtest.Hardened+fmt.Sprintf("services:\n  a: {<<: *hardened, image: %[1]s, depends_on: {b: {condition: service_healthy}}}\n  b: {<<: *hardened, image: %[1]s}\n", img), nil)
	err := e.Up(ctxT(t), load(), compose.UpOptions{}, nil)
	if err == nil || !strings.Contains(err.Error(), "b has no healthcheck") {
		t.Errorf("want an error saying b has no healthcheck, got %v", err)
	}
	if st, _ := e.Status(ctxT(t), project); len(st) != 0 {
		t.Errorf("a rejected project started containers: %+v", st)
	}
}

func TestUpSubsetAndStartOnly(t *testing.T) {
	e := labtest.Engine(t)
	img := labtest.Busybox(t, e)
	project := labtest.Project(t, e)
	_, load := labtest.WriteProject(t, project, labtest.Hardened+fmt.Sprintf(`
services:
  vault:
    image: %[1]s
    <<: *hardened
    init: true
    command: ["sleep", "3600"]
    healthcheck: {test: ["CMD", "test", "-f", "/tmp/unsealed"], interval: 1s}
  db:
    image: %[1]s
    <<: *hardened
    init: true
    command: ["sleep", "3600"]
  app:
    image: %[1]s
    <<: *hardened
    init: true
    command: ["sleep", "3600"]
    depends_on: [db]
`, img), nil)
	// Vault alone, counted ready once started although its health is "starting".
	up(t, e, load(), compose.UpOptions{Services: []string{"vault"}, StartOnly: []string{"vault"}, WaitTimeout: 5 * time.Second})
	ids := containerIDs(t, e, project)
	if len(ids) != 1 || ids["vault"] == "" {
		t.Fatalf("subset apply started %v", ids)
	}
	// Selecting app brings its dependency db, and leaves vault running.
	up(t, e, load(), compose.UpOptions{Services: []string{"app"}})
	after := containerIDs(t, e, project)
	if len(after) != 3 || after["vault"] != ids["vault"] {
		t.Errorf("second subset apply: %v (vault was %s)", after, ids["vault"])
	}
}

func TestConvergedTracksDrift(t *testing.T) {
	e := labtest.Engine(t)
	img := labtest.Busybox(t, e)
	project := labtest.Project(t, e)
	yaml := fmt.Sprintf("services:\n  a:\n    image: %s\n    <<: *hardened\n    init: true\n    command: [sleep, \"3600\"]\n    environment: {V: \"${V}\"}\n    healthcheck: {test: [\"CMD\", \"true\"], interval: 1s}\nvolumes:\n  data: {}\n", img)
	_, load := labtest.WriteProject(t, project, labtest.Hardened+yaml, map[string]string{"V": "1"})
	ctx := ctxT(t)
	if ok, reason, err := e.Converged(ctx, load(), nil, true); err != nil || ok || !strings.Contains(reason, "not deployed") {
		t.Errorf("before apply: ok=%t reason=%q err=%v", ok, reason, err)
	}
	if ok, reason, _ := e.NetworksReady(ctx, load()); ok || !strings.Contains(reason, "missing") {
		t.Errorf("networks before apply: ok=%t reason=%q", ok, reason)
	}
	up(t, e, load(), compose.UpOptions{})
	if ok, reason, err := e.Converged(ctx, load(), nil, true); err != nil || !ok {
		t.Errorf("after apply: ok=%t reason=%q err=%v", ok, reason, err)
	}
	if ok, reason, _ := e.NetworksReady(ctx, load()); !ok {
		t.Errorf("networks after apply: %s", reason)
	}
	_, changed := labtest.WriteProject(t, project, labtest.Hardened+yaml, map[string]string{"V": "2"})
	if ok, _, _ := e.Converged(ctx, changed(), nil, true); ok {
		t.Error("changed configuration reported as converged")
	}
	if err := e.API().ContainerStop(ctx, project+"-a-1", containerStop()); err != nil {
		t.Fatal(err)
	}
	if ok, reason, _ := e.Converged(ctx, load(), nil, true); ok || !strings.Contains(reason, "exited") {
		t.Errorf("stopped service: ok=%t reason=%q", ok, reason)
	}
}
