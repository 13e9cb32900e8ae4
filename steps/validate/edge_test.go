package validate

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/client"

	"github.com/fineract-installer/fineract-installer/assets"
	"github.com/fineract-installer/fineract-installer/compose"
	"github.com/fineract-installer/fineract-installer/lab/labtest"
	"github.com/fineract-installer/fineract-installer/steps/answers"
	"github.com/fineract-installer/fineract-installer/steps/pki"
	"github.com/fineract-installer/fineract-installer/steps/vault"
)

// weakGateway is real nginx configured the way a hurried administrator
// might leave it: plain HTTP served instead of redirected, TLS 1.2 taken,
// no security headers, its version shown, no rate limit. Port 9443 serves a
// certificate for another name; port 9444 is an internal listener that is
// meant to require TLS 1.3 and whose certificate has ten days left.
const weakGateway = `
pid /tmp/nginx.pid;
events {}
http {
  server_tokens on;
  access_log off;
  client_body_temp_path /tmp/body;
  proxy_temp_path /tmp/proxy;
  fastcgi_temp_path /tmp/fastcgi;
  uwsgi_temp_path /tmp/uwsgi;
  scgi_temp_path /tmp/scgi;
  server { listen 8080; location / { return 200 "plain\n"; } }
  server {
    listen 8443 ssl;
    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_certificate /certs/gateway.crt;
    ssl_certificate_key /certs/gateway.key;
    location / { return 200 '{"status":"UP"}'; }
  }
  server {
    listen 9443 ssl;
    ssl_certificate /certs/other.crt;
    ssl_certificate_key /certs/other.key;
    location / { return 200 "other\n"; }
  }
  server {
    listen 9444 ssl;
    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_certificate /certs/short.crt;
    ssl_certificate_key /certs/short.key;
    location / { return 200 "internal\n"; }
  }
}
`

// weakStack runs the weak gateway next to a "vault" that answers plain
// HTTP on Vault's port (busybox httpd), both as real containers.
const weakStack = `
services:
  gateway:
    image: %[1]s
    <<: *hardened
    command: ["nginx", "-c", "/etc/nginx/weak.conf", "-g", "daemon off;"]
    ports: ["127.0.0.1:0:8080", "127.0.0.1:0:8443", "127.0.0.1:0:9443"]
    volumes: ["./weak.conf:/etc/nginx/weak.conf:ro", "./certs:/certs:ro"]
  vault:
    image: %[2]s
    <<: *hardened
    init: true
    command: ["httpd", "-f", "-p", "8200", "-h", "/etc"]
`

const bankHost = "bank.example.test"

// gatewayImage is the lab's nginx, tagged with the reference the assets use.
func gatewayImage(t *testing.T, e *compose.Engine) string {
	t.Helper()
	for _, p := range assets.ImagePins() {
		if p.Service != "gateway" {
			continue
		}
		if _, err := e.API().ImageInspect(context.Background(), p.Image); err != nil {
			if labtest.Required() {
				t.Fatalf("lab image %s is missing: run lab/test.sh (it builds the lab images)", p.Image)
			}
			t.Skipf("lab image %s is missing: run lab/test.sh", p.Image)
		}
		return p.Image
	}
	t.Fatal("no gateway image in the assets")
	return ""
}

// weakCerts issues the gateway's certificate for bankHost, one for another
// name, and a ten-day certificate for the internal listener ("gateway"),
// all from one CA. It returns the CA certificate (PEM).
func weakCerts(t *testing.T, dir string) []byte {
	t.Helper()
	store := &pki.Store{Dir: dir}
	reqs := []pki.Request{
		{Name: "gateway", DNSNames: []string{bankHost}, Usage: pki.UsageServer, UID: -1, GID: -1},
		{Name: "other", DNSNames: []string{"elsewhere.example.test"}, Usage: pki.UsageServer, UID: -1, GID: -1},
		{Name: "internal", DNSNames: []string{"gateway"}, Usage: pki.UsageServer, UID: -1, GID: -1},
	}
	if _, err := store.Ensure(context.Background(), reqs); err != nil {
		t.Fatal(err)
	}
	caPEM, err := os.ReadFile(filepath.Join(dir, "ca.crt"))
	if err != nil {
		t.Fatal(err)
	}
	// The store only issues long-lived certificates; the short one is
	// signed here with the same CA key.
	caKeyPEM, err := os.ReadFile(filepath.Join(dir, "ca.key"))
	if err != nil {
		t.Fatal(err)
	}
	caBlock, _ := pem.Decode(caPEM)
	keyBlock, _ := pem.Decode(caKeyPEM)
	ca, err := x509.ParseCertificate(caBlock.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	caKey, err := x509.ParsePKCS8PrivateKey(keyBlock.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: "gateway"},
		DNSNames:     []string{"gateway"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(10 * 24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey.(crypto.Signer))
	if err != nil {
		t.Fatal(err)
	}
	keyDER, _ := x509.MarshalPKCS8PrivateKey(key)
	write := func(name string, block *pem.Block) {
		if err := os.WriteFile(filepath.Join(dir, name), pem.EncodeToMemory(block), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("short.crt", &pem.Block{Type: "CERTIFICATE", Bytes: der})
	write("short.key", &pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})
	// nginx runs as a non-root user, as the engine's policy requires; the
	// store made the directory and the keys for their owner alone.
	for name, mode := range map[string]os.FileMode{".": 0o755, "gateway.key": 0o644, "other.key": 0o644} {
		if err := os.Chmod(filepath.Join(dir, name), mode); err != nil {
			t.Fatal(err)
		}
	}
	return caPEM
}

// TestEdgeChecksFailOnAWeakGateway proves the gateway, TLS and Vault
// transport checks fail (or warn) on real servers that break what they
// claim. They pass on the lab stack (lab/e2e).
func TestEdgeChecksFailOnAWeakGateway(t *testing.T) {
	e := labtest.Engine(t)
	nginx := gatewayImage(t, e)
	busybox := labtest.Busybox(t, e)
	project := labtest.Project(t, e)
	dir, load := labtest.WriteProject(t, project, labtest.Hardened+strings.NewReplacer("%[1]s", nginx, "%[2]s", busybox).Replace(weakStack), nil)
	if err := os.WriteFile(filepath.Join(dir, "weak.conf"), []byte(weakGateway), 0o644); err != nil {
		t.Fatal(err)
	}
	caPEM := weakCerts(t, filepath.Join(dir, "certs"))
	gatewayPEM, err := os.ReadFile(filepath.Join(dir, "certs", "gateway.crt"))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := e.Up(ctx, load(), compose.UpOptions{Policy: compose.Policy{BindRoots: []string{dir}}}, nil); err != nil {
		t.Fatal(err)
	}
	st, err := e.Status(ctx, project)
	if err != nil {
		t.Fatal(err)
	}
	ports := map[uint16]int{}
	for _, s := range st {
		for _, p := range s.Ports {
			ports[p.ContainerPort] = int(p.HostPort)
		}
	}
	target := func(httpsPort int) *Target {
		a := answers.Answers{Host: answers.Host{Hostname: bankHost}, Gateway: answers.Gateway{HTTPSPort: httpsPort, HTTPPort: ports[8080], BindIP: "127.0.0.1"}}
		return &Target{Engine: e, Project: project, Answers: a, CA: caPEM, GatewayChain: gatewayPEM,
			Expect: assets.Bundle{Services: []assets.Service{
				{Name: "gateway", TLS: []assets.TLSEndpoint{{Port: 9444, MinTLS13: true}}},
				{Name: "vault", TLS: []assets.TLSEndpoint{{Port: 8200, MinTLS13: true}}},
			}},
			VaultRecord: func(context.Context) (vault.Record, error) { return vault.Record{}, nil },
		}
	}
	// nginx may still be binding its listeners.
	waitFor(t, ctx, func() bool {
		return results(t, target(ports[8443]), []Check{{ID: "up", Run: checkGatewayChain, Controls: []Control{ControlTransit}}})["up"].Status == Pass
	})

	checks := append(append(TLSChecks(), GatewayChecks()...), VaultChecks()...)
	got := results(t, target(ports[8443]), checks)
	want := map[string]struct {
		status   Status
		evidence string
	}{
		"tls-gateway-version":  {Fail, "accepted a TLS 1.2-only client"},
		"http-redirect":        {Fail, "plain HTTP answered 200"},
		"http-headers":         {Fail, "Strict-Transport-Security"},
		"http-rate-limit":      {Fail, "none was limited"},
		"tls-internal":         {Fail, "vault:8200"},
		"tls-internal-version": {Fail, "gateway:9444 accepted TLS 1.2"},
		"tls-expiry":           {Warn, "gateway:9444 9d"},
		"vault-plain-http":     {Fail, "plain HTTP answered 404"},
		"vault-root-token":     {Fail, "no revocation"},
		// The controls of this test: what is served correctly still passes.
		"tls-gateway-chain": {Pass, "serves exactly pki/gateway.crt: CN=gateway (SHA-256 "},
	}
	for id, w := range want {
		r := got[id]
		if r.Status != w.status || !strings.Contains(r.Evidence, w.evidence) {
			t.Errorf("%s on the weak gateway: %s %q, want %s with %q", id, r.Status, r.Evidence, w.status, w.evidence)
		}
		if r.Status != Pass && r.Fix == "" {
			t.Errorf("%s: no fix given", id)
		}
	}
	if r := got["http-headers"]; !strings.Contains(r.Evidence, "Server header without a version") {
		t.Errorf("http-headers did not notice the server version: %s", r.Evidence)
	}

	// A certificate for another name fails the chain check.
	chain := []Check{{ID: "chain", Run: checkGatewayChain, Controls: []Control{ControlTransit}}}
	r := results(t, target(ports[9443]), chain)["chain"]
	if r.Status != Fail || !strings.Contains(r.Evidence, bankHost) || !strings.Contains(r.Evidence, "certificate") {
		t.Errorf("gateway chain with a certificate for another name: %s %q", r.Status, r.Evidence)
	}
	// A certificate that verifies for the name, but is not the chain in
	// pki/gateway.crt (the one issued or imported), fails too.
	elsewhere := target(ports[9443])
	elsewhere.Answers.Host.Hostname = "elsewhere.example.test"
	r = results(t, elsewhere, chain)["chain"]
	if r.Status != Fail || !strings.Contains(r.Evidence, "serves CN=other") || !strings.Contains(r.Evidence, "but pki/gateway.crt holds CN=gateway") {
		t.Errorf("gateway serving a chain other than pki/gateway.crt: %s %q", r.Status, r.Evidence)
	}
}

func waitFor(t *testing.T, ctx context.Context, ok func() bool) {
	t.Helper()
	for !ok() {
		select {
		case <-ctx.Done():
			t.Fatal("the test servers did not come up")
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func TestBackupFreshness(t *testing.T) {
	dir := t.TempDir()
	target := &Target{Dir: dir}
	check := []Check{{ID: "backups-fresh", Run: checkBackupFresh, Controls: []Control{ControlBackup}}}
	if r := results(t, target, check)["backups-fresh"]; r.Status != Warn || !strings.Contains(r.Evidence, "no backup") || r.Fix == "" {
		t.Errorf("without backups: %s %q", r.Status, r.Evidence)
	}
	backups := filepath.Join(dir, "backups")
	if err := os.MkdirAll(backups, 0o700); err != nil {
		t.Fatal(err)
	}
	old := filepath.Join(backups, "stack-old.fib")
	if err := os.WriteFile(old, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	stale := time.Now().Add(-2 * BackupInterval)
	if err := os.Chtimes(old, stale, stale); err != nil {
		t.Fatal(err)
	}
	if r := results(t, target, check)["backups-fresh"]; r.Status != Warn || !strings.Contains(r.Evidence, "stack-old.fib, 48h0m0s old") {
		t.Errorf("with a two-day-old backup: %s %q", r.Status, r.Evidence)
	}
	if err := os.WriteFile(filepath.Join(backups, "stack-new.fib"), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	if r := results(t, target, check)["backups-fresh"]; r.Status != Pass || !strings.Contains(r.Evidence, "stack-new.fib") {
		t.Errorf("with a fresh backup: %s %q", r.Status, r.Evidence)
	}
}

// The engine check observes the engine it talks to: on the lab engine it
// passes or warns (live-restore off is a warning with its fix), and an
// engine spoken to at an API older than 1.41 fails.
func TestHostDockerCheck(t *testing.T) {
	e := labtest.Engine(t)
	check := []Check{{ID: "host-docker", Run: checkDocker, Controls: []Control{ControlHardening}}}
	info, err := e.API().Info(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	r := results(t, &Target{Engine: e}, check)["host-docker"]
	if r.Status == Fail || !strings.Contains(r.Evidence, "Docker "+info.ServerVersion) {
		t.Errorf("on the lab engine: %s %q", r.Status, r.Evidence)
	}
	if !info.LiveRestoreEnabled && (r.Status != Warn || !strings.Contains(r.Fix, `"live-restore": true`)) {
		t.Errorf("live-restore is off on this engine, yet: %s %q (fix %q)", r.Status, r.Evidence, r.Fix)
	}

	old, err := client.NewClientWithOpts(client.FromEnv, client.WithVersion("1.40"))
	if err != nil {
		t.Fatal(err)
	}
	defer old.Close()
	r = results(t, &Target{Engine: compose.New(old)}, check)["host-docker"]
	if r.Status != Fail || !strings.Contains(r.Evidence, "API 1.40") || !strings.Contains(r.Fix, "20.10") {
		t.Errorf("an engine at API 1.40: %s %q (fix %q)", r.Status, r.Evidence, r.Fix)
	}
}
