package assets

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"strings"
	"testing"

	"github.com/fineract-installer/fineract-installer/steps/answers"
)

func TestRenderRefusesBadInput(t *testing.T) {
	cases := []struct {
		name   string
		mutate func(a *answers.Answers, o *Options)
		want   string
	}{
		{"relative secrets dir", func(_ *answers.Answers, o *Options) { o.SecretsDir = "secrets" }, "absolute"},
		{"secrets dir with a dollar", func(_ *answers.Answers, o *Options) { o.SecretsDir = "/run/$HOME" }, "'$'"},
		{"bad project", func(_ *answers.Answers, o *Options) { o.Project = "Fine Ract" }, "project name"},
		{"unknown profile", func(a *answers.Answers, _ *Options) { a.Profile = "staging" }, "profile"},
		{"bad hostname", func(a *answers.Answers, _ *Options) { a.Host.Hostname = "bank_example;rm" }, "host.hostname"},
		{"empty hostname", func(a *answers.Answers, _ *Options) { a.Host.Hostname = "" }, "host.hostname"},
		{"bad host IP", func(a *answers.Answers, _ *Options) { a.Host.IPs = []string{"300.1.1.1"} }, "host.ips"},
		{"not a subnet", func(a *answers.Answers, _ *Options) { a.Network.Data.Subnet = "10.0.0.1" }, "network.data.subnet"},
		{"host bits", func(a *answers.Answers, _ *Options) { a.Network.App.Subnet = "10.77.20.5/24" }, "host bits"},
		{"overlap", func(a *answers.Answers, _ *Options) { a.Network.Data.Subnet = "10.77.0.0/16" }, "overlaps"},
		{"same name twice", func(a *answers.Answers, _ *Options) { a.Network.App.Name = a.Network.DMZ.Name }, "two networks"},
		{"bad network name", func(a *answers.Answers, _ *Options) { a.Network.DMZ.Name = "DMZ net" }, "network.dmz.name"},
		{"same ports", func(a *answers.Answers, _ *Options) { a.Gateway.HTTPPort = a.Gateway.HTTPSPort }, "ports"},
		{"bad bind IP", func(a *answers.Answers, _ *Options) { a.Gateway.BindIP = "localhost" }, "bind_ip"},
		{"unknown group", func(a *answers.Answers, _ *Options) { a.Groups = []string{"core", "billing"} }, "billing"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a, o := answersFor(combo{groups: answers.Groups[1:], profile: answers.Production}), testOptions()
			tc.mutate(&a, &o)
			_, err := Render(a, o)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one mentioning %q", err, tc.want)
			}
		})
	}
}

func TestRenderIsDeterministic(t *testing.T) {
	a := answersFor(combo{groups: answers.Groups[1:], profile: answers.Demo})
	b1, b2 := mustRender(t, a), mustRender(t, a)
	if len(b1.Files) != len(b2.Files) {
		t.Fatal("different file counts")
	}
	for i := range b1.Files {
		if b1.Files[i].Path != b2.Files[i].Path || !bytes.Equal(b1.Files[i].Data, b2.Files[i].Data) {
			t.Errorf("%s differs between two renders", b1.Files[i].Path)
		}
	}
	if !slices.IsSortedFunc(b1.Files, func(x, y File) int { return strings.Compare(x.Path, y.Path) }) {
		t.Error("files are not sorted by path")
	}
}

func TestGatewayHonoursPortsAndBindIP(t *testing.T) {
	for _, ip := range []string{"192.0.2.10", "::1"} {
		a := answersFor(combo{profile: answers.Production})
		a.Gateway = answers.Gateway{HTTPSPort: 8443, HTTPPort: 8080, BindIP: ip}
		p, _ := loadBundle(t, mustRender(t, a))
		for _, pt := range p.Services["gateway"].Ports {
			if pt.HostIP != ip {
				t.Errorf("port %d bound to %q, want %s", pt.Target, pt.HostIP, ip)
			}
		}
	}
	a := answersFor(combo{profile: answers.Production})
	a.Gateway = answers.Gateway{HTTPSPort: 8443, HTTPPort: 8080}
	b := mustRender(t, a)
	if s, _ := b.Service("gateway"); !slices.Equal(s.Published, []int{8443, 8080}) {
		t.Errorf("Published %v, want [8443 8080]", s.Published)
	}
	if conf := fileText(t, b, "config/gateway/nginx.conf"); !strings.Contains(conf, "return 301 https://bank.example.test:8443$request_uri;") {
		t.Error("the redirect does not name the public https port")
	}
}

func TestServicesDescribeTheirNeeds(t *testing.T) {
	for _, c := range allCombos() {
		a := answersFor(c)
		b := mustRender(t, a)
		secretRules := map[string]Generator{}
		for _, s := range b.Services {
			if len(s.Certs) == 0 {
				t.Errorf("%s: %s needs no certificate", c, s.Name)
			}
			if s.Group == "" || s.Image == "" || s.MemoryMiB <= 0 || len(s.Networks) == 0 || s.HealthBudget <= 0 {
				t.Errorf("%s: %s is missing group, image, memory, networks or health budget: %+v", c, s.Name, s)
			}
			for _, cert := range s.Certs {
				if cert.Server && !slices.Contains(cert.DNSNames, s.Name) && s.Name != "gateway" {
					t.Errorf("%s: %s's server certificate lacks its service name", c, s.Name)
				}
				if cert.CommonName == "" || !cert.Server && !cert.Client {
					t.Errorf("%s: %s's certificate %s has no common name or usage", c, s.Name, cert.Name)
				}
			}
			for _, sn := range s.Secrets {
				if !strings.HasPrefix(sn.VaultPath, "banking/databases/") && !strings.HasPrefix(sn.VaultPath, "banking/services/") && sn.VaultPath != WALKey.VaultPath {
					t.Errorf("%s: secret %s of %s lives at %s, outside banking/databases, banking/services and the WAL key", c, sn.File, s.Name, sn.VaultPath)
				}
				key := sn.VaultPath + "#" + sn.Key
				if prev, ok := secretRules[key]; ok && prev != sn.Generate {
					t.Errorf("%s: %s is generated by two rules (%+v, %+v)", c, key, prev, sn.Generate)
				}
				secretRules[key] = sn.Generate
				if sn.Generate.Length < 32 {
					t.Errorf("%s: %s is generated with only %d characters", c, key, sn.Generate.Length)
				}
				if _, err := sn.Content(strings.Repeat("aB3", sn.Generate.Length/3+1)[:sn.Generate.Length]); err != nil {
					t.Errorf("%s: %s: %v", c, key, err)
				}
			}
		}
		gw, _ := b.Service("gateway")
		if cert := gw.Certs[0]; cert.CommonName != "bank.example.test" || !slices.Equal(cert.DNSNames, []string{"bank.example.test"}) || len(cert.IPs) != 1 || cert.IPs[0].String() != "192.0.2.10" {
			t.Errorf("%s: gateway certificate %+v does not carry the hostname and host IP", c, cert)
		}
	}
}

func TestSecretContentFormats(t *testing.T) {
	const v = "Abc123Def456Ghi789Jkl012Mno345Pq"
	raw := SecretNeed{File: "f", Generate: genPassword, Format: FormatRaw}
	if got, _ := raw.Content(v); string(got) != v {
		t.Errorf("raw: %q", got)
	}
	sum := sha256.Sum256([]byte(v))
	acl := SecretNeed{File: "users.acl", Generate: genPassword, Format: FormatRedisACL}
	got, err := acl.Content(v)
	if err != nil || string(got) != "user default on #"+hex.EncodeToString(sum[:])+" ~* &* +@all -@dangerous\n" || strings.Contains(string(got), v) {
		t.Errorf("redis ACL: %q, %v", got, err)
	}
	yml := SecretNeed{File: "k.yml", Generate: genKey, Format: YAMLSetting("xpack.security.encryptionKey")}
	if got, _ := yml.Content(v); string(got) != "xpack.security.encryptionKey: \""+v+"\"\n" {
		t.Errorf("yaml setting: %q", got)
	}
	for _, bad := range []string{"", "has space", `quote"d`, "new\nline"} {
		if _, err := raw.Content(bad); err == nil {
			t.Errorf("value %q was accepted", bad)
		}
	}
	if _, err := (SecretNeed{Format: "base64"}).Content(v); err == nil {
		t.Error("an unknown format was accepted")
	}
}

func TestImagePinsCoverEveryService(t *testing.T) {
	for _, s := range catalog {
		if imageOf(s.name) == "" {
			t.Errorf("service %s has no pinned image", s.name)
		}
	}
	for _, p := range ImagePins() {
		if err := checkPinned(p.Image); err != nil {
			t.Errorf("%s: %v", p.Image, err)
		}
		if p.Note == "" {
			t.Errorf("%s: no note on why this reference", p.Image)
		}
		if _, ok := specOf(p.Service); !ok {
			t.Errorf("image pin for unknown service %s", p.Service)
		}
	}
	for svc, want := range map[string]string{"vault": "hashicorp/vault:1.21.4", "postgres": "postgres:16.", "gateway": "nginx:1."} {
		if img := imageOf(svc); !strings.HasPrefix(img, want) || strings.Contains(img, "alpine") {
			t.Errorf("%s image %s, want %s... on Debian", svc, img, want)
		}
	}
}

// Every service runs as a uid and gid of its own from the answers' block,
// except where its image needs a shared id and the catalog says why; no two
// services share a uid, and service_ids_from moves the whole block.
func TestEachServiceRunsAsIDsOfItsOwn(t *testing.T) {
	for _, from := range []int{answers.DefaultServiceIDsFrom, 3_000_000} {
		a := answersFor(combo{groups: answers.Groups[1:], profile: answers.Production})
		a.ServiceIDsFrom = from
		b := mustRender(t, a)
		seen := map[int]string{}
		own := func(id int) bool { return id > from && id < from+answers.ServiceIDsBlock }
		for _, svc := range b.Services {
			if svc.OwnUID != own(svc.UID) || svc.OwnGID != own(svc.GID) {
				t.Errorf("from %d: %s runs as %d:%d, own uid %v, own gid %v", from, svc.Name, svc.UID, svc.GID, svc.OwnUID, svc.OwnGID)
			}
			if (!svc.OwnUID || !svc.OwnGID) && svc.IDsReason == "" && svc.RootReason == "" {
				t.Errorf("%s shares uid %d or gid %d without a reason", svc.Name, svc.UID, svc.GID)
			}
			if other, ok := seen[svc.UID]; ok {
				t.Errorf("%s and %s both run as uid %d", svc.Name, other, svc.UID)
			}
			seen[svc.UID] = svc.Name
		}
		for _, name := range []string{"vault", "postgres", "fineract", "web-app", "gateway", "redis", "prometheus", "grafana", "postgres-exporter"} {
			if svc, ok := b.Service(name); !ok || !svc.OwnUID || !svc.OwnGID {
				t.Errorf("from %d: %s does not run as ids of its own: %+v", from, name, svc)
			}
		}
	}
}
