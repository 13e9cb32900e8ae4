package compose

import (
	"os"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/docker/docker/api/types/container"
)

func TestRestartPolicy(t *testing.T) {
	cases := []struct {
		in      string
		want    container.RestartPolicy
		wantErr string
	}{
		{"", container.RestartPolicy{Name: "no"}, ""},
		{"unless-stopped", container.RestartPolicy{Name: "unless-stopped"}, ""},
		{"on-failure:5", container.RestartPolicy{Name: "on-failure", MaximumRetryCount: 5}, ""},
		{"on-failure:x", container.RestartPolicy{}, "whole number"},
		{"always:3", container.RestartPolicy{}, "takes no retry count"},
		{"sometimes", container.RestartPolicy{}, "unknown restart policy"},
	}
	for _, c := range cases {
		got, err := restartPolicyOf(c.in)
		if c.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), c.wantErr) {
				t.Errorf("%q: want error %q, got %v", c.in, c.wantErr, err)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("%q: got %+v, %v", c.in, got, err)
		}
	}
}

func TestUlimitSoftAboveHardIsRejected(t *testing.T) {
	_, err := ulimitsOf(map[string]*types.UlimitsConfig{"nofile": {Soft: 10, Hard: 5}})
	if err == nil || !strings.Contains(err.Error(), "soft limit 10 exceeds hard limit 5") {
		t.Fatalf("got %v", err)
	}
}

func TestUnsupportedFeaturesAreRefusedNotDropped(t *testing.T) {
	s := types.ServiceConfig{Name: "web", ContainerSpec: types.ContainerSpec{Image: "x", Devices: []types.DeviceMapping{{Source: "/dev/kvm"}}, Pid: "host"}}
	_, err := toContainerSpec(&types.Project{Name: "p"}, s, nil)
	if err == nil || !strings.Contains(err.Error(), "devices") || !strings.Contains(err.Error(), "pid/ipc") {
		t.Fatalf("want devices and host namespaces refused, got %v", err)
	}
	// Settings the Docker conversion has no field for.
	s = types.ServiceConfig{Name: "web", ContainerSpec: types.ContainerSpec{Image: "x", Runtime: "runc-unconfined", CgroupParent: "/system.slice", OomScoreAdj: -1000, StorageOpt: map[string]string{"size": "1G"}}}
	_, err = toContainerSpec(&types.Project{Name: "p"}, s, nil)
	for _, want := range []string{"runtime", "cgroup_parent", "oom_score_adj", "storage_opt"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("want %s refused, got %v", want, err)
		}
	}
}

func TestSecretsMustBeFiles(t *testing.T) {
	p := &types.Project{Name: "p", Secrets: types.Secrets{"pw": {Name: "pw", Environment: "DB_PASSWORD"}}}
	s := types.ServiceConfig{Name: "db", ContainerSpec: types.ContainerSpec{Image: "x", Secrets: []types.ServiceSecretConfig{{Source: "pw"}}}}
	_, err := toContainerSpec(p, s, nil)
	if err == nil || !strings.Contains(err.Error(), "only file-based secrets") {
		t.Fatalf("want environment-sourced secrets refused, got %v", err)
	}
	p.Secrets["pw"] = types.SecretConfig{Name: "pw", File: "/run/x/pw"}
	s.Secrets[0].Target = "db_pw"
	spec, err := toContainerSpec(p, s, nil)
	if err != nil {
		t.Fatal(err)
	}
	m := spec.HostConfig.Mounts[0]
	if m.Source != "/run/x/pw" || m.Target != "/run/secrets/db_pw" || !m.ReadOnly {
		t.Errorf("secret mount: %+v", m)
	}
	for _, env := range spec.Config.Env {
		if strings.Contains(env, "/run/x/pw") {
			t.Errorf("secret path leaked into env: %s", env)
		}
	}
}

func TestConfigHashIgnoresDependsOnButSeesFileContent(t *testing.T) {
	dir := t.TempDir()
	file := dir + "/nginx.conf"
	write := func(s string) {
		if err := os.WriteFile(file, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("worker_processes 1;")
	p := &types.Project{Name: "p", Configs: types.Configs{"conf": {Name: "conf", File: file}}}
	s := types.ServiceConfig{Name: "gw", ContainerSpec: types.ContainerSpec{Image: "nginx", Configs: []types.ServiceConfigObjConfig{{Source: "conf"}}}}
	h1, _ := configHash(p, s, "sha256:1")
	s2 := s
	s2.DependsOn = types.DependsOnConfig{"db": {Condition: "service_started"}}
	h2, _ := configHash(p, s2, "sha256:1")
	if h1 != h2 {
		t.Error("depends_on changed the hash; it must not force a recreate")
	}
	if h3, _ := configHash(p, s, "sha256:2"); h3 == h1 {
		t.Error("a new image ID did not change the hash")
	}
	write("worker_processes 2;")
	if h4, _ := configHash(p, s, "sha256:1"); h4 == h1 {
		t.Error("changed config file content did not change the hash")
	}
}
