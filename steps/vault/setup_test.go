package vault

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/pkg/stdcopy"

	"github.com/fineract-installer/fineract-installer/steps/event"
)

func TestSetupDemoFromScratchRerunAndReboot(t *testing.T) {
	v := startLabVault(t)
	c := v.conn()
	ctx := testCtx(t)
	dir := t.TempDir()
	keysFile := filepath.Join(dir, "vault-keys.enc")
	pass := []byte("classroom passphrase 42")
	uid, gid := serviceIDs()
	opts := SetupOptions{
		Init:       DemoInit(),
		Custody:    FileCustody(keysFile, pass),
		Store:      FileRecordStore{Path: filepath.Join(dir, "record.json")},
		Shares:     CustodyFileShares(keysFile, pass),
		Audit:      DefaultAuditDevices(),
		Secrets:    testSpecs,
		SecretsDir: filepath.Join(dir, "run-secrets"),
		Deliveries: []Delivery{{Service: "keycloak", UID: uid, GID: gid, Files: []SecretFile{
			{Name: "admin_password", Path: "banking/services/keycloak", Key: "admin-password"},
		}}},
	}
	rec := &recorder{}
	if err := c.Setup(ctx, opts, rec.emitter()); err != nil {
		t.Fatalf("first Setup: %v", err)
	}
	assertSecretsWorkWithoutRoot(t, v)
	first := messages(rec.take())
	for _, want := range []string{"initialised", "enabled KV", "audit device file/", "audit device stdout/", "policy", "generated", "delivered", "root token revoked"} {
		if !strings.Contains(first, want) {
			t.Errorf("first Setup did not report %q:\n%s", want, first)
		}
	}
	delivered := filepath.Join(opts.SecretsDir, "keycloak", "admin_password")
	value, err := os.ReadFile(delivered)
	if err != nil || len(value) != 40 {
		t.Fatalf("delivered secret: %q %v", value, err)
	}

	if err := c.Setup(ctx, opts, rec.emitter()); err != nil {
		t.Fatalf("Setup rerun on an unsealed Vault: %v", err)
	}
	assertOnlyTokenEvents(t, rec.take())

	// Reboot: Vault comes back sealed and the tmpfs is empty.
	c = v.restart()
	if err := os.RemoveAll(opts.SecretsDir); err != nil {
		t.Fatal(err)
	}
	if err := c.Setup(ctx, opts, rec.emitter()); err != nil {
		t.Fatalf("Setup after a reboot: %v", err)
	}
	after := rec.take()
	if !strings.Contains(messages(after), "Vault unsealed") || !strings.Contains(messages(after), "delivered") {
		t.Errorf("Setup after reboot did not unseal and re-deliver:\n%s", messages(after))
	}
	again, err := os.ReadFile(delivered)
	if err != nil || !bytes.Equal(again, value) {
		t.Fatalf("the secret delivered after reboot differs from before: %v", err)
	}
	assertSecretsWorkWithoutRoot(t, v)
}

// assertSecretsWorkWithoutRoot reads Vault's audit log: every request for a
// secret under banking/ was made with a token holding the installer policy
// alone, and no root token was alive meanwhile (from its first request to
// its revocation, no secret was read or written).
func assertSecretsWorkWithoutRoot(t *testing.T, v *labVault) {
	t.Helper()
	type entry struct {
		Type string `json:"type"`
		Auth struct {
			Accessor string   `json:"accessor"`
			Policies []string `json:"policies"`
		} `json:"auth"`
		Request struct {
			Path string `json:"path"`
		} `json:"request"`
	}
	var reqs []entry
	for _, line := range strings.Split(string(v.readFile("/vault/logs/audit.log")), "\n") {
		var e entry
		if json.Unmarshal([]byte(line), &e) == nil && e.Type == "request" {
			reqs = append(reqs, e)
		}
	}
	rootSpan := map[string][2]int{} // accessor -> first and last request
	secrets := 0
	for i, e := range reqs {
		if slices.Contains(e.Auth.Policies, "root") {
			span, ok := rootSpan[e.Auth.Accessor]
			if !ok {
				span[0] = i
			}
			span[1] = i
			rootSpan[e.Auth.Accessor] = span
		}
		if strings.HasPrefix(e.Request.Path, KVMount+"/data/") || strings.HasPrefix(e.Request.Path, KVMount+"/metadata/") {
			secrets++
			if !slices.Equal(e.Auth.Policies, []string{InstallerPolicyName}) {
				t.Errorf("request %d for %s made with policies %v, want only %s", i, e.Request.Path, e.Auth.Policies, InstallerPolicyName)
			}
		}
	}
	if secrets == 0 {
		t.Fatal("the audit log shows no request for a secret")
	}
	for acc, span := range rootSpan {
		for i := span[0]; i <= span[1]; i++ {
			if strings.HasPrefix(reqs[i].Request.Path, KVMount+"/data/") {
				t.Errorf("secret %s was requested while a root token (%s) was alive", reqs[i].Request.Path, acc)
			}
		}
	}
}

func messages(ev []event.Event) string {
	var b strings.Builder
	for _, e := range ev {
		b.WriteString(string(e.Kind) + ": " + e.Message + "\n")
	}
	return b.String()
}

// assertOnlyTokenEvents fails on any event other than the temporary root
// token's own progress and revocation and the "already initialised" note.
func assertOnlyTokenEvents(t *testing.T, ev []event.Event) {
	t.Helper()
	for _, e := range ev {
		if !strings.Contains(e.Message, "root token") && !strings.Contains(e.Message, "already initialised") {
			t.Errorf("rerun changed something: %s: %s", e.Kind, e.Message)
		}
	}
}

// TestLabImageStatusHealthcheck checks the lab image's `vault status`, the
// healthcheck the assets use: exit 2 sealed, 0 unsealed, 1 on error.
func TestLabImageStatusHealthcheck(t *testing.T) {
	v := startLabVault(t)
	c := v.conn()
	ctx := testCtx(t)
	env := []string{"VAULT_ADDR=https://127.0.0.1:8200", "VAULT_CACERT=/vault/tls/vault.crt"}
	// The server certificate is not a CA; give `vault status` the CA.
	if err := v.cli.CopyToContainer(ctx, v.id, "/", tarOf(t, []tarFile{{name: "vault/tls/ca.crt", mode: 0o444, body: v.pki.caPEM}}), container.CopyToContainerOptions{}); err != nil {
		t.Fatal(err)
	}
	env[1] = "VAULT_CACERT=/vault/tls/ca.crt"

	if code, out := v.exec(t, env, "vault", "status"); code != 2 || !strings.Contains(out, "Initialized") {
		t.Errorf("status on an uninitialised Vault: exit %d, want 2\n%s", code, out)
	}
	res, err := c.Initialize(ctx, DemoInit(), FileRecordStore{Path: filepath.Join(t.TempDir(), "r")}, func(context.Context, *InitResult) error { return nil }, nil)
	if err != nil {
		t.Fatal(err)
	}
	if code, out := v.exec(t, env, "vault", "status"); code != 2 || !strings.Contains(out, "Sealed") {
		t.Errorf("status on a sealed Vault: exit %d, want 2\n%s", code, out)
	}
	unsealAll(t, c, res.Keys)
	if code, out := v.exec(t, env, "vault", "status"); code != 0 {
		t.Errorf("status on an unsealed Vault: exit %d, want 0\n%s", code, out)
	}
	if code, _ := v.exec(t, []string{"VAULT_ADDR=https://127.0.0.1:8200"}, "vault", "status"); code != 1 {
		t.Errorf("status without the CA: exit %d, want 1 (TLS must fail)", code)
	}
	if code, _ := v.exec(t, append(env[1:], "VAULT_ADDR=https://127.0.0.1:1"), "vault", "status"); code != 1 {
		t.Errorf("status against a closed port: exit %d, want 1", code)
	}
}

// exec runs a command in the container and returns its exit code and output.
func (v *labVault) exec(t *testing.T, env []string, cmd ...string) (int, string) {
	t.Helper()
	ctx := testCtx(t)
	ex, err := v.cli.ContainerExecCreate(ctx, v.id, container.ExecOptions{Cmd: cmd, Env: env, AttachStdout: true, AttachStderr: true})
	if err != nil {
		t.Fatal(err)
	}
	att, err := v.cli.ContainerExecAttach(ctx, ex.ID, container.ExecAttachOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer att.Close()
	var out bytes.Buffer
	if _, err := stdcopy.StdCopy(&out, &out, att.Reader); err != nil {
		t.Fatal(err)
	}
	info, err := v.cli.ContainerExecInspect(ctx, ex.ID)
	if err != nil {
		t.Fatal(err)
	}
	return info.ExitCode, out.String()
}

// A run that initialised Vault but could not go on (production without a
// terminal: the shares went out encrypted and nobody could unseal yet)
// leaves the initial root token valid, and nobody holds it. The next setup,
// given shares, revokes it, confirms Vault refuses it and records that.
func TestSetupRevokesARootTokenAnEarlierRunLost(t *testing.T) {
	v := startLabVault(t)
	c := v.conn()
	ctx := testCtx(t)
	store := FileRecordStore{Path: filepath.Join(t.TempDir(), "record.json")}
	init := InitOptions{Shares: 3, Threshold: 2, Custody: "show"}
	var keys []string
	res, err := c.Initialize(ctx, init, store, func(_ context.Context, r *InitResult) error { keys = r.Keys; return nil }, nil)
	if err != nil || res == nil {
		t.Fatalf("init: %v", err)
	}
	lost := res.RootToken // the stopped run's token, never revoked

	opts := SetupOptions{Init: init, Store: store, Audit: DefaultAuditDevices(), Secrets: testSpecs,
		Shares: func(context.Context, Status) ([]string, error) { return keys[1:], nil }}
	rec := &recorder{}
	if err := c.Setup(ctx, opts, rec.emitter()); err != nil {
		t.Fatalf("setup after the stopped run: %v", err)
	}
	if got := messages(rec.take()); !strings.Contains(got, "revoked 1 root token(s) left by an earlier run") {
		t.Errorf("setup did not report the revocation:\n%s", got)
	}
	cl, err := c.withToken(lost)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cl.Auth().Token().LookupSelfWithContext(ctx); err == nil {
		t.Fatal("the lost initial root token still works")
	}
	if r, err := store.Load(ctx); err != nil || r.RootRevokedAt.IsZero() {
		t.Errorf("record after the revocation: %+v %v", r, err)
	}
	if err := c.Setup(ctx, opts, rec.emitter()); err != nil {
		t.Fatalf("rerun: %v", err)
	}
	assertOnlyTokenEvents(t, rec.take())
}
