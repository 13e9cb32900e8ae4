package e2e

import (
	"bufio"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/fineract-installer/fineract-installer/assets"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/fineract-installer/fineract-installer/steps/backup/archive"
)

const backupPassphrase = "backup passphrase for the lab tests"

// api calls the Fineract stand-in through the gateway, as a browser would,
// as the administrator the installer set up.
func (s *stack) api(t *testing.T, method, path, body string) (int, string) {
	t.Helper()
	return s.apiAs(t, assets.FineractAdminUser, s.adminPassword(t), method, path, body)
}

// apiAs calls it in the default tenant with basic authentication as user
// (none when user is "").
func (s *stack) apiAs(t *testing.T, user, password, method, path, body string) (int, string) {
	t.Helper()
	return s.request(t, assets.DefaultTenant, user, password, method, path, body)
}

// request calls Fineract through the gateway in a tenant.
func (s *stack) request(t *testing.T, tenant, user, password, method, path, body string) (int, string) {
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
	if user != "" {
		req.SetBasicAuth(user, password)
	}
	req.Header.Set("Fineract-Platform-TenantId", tenant)
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// adminPassword is the password the installer set for Fineract's
// administrator, as it delivered it to itself.
func (s *stack) adminPassword(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("/run/fineract-stack", s.project, "secrets", assets.InstallerName, assets.InstallerSecretFile(assets.DefaultTenant, assets.FineractAdminUser)))
	if err != nil {
		t.Fatalf("the administrator's delivered password: %v", err)
	}
	return string(b)
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
		checkJSON(t, args, out.String(), errb.String())
		return result{code: code, stdout: out.String(), stderr: errb.String()}
	}
	start := time.Now()
	r := backupCmd("backup", "--out", file, "-o", "json")
	if r.code != 0 {
		t.Fatalf("backup: exit %d %s %s", r.code, r.stdout, r.stderr)
	}
	t.Logf("backup: %s", time.Since(start).Round(time.Millisecond))
	// Progress events, then the record of what was written.
	events(t, r.stdout)
	var written struct {
		Type    string `json:"type"`
		File    string `json:"file"`
		Entries int    `json:"entries"`
		Bytes   int64  `json:"bytes"`
	}
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &written); err != nil || written.Type != "backup" || written.File != file || written.Entries == 0 || written.Bytes == 0 {
		t.Errorf("backup -o json does not end with the backup record: %v\n%s", err, tail(r.stdout, 3))
	}
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
	if r := backupCmd("backup", "verify", bad); r.code != 2 {
		t.Errorf("verify of a backup with a flipped byte: exit %d, want 2 as restore gives: %s", r.code, r.stderr)
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

	// Whoever holds the passphrase can rewrite the archive: a compose file
	// that would give host root, a key left readable by everyone, a file
	// of their own. The restore takes the data and nothing else.
	hostile := filepath.Join(t.TempDir(), "hostile.fib")
	rewriteArchive(t, file, hostile, []byte(backupPassphrase), func(name string, mode fs.FileMode, data []byte) (fs.FileMode, []byte) {
		switch name {
		case "install/compose.yaml":
			return mode, []byte(hostileCompose(s.bundle.Services[0].Image))
		case "install/pki/ca.key":
			return 0o666, data
		}
		return mode, data
	}, map[string][]byte{"install/planted.sh": []byte("#!/bin/sh\nid > /tmp/planted\n")})

	start = time.Now()
	restore := s.command(ctx, "restore", hostile, "--yes")
	restore.Env = append(restore.Env, "FINERACT_BACKUP_PASSPHRASE="+backupPassphrase)
	var restoreErr strings.Builder
	restore.Stderr = &restoreErr
	out, err := restore.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := restore.Start(); err != nil {
		t.Fatal(err)
	}
	var restoreOut strings.Builder
	sc := bufio.NewScanner(out)
	second := false
	for sc.Scan() {
		restoreOut.WriteString(sc.Text() + "\n")
		if !second && strings.Contains(sc.Text(), "install dir restored") {
			// The install dir was just swapped: another command must still
			// find it in use.
			second = true
			if r := backupCmd("backup", "--out", filepath.Join(t.TempDir(), "during-restore.fib")); r.code != 1 || !strings.Contains(r.stderr, "in use") {
				t.Errorf("a backup started while restore runs: exit %d %s", r.code, r.stderr)
			}
		}
	}
	if err := restore.Wait(); err != nil {
		t.Fatalf("restore: %v\n%s\n%s", err, tail(restoreOut.String(), 30), restoreErr.String())
	}
	if !second {
		t.Errorf("restore never said the install dir was restored:\n%s", restoreOut.String())
	}
	t.Logf("restore: %s", time.Since(start).Round(time.Millisecond))
	assertNotHostile(t, s)
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

// hostileCompose is what an attacker holding the backup passphrase would
// put in the archive: one privileged root container with the host's / .
func hostileCompose(image string) string {
	return fmt.Sprintf(`name: pwn
services:
  vault:
    image: %s
    privileged: true
    user: "0:0"
    volumes: ["/:/host"]
    command: ["sh", "-c", "id > /host/tmp/pwned; sleep 3600"]
`, image)
}

// rewriteArchive decrypts in and writes out with the same passphrase (as
// its holder can), passing each file entry through edit and adding extra.
func rewriteArchive(t *testing.T, in, out string, pass []byte, edit func(string, fs.FileMode, []byte) (fs.FileMode, []byte), extra map[string][]byte) {
	t.Helper()
	src, err := os.Open(in)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	rd, err := archive.NewReader(src, pass)
	if err != nil {
		t.Fatal(err)
	}
	er, err := archive.NewEntryReader(rd)
	if err != nil {
		t.Fatal(err)
	}
	dst, err := os.OpenFile(out, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer dst.Close()
	ew, err := archive.Create(dst, pass, archive.Options{Metadata: rd.Info().Metadata})
	if err != nil {
		t.Fatal(err)
	}
	for {
		ent, err := er.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if ent.Type == archive.TypeDir {
			if err := ew.AddDir(ent.Name, ent.Mode); err != nil {
				t.Fatal(err)
			}
			continue
		}
		data, err := io.ReadAll(er)
		if err != nil {
			t.Fatal(err)
		}
		mode, data := edit(ent.Name, ent.Mode, data)
		if err := ew.AddBytes(ent.Name, mode, data); err != nil {
			t.Fatal(err)
		}
	}
	for name, data := range extra {
		if err := ew.AddBytes(name, 0o755, data); err != nil {
			t.Fatal(err)
		}
	}
	if err := ew.Close(); err != nil {
		t.Fatal(err)
	}
}

// assertNotHostile checks that what runs and what lies in the install dir
// after restoring the hostile archive are this installer's own.
func assertNotHostile(t *testing.T, s *stack) {
	t.Helper()
	ctx := context.Background()
	ids := containerIDs(t, s)
	if len(ids) != len(s.bundle.Services) {
		t.Errorf("after the restore %d containers run, want the %d rendered services: %v", len(ids), len(s.bundle.Services), ids)
	}
	for svc, id := range ids {
		c, err := s.engine.API().ContainerInspect(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if c.HostConfig.Privileged || c.Config.User == "0:0" || c.Config.User == "" {
			t.Errorf("%s runs privileged=%v as user %q", svc, c.HostConfig.Privileged, c.Config.User)
		}
		for _, m := range c.Mounts {
			if m.Source == "/" {
				t.Errorf("%s has the host's / mounted at %s", svc, m.Destination)
			}
		}
	}
	compose, err := os.ReadFile(filepath.Join(s.dir, "compose.yaml"))
	if err != nil || strings.Contains(string(compose), "privileged: true") || strings.Contains(string(compose), "/:/host") || strings.Contains(string(compose), "name: pwn") {
		t.Errorf("the archive's compose file was kept (%v)", err)
	}
	if _, err := os.Stat(filepath.Join(s.dir, "planted.sh")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a file the archive added to the install dir was restored: %v", err)
	}
	if fi, err := os.Stat(filepath.Join(s.dir, "pki", "ca.key")); err != nil || fi.Mode().Perm()&0o077 != 0 {
		t.Errorf("the CA key kept the archive's mode: %v %v", fi.Mode(), err)
	}
	if _, err := os.Stat("/tmp/pwned"); err == nil {
		t.Error("the archive's command ran on the host")
	}
}
