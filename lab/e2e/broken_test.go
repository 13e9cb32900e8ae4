package e2e

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/hashicorp/vault/api"

	"github.com/fineract-installer/fineract-installer/compose/nsdial"
	"github.com/fineract-installer/fineract-installer/steps/install"
	"github.com/fineract-installer/fineract-installer/steps/installation"
	"github.com/fineract-installer/fineract-installer/steps/vault"
)

// The live-stack checks must fail when the running system breaks what
// they prove. One installation is broken in several independent ways and
// each check has to notice its own breakage.
func TestChecksFailOnABrokenStack(t *testing.T) {
	s := newStack(t, 8)
	ctx := ctxFor(t, 20*time.Minute)
	if r := s.install(ctx); r.code != 0 {
		t.Fatalf("install: exit %d %s\n%s", r.code, r.stderr, tail(r.stdout, 20))
	}
	secret, err := os.ReadFile(filepath.Join("/run/fineract-stack", s.project, "secrets", "postgres", "superuser_password"))
	if err != nil {
		t.Fatal(err)
	}
	psql := func(sql string) {
		t.Helper()
		pg, _ := s.bundle.Service("postgres")
		res, err := s.engine.Exec(ctx, s.project, "postgres", pg.User(), []string{"psql", "-X", "-h", "/var/run/postgresql", "-U", "postgres", "-d", "postgres", "-c", sql}, nil, nil)
		if err != nil || res.ExitCode != 0 {
			t.Fatalf("%s: %v %s", sql, err, res.Stderr)
		}
	}
	// PostgreSQL: audit logging off and md5 password hashing.
	psql("ALTER SYSTEM SET log_statement = 'none'")
	psql("ALTER SYSTEM SET password_encryption = 'md5'")
	// TLS 1.2 accepted although the assets require 1.3.
	psql("ALTER SYSTEM SET ssl_min_protocol_version = 'TLSv1.2'")
	psql("SELECT pg_reload_conf()")
	// A secret in a container's output.
	if _, err := s.engine.Exec(ctx, s.project, "web-app", "", []string{"sh", "-c", "echo \"oops " + strings.TrimSpace(string(secret)) + "\" > /proc/1/fd/1"}, nil, nil); err != nil {
		t.Fatal(err)
	}
	// Fineract down: its health through the gateway fails.
	timeout := 10
	if err := s.engine.API().ContainerStop(ctx, s.project+"-fineract-1", container.StopOptions{Timeout: &timeout}); err != nil {
		t.Fatal(err)
	}
	// Vault's audit file device switched off (its stdout device stays).
	s.disableAuditDevice(ctx, "file")

	got := s.validateFindings(ctx)
	for id, want := range map[string]string{
		"postgres-audit":       "DDL false",
		"postgres-settings":    "password_encryption=md5",
		"secrets-leakage":      "logs of web-app",
		"http-fineract-health": "",
		"tls-postgres":         "TLS 1.2 client was accepted",
		"vault-audit":          "in the audit file: false, in Vault's audit output: true",
		"container-health":     "fineract",
	} {
		if !strings.HasPrefix(got[id], "fail") || !strings.Contains(got[id], want) {
			t.Errorf("%s on the broken stack: %q, want a failure mentioning %q", id, got[id], want)
		}
	}
	// Unbroken areas still pass: the failures are specific.
	for _, id := range []string{"container-read-only", "network-dmz-isolation", "tls-gateway-chain", "vault-status", "vault-plain-http"} {
		if !strings.HasPrefix(got[id], "pass") {
			t.Errorf("%s should still pass: %q", id, got[id])
		}
	}

	// Vault restarted: sealed.
	if err := s.engine.API().ContainerRestart(ctx, s.project+"-vault-1", container.StopOptions{Timeout: &timeout}); err != nil {
		t.Fatal(err)
	}

	// Wait until the restarted Vault answers, sealed (`vault status` exits 2).
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(500 * time.Millisecond) {
		res, err := s.engine.Exec(ctx, s.project, "vault", "", []string{"vault", "status"}, nil, nil)
		if err == nil && res.ExitCode == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("Vault did not come back sealed: %v %+v", err, res)
		}
	}

	if got := s.validateFindings(ctx)["vault-status"]; !strings.HasPrefix(got, "fail") || !strings.Contains(got, "sealed") {
		t.Errorf("vault-status with Vault sealed: %q", got)
	}
}

// validateFindings runs `validate -o json` (which must exit 1) and returns
// "status: evidence" by check ID.
func (s *stack) validateFindings(ctx context.Context) map[string]string {
	t := s.t
	t.Helper()
	r := s.run(ctx, "validate", "-o", "json")
	var checks []struct{ ID, Status, Evidence string }
	if err := checklistResults(r.stdout, &checks); err != nil {
		t.Fatalf("validate json: %v\n%s", err, r.stdout)
	}
	if r.code != 1 {
		t.Errorf("validate on a broken stack: exit %d, want 1", r.code)
	}
	got := map[string]string{}
	for _, c := range checks {
		got[c.ID] = c.Status + ": " + c.Evidence
	}
	return got
}

// disableAuditDevice switches off one of Vault's audit devices, as an
// administrator with a root token could: the token is made from the demo
// custody shares and revoked afterwards.
func (s *stack) disableAuditDevice(ctx context.Context, path string) {
	t := s.t
	t.Helper()
	env := &install.Env{Installation: installation.New(s.dir, s.project), Engine: s.engine}
	conn, err := env.VaultConn()
	if err != nil {
		t.Fatal(err)
	}
	shares, err := vault.CustodyFileShares(env.CustodyFile(), []byte(passphrase))(ctx, vault.Status{})
	if err != nil {
		t.Fatal(err)
	}
	ca, err := os.ReadFile(filepath.Join(env.PKIDir(), "ca.crt"))
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(ca)
	dial := nsdial.Dialer(func(ctx context.Context) (int, error) { return s.engine.ServicePID(ctx, s.project, "vault") })
	err = conn.WithRootToken(ctx, shares, nil, func(ctx context.Context, token string) error {
		cfg := api.DefaultConfig()
		cfg.Address = "https://127.0.0.1:8200"
		cfg.HttpClient = &http.Client{Transport: &http.Transport{DialContext: dial, TLSClientConfig: &tls.Config{RootCAs: pool, ServerName: "vault"}}}
		cl, err := api.NewClient(cfg)
		if err != nil {
			return err
		}
		cl.SetToken(token)
		return cl.Sys().DisableAuditWithContext(ctx, path)
	})
	if err != nil {
		t.Fatalf("disable Vault's %s audit device: %v", path, err)
	}
}
