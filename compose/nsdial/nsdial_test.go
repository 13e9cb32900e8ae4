package nsdial_test

import (
	"bufio"
	"context"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fineract-installer/fineract-installer/compose"
	"github.com/fineract-installer/fineract-installer/compose/nsdial"
	"github.com/fineract-installer/fineract-installer/lab/labtest"
	"github.com/fineract-installer/fineract-installer/steps/hostfacts"
)

func TestDialIntoAnIsolatedContainer(t *testing.T) {
	e := labtest.Engine(t)
	img := labtest.Busybox(t, e)
	project := labtest.Project(t, e)
	_, load := labtest.WriteProject(t, project, labtest.Hardened+fmt.Sprintf(`
services:
  secret-keeper:
    image: %[1]s
    <<: *hardened
    init: true
    command: ["httpd", "-f", "-p", "8200", "-h", "/etc"]
    networks:
      data: {ipv4_address: 10.231.254.10}
  peer:
    image: %[1]s
    <<: *hardened
    init: true
    command: ["httpd", "-f", "-p", "5432", "-h", "/etc"]
    networks:
      data: {ipv4_address: 10.231.254.11}
networks:
  data:
    internal: true
    driver_opts: {com.docker.network.bridge.inhibit_ipv4: "true"}
    ipam: {config: [{subnet: 10.231.254.0/24}]}
`, img), nil)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := e.Up(ctx, load(), compose.UpOptions{}, nil); err != nil {
		t.Fatal(err)
	}

	// The host has no route into the network: its bridge has no address.
	// (Checked in the routing table: a connection attempt would leave the
	// machine through the default route.)
	if iface, ok := routeTo(t, "10.231.254.10"); ok {
		t.Fatalf("the host has a route into the isolated network via %s", iface)
	}
	if iface, ok := routeTo(t, "172.17.0.2"); !ok || iface != "docker0" {
		t.Fatalf("control: the default bridge's route was not found (got %q)", iface)
	}

	dial := nsdial.Dialer(func(ctx context.Context) (int, error) { return e.ServicePID(ctx, project, "secret-keeper") })
	for _, addr := range []string{"127.0.0.1:8200", "10.231.254.11:5432"} {
		conn, err := dial(ctx, "tcp", addr)
		if err != nil {
			t.Fatalf("dial %s inside the container: %v", addr, err)
		}
		fmt.Fprintf(conn, "GET /passwd HTTP/1.0\r\n\r\n")
		status, err := bufio.NewReader(conn).ReadString('\n')
		conn.Close()
		if err != nil || !strings.Contains(status, "200") {
			t.Errorf("%s answered %q, %v", addr, status, err)
		}
	}

	// Every thread of the program is still in the host's namespace.
	home, err := os.Readlink("/proc/self/ns/net")
	if err != nil {
		t.Fatal(err)
	}
	tasks, _ := filepath.Glob("/proc/self/task/*/ns/net")
	for _, task := range tasks {
		if ns, err := os.Readlink(task); err == nil && ns != home {
			t.Errorf("thread %s is in network namespace %s, not the host's %s", task, ns, home)
		}
	}

	if _, err := e.ServicePID(ctx, project, "nope"); err == nil || !strings.Contains(err.Error(), "not running") {
		t.Errorf("unknown service: %v", err)
	}
}

// routeTo finds the host's non-default IPv4 route covering ip.
func routeTo(t *testing.T, ip string) (string, bool) {
	t.Helper()
	addr := netip.MustParseAddr(ip)
	for _, r := range hostfacts.Routes("") {
		if r.Prefix.Contains(addr) {
			return r.Iface, true
		}
	}
	return "", false
}
