package labtest

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"testing"
	"time"

	vaultapi "github.com/hashicorp/vault/api"
)

// HostVault runs the lab Vault (lab/vault: Vault's own server, with the
// Kubernetes auth plugin built in) as a process on the host rather than in
// its image: the lab API server listens on the host's loopback only, and
// Vault must reach it for TokenReview. It listens on a free port of
// 127.0.0.1 with TLS 1.3 and file storage, uninitialised; it is stopped
// when the test ends, its log shown if the test failed. It returns Vault's
// https address and the PEM CA its certificate chains to.
func HostVault(t testing.TB) (addr string, caPEM []byte) {
	t.Helper()
	bin, err := vaultBinary()
	if err != nil {
		t.Fatalf("building the lab Vault: %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	work := t.TempDir()
	caPEM, certPEM, keyPEM, err := loopbackServingCert()
	if err != nil {
		t.Fatal(err)
	}
	for name, body := range map[string][]byte{"vault.crt": certPEM, "vault.key": keyPEM} {
		if err := os.WriteFile(filepath.Join(work, name), body, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	config := fmt.Sprintf(`storage "file" { path = %q }
listener "tcp" {
  address         = "127.0.0.1:%d"
  tls_cert_file   = %q
  tls_key_file    = %q
  tls_min_version = "tls13"
}
api_addr      = "https://127.0.0.1:%d"
disable_mlock = true
`, filepath.Join(work, "file"), port, filepath.Join(work, "vault.crt"), filepath.Join(work, "vault.key"), port)
	if err := os.WriteFile(filepath.Join(work, "vault.hcl"), []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	log, err := os.Create(filepath.Join(work, "vault.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "server", "-config="+filepath.Join(work, "vault.hcl"))
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting the lab Vault: %v", err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		log.Close()
		if t.Failed() {
			body, _ := os.ReadFile(log.Name())
			t.Logf("lab Vault log:\n%s", body)
		}
	})
	return "https://127.0.0.1:" + strconv.Itoa(port), caPEM
}

// UnsealedVault is HostVault initialised with one key share, unsealed,
// with a KV v2 engine at banking/ as an installation's Vault has it; it
// returns the address, the CA and the root token. It is set up through
// Vault's own API, so the installer's code under test does not prepare
// its own Vault.
func UnsealedVault(t testing.TB) (addr string, caPEM []byte, rootToken string) {
	t.Helper()
	addr, caPEM = HostVault(t)
	cfg := vaultapi.DefaultConfig()
	cfg.Address = addr
	tls := cfg.HttpClient.Transport.(*http.Transport).TLSClientConfig
	tls.RootCAs = x509.NewCertPool()
	tls.RootCAs.AppendCertsFromPEM(caPEM)
	cl, err := vaultapi.NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for {
		if _, err = cl.Sys().SealStatusWithContext(ctx); err == nil {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatalf("the lab Vault did not answer: %v", err)
		case <-time.After(100 * time.Millisecond):
		}
	}
	init, err := cl.Sys().InitWithContext(ctx, &vaultapi.InitRequest{SecretShares: 1, SecretThreshold: 1})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cl.Sys().UnsealWithContext(ctx, init.Keys[0]); err != nil {
		t.Fatal(err)
	}
	cl.SetToken(init.RootToken)
	if err := cl.Sys().MountWithContext(ctx, "banking", &vaultapi.MountInput{Type: "kv", Options: map[string]string{"version": "2"}}); err != nil {
		t.Fatal(err)
	}
	// A new KV v2 engine answers only once it has set itself up.
	for {
		if _, err = cl.Logical().ReadWithContext(ctx, "banking/config"); err == nil {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatalf("the KV engine at banking/ did not come up: %v", err)
		case <-time.After(100 * time.Millisecond):
		}
	}
	return addr, caPEM, init.RootToken
}

// vaultBinary builds lab/vault (its own module) into the lab cache.
func vaultBinary() (string, error) {
	_, self, _, ok := runtime.Caller(0)
	if !ok {
		return "", errors.New("cannot locate lab/vault")
	}
	return GoBinary("vault-lab", filepath.Join(filepath.Dir(self), "..", "vault"), ".")
}
