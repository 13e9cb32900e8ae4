package assets

import (
	"fmt"
	"path"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/compose-spec/compose-go/v2/types"

	"github.com/fineract-installer/fineract-installer/steps/answers"
)

// ruleCtx is one rendered and loaded combination.
type ruleCtx struct {
	a       answers.Answers
	b       Bundle
	p       *types.Project
	compose string
}

func newRuleCtx(t *testing.T, c combo) ruleCtx {
	t.Helper()
	a := answersFor(c)
	b := mustRender(t, a)
	p, _ := loadBundle(t, b)
	return ruleCtx{a: a, b: b, p: p, compose: fileText(t, b, b.ComposeFile)}
}

// expectedNetworks is the network table of the issue, written out
// independently of needs.go: which roles each service joins.
func expectedNetworks(service string, has func(string) bool) []string {
	mon := has(answers.GroupMonitoring)
	var n []string
	switch service {
	case "gateway":
		n = []string{"app", "dmz"}
	case "web-app":
		n = []string{"app"}
	case "fineract", "keycloak":
		n = []string{"app", "data"}
		if mon {
			n = append(n, "monitoring")
		}
	case "vault":
		n = []string{"data"}
		if mon {
			n = append(n, "monitoring")
		}
	case "postgres", "kafka", "redis":
		n = []string{"data"}
	case "postgres-exporter":
		n = []string{"data", "monitoring"}
	case "grafana", "kibana":
		n = []string{"app", "monitoring"}
	case "prometheus", "elasticsearch", "logstash", "filebeat":
		n = []string{"monitoring"}
	}
	sort.Strings(n)
	return n
}

// movingTags are tags that follow a branch or a major line.
var movingTags = map[string]bool{"latest": true, "develop": true, "main": true, "master": true,
	"dev": true, "stable": true, "edge": true, "nightly": true, "mainline": true}

// sensitiveEnvName matches environment names that would carry a secret.
var sensitiveEnvName = regexp.MustCompile(`(?i)(password|passwd|secret|token|credential|api_?key|private_?key|encryption_?key)`)

// serviceBlock is the text of one service in the rendered compose file.
func serviceBlock(compose, name string) string {
	start := strings.Index(compose, "\n  "+name+":\n")
	if start < 0 {
		return ""
	}
	rest := compose[start+1:]
	next := regexp.MustCompile(`\n(  [a-z0-9-]+:\n|[a-z]+:\n)`).FindStringIndex(rest[len(name)+4:])
	if next == nil {
		return rest
	}
	return rest[:len(name)+4+next[0]]
}

// checkService returns every rule a loaded service breaks.
func checkService(rc ruleCtx, s types.ServiceConfig) []string {
	var bad []string
	fail := func(format string, args ...any) { bad = append(bad, fmt.Sprintf(format, args...)) }
	need, ok := rc.b.Service(s.Name)
	if !ok {
		return []string{"service is not listed in Bundle.Services"}
	}
	spec, _ := specOf(s.Name)
	block := serviceBlock(rc.compose, s.Name)

	// Networks: only the ones the service needs.
	var nets []string
	for n := range s.Networks {
		nets = append(nets, n)
	}
	sort.Strings(nets)
	if want := expectedNetworks(s.Name, rc.a.HasGroup); !slices.Equal(nets, want) {
		fail("networks %v, want %v", nets, want)
	}
	if s.NetworkMode != "" || s.Pid != "" || s.Ipc != "" {
		fail("shares a host namespace (network_mode %q, pid %q, ipc %q)", s.NetworkMode, s.Pid, s.Ipc)
	}

	// Published ports: the gateway's two, nothing else anywhere.
	if s.Name == "gateway" {
		want := map[uint32]string{8443: strconv.Itoa(orDefault(rc.a.Gateway.HTTPSPort, 443)), 8080: strconv.Itoa(orDefault(rc.a.Gateway.HTTPPort, 80))}
		if len(s.Ports) != 2 {
			fail("gateway publishes %d ports, want 2", len(s.Ports))
		}
		for _, pt := range s.Ports {
			if want[pt.Target] != pt.Published || pt.HostIP != rc.a.Gateway.BindIP {
				fail("gateway port %d published as %q on %q", pt.Target, pt.Published, pt.HostIP)
			}
		}
	} else if len(s.Ports) > 0 {
		fail("publishes ports %v; only the gateway may", s.Ports)
	}

	// Read-only root, or a documented exception.
	if !s.ReadOnly {
		if need.ReadOnlyException == "" {
			fail("read_only is off without a documented exception")
		} else if !strings.Contains(block, "# read_only is off:") {
			fail("read_only is off but the compose file has no comment saying why")
		}
	}

	// Capabilities.
	if !slices.Contains(s.CapDrop, "ALL") {
		fail("cap_drop %v does not drop ALL", s.CapDrop)
	}
	for _, c := range s.CapAdd {
		i := slices.IndexFunc(spec.capAdd, func(x capability) bool { return x.Name == c })
		if i < 0 || spec.capAdd[i].Why == "" {
			fail("cap_add %s is not in the service's allow-list with a reason", c)
		} else if !regexp.MustCompile(`- ` + c + ` # \S`).MatchString(block) {
			fail("cap_add %s has no comment in the compose file", c)
		}
	}
	if !slices.Contains(s.SecurityOpt, "no-new-privileges:true") {
		fail("security_opt %v lacks no-new-privileges:true", s.SecurityOpt)
	}
	if s.Privileged {
		fail("privileged")
	}

	// User.
	uid, gid, err := parseUser(s.User)
	switch {
	case err != nil:
		fail("user %q: %v", s.User, err)
	case uid != need.UID || gid != need.GID:
		fail("user %q, but Bundle.Services says %d:%d", s.User, need.UID, need.GID)
	case uid == 0 && need.RootReason == "":
		fail("runs as root without a documented reason")
	case uid == 0 && !strings.Contains(block, "# Runs as root because"):
		fail("runs as root but the compose file has no comment saying why")
	}

	// Mounts: no Docker socket, every bind read-only and never created on
	// the host.
	for _, v := range s.Volumes {
		if strings.Contains(v.Source, "docker.sock") || strings.Contains(v.Target, "docker.sock") {
			fail("mounts the Docker socket (%s)", v.Source)
		}
		if v.Type == types.VolumeTypeBind {
			// The one writable bind: PostgreSQL's archive_command writes
			// the WAL repository, a directory the install creates owned by
			// PostgreSQL's uid and reads back only through os.Root.
			if !v.ReadOnly && (s.Name != "postgres" || v.Target != WALRepoMount) {
				fail("bind mount %s is writable", v.Source)
			}
			if v.Bind == nil || bool(v.Bind.CreateHostPath) {
				fail("bind mount %s would create a missing source", v.Source)
			}
		}
	}

	// Healthcheck, restart, limits, log rotation.
	hc := s.HealthCheck
	switch {
	case hc == nil || hc.Disable || len(hc.Test) < 2:
		fail("no healthcheck")
	case hc.Test[0] != "CMD" && hc.Test[0] != "CMD-SHELL":
		fail("healthcheck test %v is not CMD or CMD-SHELL", hc.Test)
	case hc.Interval == nil || hc.Timeout == nil || hc.Retries == nil || hc.StartPeriod == nil:
		fail("healthcheck lacks interval, timeout, retries or start_period")
	case time.Duration(*hc.StartPeriod)+time.Duration(*hc.Interval)*time.Duration(*hc.Retries) < need.HealthBudget:
		fail("healthcheck gives up after %s, sooner than the health budget %s", time.Duration(*hc.StartPeriod), need.HealthBudget)
	}
	if s.Restart != "unless-stopped" && s.Restart != "always" && !strings.HasPrefix(s.Restart, "on-failure") {
		fail("restart policy %q", s.Restart)
	}
	if int64(s.MemLimit) != int64(need.MemoryMiB)<<20 || need.MemoryMiB == 0 {
		fail("mem_limit %d bytes, want %d MiB", s.MemLimit, need.MemoryMiB)
	}
	if s.MemSwapLimit != s.MemLimit {
		fail("memswap_limit %d differs from mem_limit %d: the container may swap", s.MemSwapLimit, s.MemLimit)
	}
	if s.PidsLimit <= 0 {
		fail("no pids limit")
	}
	if s.Logging == nil || s.Logging.Driver != "json-file" || s.Logging.Options["max-size"] == "" || s.Logging.Options["max-file"] == "" {
		fail("logging %+v is not rotated json-file", s.Logging)
	}

	// Image pinned to an exact release.
	if err := checkPinned(s.Image); err != nil {
		fail("image %s: %v", s.Image, err)
	}
	if s.Image != need.Image {
		fail("image %s, but Bundle.Services says %s", s.Image, need.Image)
	}

	// Secrets only as files from the secrets directory.
	var targets []string
	for _, ref := range s.Secrets {
		def, ok := rc.p.Secrets[ref.Source]
		want := path.Join(testSecretsDir, s.Name, ref.Target)
		switch {
		case !ok:
			fail("secret %s is not declared", ref.Source)
		case def.Environment != "" || def.Content != "":
			fail("secret %s comes from the environment or inline content", ref.Source)
		case def.File != want:
			fail("secret %s is read from %s, want %s", ref.Source, def.File, want)
		}
		targets = append(targets, ref.Target)
	}
	wantTargets := need.SecretFiles()
	sort.Strings(targets)
	sort.Strings(wantTargets)
	if !slices.Equal(targets, wantTargets) {
		fail("secret files %v, but Bundle.Services says %v", targets, wantTargets)
	}
	for k, v := range s.Environment {
		val := ""
		if v != nil {
			val = *v
		}
		if sensitiveEnvName.MatchString(k) && !strings.HasSuffix(k, "_FILE") && !strings.HasPrefix(val, "/") {
			fail("environment %s carries a value that is not a file path", k)
		}
		if f := ScanSecrets("env", []byte(k+"="+val)); len(f) > 0 {
			fail("environment %s looks like a secret literal (%s)", k, f[0].Rule)
		}
	}

	// TLS material from the installer's CA, mounted read-only.
	mounted := map[string]bool{}
	for _, v := range s.Volumes {
		if v.Type == types.VolumeTypeBind && strings.Contains(v.Source, "/pki/") {
			mounted[path.Base(v.Source)] = v.ReadOnly
		}
	}
	if !mounted["ca.crt"] {
		fail("the CA certificate is not mounted read-only")
	}
	for _, c := range need.Certs {
		if !mounted[c.Name+".crt"] || !mounted[c.Name+".key"] {
			fail("certificate %s is not mounted read-only", c.Name)
		}
		if c.CombinedPEM && !mounted[c.Name+".pem"] {
			fail("combined PEM %s.pem is not mounted", c.Name)
		}
	}
	if need.JavaTrustStore && !mounted[TrustStoreFile] {
		fail("Java trust store is not mounted")
	}
	return bad
}

// checkProject returns every project-wide rule the loaded project breaks.
func checkProject(rc ruleCtx) []string {
	var bad []string
	fail := func(format string, args ...any) { bad = append(bad, fmt.Sprintf(format, args...)) }
	segs := rc.a.Network.Segments()
	wantRoles := []string{"app", "data", "dmz"}
	if rc.a.HasGroup(answers.GroupMonitoring) || rc.a.HasGroup(answers.GroupLogging) {
		wantRoles = append(wantRoles, "monitoring")
	}
	var roles []string
	for role, n := range rc.p.Networks {
		roles = append(roles, role)
		seg := segs[role]
		if n.Name != seg.Name {
			fail("network %s is named %q, the answers say %q", role, n.Name, seg.Name)
		}
		if len(n.Ipam.Config) != 1 || n.Ipam.Config[0].Subnet != seg.Subnet {
			fail("network %s subnet %v, the answers say %s", role, n.Ipam.Config, seg.Subnet)
		}
		// Only the DMZ, where the gateway publishes its ports, is not
		// internal: nothing reaches Fineract but through the gateway.
		if internal := role != "dmz"; n.Internal != internal {
			fail("network %s internal=%v, want %v", role, n.Internal, internal)
		} else if internal && n.DriverOpts["com.docker.network.bridge.inhibit_ipv4"] != "true" {
			fail("network %s is internal but its bridge gives the host an address", role)
		}
	}
	sort.Strings(roles)
	sort.Strings(wantRoles)
	if !slices.Equal(roles, wantRoles) {
		fail("networks %v, want %v", roles, wantRoles)
	}
	var names, want []string
	for n := range rc.p.Services {
		names = append(names, n)
	}
	for _, s := range rc.b.Services {
		want = append(want, s.Name)
	}
	sort.Strings(names)
	sort.Strings(want)
	if !slices.Equal(names, want) {
		fail("compose services %v, Bundle.Services %v", names, want)
	}
	return bad
}

func parseUser(u string) (uid, gid int, err error) {
	us, gs, ok := strings.Cut(u, ":")
	if u == "" || !ok {
		return 0, 0, fmt.Errorf("user must be set as uid:gid")
	}
	if uid, err = strconv.Atoi(us); err != nil {
		return 0, 0, fmt.Errorf("uid %q is not numeric", us)
	}
	if gid, err = strconv.Atoi(gs); err != nil {
		return 0, 0, fmt.Errorf("gid %q is not numeric", gs)
	}
	return uid, gid, nil
}

func checkPinned(image string) error {
	if strings.Contains(image, "@sha256:") {
		return nil
	}
	slash := strings.LastIndex(image, "/")
	colon := strings.LastIndex(image, ":")
	if colon < 0 || colon < slash {
		return fmt.Errorf("no tag")
	}
	tag := image[colon+1:]
	if movingTags[tag] {
		return fmt.Errorf("tag %q moves", tag)
	}
	if !regexp.MustCompile(`\d+\.\d+|[0-9a-f]{7,}`).MatchString(tag) {
		return fmt.Errorf("tag %q is not an exact version or commit", tag)
	}
	return nil
}

func TestEveryServiceFollowsTheRules(t *testing.T) {
	for _, c := range allCombos() {
		t.Run(c.String(), func(t *testing.T) {
			rc := newRuleCtx(t, c)
			for _, msg := range checkProject(rc) {
				t.Error(msg)
			}
			for name, s := range rc.p.Services {
				for _, msg := range checkService(rc, s) {
					t.Errorf("%s: %s", name, msg)
				}
			}
		})
	}
}

// TestRuleCheckerCatchesViolations proves each check above can fail: every
// case breaks one rule on a correctly rendered service.
func TestRuleCheckerCatchesViolations(t *testing.T) {
	rc := newRuleCtx(t, combo{groups: answers.Groups[1:], profile: answers.Production})
	ptr := func(s string) *string { return &s }
	cases := []struct {
		rule    string
		service string
		mutate  func(s *types.ServiceConfig)
		want    string
	}{
		{"extra network", "postgres", func(s *types.ServiceConfig) {
			s.Networks = map[string]*types.ServiceNetworkConfig{"data": nil, "app": nil}
		}, "networks"},
		{"host network", "fineract", func(s *types.ServiceConfig) { s.NetworkMode = "host" }, "host namespace"},
		{"published database port", "postgres", func(s *types.ServiceConfig) {
			s.Ports = []types.ServicePortConfig{{Target: 5432, Published: "5432"}}
		}, "publishes ports"},
		{"writable root", "fineract", func(s *types.ServiceConfig) { s.ReadOnly = false }, "read_only"},
		{"no cap_drop", "vault", func(s *types.ServiceConfig) { s.CapDrop = nil }, "cap_drop"},
		{"cap_add without reason", "gateway", func(s *types.ServiceConfig) { s.CapAdd = []string{"NET_BIND_SERVICE"} }, "allow-list"},
		{"no no-new-privileges", "redis", func(s *types.ServiceConfig) { s.SecurityOpt = nil }, "no-new-privileges"},
		{"privileged", "kafka", func(s *types.ServiceConfig) { s.Privileged = true }, "privileged"},
		{"root user", "grafana", func(s *types.ServiceConfig) { s.User = "0:0" }, "user"},
		{"no user", "prometheus", func(s *types.ServiceConfig) { s.User = "" }, "user"},
		{"docker socket", "prometheus", func(s *types.ServiceConfig) {
			s.Volumes = append(slices.Clone(s.Volumes), types.ServiceVolumeConfig{Type: types.VolumeTypeBind,
				Source: "/var/run/docker.sock", Target: "/var/run/docker.sock", ReadOnly: true, Bind: &types.ServiceVolumeBind{}})
		}, "Docker socket"},
		{"writable bind", "gateway", func(s *types.ServiceConfig) {
			v := slices.Clone(s.Volumes)
			v[0].ReadOnly = false
			s.Volumes = v
		}, "writable"},
		{"no healthcheck", "web-app", func(s *types.ServiceConfig) { s.HealthCheck = nil }, "healthcheck"},
		{"short start period", "fineract", func(s *types.ServiceConfig) {
			hc := *s.HealthCheck
			d := types.Duration(30 * time.Second)
			hc.StartPeriod = &d
			s.HealthCheck = &hc
		}, "health budget"},
		{"no restart", "keycloak", func(s *types.ServiceConfig) { s.Restart = "no" }, "restart"},
		{"no memory limit", "elasticsearch", func(s *types.ServiceConfig) { s.MemLimit = 0 }, "mem_limit"},
		{"swap allowed", "vault", func(s *types.ServiceConfig) { s.MemSwapLimit = 0 }, "swap"},
		{"no pids limit", "logstash", func(s *types.ServiceConfig) { s.PidsLimit = 0 }, "pids"},
		{"no log rotation", "kibana", func(s *types.ServiceConfig) { s.Logging = &types.LoggingConfig{Driver: "json-file"} }, "logging"},
		{"moving tag", "fineract", func(s *types.ServiceConfig) { s.Image = "apache/fineract:latest" }, "moves"},
		{"no tag", "redis", func(s *types.ServiceConfig) { s.Image = "redis" }, "no tag"},
		{"password in environment", "fineract", func(s *types.ServiceConfig) {
			env := types.MappingWithEquals{}
			for k, v := range s.Environment {
				env[k] = v
			}
			env["FINERACT_HIKARI_PASSWORD"] = ptr("Sup3rS3cretValue")
			s.Environment = env
		}, "environment FINERACT_HIKARI_PASSWORD"},
		{"random literal in environment", "grafana", func(s *types.ServiceConfig) {
			env := types.MappingWithEquals{}
			for k, v := range s.Environment {
				env[k] = v
			}
			env["GF_EXTRA"] = ptr("q8Xv2LmN4pR7sT1wY6zB3cD9")
			s.Environment = env
		}, "secret literal"},
		{"secret not mounted", "postgres", func(s *types.ServiceConfig) { s.Secrets = s.Secrets[1:] }, "secret files"},
		{"certificate not mounted", "kafka", func(s *types.ServiceConfig) {
			var keep []types.ServiceVolumeConfig
			for _, v := range s.Volumes {
				if !strings.HasSuffix(v.Source, "kafka.pem") {
					keep = append(keep, v)
				}
			}
			s.Volumes = keep
		}, "combined PEM"},
	}
	for _, tc := range cases {
		t.Run(tc.rule, func(t *testing.T) {
			s, ok := rc.p.Services[tc.service]
			if !ok {
				t.Fatalf("no service %s", tc.service)
			}
			if msgs := checkService(rc, s); len(msgs) > 0 {
				t.Fatalf("unmodified %s already breaks rules: %v", tc.service, msgs)
			}
			tc.mutate(&s)
			msgs := checkService(rc, s)
			if !slices.ContainsFunc(msgs, func(m string) bool { return strings.Contains(m, tc.want) }) {
				t.Errorf("breaking %q was not reported (want a message containing %q), got %v", tc.rule, tc.want, msgs)
			}
		})
	}
}

func TestProjectCheckerCatchesViolations(t *testing.T) {
	rc := newRuleCtx(t, combo{groups: []string{answers.GroupMonitoring}, profile: answers.Demo})
	if msgs := checkProject(rc); len(msgs) > 0 {
		t.Fatalf("unmodified project breaks rules: %v", msgs)
	}
	data := rc.p.Networks["data"]
	data.Internal = false
	rc.p.Networks["data"] = data
	mon := rc.p.Networks["monitoring"]
	mon.DriverOpts = nil
	rc.p.Networks["monitoring"] = mon
	wrong := rc.p.Networks["app"]
	wrong.Ipam.Config = []*types.IPAMPool{{Subnet: "172.30.0.0/16"}}
	rc.p.Networks["app"] = wrong
	msgs := strings.Join(checkProject(rc), "\n")
	for _, want := range []string{"network data internal=false", "network app subnet", "network monitoring is internal but its bridge gives the host an address"} {
		if !strings.Contains(msgs, want) {
			t.Errorf("want a message containing %q, got:\n%s", want, msgs)
		}
	}
}

func TestExceptionsNeedTheirComment(t *testing.T) {
	rc := newRuleCtx(t, combo{groups: []string{answers.GroupIdentity, answers.GroupLogging}, profile: answers.Production})
	for _, tc := range []struct{ service, comment, want string }{
		{"keycloak", "# read_only is off:", "no comment saying why"},
		{"filebeat", "# Runs as root because", "no comment saying why"},
	} {
		s := rc.p.Services[tc.service]
		if msgs := checkService(rc, s); len(msgs) > 0 {
			t.Fatalf("%s: unmodified service breaks rules: %v", tc.service, msgs)
		}
		stripped := rc
		stripped.compose = strings.ReplaceAll(rc.compose, tc.comment, "# (removed)")
		msgs := checkService(stripped, s)
		if !slices.ContainsFunc(msgs, func(m string) bool { return strings.Contains(m, tc.want) }) {
			t.Errorf("%s without %q: want a message containing %q, got %v", tc.service, tc.comment, tc.want, msgs)
		}
	}
}

func TestServiceBlockIsolatesOneService(t *testing.T) {
	rc := newRuleCtx(t, combo{groups: answers.Groups[1:], profile: answers.Demo})
	for _, s := range rc.b.Services {
		block := serviceBlock(rc.compose, s.Name)
		if !strings.HasPrefix(block, "  "+s.Name+":\n") || !strings.Contains(block, "image: "+s.Image) {
			t.Errorf("block of %s does not start with the service or lacks its image:\n%s", s.Name, block)
		}
		for _, other := range rc.b.Services {
			if other.Name != s.Name && strings.Contains(block, "\n  "+other.Name+":\n") {
				t.Errorf("block of %s runs into %s", s.Name, other.Name)
			}
		}
	}
}

// Vault runs without mlock only because its container cannot swap.
func TestVaultWithoutMlockHasNoSwap(t *testing.T) {
	rc := newRuleCtx(t, combo{profile: answers.Production})
	hcl, ok := rc.b.File("config/vault/vault.hcl")
	if !ok || !strings.Contains(string(hcl.Data), "disable_mlock = true") {
		t.Fatalf("vault.hcl: %s", hcl.Data)
	}
	v := rc.p.Services["vault"]
	if v.MemLimit == 0 || v.MemSwapLimit != v.MemLimit {
		t.Errorf("vault mem_limit %d, memswap_limit %d: without mlock the container must not swap", v.MemLimit, v.MemSwapLimit)
	}
	if _, ok := v.Ulimits["memlock"]; ok {
		t.Error("vault raises RLIMIT_MEMLOCK, which engines without CAP_SYS_RESOURCE refuse")
	}
}
