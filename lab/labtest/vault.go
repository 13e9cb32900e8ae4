package labtest

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"testing"
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

// vaultBinary builds lab/vault (its own module) into the lab cache.
func vaultBinary() (string, error) {
	_, self, _, ok := runtime.Caller(0)
	if !ok {
		return "", errors.New("cannot locate lab/vault")
	}
	return GoBinary("vault-lab", filepath.Join(filepath.Dir(self), "..", "vault"), ".")
}
