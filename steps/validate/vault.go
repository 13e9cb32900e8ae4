package validate

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/docker/docker/api/types/container"

	"github.com/fineract-installer/fineract-installer/steps/vault"
)

// VaultChecks observe Vault through its API and its audit trail.
func VaultChecks() []Check {
	secrets := []Control{ControlSecrets}
	return []Check{
		{ID: "vault-status", Area: AreaVault, Title: "Vault is initialised and unsealed", Controls: secrets, Run: checkVaultStatus},
		{ID: "vault-plain-http", Area: AreaVault, Title: "Vault refuses plain HTTP", Controls: []Control{ControlSecrets, ControlTransit}, Run: checkVaultPlainHTTP},
		{ID: "vault-audit", Area: AreaVault, Title: "Vault's audit devices record requests", Controls: []Control{ControlSecrets, ControlLogging}, Run: checkVaultAudit},
		{ID: "vault-root-token", Area: AreaVault, Title: "The initial root token is revoked", Controls: secrets, Run: checkRootRevoked},
	}
}

func checkVaultStatus(ctx context.Context, t *Target) Finding {
	if t.Vault == nil {
		return fail("no way to reach Vault was given", "")
	}
	conn, err := t.Vault()
	if err != nil {
		return fail(err.Error(), "check the stack's CA in the install dir")
	}
	st, err := conn.Status(ctx)
	if err != nil {
		return fail("seal status over TLS: "+err.Error(), "see `fineract-installer logs vault`")
	}
	evidence := fmt.Sprintf("state %s, %d of %d shares needed, version %s", st.State, st.Threshold, st.Shares, st.Version)
	if st.State != vault.StateUnsealed {
		return fail(evidence, "run `fineract-installer unseal`")
	}
	return pass(evidence)
}

// checkVaultPlainHTTP sends a plain HTTP request to Vault's port from
// inside its namespace: a TLS-only listener answers with an error and no data.
func checkVaultPlainHTTP(ctx context.Context, t *Target) Finding {
	conn, err := t.dialService(ctx, "vault", 8200)
	if err != nil {
		return fail(err.Error(), "run `fineract-installer unseal` or `install`")
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
	fmt.Fprint(conn, "GET /v1/sys/health HTTP/1.0\r\nHost: vault\r\n\r\n")
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		return pass("plain HTTP got no HTTP answer: " + shortErr(err))
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	resp.Body.Close()
	if resp.StatusCode == http.StatusBadRequest || resp.StatusCode >= 500 {
		return pass(fmt.Sprintf("plain HTTP refused: %d %s", resp.StatusCode, strings.TrimSpace(string(body))))
	}
	return fail(fmt.Sprintf("plain HTTP answered %d: %s", resp.StatusCode, strings.TrimSpace(string(body))), "Vault's listener must have TLS enabled (tls_disable must not be set)")
}

// checkVaultAudit sends a request with a made-up token and looks for it in
// both audit devices: the file on the vault-logs volume and the container's
// output. Audit devices hash values, so the probe's marker is its path.
func checkVaultAudit(ctx context.Context, t *Target) Finding {
	if t.Vault == nil {
		return fail("no way to reach Vault was given", "")
	}
	conn, err := t.Vault()
	if err != nil {
		return fail(err.Error(), "")
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	marker := "validate-probe-" + hex.EncodeToString(b[:])
	since := time.Now().Add(-time.Second)
	_ = conn.ProbeAudit(ctx, "banking/data/"+marker)
	deadline := time.Now().Add(5 * time.Second)
	var inFile, inLogs bool
	for time.Now().Before(deadline) && !(inFile && inLogs) {
		inFile = inFile || t.auditFileHas(ctx, marker)
		inLogs = inLogs || t.containerLogHas(ctx, "vault", since, marker)
		time.Sleep(200 * time.Millisecond)
	}
	evidence := fmt.Sprintf("a denied request to banking/data/%s appears in the audit file: %t, in Vault's audit output: %t", marker, inFile, inLogs)
	if inFile && inLogs {
		return pass(evidence)
	}
	return fail(evidence, "audit devices are enabled by `fineract-installer install`; check free space on the vault-logs volume")
}

func (t *Target) auditFileHas(ctx context.Context, marker string) bool {
	v, err := t.Engine.API().VolumeInspect(ctx, t.installation().Volume("vault-logs"))
	if err != nil {
		return false
	}
	f, err := os.Open(filepath.Join(v.Mountpoint, "audit.log"))
	if err != nil {
		return false
	}
	defer f.Close()
	if fi, err := f.Stat(); err == nil && fi.Size() > 4<<20 {
		_, _ = f.Seek(-4<<20, io.SeekEnd) // the probe is at the end
	}
	data, _ := io.ReadAll(f)
	return strings.Contains(string(data), marker)
}

func (t *Target) containerLogHas(ctx context.Context, service string, since time.Time, marker string) bool {
	cs, err := t.inspectAll(ctx)
	if err != nil {
		return false
	}
	c, ok := cs[service]
	if !ok {
		return false
	}
	rc, err := t.Engine.API().ContainerLogs(ctx, c.ID, container.LogsOptions{ShowStdout: true, ShowStderr: true, Since: since.Format(time.RFC3339Nano)})
	if err != nil {
		return false
	}
	defer rc.Close()
	data, _ := io.ReadAll(io.LimitReader(rc, 16<<20))
	return strings.Contains(string(data), marker)
}

func checkRootRevoked(ctx context.Context, t *Target) Finding {
	if t.VaultRecord == nil {
		return fail("no Vault record available", "")
	}
	rec, err := t.VaultRecord(ctx)
	if err != nil {
		return fail(err.Error(), "")
	}
	if rec.RootRevokedAt.IsZero() {
		return fail("the installer's record has no revocation of the initial root token", "run `fineract-installer install` again: it finishes the setup and revokes the token")
	}
	return pass(fmt.Sprintf("revoked at %s by the installer, which confirmed Vault then refused the token; no root token is kept anywhere", rec.RootRevokedAt.Format(time.RFC3339)))
}
