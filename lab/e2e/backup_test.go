package e2e

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"
)

const backupPassphrase = "backup passphrase for the lab tests"

// api calls the Fineract stand-in through the gateway, as a browser would.
func (s *stack) api(t *testing.T, method, path, body string) (int, string) {
	t.Helper()
	ca, err := os.ReadFile(filepath.Join(s.dir, "pki", "ca.crt"))
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(ca)
	c := &http.Client{Timeout: 20 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: roots, ServerName: s.ans.Host.Hostname},
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, network, fmt.Sprintf("127.0.0.1:%d", s.ans.Gateway.HTTPSPort))
		},
	}}
	req, _ := http.NewRequest(method, fmt.Sprintf("https://%s:%d%s", s.ans.Host.Hostname, s.ans.Gateway.HTTPSPort, path), strings.NewReader(body))
	req.SetBasicAuth("mifos", "password")
	req.Header.Set("Fineract-Platform-TenantId", "default")
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// secretDigests fingerprints every delivered secret file.
func (s *stack) secretDigests(t *testing.T) []string {
	t.Helper()
	var out []string
	root := filepath.Join("/run/fineract-stack", s.project, "secrets")
	_ = filepath.Walk(root, func(p string, fi os.FileInfo, err error) error {
		if err == nil && fi.Mode().IsRegular() {
			b, _ := os.ReadFile(p)
			sum := sha256.Sum256(b)
			rel, _ := filepath.Rel(root, p)
			out = append(out, rel+"="+hex.EncodeToString(sum[:8]))
		}
		return nil
	})
	sort.Strings(out)
	if len(out) == 0 {
		t.Fatal("no delivered secrets")
	}
	return out
}

func TestBackupRestoreRoundTrip(t *testing.T) {
	s := newStack(t, 7)
	ctx := ctxFor(t, 25*time.Minute)
	if r := s.install(ctx); r.code != 0 {
		t.Fatalf("install: exit %d %s\n%s", r.code, r.stderr, tail(r.stdout, 20))
	}
	notes := []string{"loan 1001 disbursed", "client 42 onboarded", "savings 7 interest posted"}
	for _, n := range notes {
		if code, body := s.api(t, http.MethodPost, "/fineract-provider/api/v1/lab/rows", fmt.Sprintf(`{"note":%q}`, n)); code/100 != 2 {
			t.Fatalf("write a row: %d %s", code, body)
		}
	}
	secrets := s.secretDigests(t)

	file := filepath.Join(t.TempDir(), "stack.fib")
	backupCmd := func(args ...string) result {
		cmd := s.command(ctx, args...)
		cmd.Env = append(cmd.Env, "FINERACT_BACKUP_PASSPHRASE="+backupPassphrase)
		var out, errb strings.Builder
		cmd.Stdout, cmd.Stderr = &out, &errb
		err := cmd.Run()
		code := 0
		if ee, ok := err.(interface{ ExitCode() int }); ok && err != nil {
			code = ee.ExitCode()
		}
		return result{code, out.String(), errb.String()}
	}
	start := time.Now()
	if r := backupCmd("backup", "--out", file); r.code != 0 {
		t.Fatalf("backup: exit %d %s %s", r.code, r.stdout, r.stderr)
	}
	t.Logf("backup: %s", time.Since(start).Round(time.Millisecond))
	if r := backupCmd("backup", "verify", file); r.code != 0 || !strings.Contains(r.stdout, "OK") {
		t.Fatalf("verify: exit %d %s %s", r.code, r.stdout, r.stderr)
	}
	// Vault was stopped for the copy and must be unsealed again.
	if r := s.run(ctx, "status"); r.code != 0 {
		t.Errorf("after the backup the stack is not healthy:\n%s", r.stdout)
	}

	// A flipped byte and a wrong passphrase are refused; nothing is touched.
	data, _ := os.ReadFile(file)
	bad := filepath.Join(t.TempDir(), "flipped.fib")
	data[len(data)/2] ^= 0x01
	os.WriteFile(bad, data, 0o600)
	before := containerIDs(t, s)
	if r := backupCmd("backup", "verify", bad); r.code == 0 {
		t.Error("verify accepted a backup with a flipped byte")
	}
	if r := backupCmd("restore", bad, "--yes"); r.code != 2 || !strings.Contains(r.stderr, "nothing was changed") {
		t.Errorf("restore of a corrupted backup: exit %d %s", r.code, r.stderr)
	}
	wrong := s.command(ctx, "restore", file, "--yes")
	wrong.Env = append(wrong.Env, "FINERACT_BACKUP_PASSPHRASE=not the passphrase at all")
	if out, err := wrong.CombinedOutput(); err == nil || !strings.Contains(string(out), "nothing was changed") {
		t.Errorf("restore with a wrong passphrase: %v %s", err, out)
	}
	if after := containerIDs(t, s); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Errorf("a refused restore touched the stack: %v -> %v", before, after)
	}

	// Lose everything, then restore onto the empty host.
	if r := s.run(ctx, "uninstall", "--purge", "--yes"); r.code != 0 {
		t.Fatalf("purge: %d %s", r.code, r.stderr)
	}
	_ = os.RemoveAll(filepath.Join("/run/fineract-stack", s.project))
	start = time.Now()
	if r := backupCmd("restore", file, "--yes"); r.code != 0 {
		t.Fatalf("restore: exit %d\n%s\n%s", r.code, tail(r.stdout, 30), r.stderr)
	}
	t.Logf("restore: %s", time.Since(start).Round(time.Millisecond))
	code, body := s.api(t, http.MethodGet, "/fineract-provider/api/v1/lab/rows", "")
	for _, n := range notes {
		if code != 200 || !strings.Contains(body, n) {
			t.Errorf("row %q is not back after the restore: %d %s", n, code, body)
		}
	}
	if got := s.secretDigests(t); fmt.Sprint(got) != fmt.Sprint(secrets) {
		t.Errorf("secrets differ after the restore:\n%v\n%v", secrets, got)
	}
	if r := s.run(ctx, "validate"); r.code != 0 {
		t.Errorf("validate after the restore: exit %d\n%s", r.code, r.stdout)
	}
}
