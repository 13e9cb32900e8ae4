package labimages

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/mount"
	"github.com/docker/docker/api/types/network"
	"software.sslmate.com/src/go-pkcs12"

	"github.com/fineract-installer/fineract-installer/assets"
	"github.com/fineract-installer/fineract-installer/compose"
	"github.com/fineract-installer/fineract-installer/lab/labtest"
	"github.com/fineract-installer/fineract-installer/steps"
	"github.com/fineract-installer/fineract-installer/steps/answers"
	"github.com/fineract-installer/fineract-installer/steps/install"
	"github.com/fineract-installer/fineract-installer/steps/installation"
	"github.com/fineract-installer/fineract-installer/steps/pki"
)

// Stack is the installer's rendered stack in a temporary install directory,
// with what the installer's earlier steps would have made: certificates
// from steps/pki and secret files with generated values (as the vault step
// writes them, without Vault). Networks, subnets and published ports are
// unique to the test, so stacks of parallel tests do not collide.
type Stack struct {
	Engine  *compose.Engine
	Project string
	Dir     string
	Answers answers.Answers
	Bundle  assets.Bundle
	// SecretsDir holds <service>/<file>, as the vault step writes it.
	SecretsDir string

	values map[string]string // Vault path#key -> value
	caPool *x509.CertPool

	fwdOnce sync.Once
	fwdAddr string
	fwdErr  error
}

// NewStack renders the stack for the groups (core is always in) with the
// demo profile and prepares it. Everything the project creates is removed
// when the test ends.
func NewStack(t testing.TB, e *compose.Engine, groups ...string) *Stack {
	t.Helper()
	project := labtest.Project(t, e)
	dir := t.TempDir()
	prefix, err := freeSubnets(context.Background(), e)
	if err != nil {
		t.Fatalf("pick subnets: %v", err)
	}
	a := answers.Defaults(answers.Demo)
	a.Groups = append([]string{answers.GroupCore}, groups...)
	a.InstallDir = dir
	seg := func(role string, i int) answers.Segment {
		p := netip.PrefixFrom(addrAdd(prefix.Addr(), i*256), 24)
		return answers.Segment{Name: project + "-" + role, Subnet: p.String()}
	}
	a.Network = answers.Network{DMZ: seg("dmz", 0), App: seg("app", 1), Data: seg("data", 2), Monitoring: seg("monitoring", 3)}
	a.Gateway.BindIP = "127.0.0.1"
	a.Gateway.HTTPSPort = freePort(t)
	a.Gateway.HTTPPort = freePort(t)
	if err := a.Validate(); err != nil {
		t.Fatalf("test answers: %v", err)
	}
	s := &Stack{Engine: e, Project: project, Dir: dir, Answers: a, SecretsDir: filepath.Join(dir, "secrets"), values: map[string]string{}}
	s.Bundle, err = assets.Render(a, assets.Options{Project: project, SecretsDir: s.SecretsDir})
	if err != nil {
		t.Fatalf("render the stack: %v", err)
	}
	for _, f := range s.Bundle.Files {
		p := filepath.Join(dir, filepath.FromSlash(f.Path))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, f.Data, f.Mode); err != nil {
			t.Fatal(err)
		}
	}
	s.issueCertificates(t)
	s.writeSecrets(t)
	// The network names are unique, but remove the networks even when a
	// test stops before the project's own clean-up can see them.
	t.Cleanup(func() {
		s.removeForwarder()
		for _, sg := range a.Network.Segments() {
			_ = e.API().NetworkRemove(context.Background(), sg.Name)
		}
	})
	return s
}

func (s *Stack) issueCertificates(t testing.TB) {
	t.Helper()
	var names []string
	var reqs []pki.Request
	for _, svc := range s.Bundle.Services {
		names = append(names, svc.Name)
		for _, c := range svc.Certs {
			var u pki.Usage
			if c.Server {
				u |= pki.UsageServer
			}
			if c.Client {
				u |= pki.UsageClient
			}
			reqs = append(reqs, pki.Request{Name: c.Name, CommonName: c.CommonName, DNSNames: c.DNSNames, IPs: c.IPs,
				Usage: u, UID: svc.UID, GID: svc.GID})
		}
	}
	sort.Strings(names)
	store := &pki.Store{Dir: filepath.Join(s.Dir, "pki"), CA: pki.CAOptions{CommonName: "lab test CA", PermitDNS: names}}
	if _, err := store.Ensure(context.Background(), reqs); err != nil {
		t.Fatalf("issue certificates: %v", err)
	}
	// As the installer's certificates step: the key and chain in one file
	// for the services that read only that form (Kafka).
	for _, svc := range s.Bundle.Services {
		for _, c := range svc.Certs {
			if !c.CombinedPEM {
				continue
			}
			key, err := os.ReadFile(s.PKIPath(c.Name + ".key"))
			if err != nil {
				t.Fatal(err)
			}
			crt, err := os.ReadFile(s.PKIPath(c.Name + ".crt"))
			if err != nil {
				t.Fatal(err)
			}
			p := s.PKIPath(c.Name + ".pem")
			if err := os.WriteFile(p, append(key, crt...), 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.Chown(p, svc.UID, svc.GID); err != nil {
				t.Fatalf("chown %s (run the lab tests as root): %v", p, err)
			}
		}
	}
	caPEM, err := os.ReadFile(filepath.Join(s.Dir, "pki", "ca.crt"))
	if err != nil {
		t.Fatal(err)
	}
	s.caPool = x509.NewCertPool()
	if !s.caPool.AppendCertsFromPEM(caPEM) {
		t.Fatal("ca.crt holds no certificate")
	}
	s.writeTrustStore(t, caPEM)
}

// writeTrustStore writes the password-less PKCS#12 trust store holding the
// CA, as the installer's certificates step does for services whose JVM
// must trust the CA (Fineract with Keycloak).
func (s *Stack) writeTrustStore(t testing.TB, caPEM []byte) {
	t.Helper()
	need := false
	for _, svc := range s.Bundle.Services {
		need = need || svc.JavaTrustStore
	}
	if !need {
		return
	}
	var certs []*x509.Certificate
	for rest := caPEM; ; {
		var b *pem.Block
		if b, rest = pem.Decode(rest); b == nil {
			break
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			t.Fatal(err)
		}
		certs = append(certs, c)
	}
	p12, err := pkcs12.Passwordless.EncodeTrustStore(certs, "")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(s.PKIPath(assets.TrustStoreFile), p12, 0o644); err != nil {
		t.Fatal(err)
	}
}

func (s *Stack) writeSecrets(t testing.TB) {
	t.Helper()
	for _, svc := range s.Bundle.SecretHolders() {
		if len(svc.Secrets) == 0 {
			continue
		}
		d := filepath.Join(s.SecretsDir, svc.Name)
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatal(err)
		}
		files, err := svc.SecretFileContents(func(need assets.SecretNeed) string {
			key := need.VaultPath + "#" + need.Key
			if _, ok := s.values[key]; !ok {
				v := randomAlnum(t, max(need.Generate.Length, 24))
				if need.Generate.Charset == assets.CharsetPassword {
					v = v[:len(v)-4] + "aA1." // every class, as Vault's password charset makes it
				}
				s.values[key] = v
			}
			return s.values[key]
		})
		if err != nil {
			t.Fatal(err)
		}
		for name, data := range files {
			p := filepath.Join(d, name)
			if err := os.WriteFile(p, data, 0o400); err != nil {
				t.Fatal(err)
			}
			if err := os.Chown(p, svc.UID, svc.GID); err != nil {
				t.Fatalf("chown %s (run the lab tests as root): %v", p, err)
			}
		}
	}
}

// Secret returns the value behind a service's secret file.
func (s *Stack) Secret(t testing.TB, service, file string) string {
	t.Helper()
	svc, ok := s.Bundle.Service(service)
	if !ok {
		t.Fatalf("no service %s in the stack", service)
	}
	for _, need := range svc.Secrets {
		if need.File == file {
			return s.values[need.VaultPath+"#"+need.Key]
		}
	}
	t.Fatalf("service %s has no secret %s", service, file)
	return ""
}

// VaultValue returns the value the stack generated for a Vault path#key
// (several secrets can share one file, so Secret cannot tell them apart).
func (s *Stack) VaultValue(t testing.TB, vaultPath, key string) string {
	t.Helper()
	v, ok := s.values[vaultPath+"#"+key]
	if !ok {
		t.Fatalf("the stack has no secret %s#%s", vaultPath, key)
	}
	return v
}

// SecretPath is the host path of a service's secret file.
func (s *Stack) SecretPath(service, file string) string {
	return filepath.Join(s.SecretsDir, service, file)
}

// Load loads the rendered compose file.
func (s *Stack) Load(t testing.TB) *compose.Project {
	t.Helper()
	p, err := compose.Load(context.Background(), compose.LoadOptions{
		Files: []string{filepath.Join(s.Dir, s.Bundle.ComposeFile)}, WorkingDir: s.Dir, ProjectName: s.Project,
	})
	if err != nil {
		t.Fatalf("load the rendered stack: %v", err)
	}
	capOpenFiles(t, p)
	return p
}

// capOpenFiles lowers a service's open-files limit to what the engine can
// give, as the installer's services step does (install.FitOpenFiles): some
// lab hosts allow fewer than Elasticsearch's 65535.
func capOpenFiles(t testing.TB, p *compose.Project) {
	if max, ok := install.EngineOpenFiles("/"); ok {
		for _, note := range install.FitOpenFiles(p, max) {
			t.Log(note)
		}
	}
}

// Up starts services (and what they depend on) and waits until they are
// ready, like the installer's services step. On failure it logs the last
// lines of every service.
func (s *Stack) Up(t testing.TB, services ...string) {
	t.Helper()
	s.up(t, services, nil)
}

// Start is Up for services whose healthcheck is not waited for: they count
// as ready once started. For deliberately broken configurations, which
// their healthchecks would refuse.
func (s *Stack) Start(t testing.TB, services ...string) {
	t.Helper()
	s.up(t, services, services)
}

func (s *Stack) up(t testing.TB, services, startOnly []string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	// As the installer does: networks and volumes first, each volume given
	// to its service (they are mounted with nocopy).
	env := &install.Env{Installation: installation.New(s.Dir, s.Project), Answers: s.Answers, Engine: s.Engine, Bundle: s.Bundle, SecretsDir: s.SecretsDir}
	if err := (&steps.Runner{Plan: (&steps.Plan{}).Then(install.NetworksStep{Env: env}), Project: s.Project}).Run(ctx); err != nil {
		t.Fatalf("networks and volumes: %v", err)
	}
	err := s.Engine.Up(ctx, s.Load(t), compose.UpOptions{Services: services, WaitTimeout: 6 * time.Minute, StartOnly: startOnly,
		Policy: install.HardeningPolicy(s.Bundle, s.Dir, s.SecretsDir)}, nil)
	if err != nil {
		s.DumpLogs(t, 40)
		t.Fatalf("up %v: %v", services, err)
	}
}

// InitVault initialises the stack's Vault with one unseal key and unseals
// it, as far as the installer's vault step goes for a service to be
// reachable (no secrets engines, no policies). Call it after Vault started.
func (s *Stack) InitVault(t testing.TB) {
	t.Helper()
	c := &http.Client{Timeout: 20 * time.Second, Transport: &http.Transport{TLSClientConfig: s.TLS("vault"), DialContext: s.DialContext}}
	call := func(method, path, body string, out any) {
		t.Helper()
		req, err := http.NewRequest(method, "https://vault:8200"+path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp, err := c.Do(req)
		if err != nil {
			t.Fatalf("vault %s: %v", path, err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("vault %s: %s: %s", path, resp.Status, b)
		}
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("vault %s: %v", path, err)
		}
	}
	var init struct {
		Keys []string `json:"keys_base64"`
	}
	call(http.MethodPut, "/v1/sys/init", `{"secret_shares":1,"secret_threshold":1}`, &init)
	if len(init.Keys) != 1 {
		t.Fatalf("vault init returned %d keys", len(init.Keys))
	}
	var st struct {
		Sealed bool `json:"sealed"`
	}
	call(http.MethodPut, "/v1/sys/unseal", fmt.Sprintf(`{"key":%q}`, init.Keys[0]), &st)
	if st.Sealed {
		t.Fatal("vault is still sealed after the unseal key")
	}
}

// DumpLogs writes the last n lines of every service to the test log.
func (s *Stack) DumpLogs(t testing.TB, n int) {
	t.Helper()
	_ = s.Engine.Logs(context.Background(), s.Project, compose.LogOptions{Tail: n}, func(l compose.LogLine) {
		t.Logf("[%s] %s", l.Service, l.Text)
	})
}

// Logs returns everything a service printed so far.
func (s *Stack) Logs(t testing.TB, service string) string {
	t.Helper()
	var b strings.Builder
	err := s.Engine.Logs(context.Background(), s.Project, compose.LogOptions{Services: []string{service}}, func(l compose.LogLine) {
		b.WriteString(l.Text)
		b.WriteByte('\n')
	})
	if err != nil {
		t.Fatalf("logs of %s: %v", service, err)
	}
	return b.String()
}

// ContainerID returns the ID of a service's container.
func (s *Stack) ContainerID(t testing.TB, service string) string {
	t.Helper()
	list, err := s.Engine.API().ContainerList(context.Background(), container.ListOptions{All: true, Filters: filters.NewArgs(
		filters.Arg("label", compose.LabelProject+"="+s.Project),
		filters.Arg("label", compose.LabelService+"="+service),
	)})
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 {
		t.Fatalf("service %s has %d containers, want 1", service, len(list))
	}
	return list[0].ID
}

// IP returns a service container's address on the network of a role (dmz,
// app, data, monitoring). The host has no address on the internal networks
// (app, data, monitoring): reach services there with Dial.
func (s *Stack) IP(t testing.TB, service, role string) string {
	t.Helper()
	insp, err := s.Engine.API().ContainerInspect(context.Background(), s.ContainerID(t, service))
	if err != nil {
		t.Fatal(err)
	}
	name := s.Answers.Network.Segments()[role].Name
	ep, ok := insp.NetworkSettings.Networks[name]
	if !ok || ep.IPAddress == "" {
		t.Fatalf("service %s is not on network %s (%s)", service, name, role)
	}
	return ep.IPAddress
}

// forwardLabel marks the relay container of a stack (not a compose label,
// so the engine never treats it as an orphan of the project).
const forwardLabel = "org.fineract-installer.lab.forward"

// Dial connects the test process to host:port as seen from inside the
// stack's networks (service names resolve through Docker's DNS there). The
// internal networks give the host no address, so the connection goes
// through a relay container (internal/forward) attached to every network of
// the stack; bytes pass unchanged, so TLS stays end to end. Call it after
// Up has created the networks.
func (s *Stack) Dial(ctx context.Context, target string) (net.Conn, error) {
	s.fwdOnce.Do(func() { s.fwdAddr, s.fwdErr = s.startForwarder() })
	if s.fwdErr != nil {
		return nil, fmt.Errorf("relay container: %w", s.fwdErr)
	}
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", s.fwdAddr)
	if err != nil {
		return nil, err
	}
	if _, err := io.WriteString(c, target+"\n"); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// DialContext has the signature of net.Dialer.DialContext for clients
// (http.Transport, pgx) that take a dial function.
func (s *Stack) DialContext(ctx context.Context, _, addr string) (net.Conn, error) {
	return s.Dial(ctx, addr)
}

func (s *Stack) startForwarder() (string, error) {
	ctx := context.Background()
	api := s.Engine.API()
	bin, err := forwardBinary()
	if err != nil {
		return "", err
	}
	img, err := labtest.EnsureBusybox(ctx, s.Engine)
	if err != nil {
		return "", err
	}
	name := s.Project + "-lab-forward"
	labels := map[string]string{forwardLabel: s.Project}
	// A plain bridge from Docker's default pools: the host has an address on it.
	if _, err := api.NetworkCreate(ctx, name, network.CreateOptions{Driver: "bridge", Labels: labels}); err != nil {
		return "", err
	}
	created, err := api.ContainerCreate(ctx,
		&container.Config{Image: img, Cmd: []string{"/forward"}, User: "65534:65534", Labels: labels},
		&container.HostConfig{Mounts: []mount.Mount{{Type: mount.TypeBind, Source: bin, Target: "/forward", ReadOnly: true}}},
		&network.NetworkingConfig{EndpointsConfig: map[string]*network.EndpointSettings{name: {}}}, nil, name)
	if err != nil {
		_ = api.NetworkRemove(ctx, name)
		return "", err
	}
	for _, sg := range s.Answers.Network.Segments() {
		if _, err := api.NetworkInspect(ctx, sg.Name, network.InspectOptions{}); err != nil {
			continue // the rendered stack does not use this network
		}
		if err := api.NetworkConnect(ctx, sg.Name, created.ID, nil); err != nil {
			return "", fmt.Errorf("attach the relay to %s: %w", sg.Name, err)
		}
	}
	if err := api.ContainerStart(ctx, created.ID, container.StartOptions{}); err != nil {
		return "", err
	}
	insp, err := api.ContainerInspect(ctx, created.ID)
	if err != nil {
		return "", err
	}
	ep := insp.NetworkSettings.Networks[name]
	if ep == nil || ep.IPAddress == "" {
		return "", fmt.Errorf("relay container has no address on %s", name)
	}
	addr := net.JoinHostPort(ep.IPAddress, "7000")
	for i := 0; ; i++ {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return addr, nil
		}
		if i == 50 {
			return "", fmt.Errorf("relay does not answer on %s: %w", addr, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// removeForwarder removes the relay container and its network.
func (s *Stack) removeForwarder() {
	ctx := context.Background()
	api := s.Engine.API()
	list, err := api.ContainerList(ctx, container.ListOptions{All: true, Filters: filters.NewArgs(filters.Arg("label", forwardLabel+"="+s.Project))})
	if err == nil {
		for _, c := range list {
			_ = api.ContainerRemove(ctx, c.ID, container.RemoveOptions{Force: true})
		}
	}
	_ = api.NetworkRemove(ctx, s.Project+"-lab-forward")
}

// forwardBinary builds internal/forward, static, into the lab cache.
func forwardBinary() (string, error) {
	return labtest.GoBinary("forward", "", "github.com/fineract-installer/fineract-installer/lab/labimages/internal/forward")
}

// TLS returns a client configuration that trusts the stack's CA and expects
// the server name.
func (s *Stack) TLS(serverName string) *tls.Config {
	return &tls.Config{RootCAs: s.caPool, ServerName: serverName, MinVersion: tls.VersionTLS12}
}

// writeInPlace replaces a file's content without replacing the file, so a
// container's bind mount of it sees the change.
func writeInPlace(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_TRUNC, 0)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// PKIPath is the host path of a file in the stack's pki directory.
func (s *Stack) PKIPath(name string) string { return filepath.Join(s.Dir, "pki", name) }

func randomAlnum(t testing.TB, n int) string {
	const chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, n)
	for i := range b {
		k, err := rand.Int(rand.Reader, big.NewInt(int64(len(chars))))
		if err != nil {
			t.Fatal(err)
		}
		b[i] = chars[k.Int64()]
	}
	return string(b)
}

func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func addrAdd(a netip.Addr, n int) netip.Addr {
	b := a.As4()
	v := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
	v += uint32(n)
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}

var (
	subnetMu sync.Mutex
	reserved []netip.Prefix
)

// freeSubnets picks a /22 in 10.192.0.0/11 (four /24 networks) that
// overlaps no Docker network, no address of this host and no /22 another
// test of this process holds. The range stays clear of 10.231.0.0/16 (the
// installer's defaults and the end-to-end tests) and of the other ranges
// tests in this repository use.
func freeSubnets(ctx context.Context, e *compose.Engine) (netip.Prefix, error) {
	subnetMu.Lock()
	defer subnetMu.Unlock()
	taken := append([]netip.Prefix(nil), reserved...)
	nets, err := e.API().NetworkList(ctx, network.ListOptions{})
	if err != nil {
		return netip.Prefix{}, err
	}
	for _, n := range nets {
		for _, c := range n.IPAM.Config {
			if p, err := netip.ParsePrefix(c.Subnet); err == nil {
				taken = append(taken, p)
			}
		}
	}
	if addrs, err := net.InterfaceAddrs(); err == nil {
		for _, a := range addrs {
			if p, err := netip.ParsePrefix(a.String()); err == nil {
				taken = append(taken, p.Masked())
			}
		}
	}
	for range 200 {
		k, err := rand.Int(rand.Reader, big.NewInt(1<<11))
		if err != nil {
			return netip.Prefix{}, err
		}
		// 10.192.0.0/11 holds 2^11 /22s.
		base := netip.AddrFrom4([4]byte{10, 192, 0, 0})
		p := netip.PrefixFrom(addrAdd(base, int(k.Int64())*1024), 22)
		free := true
		for _, o := range taken {
			if o.Overlaps(p) {
				free = false
				break
			}
		}
		if free {
			reserved = append(reserved, p)
			return p, nil
		}
	}
	return netip.Prefix{}, fmt.Errorf("no free /22 in 10.192.0.0/11")
}
