package compose

import (
	"context"
	"errors"
	"maps"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// policyFixture is an install-dir-like directory with a compose file
// loaded by compose-go, the way the installer loads the rendered stack.
type policyFixture struct {
	dir string // the only bind root
}

func newPolicyFixture(t *testing.T) policyFixture {
	t.Helper()
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "conf"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "conf", "app.conf"), []byte("x=1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return policyFixture{dir: dir}
}

// load writes one service, hardened as the rendered stack is, changed by
// the given settings, and loads it. A setting replaces the base line with
// the same key; an empty value removes the key. top is appended at top level.
func (f policyFixture) load(t *testing.T, service string, settings map[string]string, top string) *Project {
	t.Helper()
	lines := map[string]string{
		"image":        "example/app:1.0",
		"user":         `"1000:1000"`,
		"cap_drop":     "[ALL]",
		"security_opt": `["no-new-privileges:true"]`,
		"volumes":      `[{type: bind, source: ./conf/app.conf, target: /etc/app.conf, read_only: true}]`,
	}
	for k, v := range settings {
		lines[k] = v
	}
	var b strings.Builder
	b.WriteString("services:\n  " + service + ":\n")
	for _, k := range slices.Sorted(maps.Keys(lines)) {
		if lines[k] != "" {
			b.WriteString("    " + k + ": " + lines[k] + "\n")
		}
	}
	b.WriteString(top)
	file := filepath.Join(f.dir, "compose.yaml")
	if err := os.WriteFile(file, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	p, err := Load(context.Background(), LoadOptions{Files: []string{file}, ProjectName: "policy"})
	if err != nil {
		t.Fatalf("load:\n%s\n%v", b.String(), err)
	}
	return p
}

func (f policyFixture) policy() Policy {
	return Policy{
		BindRoots:         []string{f.dir},
		RootServices:      []string{"shipper"},
		ReadOnlyHostPaths: map[string][]string{"shipper": {"/var/lib/docker/containers"}},
	}
}

// link makes name in the bind root a symbolic link to target.
func (f policyFixture) link(t *testing.T, name, target string) {
	t.Helper()
	if err := os.Symlink(target, filepath.Join(f.dir, name)); err != nil {
		t.Fatal(err)
	}
}

// What the stack needs passes, and only where it is granted: the settings
// the log shipper may use are refused for any other service.
func TestPolicyAdmitsWhatTheStackNeeds(t *testing.T) {
	f := newPolicyFixture(t)
	for name, settings := range map[string]map[string]string{
		"base":                       nil,
		"gid 0 with a non-root uid":  {"user": `"1000:0"`},
		"no-new-privileges spelling": {"security_opt": `["no-new-privileges"]`},
		"private namespaces":         {"network_mode": "none", "ipc": "private", "cgroup": "private"},
		"sysctls and ulimits":        {"sysctls": `{net.core.somaxconn: "511"}`, "ulimits": "{nofile: {soft: 1024, hard: 2048}}"},
		"missing file in the root":   {"volumes": `["./conf/not-yet.conf:/etc/x.conf:ro"]`},
	} {
		if err := f.policy().Check(f.load(t, "app", settings, "")); err != nil {
			t.Errorf("%s: refused: %v", name, err)
		}
	}
	// The documented exceptions hold only for the service they name.
	shipper := map[string]string{"user": `"0:0"`, "volumes": `["/var/lib/docker/containers:/var/lib/docker/containers:ro"]`}
	if err := f.policy().Check(f.load(t, "shipper", shipper, "")); err != nil {
		t.Errorf("the log shipper's documented exceptions were refused: %v", err)
	}
	var refused *PolicyError
	if err := f.policy().Check(f.load(t, "app", shipper, "")); !errors.As(err, &refused) || len(refused.Violations) != 2 {
		t.Errorf("the log shipper's exceptions for another service: want its root user and the logs refused, got %v", err)
	}
}

// Each case breaks one hardening rule; the check must refuse it, naming the
// service, the setting and the rule.
func TestPolicyRefusesEachForbiddenSetting(t *testing.T) {
	f := newPolicyFixture(t)
	sock := filepath.Join(f.dir, "engine.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = l.Close() })
	f.link(t, "etc-link", "/etc")
	f.link(t, "docker-link", "/var/run/docker.sock")
	f.link(t, "dangling", "/nonexistent/escape")

	cases := []struct {
		name     string
		service  string
		settings map[string]string
		top      string
		rule     string
		setting  string
	}{
		{"privileged", "vault", map[string]string{"privileged": "true"}, "", rulePrivileged, "privileged: true"},
		{"root's group added", "vault", map[string]string{"group_add": `["0"]`}, "", ruleGroups, "group_add 0"},
		{"the docker group added", "vault", map[string]string{"group_add": `["docker"]`}, "", ruleGroups, "group_add docker"},
		{"cap_add", "vault", map[string]string{"cap_add": "[SYS_ADMIN]"}, "", ruleCapAdd, "cap_add SYS_ADMIN"},
		{"harmless-looking cap_add", "gateway", map[string]string{"cap_add": "[NET_BIND_SERVICE]"}, "", ruleCapAdd, "NET_BIND_SERVICE"},
		{"no cap_drop", "vault", map[string]string{"cap_drop": ""}, "", ruleCapDrop, "cap_drop ALL"},
		{"partial cap_drop", "vault", map[string]string{"cap_drop": "[NET_RAW]"}, "", ruleCapDrop, "cap_drop ALL"},
		{"seccomp unconfined", "vault", map[string]string{"security_opt": `["no-new-privileges:true", "seccomp=unconfined"]`}, "", ruleNoNewPriv, `"seccomp=unconfined"`},
		{"seccomp from a file", "vault", map[string]string{"security_opt": `["no-new-privileges:true", "seccomp=/tmp/allow-all.json"]`}, "", ruleNoNewPriv, "seccomp="},
		{"apparmor unconfined", "vault", map[string]string{"security_opt": `["no-new-privileges:true", "apparmor=unconfined"]`}, "", ruleNoNewPriv, "apparmor=unconfined"},
		{"selinux labels off", "vault", map[string]string{"security_opt": `["no-new-privileges:true", "label=disable"]`}, "", ruleNoNewPriv, "label=disable"},
		{"masked paths off", "vault", map[string]string{"security_opt": `["no-new-privileges:true", "systempaths=unconfined"]`}, "", ruleNoNewPriv, "systempaths"},
		{"no-new-privileges false", "vault", map[string]string{"security_opt": `["no-new-privileges:false"]`}, "", ruleNoNewPriv, "no-new-privileges:false"},
		{"no security_opt", "vault", map[string]string{"security_opt": ""}, "", ruleNoNewPriv, "leaving out security_opt"},
		{"host network", "vault", map[string]string{"network_mode": "host"}, "", ruleNamespaces, "network_mode: host"},
		{"another container's network", "vault", map[string]string{"network_mode": `"container:abc"`}, "", ruleNamespaces, "network_mode: container:abc"},
		{"the network named host", "vault", map[string]string{"networks": "[hostnet]"}, "networks:\n  hostnet: {name: host, external: true}\n", ruleNamespaces, "network hostnet"},
		{"host pid", "vault", map[string]string{"pid": "host"}, "", ruleNamespaces, "pid: host"},
		{"host ipc", "vault", map[string]string{"ipc": "host"}, "", ruleNamespaces, "ipc: host"},
		{"shareable ipc", "vault", map[string]string{"ipc": "shareable"}, "", ruleNamespaces, "ipc: shareable"},
		{"host uts", "vault", map[string]string{"uts": "host"}, "", ruleNamespaces, "uts: host"},
		{"host userns", "vault", map[string]string{"userns_mode": "host"}, "", ruleNamespaces, "userns_mode: host"},
		{"host cgroup", "vault", map[string]string{"cgroup": "host"}, "", ruleNamespaces, "cgroup: host"},
		{"devices", "vault", map[string]string{"devices": `["/dev/sda:/dev/sda"]`}, "", ruleDevices, "devices"},
		{"device cgroup rules", "vault", map[string]string{"device_cgroup_rules": `["b 8:* rmw"]`}, "", ruleDevices, "devices"},
		{"root of the host", "vault", map[string]string{"volumes": `["/:/host"]`}, "", ruleSocket, "volume /"},
		{"host directory", "vault", map[string]string{"volumes": `["/etc:/host-etc:ro"]`}, "", ruleBinds, "volume /etc"},
		{"dot-dot out of the root", "vault", map[string]string{"volumes": `["./conf/../../../../../etc:/host-etc:ro"]`}, "", ruleBinds, "volume /etc"},
		{"symbolic link out of the root", "vault", map[string]string{"volumes": `["./etc-link/shadow:/shadow:ro"]`}, "", ruleBinds, "-> /etc/shadow"},
		{"dangling link", "vault", map[string]string{"volumes": `["./dangling/x:/x:ro"]`}, "", ruleBinds, "symbolic link to a missing path"},
		{"writable bind", "vault", map[string]string{"volumes": `["./conf:/conf"]`}, "", ruleBinds, "mounted writable"},
		{"docker socket", "vault", map[string]string{"volumes": `["/var/run/docker.sock:/var/run/docker.sock:ro"]`}, "", ruleSocket, "docker.sock"},
		{"docker socket through a link in the root", "vault", map[string]string{"volumes": `["./docker-link:/sock:ro"]`}, "", ruleSocket, "docker.sock"},
		{"directory holding the socket", "vault", map[string]string{"volumes": `["/var/run:/host-run:ro"]`}, "", ruleSocket, "docker.sock"},
		{"engine state", "vault", map[string]string{"volumes": `["/var/lib/docker:/engine:ro"]`}, "", ruleSocket, "/var/lib/docker"},
		{"a socket in the root", "vault", map[string]string{"volumes": `["./engine.sock:/sock:ro"]`}, "", ruleSocket, "a socket"},
		{"use_api_socket", "vault", map[string]string{"use_api_socket": "true"}, "", ruleSocket, "use_api_socket"},
		{"secret file outside the root", "vault", map[string]string{"secrets": "[shadow]"}, "secrets:\n  shadow: {file: /etc/shadow}\n", ruleBinds, "secret shadow"},
		{"config file outside the root", "vault", map[string]string{"configs": "[passwd]"}, "configs:\n  passwd: {file: /etc/passwd}\n", ruleBinds, "config passwd"},
		{"container logs for another service", "vault", map[string]string{"volumes": `["/var/lib/docker/containers:/logs:ro"]`}, "", ruleBinds, "/var/lib/docker/containers"},
		{"container logs writable", "shipper", map[string]string{"user": `"0:0"`, "volumes": `["/var/lib/docker/containers:/logs"]`}, "", ruleBinds, "mounted writable"},
		{"no user", "vault", map[string]string{"user": ""}, "", ruleUser, "leaving out user"},
		{"uid 0", "vault", map[string]string{"user": `"0"`}, "", ruleUser, `"0"`},
		{"uid 0 and gid 0", "vault", map[string]string{"user": `"0:0"`}, "", ruleUser, `"0:0"`},
		{"uid 0 with another group", "vault", map[string]string{"user": `"0:1000"`}, "", ruleUser, `"0:1000"`},
		{"uid 0 written 00", "vault", map[string]string{"user": `"00"`}, "", ruleUser, `"00"`},
		{"root by name", "vault", map[string]string{"user": "root"}, "", ruleUser, `"root"`},
		{"root:root", "vault", map[string]string{"user": `"root:root"`}, "", ruleUser, `"root:root"`},
		{"a name the image resolves", "vault", map[string]string{"user": "vault"}, "", ruleUser, "numeric uid"},
		{"volume binding a host path", "vault", map[string]string{"volumes": `["data:/data"]`}, "volumes:\n  data: {driver_opts: {type: none, o: bind, device: /}}\n", ruleVolumes, "driver_opts"},
		{"volume plugin", "vault", map[string]string{"volumes": `["data:/data"]`}, "volumes:\n  data: {driver: some-plugin}\n", ruleVolumes, "driver some-plugin"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := f.policy().Check(f.load(t, tc.service, tc.settings, tc.top))
			var refused *PolicyError
			if !errors.As(err, &refused) {
				t.Fatalf("not refused: %v", err)
			}
			if len(refused.Violations) != 1 {
				t.Fatalf("want exactly one violation, got %v", err)
			}
			v := refused.Violations[0]
			subject := "service " + tc.service
			if strings.HasPrefix(tc.rule, "named volumes") {
				subject = "volume data"
			}
			if v.Subject != subject || v.Rule != tc.rule || !strings.Contains(v.Setting, tc.setting) {
				t.Errorf("got %+v, want subject %q, rule %q and a setting naming %q", v, subject, tc.rule, tc.setting)
			}
			msg := err.Error()
			for _, want := range []string{subject + ":", "hardening rule: " + tc.rule, "the compose file was not applied"} {
				if !strings.Contains(msg, want) {
					t.Errorf("message %q does not say %q", msg, want)
				}
			}
		})
	}
}

// The zero policy is the strictest: no host path at all, nobody as root.
func TestZeroPolicyIsTheStrictest(t *testing.T) {
	f := newPolicyFixture(t)
	err := Policy{}.Check(f.load(t, "app", map[string]string{"user": `"0:0"`}, ""))
	var refused *PolicyError
	if !errors.As(err, &refused) || len(refused.Violations) != 2 {
		t.Fatalf("want the root user and the bind refused, got %v", err)
	}
	msg := err.Error()
	for _, want := range []string{"breaks 2 hardening rules", `user "0:0" (root)`, "this policy allows no host path"} {
		if !strings.Contains(msg, want) {
			t.Errorf("message does not say %q:\n%s", want, msg)
		}
	}
}

// A bind root at or above the engine's socket would let every bind
// through, so the policy itself is refused.
func TestPolicyRefusesBindRootsHoldingTheEngine(t *testing.T) {
	f := newPolicyFixture(t)
	p := f.load(t, "app", nil, "")
	for _, root := range []string{"/", "/run", "/var", "relative/dir"} {
		err := Policy{BindRoots: []string{root}}.Check(p)
		var refused *PolicyError
		if err == nil || errors.As(err, &refused) || !strings.Contains(err.Error(), "bind root") {
			t.Errorf("bind root %s: want the policy refused, got %v", root, err)
		}
	}
}

func TestEveryViolationOfAProjectIsListed(t *testing.T) {
	f := newPolicyFixture(t)
	p := f.load(t, "vault", map[string]string{"privileged": "true", "user": `"0:0"`, "volumes": `["/:/host"]`}, "")
	err := f.policy().Check(p)
	var refused *PolicyError
	if !errors.As(err, &refused) || len(refused.Violations) != 3 {
		t.Fatalf("want privileged, root and the host bind listed, got %v", err)
	}
}

// A writable host directory is admitted only for the service it is granted
// to, and only that directory: the WAL repository PostgreSQL archives into.
func TestPolicyWritableHostPathIsGrantedExactly(t *testing.T) {
	f := newPolicyFixture(t)
	repo := filepath.Join(t.TempDir(), "repository", "wal")
	if err := os.MkdirAll(repo, 0o700); err != nil {
		t.Fatal(err)
	}
	pol := f.policy()
	pol.WritableHostPaths = map[string][]string{"postgres": {repo}}
	rw := map[string]string{"volumes": `["` + repo + `:/var/lib/fineract-wal"]`}
	if err := pol.Check(f.load(t, "postgres", rw, "")); err != nil {
		t.Fatalf("the granted directory was refused: %v", err)
	}
	var refused *PolicyError
	if err := pol.Check(f.load(t, "vault", rw, "")); !errors.As(err, &refused) {
		t.Fatalf("another service writing the directory was admitted: %v", err)
	}
	parent := map[string]string{"volumes": `["` + filepath.Dir(repo) + `:/repo"]`}
	if err := pol.Check(f.load(t, "postgres", parent, "")); !errors.As(err, &refused) {
		t.Fatalf("the directory's parent was admitted writable: %v", err)
	}
}
