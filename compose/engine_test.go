package compose_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"

	"github.com/fineract-installer/fineract-installer/compose"
	"github.com/fineract-installer/fineract-installer/lab/labtest"
	"github.com/fineract-installer/fineract-installer/steps/event"
)

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// up applies a project and fails the test on error, returning the events.
func up(t *testing.T, e *compose.Engine, p *compose.Project, o compose.UpOptions) []event.Event {
	t.Helper()
	var events []event.Event
	if err := e.Up(ctxT(t), p, o, event.Func(func(ev event.Event) { events = append(events, ev) })); err != nil {
		t.Fatalf("up: %v", err)
	}
	return events
}

func inspect(t *testing.T, e *compose.Engine, name string) container.InspectResponse {
	t.Helper()
	c, err := e.API().ContainerInspect(ctxT(t), name)
	if err != nil {
		t.Fatalf("inspect %s: %v", name, err)
	}
	return c
}

// logText returns everything a service printed.
func logText(t *testing.T, e *compose.Engine, project, service string) string {
	t.Helper()
	var b strings.Builder
	err := e.Logs(ctxT(t), project, compose.LogOptions{Services: []string{service}}, func(l compose.LogLine) {
		b.WriteString(l.Text + "\n")
	})
	if err != nil {
		t.Fatalf("logs: %v", err)
	}
	return b.String()
}

func TestHardenedServiceFieldsAreHonoured(t *testing.T) {
	e := labtest.Engine(t)
	img := labtest.Busybox(t, e)
	project := labtest.Project(t, e)
	dir := t.TempDir()
	secret := filepath.Join(dir, "db_password")
	cfgFile := filepath.Join(dir, "app.conf")
	bindFile := filepath.Join(dir, "motd")
	for f, data := range map[string]string{secret: "s3cret-from-file", cfgFile: "setting=1", bindFile: "hello"} {
		if err := os.WriteFile(f, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// The command proves from inside what inspect claims from outside.
	yaml := fmt.Sprintf(`
services:
  app:
    image: %[1]s
    entrypoint: ["/bin/sh", "-c"]
    command:
      - |
        echo "uid=$(id -u) gid=$(id -g)"
        touch /rootfs-write 2>/dev/null && echo rootfs=writable || echo rootfs=readonly
        touch /tmp/ok && echo tmp=writable
        echo "secret=$(cat /run/secrets/db_password)"
        echo "config=$(cat /etc/app.conf)"
        echo "motd=$(cat /data/motd)"
        touch /run/secrets/db_password 2>/dev/null && echo secret=writable || echo secret=readonly
        echo "nofile=$(ulimit -n)"
        echo "somaxconn=$(cat /proc/sys/net/core/somaxconn)"
        grep -E '^(CapBnd|NoNewPrivs)' /proc/self/status
        echo "pwd=$(pwd)"
        echo "greeting=$$GREETING"
        sleep 3600
    user: "1000:1000"
    working_dir: /tmp
    environment:
      GREETING: hello-env
    read_only: true
    tmpfs:
      - /tmp:size=8m,mode=1777
    cap_drop: [ALL]
    security_opt: ["no-new-privileges:true"]
    privileged: false
    init: true
    ulimits:
      nofile: {soft: 1024, hard: 2048}
    mem_limit: 64m
    pids_limit: 50
    sysctls:
      net.core.somaxconn: "511"
    stop_grace_period: 7s
    restart: unless-stopped
    healthcheck:
      test: ["CMD", "test", "-f", "/tmp/ok"]
      interval: 1s
      timeout: 2s
      retries: 3
      start_period: 5s
    labels:
      org.example.role: test
    logging:
      driver: json-file
      options: {max-size: "1m", max-file: "2"}
    ports:
      - "127.0.0.1:0:8080"
    volumes:
      - type: bind
        source: %[2]s
        target: /data/motd
        read_only: true
      - appdata:/var/lib/app
    secrets:
      - db_password
    configs:
      - source: appconf
        target: /etc/app.conf
    networks:
      front:
        aliases: [app-alias]
        ipv4_address: 10.231.251.10
      back: {}
networks:
  front:
    ipam:
      config: [{subnet: 10.231.251.0/24}]
  back:
    internal: true
volumes:
  appdata: {}
secrets:
  db_password:
    file: %[3]s
configs:
  appconf:
    file: %[4]s
`, img, bindFile, secret, cfgFile)
	_, load := labtest.WriteProject(t, project, yaml, nil)
	up(t, e, load(), compose.UpOptions{Policy: compose.Policy{BindRoots: []string{dir}}})

	c := inspect(t, e, project+"-app-1")
	hc := c.HostConfig
	checks := []struct {
		name string
		ok   bool
		got  any
	}{
		{"read_only", hc.ReadonlyRootfs, hc.ReadonlyRootfs},
		{"cap_drop ALL", slices.Equal(hc.CapDrop, []string{"ALL"}), hc.CapDrop},
		{"no cap_add", len(hc.CapAdd) == 0, hc.CapAdd},
		{"no-new-privileges", slices.Contains(hc.SecurityOpt, "no-new-privileges:true"), hc.SecurityOpt},
		{"not privileged", !hc.Privileged, hc.Privileged},
		{"user", c.Config.User == "1000:1000", c.Config.User},
		{"working_dir", c.Config.WorkingDir == "/tmp", c.Config.WorkingDir},
		{"init", hc.Init != nil && *hc.Init, hc.Init},
		{"memory", hc.Memory == 64<<20, hc.Memory},
		{"pids", hc.PidsLimit != nil && *hc.PidsLimit == 50, hc.PidsLimit},
		{"tmpfs", hc.Tmpfs["/tmp"] == "size=8m,mode=1777", hc.Tmpfs},
		{"sysctl", hc.Sysctls["net.core.somaxconn"] == "511", hc.Sysctls},
		{"restart", hc.RestartPolicy.Name == container.RestartPolicyUnlessStopped, hc.RestartPolicy},
		{"log driver", hc.LogConfig.Type == "json-file" && hc.LogConfig.Config["max-size"] == "1m" && hc.LogConfig.Config["max-file"] == "2", hc.LogConfig},
		{"stop timeout", c.Config.StopTimeout != nil && *c.Config.StopTimeout == 7, c.Config.StopTimeout},
		{"healthcheck", c.Config.Healthcheck != nil && slices.Equal(c.Config.Healthcheck.Test, []string{"CMD", "test", "-f", "/tmp/ok"}) && c.Config.Healthcheck.Interval == time.Second && c.Config.Healthcheck.Retries == 3 && c.Config.Healthcheck.StartPeriod == 5*time.Second, c.Config.Healthcheck},
		{"health state", c.State.Health != nil && c.State.Health.Status == "healthy", c.State.Health},
		{"label", c.Config.Labels["org.example.role"] == "test", c.Config.Labels},
		{"compose labels", c.Config.Labels[compose.LabelProject] == project && c.Config.Labels[compose.LabelService] == "app" && c.Config.Labels[compose.LabelOneoff] == "False" && c.Config.Labels[compose.LabelNumber] == "1" && len(c.Config.Labels[compose.LabelConfigHash]) == 64, c.Config.Labels},
		{"port host ip", len(hc.PortBindings["8080/tcp"]) == 1 && hc.PortBindings["8080/tcp"][0].HostIP == "127.0.0.1", hc.PortBindings},
		{"static ip", c.NetworkSettings.Networks[project+"_front"] != nil && c.NetworkSettings.Networks[project+"_front"].IPAddress == "10.231.251.10", c.NetworkSettings.Networks},
		{"aliases", c.NetworkSettings.Networks[project+"_front"] != nil && slices.Contains(c.NetworkSettings.Networks[project+"_front"].Aliases, "app-alias"), c.NetworkSettings.Networks},
		{"second network", c.NetworkSettings.Networks[project+"_back"] != nil, c.NetworkSettings.Networks},
		{"ulimit", len(hc.Ulimits) == 1 && hc.Ulimits[0].Name == "nofile" && hc.Ulimits[0].Soft == 1024 && hc.Ulimits[0].Hard == 2048, hc.Ulimits},
		{"env", slices.Contains(c.Config.Env, "GREETING=hello-env"), c.Config.Env},
	}
	for _, ch := range checks {
		if !ch.ok {
			t.Errorf("%s not honoured: got %+v", ch.name, ch.got)
		}
	}
	mounts := map[string]bool{}
	for _, m := range c.Mounts {
		mounts[m.Destination] = m.RW
	}
	for _, ro := range []string{"/run/secrets/db_password", "/etc/app.conf", "/data/motd"} {
		if rw, ok := mounts[ro]; !ok || rw {
			t.Errorf("mount %s: present=%t rw=%t, want a read-only mount", ro, ok, rw)
		}
	}
	if rw, ok := mounts["/var/lib/app"]; !ok || !rw {
		t.Errorf("named volume at /var/lib/app: present=%t rw=%t", ok, rw)
	}

	out := logText(t, e, project, "app")
	for _, want := range []string{
		"uid=1000 gid=1000", "rootfs=readonly", "tmp=writable", "secret=s3cret-from-file",
		"config=setting=1", "motd=hello", "secret=readonly", "nofile=1024", "somaxconn=511",
		"NoNewPrivs:\t1", "pwd=/tmp", "greeting=hello-env",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("inside the container: missing %q in output:\n%s", want, out)
		}
	}
	// With ALL dropped, the bounding set is empty.
	if !strings.Contains(out, "CapBnd:\t0000000000000000") {
		t.Errorf("capability bounding set: want it empty, got:\n%s", out)
	}
}

func TestEngineUnreachable(t *testing.T) {
	t.Setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock")
	_, err := compose.Connect(context.Background())
	if !errors.Is(err, compose.ErrEngineUnreachable) {
		t.Fatalf("want ErrEngineUnreachable, got %v", err)
	}
	if !strings.Contains(err.Error(), "unix:///nonexistent/docker.sock") {
		t.Errorf("error should name the engine's address: %v", err)
	}
	var h interface{ Hint() string }
	if !errors.As(err, &h) || !strings.Contains(h.Hint(), "DOCKER_HOST") {
		t.Errorf("error should say, as its hint, to start the engine or set DOCKER_HOST: %v", err)
	}
}
